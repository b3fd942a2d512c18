"""The same failure, pasted in the forms real threads show it (issue 10, families 1 and 4): every line behind a
log collector's or viewer's prefix (Kubernetes, torchrun, Ray, docker compose, CI timestamps, web-UI log tables,
line-numbered viewers, `cat -n`, Kaggle's columns), the operating system's own texts in German or Chinese
(dlerror, strerror, the shell's signal reports, Windows' errors), a reply that quotes it, a Markdown fence, a
GitHub <details> block, bold error lines, a block indented by four spaces, HTML entities (a page's or an API's
escaped text), newlines escaped as in JSON, CRLF, colour codes, non-breaking spaces, blank lines between lines, progress bars around it, a
terminal that cut every line at 80 or 120 columns, a paste that lost every newline (a one-line field).
dnnfix must give the same first cause, with the same confidence, as for the plain paste.

The cases are a fixed half of the development set's dev part (never the sealed quarter): the positives that
dnnfix answers right and confidently as pasted, and the hard negatives it does not claim as pasted (no confident
claim in any form). A form that changes an answer fails the test, except the ones listed in KNOWN below. Text
re-wrapped at word boundaries (mail, forums) is there too.
"""

import hashlib
import importlib.util
import re
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# the development set's pastes in other forms: data, checked once in the whole suite (scripts/test_pythons leaves
# shipped_data out)
pytestmark = pytest.mark.shipped_data
DEVSET = REPO / "tests" / "devset"


def _per_line(f):
    return lambda t: "\n".join(f(i, ln) for i, ln in enumerate(t.split("\n")))


def _cut(width):
    return lambda t: "\n".join(
        ln[i : i + width] for ln in t.split("\n") for i in (range(0, len(ln), width) if ln else [0])
    )


# what the operating system prints in German and in Chinese for the texts a paste may carry from it (glibc's
# dlerror/strerror, the shell's signal reports, Windows' system errors); the framework's own words stay English
_OS_TEXT = {
    "de": [
        ("cannot open shared object file", "kann die gemeinsame Objektdatei nicht öffnen"),
        ("No such file or directory", "Datei oder Verzeichnis nicht gefunden"),
        ("No space left on device", "Auf dem Gerät ist kein Speicherplatz mehr verfügbar"),
        ("Segmentation fault", "Speicherzugriffsfehler"),
        ("Illegal instruction", "Ungültiger Maschinenbefehl"),
        ("(core dumped)", "(Speicherabzug geschrieben)"),
        ("The specified module could not be found", "Das angegebene Modul wurde nicht gefunden"),
        (
            "The paging file is too small for this operation to complete",
            "Die Auslagerungsdatei ist zu klein, um diesen Vorgang durchzuführen",
        ),
    ],
    "zh": [
        ("cannot open shared object file", "无法打开共享对象文件"),
        ("No such file or directory", "没有那个文件或目录"),
        ("No space left on device", "设备上没有空间"),
        ("Segmentation fault", "段错误"),
        ("Illegal instruction", "非法指令"),
        ("(core dumped)", "(核心已转储)"),
        ("The specified module could not be found", "找不到指定的模块"),
        ("The paging file is too small for this operation to complete", "页面文件太小，无法完成操作"),
    ],
}
_KILLED = {"de": "Getötet", "zh": "已杀死"}


def _localised(lang):
    def wrap(text):
        for en, there in _OS_TEXT[lang]:
            text = text.replace(en, there)
        return re.sub(r"(?m)(^|\s)Killed(\s*)$", lambda m: m.group(1) + _KILLED[lang] + m.group(2), text)

    return wrap


FORMS = {
    "torchrun rank prefix": _per_line(lambda i, ln: "[rank0]: " + ln),
    "kubectl --prefix": _per_line(lambda i, ln: "[pod/trainer-0/main] " + ln),
    "CI ISO timestamps": _per_line(lambda i, ln: f"2024-05-01T12:00:{i % 60:02d}.1234567Z " + ln),
    "docker compose": _per_line(lambda i, ln: "trainer-1  | " + ln),
    "Ray worker": _per_line(lambda i, ln: "(RayWorkerWrapper pid=2345) " + ln),
    "web-UI log table": _per_line(lambda i, ln: f"2024-05-01 12:00:{i % 60:02d}.123 | ERROR    | " + ln),
    "line-numbered viewer": _per_line(lambda i, ln: f"{i + 1:>5} | " + ln),
    "cat -n": _per_line(lambda i, ln: f"{i + 1:>6}\t" + ln),
    "Kaggle log columns": _per_line(lambda i, ln: f"{i * 0.1 + 6:.1f}s\t{i + 1}\t" + ln),
    "quoted reply": _per_line(lambda i, ln: "> " + ln),
    "indented code block": _per_line(lambda i, ln: "    " + ln),
    "Markdown fence": lambda t: "```text\n" + t.rstrip("\n") + "\n```\n",
    "GitHub <details> block": lambda t: (
        "<details>\n<summary>Full log</summary>\n\n```\n" + t.rstrip("\n") + "\n```\n</details>\n"
    ),
    "bold error lines": _per_line(
        lambda i, ln: f"**{ln}**" if ln.strip() and not ln.startswith(" ") and ("Error" in ln or "Killed" in ln) else ln
    ),
    "HTML entities": lambda t: (
        t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;").replace('"', "&quot;")
    ),
    "newlines escaped (JSON)": lambda t: t.replace("\n", "\\n"),
    "CRLF": lambda t: t.replace("\n", "\r\n"),
    "colour codes": _per_line(lambda i, ln: ("\x1b[0;31m" + ln + "\x1b[0m") if i % 2 else ln),
    "non-breaking spaces": lambda t: t.replace(" ", "\u00a0"),
    "blank line between lines": lambda t: t.replace("\n", "\n\n"),
    "Keras bars before": lambda t: (
        "".join(f"Epoch {k}/10\n 50/100 [==============>...............] - ETA: 3s - loss: 0.69{k}\n" for k in range(3))
        + t
    ),
    "OS texts in German": _localised("de"),
    "OS texts in Chinese": _localised("zh"),
    "re-wrapped at 80 at word boundaries": lambda t: "\n".join(
        w
        for ln in t.split("\n")
        for w in (textwrap.wrap(ln, 80, drop_whitespace=False, break_on_hyphens=False) or [""])
    ),
    "terminal cut at 80": _cut(80),
    "terminal cut at 120": _cut(120),
    "every newline lost (one line)": lambda t: " ".join(t.split("\n")),
}

# (form, case): answers that change in a form today (`python tests/test_paste_forms.py` lists them after a wave of
# new cases; review each before adding it here)
KNOWN = {
    # re-wrapped at word boundaries: a long word moved whole to the next line leaves a short line that no width
    # rule can tell from a line of its own
    ("re-wrapped at 80 at word boundaries", "torch.checkpoint.mismatch/gh-transformers-24921-position-ids.yaml"),
    # the module's dotted name moved whole to the next line: "cannot import name 'X' from" no longer names where X
    # lived, so the removed-name table cannot say which release dropped it (still first, not confident)
    ("re-wrapped at 80 at word boundaries", "py.package.api-mismatch/gh-deepseek-ocr-302-llamaflashattention2.yaml"),
    # NCCL's segment path (/dev/shm/nccl-...) moved whole to the next line: the shared-memory line no longer says
    # whose segment it was
    ("re-wrapped at 80 at word boundaries", "torch.nccl.failure/gh-easyr1-228-nccl-shm-segment.yaml"),
    # jax's "Unable to initialize backend 'cuda': module 'jaxlib.xla_extension' has no attribute ..." split after
    # the backend's name: the CPU-only jaxlib reading loses the line that made it confident (still first)
    ("re-wrapped at 80 at word boundaries", "jax.cuda.plugin-missing/gh-maxim-32-gpuallocatorconfig-cpu-jaxlib.yaml"),
    # a printed symbolic tensor cut out of a long ValueError line starts a line of its own, as a REPL prints one
    ("re-wrapped at 80 at word boundaries", "negatives/a-gh-iternet-5-concatenate.yaml"),
    # a JSON body's long last token moved whole to the next line cuts "CUDA error: out of / memory" after 33 characters,
    # far short of the width, so no rejoin is tried: the out-of-memory reading stays first, not confident
    ("re-wrapped at 80 at word boundaries", "torch.cuda.oom/gh-koboldai-henk717-381-507-insufficient-storage-oom.yaml"),
    # pip's output on one line: which package a "Successfully installed" or "Found existing installation" names,
    # and the version the notebook then printed, are told apart only by the lines
    ("every newline lost (one line)", "colab.runtime.restart-needed/gh-colab-6072-numpy-center.yaml"),
    # a notebook command's output that stops at a "^C" line: on one line there is no last line to end with it
    ("every newline lost (one line)", "host.ram.exhausted/gh-fast-stable-diffusion-994-colab-7gb-ckpt.yaml"),
    ("every newline lost (one line)", "colab.runtime.restart-needed/gh-colabtools-327-pandas-upgrade-still-old.yaml"),
    # jax's "UserWarning: No GPU/TPU found" at the start of a line of its own reads as an exception, which speaks against
    # the old fallback warning being the failure; on one line with the timings around it, only its words are left
    ("every newline lost (one line)", "negatives/w33n-gh-jax-1797-gpu-timing-first-epoch-compile.yaml"),
    ("every newline lost (one line)", "colab.runtime.restart-needed/gh-colab-260-scipy-upgrade-old-version.yaml"),
    # a two-line paste (a sudo command, then the exception) on one short line: too short to be cut back into lines
    # (dnnfix cuts only a long line), so no exception is read and the sudo reading does not hold
    ("every newline lost (one line)", "py.install.wrong-interpreter/gh-btcdet-6-sudo-python3-setup.yaml"),
    # a REPL session on one line: the exception runs on into the next banner ("... No module named 'tensorflow'
    # Python 2.7.5 (default, ..."), so no exception is read and nothing is seen to fail
    ("every newline lost (one line)", "py.install.wrong-interpreter/gh-tf-5478-installed-in-py27-default-py35.yaml"),
    # a hand-written "Key: value" report on one line ("PyTorch Version: 2.2.0+cu121 GPU: NVIDIA GeForce RTX 5090
    # (32GB GDDR7) CUDA Version: ..."): where one value ends and the next key begins is not told, so neither the
    # release nor the GPU is read and the wheel-architecture table has nothing to compare
    ("every newline lost (one line)", "gpu.arch.unsupported/gh-pytorch-160804-rtx5090-cu121.yaml"),
    # IPython 8's frame header ("File /opt/conda/.../timm/models/layers/__init__.py:40") inside one long line is no
    # frame of its own: whose code raised the ImportError (timm's own, importing from timm) is not known, so the
    # stale-kernel reading does not hold and the removed-name table's reading comes first again
    ("every newline lost (one line)", "colab.runtime.restart-needed/gh-fastervit-144-kaggle-timm-no-restart.yaml"),
}


def _load_eval():
    spec = importlib.util.spec_from_file_location("heldout_eval", REPO / "scripts" / "heldout_eval.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _in_sample(path: str) -> bool:
    """A fixed half of the dev part, chosen by another hash than the sealed quarter's."""
    return hashlib.sha1(("forms:" + path).encode("utf-8")).hexdigest()[0] in "01234567"


@pytest.fixture(scope="module")
def sample():
    from dnnfix.api import diagnose_text
    from dnnfix.knowledge.load import load_kb

    kb = load_kb([])
    ev = _load_eval()

    def first(text):
        d = diagnose_text(text, kb=kb, name="-")
        return (d.matches[0].cause, d.matches[0].confident) if d.matches else (None, False)

    cases = [c for c in ev.load_cases(DEVSET, part="dev") if _in_sample(c["path"])]
    pos, neg = [], []
    for c in cases:
        if c["expected"] is None:
            if not first(c["text"])[1]:  # claimed as pasted is a miss of its own (tests/test_devset.py), not a form's
                neg.append(c)
        elif first(c["text"]) == (c["expected"], True):
            pos.append(c)
    return first, pos, neg


def test_sample_is_large_enough(sample):
    _, pos, neg = sample
    assert len(pos) >= 200 and len(neg) >= 50, (len(pos), len(neg))


@pytest.mark.parametrize("form", sorted(FORMS))
def test_same_answer_in_every_form(sample, form):
    first, pos, neg = sample
    wrap = FORMS[form]
    changed = []
    for c in pos:
        got = first(wrap(c["text"]))
        if got != (c["expected"], True) and (form, c["path"]) not in KNOWN:
            changed.append(f"{c['path']}: {got}")
    claimed = [c["path"] for c in neg if first(wrap(c["text"]))[1] and (form, c["path"]) not in KNOWN]
    assert not changed, f"{form}: the answer changed for {len(changed)} of {len(pos)}: {changed[:5]}"
    assert not claimed, f"{form}: a confident claim on ordinary failures: {claimed[:5]}"


def test_forms_really_change_the_text(sample):
    """Each form rewrites pastes of the sample (a form that left them as they are would test nothing)."""
    _, pos, _ = sample
    # every form but the ones that touch only some words (error lines in bold, the OS's own texts) rewrites the
    # longest paste; those rewrite at least 15 pastes of the sample
    text = max((c["text"] for c in pos), key=len)
    some = ("OS texts", "bold error lines")
    assert all(FORMS[f](text) != text for f in FORMS if not f.startswith(some))
    for f in FORMS:
        if f.startswith(some):
            assert sum(FORMS[f](c["text"]) != c["text"] for c in pos) >= 15, f


def _changed():
    """Every (form, case) whose answer changes in that form now: what KNOWN would hold if it listed them all."""
    from dnnfix.api import diagnose_text
    from dnnfix.knowledge.load import load_kb

    kb = load_kb([])

    def first(text):
        d = diagnose_text(text, kb=kb, name="-")
        return (d.matches[0].cause, d.matches[0].confident) if d.matches else (None, False)

    out = []
    for c in _load_eval().load_cases(DEVSET, part="dev"):
        if not _in_sample(c["path"]):
            continue
        if c["expected"] is None:
            if not first(c["text"])[1]:
                out += [(f, c["path"]) for f, wrap in FORMS.items() if first(wrap(c["text"]))[1]]
        elif first(c["text"]) == (c["expected"], True):
            out += [(f, c["path"]) for f, wrap in FORMS.items() if first(wrap(c["text"])) != (c["expected"], True)]
    return sorted(out)


if __name__ == "__main__":  # after a wave of new cases: python tests/test_paste_forms.py (review before listing)
    import sys

    sys.path.insert(0, str(REPO))
    for form, path in _changed():
        print(f'    ("{form}", "{path}"),' + ("" if (form, path) in KNOWN else "  # new"))
