"""Bench of the terminal app (`dnnfix tui`): start-up, and paste-to-results for big logs.

    .venv/bin/python scripts/bench_tui.py [--runs 5] [--no-tmux]

Pilot-driven (Textual's headless test driver, the same app factory as the CLI) with the shipped knowledge
base and no machine probe. "paste -> results" runs from the bracketed-paste event to the moment the cause
list is populated (a paste is diagnosed at once; typing waits 300 ms for a pause); "UI stall" is the longest
the event loop went without running a 10 ms heartbeat during that time (what a person would feel as a freeze).
With tmux installed, it also times the real `dnnfix tui` process until its first screen is drawn.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
EXAMPLE = (ROOT / "examples" / "colab-dnn-library-not-found.txt").read_text()


def big_log(lines: int) -> str:
    """A training log of `lines` lines that ends in the Colab cuDNN failure."""
    noise = [
        f"2024-05-01 12:{(i // 60) % 60:02d}:{i % 60:02d}.123456: I tensorflow/core/kernels/data/"
        f"shuffle_dataset_op.cc:450] step {i}: loss={1 / (i + 1):.5f} acc=0.{i % 1000:03d} lr=0.001"
        for i in range(max(0, lines - EXAMPLE.count("\n")))
    ]
    return "\n".join(noise) + "\n" + EXAMPLE


async def _startup_once() -> float:
    from dnnfix.tui.app import make_app

    t0 = time.perf_counter()
    app = make_app(show_timings=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.main.paste  # noqa: B018 - the main screen is composed and mounted
        return (time.perf_counter() - t0) * 1000


async def _paste_once(text: str):
    from textual import events

    from dnnfix.tui.app import make_app

    app = make_app(show_timings=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await app.wait_idle()  # knowledge base loaded, as when a person reaches for the paste key
        stall = 0.0
        beat = [time.perf_counter()]
        stop = False

        async def heartbeat():
            nonlocal stall
            while not stop:
                await asyncio.sleep(0.01)
                now = time.perf_counter()
                stall = max(stall, now - beat[0] - 0.01)
                beat[0] = now

        gc.collect()  # garbage of the previous runs' apps is not this paste's cost
        beat[0] = time.perf_counter()
        hb = asyncio.create_task(heartbeat())
        t0 = time.perf_counter()
        app.post_message(events.Paste(text))
        while not app.main.causes.matches:
            await asyncio.sleep(0.002)
        end = time.perf_counter()
        total = (end - t0) * 1000
        stall = max(stall, end - beat[0] - 0.01)  # up to the results, not the rendering that follows
        shown_stall = stall
        stop = True
        await hb
        await app.wait_idle()
        await pilot.pause(0.2)  # let the explanation finish rendering before the app closes
        d = app.main.diagnosis
        return total, d.elapsed_ms, shown_stall * 1000, app.main.paste.document.line_count, d.top.cause


def _tmux_startup(runs: int):
    if shutil.which("tmux") is None:
        return None
    exe = Path(sys.executable).with_name("dnnfix")
    cmd = str(exe) if exe.exists() else f"{sys.executable} -m dnnfix"
    times = []
    folder = tempfile.mkdtemp(prefix="dnnfix-tmux-")
    for i in range(runs):
        sock = os.path.join(folder, f"s{i}")
        t = lambda *a: subprocess.run(["tmux", "-S", sock, *a], capture_output=True, text=True)  # noqa: E731
        t0 = time.perf_counter()
        t(
            "new-session",
            "-d",
            "-s",
            "b",
            "-x",
            "100",
            "-y",
            "30",
            f"cd {ROOT} && env -u COLUMNS -u LINES {cmd} tui --no-probe; sleep 30",
        )
        try:
            while time.perf_counter() - t0 < 30:
                if "Waiting for a paste" in t("capture-pane", "-p", "-t", "b").stdout:
                    times.append((time.perf_counter() - t0) * 1000)
                    break
                time.sleep(0.005)
        finally:
            t("kill-server")
    shutil.rmtree(folder, ignore_errors=True)
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-tmux", action="store_true", help="skip timing the real process in tmux")
    args = ap.parse_args()
    os.environ.setdefault("DNNFIX_CACHE_DIR", tempfile.mkdtemp(prefix="dnnfix-bench-cache-"))
    os.environ.setdefault("DNNFIX_USER_KB", tempfile.mkdtemp(prefix="dnnfix-bench-kb-"))
    from dnnfix.knowledge.load import load_kb

    load_kb()  # warm the on-disk compiled cache, as after a first run
    rows = []
    med = statistics.median

    starts = [asyncio.run(_startup_once()) for _ in range(args.runs)]
    rows.append(
        ("app start-up, pilot (make_app -> main screen mounted)", f"{med(starts):.0f} ms", f"min {min(starts):.0f}")
    )
    if not args.no_tmux:
        real = _tmux_startup(args.runs)
        if real:
            rows.append(
                ("app start-up, real process in tmux (to first screen)", f"{med(real):.0f} ms", f"min {min(real):.0f}")
            )
    for n in (5_000, 50_000, 200_000):
        text = big_log(n)
        res = [asyncio.run(_paste_once(text)) for _ in range(args.runs if n <= 50_000 else max(1, args.runs // 2))]
        total = med(r[0] for r in res)
        rows.append(
            (
                f"paste {n:,} lines ({len(text) / 1e6:.1f} MB) -> results shown",
                f"{total:.0f} ms",
                f"diagnose {med(r[1] for r in res):.0f} ms, UI stall {med(r[2] for r in res):.0f} ms, "
                f"{res[0][3]:,} lines kept, top {res[0][4]}",
            )
        )
    w = max(len(r[0]) for r in rows)
    print(
        f"dnnfix tui bench ({args.runs} runs, medians; Python {sys.version.split()[0]}, "
        f"textual {__import__('textual').__version__})"
    )
    print(f"{'measure':<{w}}  {'time':>8}  notes")
    for name, val, note in rows:
        print(f"{name:<{w}}  {val:>8}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
