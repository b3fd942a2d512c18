"""Environment-probe benchmarks (issue 4): the full `dnnfix env` probe and the hook's quick subset.

    python scripts/bench_env.py [--json] [--runs N]

Prints a small table (median and worst of N runs, after one warm-up) and the -X importtime evidence that
probing imports no deep-learning framework. Goals: full probe < 300 ms without a GPU, quick < 30 ms.
Measures and reports; it is not a pass/fail test (tests/test_probe.py holds the timed assertions).
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FRAMEWORKS = ("tensorflow", "torch", "jax", "jaxlib", "keras")


def timed(fn, runs: int):
    fn()  # warm-up: first-touch file caches, imports
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def cli_runs(args, runs: int):
    """Wall time of `python -m dnnfix ...` in a fresh process (interpreter start-up included)."""
    out = []
    for _ in range(runs + 1):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "dnnfix", *args], cwd=ROOT, capture_output=True)
        out.append((time.perf_counter() - t) * 1000)
    return out[1:]


def frameworks_imported() -> list:
    code = "import dnnfix.probe; dnnfix.probe.collect()"
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ROOT, capture_output=True, text=True)
    mods = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    return sorted(m for m in mods if m.split(".")[0] in FRAMEWORKS)


def main() -> int:
    runs = 10
    if "--runs" in sys.argv:
        runs = int(sys.argv[sys.argv.index("--runs") + 1])
    from dnnfix import probe

    snap = probe.collect()
    gpu = "no GPU" if not snap.get("gpus") else f"{len(snap['gpus'])} GPU(s)"
    rows = []
    for label, fn, goal in (
        ("collect(quick=True)  [hook subset, in-process]", lambda: probe.collect(quick=True), 30.0),
        ("collect()            [dnnfix env full probe]", probe.collect, 300.0),
    ):
        ms = timed(fn, runs)
        rows.append(
            {
                "measure": label,
                "median_ms": round(statistics.median(ms), 1),
                "max_ms": round(max(ms), 1),
                "goal_ms": goal,
            }
        )
    ms = cli_runs(["env", "--json"], max(3, runs // 3))
    rows.append(
        {
            "measure": "`dnnfix env --json` wall time (fresh process)",
            "median_ms": round(statistics.median(ms), 1),
            "max_ms": round(max(ms), 1),
            "goal_ms": None,
        }
    )
    imported = frameworks_imported()
    if "--json" in sys.argv:
        print(
            json.dumps(
                {"machine": platform.machine(), "gpus": gpu, "rows": rows, "frameworks_imported_by_probe": imported},
                indent=2,
            )
        )
        return 0
    print(
        f"  env probes on {platform.machine()}, {gpu}, Python {platform.python_version()} ({runs} runs after a warm-up)"
    )
    print(f"  {'measure':<50} {'median':>9} {'worst':>9}  goal")
    for r in rows:
        goal = f"< {r['goal_ms']:.0f} ms" if r["goal_ms"] else ""
        ok = "" if not r["goal_ms"] else ("  ok" if r["median_ms"] < r["goal_ms"] else "  OVER")
        print(f"  {r['measure']:<50} {r['median_ms']:>6.1f} ms {r['max_ms']:>6.1f} ms  {goal}{ok}")
    print(f"  frameworks imported by `import dnnfix.probe; collect()` (-X importtime): {imported or 'none'}")
    probes = {k: v for k, v in snap.get("probes", {}).items() if v != "ok"}
    for k, v in probes.items():
        print(f"  note: {k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
