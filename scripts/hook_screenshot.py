#!/usr/bin/env python
"""Render the notebook panel for a real error in a real kernel, then screenshot it with headless Chromium.

    python scripts/hook_screenshot.py [--out docs/hook-panel.png] [--html page.html]

The kernel runs a real TensorFlow/Keras shape error on CPU with `dnnfix.install()`; the page shows the cell, its
unchanged traceback (ANSI colours converted) and the dnnfix panel exactly as published (text/html).
Needs nbclient, ipykernel, tensorflow and a `chromium` (or `chromium-browser`, `google-chrome`) binary.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIME = "application/vnd.dnnfix.diagnosis+json"

CELL = """\
import numpy as np
import tensorflow as tf

model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(2)])
model(np.zeros((3, 5), dtype="float32"))"""

_BASIC = {
    30: "#000",
    31: "#c62828",
    32: "#2e7d32",
    33: "#a66a00",
    34: "#1565c0",
    35: "#8e24aa",
    36: "#00838f",
    37: "#555",
    90: "#777",
    91: "#e53935",
    92: "#43a047",
    93: "#b8860b",
    94: "#1e88e5",
    95: "#ab47bc",
    96: "#00acc1",
    97: "#999",
}


def _xterm(n: int) -> str:
    if n < 16:
        return _BASIC.get(30 + n if n < 8 else 82 + n, "#333")
    if n < 232:
        n -= 16
        r, g, b = n // 36, (n // 6) % 6, n % 6
        f = lambda v: 0 if v == 0 else 55 + 40 * v  # noqa: E731
        return f"#{f(r):02x}{f(g):02x}{f(b):02x}"
    v = 8 + (n - 232) * 10
    return f"#{v:02x}{v:02x}{v:02x}"


def ansi_to_html(text: str) -> str:
    out, fg, bg, bold = [], None, None, False
    for i, part in enumerate(re.split(r"\x1b\[([0-9;]*)m", text)):
        if i % 2 == 0:
            if part:
                style = ";".join(
                    s
                    for s in (
                        f"color:{fg}" if fg else "",
                        f"background:{bg}" if bg else "",
                        "font-weight:bold" if bold else "",
                    )
                    if s
                )
                esc = html.escape(part)
                out.append(f'<span style="{style}">{esc}</span>' if style else esc)
            continue
        codes = [int(c) for c in part.split(";") if c] or [0]
        k = 0
        while k < len(codes):
            c = codes[k]
            if c == 0:
                fg = bg = None
                bold = False
            elif c == 1:
                bold = True
            elif c == 22:
                bold = False
            elif c == 39:
                fg = None
            elif c == 49:
                bg = None
            elif c in (38, 48) and k + 2 < len(codes) and codes[k + 1] == 5:
                col = _xterm(codes[k + 2])
                fg, bg = (col, bg) if c == 38 else (fg, col)
                k += 2
            elif 30 <= c <= 37 or 90 <= c <= 97:
                fg = _BASIC[c]
            elif 40 <= c <= 47:
                bg = {43: "#fff3b0"}.get(c, _BASIC[c - 10] + "33")
            k += 1
    return "".join(out)


def run_kernel():
    import nbclient
    import nbformat

    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("import dnnfix; dnnfix.install()"), nbformat.v4.new_code_cell(CELL)]
    )
    nbclient.NotebookClient(nb, timeout=300, allow_errors=True, kernel_name="python3").execute()
    outs = nb.cells[1].outputs
    err = next(o for o in outs if o.output_type == "error")
    panel = next(o for o in outs if o.output_type == "display_data" and MIME in o.data)
    return err, panel.data["text/html"]


def page(err, panel_html: str) -> str:
    tb = ansi_to_html("\n".join(err.traceback))
    code = html.escape(CELL)
    return f"""<!doctype html><html><head><meta charset="utf-8"><style>
body{{margin:0;padding:18px 22px;background:#fff;color:#212121;font:13px/1.45 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}}
.cell{{display:flex;gap:8px}} .prompt{{width:64px;flex:none;text-align:right;color:#307fc1;font:12px monospace;padding-top:6px}}
.out .prompt{{color:#bf5b3d}}
.input{{flex:1;border:1px solid #cfcfcf;border-radius:2px;background:#f7f7f7;padding:6px 8px;margin:0;
 font:12px/1.4 ui-monospace,Menlo,Consolas,"Liberation Mono",monospace;white-space:pre}}
.err{{flex:1;margin:6px 0 0;padding:6px 8px;background:#fdd;font:12px/1.35 ui-monospace,Menlo,Consolas,"Liberation Mono",monospace;
 white-space:pre-wrap;word-break:break-word}}
.panel{{flex:1;min-width:0}}
</style></head><body>
<div class="cell"><div class="prompt">In [2]:</div><pre class="input">{code}</pre></div>
<div class="cell out"><div class="prompt"></div><pre class="err">{tb}</pre></div>
<div class="cell out"><div class="prompt"></div><div class="panel">{panel_html}</div></div>
<script>document.querySelectorAll('.dnnfix details').forEach(function(d){{
 if(/^(What happened|Why)/.test(d.querySelector('summary').textContent))d.open=true}})</script>
</body></html>"""


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("no chromium found (apt-get install -y chromium)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "hook-panel.png"))
    ap.add_argument("--html", default=None, help="also keep the HTML page here")
    ap.add_argument("--size", default="1000,1850", help="window size WIDTH,HEIGHT (default 1000,1850)")
    a = ap.parse_args()
    os.environ.setdefault("NO_COLOR", "")
    err, panel_html = run_kernel()
    doc = page(err, panel_html)
    with tempfile.TemporaryDirectory() as tmp:
        path = a.html or os.path.join(tmp, "panel.html")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(doc)
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        subprocess.run(
            [
                chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--screenshot={os.path.abspath(a.out)}",
                f"--window-size={a.size}",
                "file://" + os.path.abspath(path),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    print(a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
