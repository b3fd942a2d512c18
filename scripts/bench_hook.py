#!/usr/bin/env python
"""Benchmark the exception hook: start-up cost, diagnosis times, native capture slowdown.

    python scripts/bench_hook.py            # the table
    python scripts/bench_hook.py --json     # one JSON object (for scripts/bench)
    python scripts/bench_hook.py --quick    # fewer runs, 20 MB instead of 100 MB

1. start-up: `python -c "import dnnfix; dnnfix.install()"` against `python -c pass`, interleaved, median of N
   runs each. Bytecode is cached in a private folder (PYTHONPYCACHEPREFIX), as it is for an installed package.
2. first diagnosis: in a fresh process, sys.excepthook(...) for a CUDA out-of-memory error, including the
   traceback, imports, knowledge-base load (from the on-disk cache, and once without it) and in-process probes;
   also in a process that imported torch first (when installed): a collection pass over its objects would count.
3. later diagnoses: the same process, more exceptions.
4. native capture: a process writing 100 MB to stderr in 100-byte lines, with and without
   install(capture=True), stderr to /dev/null and to a pipe that the benchmark drains (like a terminal or CI).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DIAG = r"""
import io, json, sys, time
t_start = time.perf_counter()
import dnnfix; dnnfix.install()
from dnnfix import hook
OOM = "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity; 13.1 GiB already allocated)"
def fail(i):
    raise RuntimeError(OOM if i % 2 == 0 else f"Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu! ({i})")
times = []
for i in range(int(sys.argv[1])):
    try:
        fail(i)
    except RuntimeError as e:
        sink = io.StringIO()
        saved, sys.stderr = sys.stderr, sink
        t0 = time.perf_counter()
        sys.excepthook(type(e), e, e.__traceback__)
        times.append((time.perf_counter() - t0) * 1000)
        sys.stderr = saved
        assert "dnnfix: " in sink.getvalue() and "could not diagnose" not in sink.getvalue(), sink.getvalue()
print(json.dumps(times))
"""

FLOOD = r"""
import sys, time
if sys.argv[1] == "1":
    import dnnfix; dnnfix.install(capture=True)
line = "x" * 99 + "\n"
w = sys.stderr.write
t0 = time.perf_counter()
for _ in range(int(sys.argv[2])):
    w(line)
sys.stderr.flush()
if sys.argv[1] == "1":
    dnnfix.uninstall()  # includes waiting until the tee has forwarded everything
print((time.perf_counter() - t0) * 1000)
"""


def env_with_pycache(cache: str) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(cache, "pyc")
    env["DNNFIX_CACHE_DIR"] = os.path.join(cache, "kb")
    env.pop("DNNFIX_DISABLE", None)
    env["NO_COLOR"] = "1"
    return env


def wall(cmd, env, stderr=subprocess.DEVNULL) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr, check=True)
    return (time.perf_counter() - t0) * 1000


def bench_startup(env, runs: int):
    py = sys.executable
    variants = {
        "python -c pass": [py, "-c", "pass"],
        "import dnnfix; dnnfix.install()": [py, "-c", "import dnnfix; dnnfix.install()"],
    }
    for cmd in variants.values():  # warm the bytecode cache and the OS file cache
        for _ in range(3):
            wall(cmd, env)
    res = {k: [] for k in variants}
    for _ in range(runs):
        for k, cmd in variants.items():
            res[k].append(wall(cmd, env))
    med = {k: statistics.median(v) for k, v in res.items()}
    return med["python -c pass"], med["import dnnfix; dnnfix.install()"]


def run_diag(env, n: int, pre: str = ""):
    p = subprocess.run(
        [sys.executable, "-c", pre + DIAG, str(n)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if p.returncode != 0:  # say what the diagnosing process printed, not only its exit status
        raise SystemExit(f"bench_hook: a diagnosis run failed (exit {p.returncode}):\n{(p.stdout + p.stderr)[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def bench_first_with(env, module: str, runs: int):
    """Median first diagnosis in a fresh process that imported `module` first (its objects are what a garbage
    collection pass during the diagnosis would walk), or None when it is not installed."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        return None
    run_diag(env, 1, f"import {module}\n")  # the KB cache and bytecode are warm from the rows before
    return statistics.median(run_diag(env, 1, f"import {module}\n")[0] for _ in range(runs))


def bench_diagnosis(env, runs: int):
    import shutil

    shutil.rmtree(env["DNNFIX_CACHE_DIR"], ignore_errors=True)
    cold = run_diag(env, 1)[0]  # no KB cache: YAML parsed and compiled, then cached
    firsts, laters = [], []
    for _ in range(runs):
        t = run_diag(env, 21)
        firsts.append(t[0])
        laters.extend(t[1:])
    return cold, statistics.median(firsts), statistics.median(laters), max(laters)


def flood(env, capture: bool, lines: int, sink: str) -> float:
    cmd = [sys.executable, "-c", FLOOD, "1" if capture else "0", str(lines)]
    if sink == "devnull":
        return wall(cmd, env)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    drained = [0]

    def drain():
        while True:
            b = p.stderr.read1(1 << 20)
            if not b:
                break
            drained[0] += len(b)

    t = threading.Thread(target=drain)
    t.start()
    p.wait()
    t.join()
    assert drained[0] == lines * 100, (drained[0], lines * 100)
    return (time.perf_counter() - t0) * 1000


def bench_capture(env, mb: int, runs: int):
    lines = mb * 1024 * 1024 // 100
    out = {}
    for sink in ("devnull", "pipe"):
        base, cap = [], []
        for _ in range(runs):
            base.append(flood(env, False, lines, sink))
            cap.append(flood(env, True, lines, sink))
        out[sink] = (statistics.median(base), statistics.median(cap))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int, default=None, help="start-up runs per variant (default 30; --quick 20)")
    a = ap.parse_args()
    runs = a.runs or (20 if a.quick else 30)
    mb = 20 if a.quick else 100
    with tempfile.TemporaryDirectory(prefix="dnnfix-bench-") as cache:
        env = env_with_pycache(cache)
        base, hooked = bench_startup(env, runs)
        cold, first, later, later_max = bench_diagnosis(env, 3 if a.quick else 7)
        first_torch = bench_first_with(env, "torch", 3 if a.quick else 7)
        cap = bench_capture(env, mb, 1 if a.quick else 3)
    result = {
        "startup_pass_ms": round(base, 2),
        "startup_install_ms": round(hooked, 2),
        "startup_added_ms": round(hooked - base, 2),
        "first_diagnosis_ms": round(first, 1),
        "first_diagnosis_cold_kb_ms": round(cold, 1),
        "first_diagnosis_torch_ms": round(first_torch, 1) if first_torch is not None else None,
        "later_diagnosis_ms": round(later, 2),
        "later_diagnosis_max_ms": round(later_max, 2),
        "capture_mb": mb,
        "capture_devnull_ms": [round(x) for x in cap["devnull"]],
        "capture_devnull_ratio": round(cap["devnull"][1] / cap["devnull"][0], 3),
        "capture_pipe_ms": [round(x) for x in cap["pipe"]],
        "capture_pipe_ratio": round(cap["pipe"][1] / cap["pipe"][0], 3),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }
    if a.json:
        print(json.dumps(result))
        return 0
    rows = [
        ("start-up: python -c pass (median of %d)" % runs, f"{base:.1f} ms", ""),
        ("start-up: import dnnfix; dnnfix.install()", f"{hooked:.1f} ms", ""),
        ("  added by dnnfix", f"{hooked - base:+.1f} ms", "target < 15, aim 5"),
        ("first diagnosis (KB from cache, probes, traceback)", f"{first:.0f} ms", "target < 150"),
        (
            "first diagnosis with torch imported",
            f"{first_torch:.0f} ms" if first_torch is not None else "n/a",
            "target < 150 (issue 14), 50 (issue 16)",
        ),
        ("first diagnosis, KB never loaded before (no cache)", f"{cold:.0f} ms", "once per KB change"),
        ("later diagnoses (median / max)", f"{later:.1f} / {later_max:.1f} ms", "target < 30"),
        (
            f"{mb} MB to stderr -> /dev/null: plain / captured",
            "%d / %d ms" % cap["devnull"],
            f"ratio {result['capture_devnull_ratio']:.2f}",
        ),
        (
            f"{mb} MB to stderr -> pipe: plain / captured",
            "%d / %d ms" % cap["pipe"],
            f"ratio {result['capture_pipe_ratio']:.2f}",
        ),
    ]
    w = max(len(r[0]) for r in rows)
    print(f"dnnfix hook benchmark (Python {result['python']}, {result['cpus']} CPUs)")
    for name, val, note in rows:
        print(f"  {name:<{w}}  {val:>16}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
