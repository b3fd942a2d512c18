#!/usr/bin/env python
"""The notebook panel in a real browser: live JupyterLab (light, dark), the same notebook saved and reopened
(untrusted), nbconvert HTML, and the plain-text form.

    python scripts/panel_browser.py [--out docs/]    # writes panel-*.png and prints what each view showed

A notebook is written whose one cell holds a real error's traceback and dnnfix's display_data (text/plain,
text/html and application/vnd.dnnfix.diagnosis+json, exactly as the hook publishes them). Signed with
`jupyter trust`, JupyterLab renders it as it renders a live kernel's output (trusted: the <style> block applies);
unsigned, as a notebook saved and reopened or shared (untrusted: JupyterLab's sanitiser removes <style>, scripts
and event handlers). Headless Chromium loads each view; tests/test_panel_browser.py reads the DOM it dumps.
Needs jupyterlab, nbconvert and a chromium (or chromium-browser / google-chrome) binary.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Dict, Optional

REPO = Path(__file__).resolve().parent.parent
MIME = "application/vnd.dnnfix.diagnosis+json"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--disable-dev-shm-usage",
    "--force-device-scale-factor=1",
]
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}


def chromium() -> Optional[str]:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def panel_bundle() -> Dict[str, object]:
    """The hook's display_data for a real CUDA out-of-memory RuntimeError (diagnosed without probing)."""
    sys.path.insert(0, str(REPO))
    from dnnfix.knowledge.load import load_kb
    from dnnfix.panel import build

    msg = (
        "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 14.75 GiB total capacity; 12.10 GiB already "
        "allocated; 1.06 GiB free; 12.30 GiB reserved in total by PyTorch)"
    )
    try:
        raise RuntimeError(msg)
    except RuntimeError as e:
        p = build(e, load_kb(), probe=False)
    p.total_ms = 42.0  # the pictures should not change with the machine's speed
    p._html = ""
    return p.bundle()


def write_notebook(folder: Path, bundle) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell("x = torch.randn(64, 3, 4096, 4096, device='cuda')")
    cell.execution_count = 3
    cell.outputs = [
        nbformat.v4.new_output(
            "error",
            ename="RuntimeError",
            evalue="CUDA out of memory. Tried to allocate 2.00 GiB",
            traceback=["\x1b[0;31mRuntimeError\x1b[0m: CUDA out of memory. Tried to allocate 2.00 GiB"],
        ),
        nbformat.v4.new_output("display_data", data=bundle),
    ]
    nb.cells = [cell]
    path = folder / "panel.ipynb"
    nbformat.write(nb, str(path))
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browse(url: str, png: Optional[Path], *, budget_ms: int = 12000, size: str = "1100,900", timeout: int = 120) -> str:
    """Load `url` in headless Chromium; return the DOM after `budget_ms` of page time, save a screenshot."""
    exe = chromium()
    assert exe, "no chromium"
    with tempfile.TemporaryDirectory(prefix="dnnfix-chromium-") as profile:
        args = [
            exe,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={size}",
            f"--virtual-time-budget={budget_ms}",
        ]
        dom = subprocess.run(args + ["--dump-dom", url], capture_output=True, text=True, timeout=timeout).stdout
        if png is not None:
            subprocess.run(args + [f"--screenshot={png}", url], capture_output=True, timeout=timeout)
    return dom


class Lab:
    """A JupyterLab server on the loopback address, serving `folder`, with its own settings and notary."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = _free_port()
        self.token = "dnnfix-test"
        self.env = dict(
            os.environ,
            JUPYTER_DATA_DIR=str(folder / "data"),
            JUPYTER_CONFIG_DIR=str(folder / "config"),
            JUPYTER_RUNTIME_DIR=str(folder / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(folder / "settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(folder / "workspaces"),
        )
        self.proc = None

    def theme(self, name: str) -> None:
        d = self.folder / "settings" / "@jupyterlab" / "apputils-extension"
        d.mkdir(parents=True, exist_ok=True)
        (d / "themes.jupyterlab-settings").write_text(json.dumps({"theme": THEMES[name]}))
        n = self.folder / "settings" / "@jupyterlab" / "notebook-extension"
        n.mkdir(parents=True, exist_ok=True)
        (n / "tracker.jupyterlab-settings").write_text(json.dumps({"kernelStatus": {"showOnStatusBar": False}}))
        (d / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )

    def trust(self, nb: Path) -> None:
        subprocess.run(
            [sys.executable, "-m", "jupyter", "trust", str(nb)],
            env=self.env,
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                f"--port={self.port}",
                "--ServerApp.ip=127.0.0.1",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={self.folder}",
                "--LabApp.news_url=",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                "--ServerApp.port_retries=0",
                "--allow-root",
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/status?token={self.token}", timeout=2)
                return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError("jupyter lab did not start")

    def url(self, nb: str) -> str:
        return f"http://127.0.0.1:{self.port}/lab/tree/{nb}?token={self.token}&reset"

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None


def nbconvert_html(nb: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(nb)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return nb.with_suffix(".html")


def run_all(out: Optional[Path], work: Path) -> Dict[str, str]:
    """Every view's DOM, keyed by view name; screenshots into `out` when given."""
    bundle = panel_bundle()
    nb = write_notebook(work, bundle)
    doms: Dict[str, str] = {}
    png = (lambda name: out / f"panel-{name}.png") if out is not None else (lambda name: None)
    html = nbconvert_html(nb)
    doms["nbconvert"] = browse(html.as_uri(), png("nbconvert"), budget_ms=3000)
    (work / "plain.txt").write_text(str(bundle["text/plain"]))
    lab = Lab(work)
    try:
        lab.theme("light")
        lab.start()
        doms["untrusted-light"] = browse(lab.url(nb.name), png("reopened-untrusted"))
        lab.trust(nb)
        doms["live-light"] = browse(lab.url(nb.name), png("jupyterlab-light"))
        lab.theme("dark")
        doms["live-dark"] = browse(lab.url(nb.name), png("jupyterlab-dark"))
    finally:
        lab.stop()
    return doms


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(REPO / "docs"))
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dnnfix-panel-") as work:
        doms = run_all(out, Path(work))
    for name, dom in doms.items():
        found = "found" if 'class="dnnfix' in dom else "MISSING"
        print(f"{name}: {len(dom)} characters of DOM, panel {found}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
