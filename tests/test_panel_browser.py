"""The notebook panel in a real browser (headless Chromium): live JupyterLab light and dark (trusted output), the
same notebook saved and reopened (untrusted: JupyterLab's sanitiser strips <style>, scripts and handlers),
nbconvert HTML, and the plain-text form. scripts/panel_browser.py drives the views; this reads their DOM."""

import html
import importlib.util
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("panel_browser", ROOT / "scripts" / "panel_browser.py")
pb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pb)

pytestmark = [
    pytest.mark.skipif(pb.chromium() is None, reason="no chromium (scripts/test installs it with apt-get as root)"),
    pytest.mark.skipif(importlib.util.find_spec("jupyterlab") is None, reason="jupyterlab not installed"),
    pytest.mark.skipif(importlib.util.find_spec("nbconvert") is None, reason="nbconvert not installed"),
]


class _Panel(HTMLParser):
    """The panel's markup out of a page: its text as a reader sees it, and the tags and attributes it kept."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.text = []
        self.tags = []
        self.attrs = []
        self.in_style = False
        self.hidden = 0  # depth inside an element hidden by an inline display:none
        self.buttons = []  # the style attribute of each button

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.depth == 0 and tag == "div" and (a.get("class") or "").split()[:1] == ["dnnfix"]:
            self.depth = 1
        elif self.depth:
            self.depth += tag not in ("br", "img", "input", "hr", "meta", "link")
        if self.depth:
            if tag == "button":
                self.buttons.append(a.get("style") or "")
            if self.hidden:
                self.hidden += 1
            elif re.search(r"display:\s*none", a.get("style") or ""):
                self.hidden = 1
            self.tags.append(tag)
            self.attrs.extend(k for k, _ in attrs)
            self.in_style = tag == "style"
            if tag in ("div", "li", "p", "pre", "summary", "details", "br", "ul", "h4"):
                self.text.append("\n")

    def handle_endtag(self, tag):
        if self.depth and tag not in ("br", "img", "input", "hr", "meta", "link"):
            self.depth -= 1
            self.hidden = max(0, self.hidden - 1)
            self.in_style = False
            if tag in ("div", "li", "p", "pre", "summary"):
                self.text.append("\n")

    def handle_data(self, data):
        if self.depth and not self.in_style and not self.hidden:
            self.text.append(data)


def panel_of(dom: str) -> _Panel:
    p = _Panel()
    p.feed(dom)
    p.words = re.sub(r"[ \t]+", " ", "".join(p.text))
    return p


@pytest.fixture(scope="module")
def views(tmp_path_factory):
    work = tmp_path_factory.mktemp("panel-views")
    return pb.run_all(None, work), work


HEAD = re.compile(r"dnnfix what most likely caused this error · \d+ ms")


def _reads_well(p):
    """Words stay apart and the parts come in order, with or without any stylesheet."""
    w = p.words
    assert HEAD.search(w), w[:300]
    assert "1. PyTorch's CUDA caching allocator could not get the memory it asked for confident" in w
    assert "· torch.cuda.oom · signature torch-cuda-oom-tried-to-allocate" in w
    assert re.search(r"fix 1 Reduce the batch[^\n]*· %dnnfix fix 1", w)
    assert "asked for 2.00 GiB on GPU 0" in w  # the facts are filled in
    assert "accum = 4\nfor i, (x, y) in enumerate(loader):" in w  # code keeps its lines
    assert "\n+ line " in w


def test_reopened_untrusted_notebook_keeps_a_readable_panel(views):
    doms, _ = views
    p = panel_of(doms["untrusted-light"])
    assert p.tags, "no panel in the reopened notebook"
    assert "style" not in p.tags and "onclick" not in p.attrs  # what the sanitiser removes
    assert "style" in p.attrs  # the inline styles it keeps
    assert p.buttons and all(re.search(r"display:\s*none", b) for b in p.buttons)  # no dead copy button shows
    assert "copy" not in p.words.split()
    _reads_well(p)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_live_jupyterlab_trusted_output_gets_the_rich_panel(views, theme):
    doms, _ = views
    dom = doms[f"live-{theme}"]
    assert f'data-jp-theme-name="{pb.THEMES[theme]}"' in dom
    p = panel_of(dom)
    assert "style" in p.tags and "onclick" in p.attrs  # trusted: stylesheet and copy buttons stay
    _reads_well(p)


def test_nbconvert_html_keeps_the_panel(views):
    doms, _ = views
    p = panel_of(doms["nbconvert"])
    _reads_well(p)


def test_plain_text_form(views):
    _, work = views
    text = (work / "plain.txt").read_text()
    assert text.startswith("dnnfix: what most likely caused this error")
    assert "1. PyTorch's CUDA caching allocator could not get the memory it asked for" in text
    assert "[1] Reduce the batch and keep the effective size with gradient accumulation  (torch.cuda.oom)" in text
    assert "<" not in text.split("\n")[0] and "&amp;" not in text


def test_the_panel_data_travels_beside_the_html():
    b = pb.panel_bundle()
    data = b[pb.MIME]
    assert set(b) == {"text/plain", "text/html", pb.MIME}
    assert data["causes"][0]["cause"] == "torch.cuda.oom" and data["numbered_fixes"][0]["n"] == 1
    assert html.escape(data["numbered_fixes"][0]["title"]) in b["text/html"]


def test_chromium_flags_are_headless_and_isolated():
    assert {
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    } <= set(pb.FLAGS)
    assert shutil.which(pb.chromium())
