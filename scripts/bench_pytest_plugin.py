#!/usr/bin/env python
"""Benchmark the pytest plugin: what `-p dnnfix` adds to a pytest run with no failures (goal: under 20 ms).

    python scripts/bench_pytest_plugin.py [--runs N]

A folder of 50 passing tests is run with `-p no:dnnfix` (plugin not loaded) and with `-p dnnfix` (loaded and
enabled), interleaved, N runs each (default 15); the table shows the medians and the difference. Other third-party
plugins are left out of both runs so that only ours differs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

OTHERS = (
    "-p",
    "no:cacheprovider",
    "-p",
    "no:textual-snapshot",
    "-p",
    "no:syrupy",
    "-p",
    "no:anyio",
    "-p",
    "no:hypothesispytest",
)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "test_many.py"), "w") as fh:
            for i in range(50):
                fh.write(f"def test_{i}():\n    assert {i} + 1 == {i + 1}\n\n")
        variants = {"without (-p no:dnnfix)": ["-p", "no:dnnfix"], "with (-p dnnfix)": ["-p", "dnnfix"]}
        times = {k: [] for k in variants}
        for _ in range(args.runs + 1):  # the first round warms the bytecode caches and is dropped
            for name, extra in variants.items():
                t = time.perf_counter()
                p = subprocess.run(
                    [sys.executable, "-m", "pytest", "-q", *OTHERS, *extra, "test_many.py"],
                    cwd=d,
                    capture_output=True,
                    text=True,
                )
                times[name].append(time.perf_counter() - t)
                if p.returncode != 0:
                    print(p.stdout + p.stderr)
                    return 1
        print(f"  {'pytest, 50 passing tests':<40} {'median':>10}")
        med = {k: statistics.median(v[1:]) * 1000 for k, v in times.items()}
        for k, v in med.items():
            print(f"  {k:<40} {v:>8.1f} ms")
        diff = med["with (-p dnnfix)"] - med["without (-p no:dnnfix)"]
        print(f"  {'added by the plugin':<40} {diff:>8.1f} ms   goal < 20 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
