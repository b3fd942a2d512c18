"""dnnfix benchmarks (issue numbers are goals; this prints what this machine measures, as a table).

Run through scripts/bench. Nothing here is a pass/fail test: it measures and reports honestly.
"""

from __future__ import annotations

import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ROWS = []


def row(what: str, value: str, goal: str = "") -> None:
    ROWS.append((what, value, goal))
    print(f"  {what:<58} {value:>18}  {goal}", flush=True)


def corpus():
    """Every case text of the shipped KB plus the negatives: realistic pastes of all forms."""
    from dnnfix.knowledge.check import check

    res = check()
    texts = [c.text for c in res.cases] + [c.text for c in res.negatives]
    return texts, res.kb


def typical_traceback() -> str:
    lines = [
        "2024-02-01 10:00:0%d.000000: I tensorflow/core/platform/cpu_feature_guard.cc:182] This TensorFlow binary is optimized"
        % (i % 10)
        for i in range(20)
    ]
    lines += ["Traceback (most recent call last):"]
    for i in range(36):
        lines += [
            f'  File "/usr/local/lib/python3.10/dist-packages/keras/src/engine/training_{i}.py", line {100 + i}, in fit_{i}',
            f"    result = self._call_{i}(x, y, batch_size=batch_size)",
        ]
    lines += [
        "tensorflow.python.framework.errors_impl.UnimplementedError: Graph execution error:",
        "",
        "Detected at node 'sequential/conv2d/Conv2D' defined at (most recent call last):",
        "DNN library is not found.",
        "\t [[{{node sequential/conv2d/Conv2D}}]] [Op:__inference_train_function_1187]",
    ]
    return "\n".join(lines) + "\n"


def bench_match(kb) -> None:
    from dnnfix.api import diagnose_text

    text = typical_traceback()
    assert len(text.splitlines()) >= 95
    diagnose_text(text, kb=kb)  # warm regex compilation and rapidfuzz import
    times = [diagnose_text(text, kb=kb).elapsed_ms for _ in range(300)]
    row("match: typical 100-line traceback, median elapsed_ms", f"{statistics.median(times):.3f} ms", "goal < 2 ms")
    row("match: same, p95", f"{sorted(times)[int(len(times) * 0.95)]:.3f} ms")


def bench_kb_load() -> None:
    code = (
        "import time; t=time.perf_counter(); import dnnfix.knowledge.load as k; t1=time.perf_counter(); kb=k.load_kb(); "
        "t2=time.perf_counter(); print((t2-t1)*1000, (t2-t)*1000, len(kb.signatures))"
    )

    def run(env):
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout.split()
        return float(out[0]), float(out[1])

    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, DNNFIX_CACHE_DIR=cache)
        cold = [run(dict(env, DNNFIX_CACHE_DIR=""))[0] for _ in range(3)]
        run(env)
        warm = [run(env) for _ in range(9)]
    row("kb load: parse all YAML + Markdown (no cache), median", f"{statistics.median(cold):.1f} ms")
    row(
        "kb load: load_kb() from the compiled cache, median",
        f"{statistics.median(w[0] for w in warm):.1f} ms",
        "goal < 50 ms",
    )
    row("kb load: same, including importing dnnfix's modules", f"{statistics.median(w[1] for w in warm):.1f} ms")


def bench_process(texts) -> None:
    d = Path(tempfile.mkdtemp())
    try:
        files = []
        for i in range(300):
            p = d / f"paste-{i:03d}.txt"
            p.write_text(texts[i % len(texts)])
            files.append(str(p))
        cmd = [sys.executable, "-m", "dnnfix", "match", "--json", "--no-probe", *files]
        subprocess.run(cmd, capture_output=True)  # warm the KB cache
        runs = []
        for _ in range(3):
            t = time.perf_counter()
            p = subprocess.run(cmd, capture_output=True)
            runs.append(time.perf_counter() - t)
            assert p.returncode == 0 and len(p.stdout.splitlines()) == 300
        row("one `dnnfix match` process over 300 pastes (incl. start-up)", f"{min(runs):.2f} s", "goal < 3 s")
        # throughput over 1,000 mixed logs (pastes glued to start-up noise of varying length)
        rnd = random.Random(7)
        noise = [
            f"2024-01-01 00:00:{s:02d}.{s:06d}: I tensorflow/core/util/port.cc:113] oneDNN custom operations are on.\n"
            for s in range(60)
        ]
        files = []
        total = 0
        for i in range(1000):
            p = d / f"log-{i:04d}.log"
            body = "".join(rnd.choice(noise) for _ in range(rnd.randint(0, 400))) + texts[i % len(texts)]
            p.write_text(body)
            total += p.stat().st_size
            files.append(str(p))
        t = time.perf_counter()
        p = subprocess.run(
            [sys.executable, "-m", "dnnfix", "match", "--json", "--no-probe", *files], capture_output=True
        )
        dt = time.perf_counter() - t
        assert p.returncode == 0
        row("throughput, 1,000 mixed logs: inputs/s", f"{1000 / dt:.0f} /s")
        row("throughput, 1,000 mixed logs: MB/s", f"{total / dt / 1e6:.1f} MB/s", f"({total / 1e6:.1f} MB)")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def bench_growth(kb, texts) -> None:
    import copy

    from dnnfix.api import diagnose_text
    from dnnfix.knowledge.load import index_kb
    from dnnfix.knowledge.signature import literal_needles, strict_words

    # 200 texts spread over the whole corpus (every k-th): the first 200 were the first families' cases only
    # (accelerators, api-drift), so adding cases to those families changed what was measured
    step = max(1, len(texts) // 200)
    sample = texts[::step][:200]

    def once(k) -> float:
        t0 = time.perf_counter()
        for t in sample:
            diagnose_text(t, kb=k)
        return (time.perf_counter() - t0) / len(sample) * 1000

    def timed(k) -> float:
        """ms/input of KB k, best of 5, each run beside a run of the real KB (a ratio of two minutes measured
        apart moved by a third on a shared VM): the real KB's best over all runs so far stays the base"""
        nonlocal base
        for t in sample[:20]:
            diagnose_text(t, kb=k)
        best = []
        for _ in range(5):
            base = min(base, once(kb))
            best.append(once(k))
        return min(best)

    base = float("inf")
    for t in sample[:20]:
        diagnose_text(t, kb=kb)
    for _ in range(5):
        base = min(base, once(kb))
    rnd = random.Random(1)
    grown_rows = []  # printed after the real KB's row, once its best time is known

    def grown(factor: int, edit):
        """The KB with factor-1 copies of every signature, each clause edited by edit(clause, fresh word), and the
        required words and literal runs a compile of the edited pattern would give (strict_words, literal_needles)."""
        big = copy.copy(kb)
        sigs = list(kb.signatures)
        for n in range(factor - 1):
            for s in kb.signatures:
                c = copy.deepcopy(s)
                c.id = f"{s.id}-copy-{n}"
                word = "".join(rnd.choice("bcdfghjklmnpqrstvwxz") for _ in range(9))
                for cl in c.match:
                    edit(cl, word)
                    if cl.kind == "regex":
                        cl.required = strict_words(cl.pattern)
                        cl.needles = literal_needles(cl.pattern)
                sigs.append(c)
        big.signatures = sigs
        big.index, big.unkeyed, big.env_only = {}, [], []
        index_kb(big)
        return big

    def own_word(cl, word):  # copies on their own words: the file names the new word as the key
        if cl.kind == "regex":
            cl.pattern = word + r"\s+" + cl.pattern
            cl.keys, cl.keys_given = (word,), True
        elif cl.kind == "phrase":
            cl.phrase = word + " " + cl.phrase
            cl.keys = (word,)

    for factor in (10, 100):
        big = grown(factor, own_word)
        grown_rows.append(
            (f"growth: KB x{factor} ({len(big.signatures)} signatures), ms/input", timed(big), "< 2x at 100x")
        )

    # copies that keep every prefilter word of the original (a KB where many signatures share "expected",
    # "cuda" ...): each copy's pattern needs one more word the inputs never hold, so copies are opened by the
    # index and must be dismissed cheaply (issue 16: at most 3x today's per-input time at 100x)
    def one_more_word(cl, word):  # every anchor now needs a word no input holds; the index words stay
        if cl.kind == "regex":
            cl.pattern = "(?:" + cl.pattern + r")\s+" + word + r"\s+x"
        elif cl.kind == "phrase":
            cl.phrase = cl.phrase + " " + word
        elif cl.kind == "exception":
            cl.anchor = False

    big = grown(100, one_more_word)
    grown_rows.append(
        (f"growth: KB x100 sharing prefilter words ({len(big.signatures)} signatures), ms/input", timed(big), "<= 3x")
    )
    row(f"growth: real KB ({len(kb.signatures)} signatures), ms/input", f"{base:.3f} ms")
    for what, t, goal in grown_rows:
        row(what, f"{t:.3f} ms", f"ratio {t / base:.2f}x (goal {goal})")


def bench_adversarial(kb) -> None:
    """Inputs that once stalled matching (issue 15): each is matched on the RE2 engine in linear time."""
    from dnnfix.api import diagnose_text

    tf = (
        "2024-01-01 10:00:00.000000: I tensorflow/core/platform/cpu_feature_guard.cc:182] This TensorFlow binary "
        "is optimized to use available CPU instructions\n"
    )
    cases = [
        ("TF log line + 25,000 blank lines", tf + "\n" * 25000, "was 18.5 s"),
        ("20,000 whitespace-only lines", "   \t  \n" * 20000, ""),
        ("20,000 ordinary lines", "".join(f"epoch {i} loss 0.{i % 97} acc 0.5\n" for i in range(20000)), ""),
        (
            "2.2 KB run of spaces in a no-kernel-image paste",
            "RuntimeError: CUDA error: no kernel image is available "
            "for execution on the device\nGPU 0: NVIDIA" + " " * 2200 + "x\n",
            "goal < 50 ms (was 15.6 s)",
        ),
        (
            "313 KB exception message",
            "RuntimeError: " + "\n".join(f"word{i} something" for i in range(20000)),
            "was 16 s",
        ),
    ]
    took = {}
    for name, text, goal in cases:
        diagnose_text(text[:2000], kb=kb)
        best = min(_timed_once(diagnose_text, text, kb) for _ in range(3))
        took[name] = best
        row(f"adversarial: {name}", f"{best:.1f} ms", goal)
    ratio = took["20,000 whitespace-only lines"] / took["20,000 ordinary lines"]
    row("adversarial: whitespace-only / ordinary lines", f"{ratio:.2f}x", "goal within 5x (was 78x)")


def _timed_once(fn, text, kb) -> float:
    t0 = time.perf_counter()
    fn(text, kb=kb)
    return (time.perf_counter() - t0) * 1000


def bench_huge() -> None:
    d = Path(tempfile.mkdtemp())
    try:
        p = d / "huge.log"
        with open(p, "wb") as fh:
            fh.write(
                b"2024-01-01 00:00:00.000000: E tensorflow/compiler/xla/stream_executor/cuda/cuda_dnn.cc:429] Loaded runtime CuDNN library: 8.1.0 but source was compiled with: 8.6.0.  CuDNN library needs to have matching major version and equal or higher minor version.\n"
            )
            line = b"Epoch 3/50 1875/1875 [==============================] - 12s 6ms/step - loss: 0.1432 - accuracy: 0.9571 - val_loss: 0.1\n"
            block = line * 10000
            while fh.tell() < 200 * 1024 * 1024:
                fh.write(block)
            fh.write(
                b'Traceback (most recent call last):\n  File "train.py", line 9, in <module>\n    model.fit(x, y)\n'
                b"tensorflow.python.framework.errors_impl.UnimplementedError: Graph execution error:\n\nDNN library is not found.\n"
            )
        size = p.stat().st_size
        code = (
            "import resource,subprocess,sys,time; t=time.perf_counter(); "
            "p=subprocess.run([sys.executable,'-m','dnnfix','match','--json','--no-probe',sys.argv[1]],capture_output=True); "
            "dt=time.perf_counter()-t; r=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss; "
            "print(dt, r, p.returncode, p.stdout.decode())"
        )
        out = subprocess.run([sys.executable, "-c", code, str(p)], capture_output=True, text=True).stdout
        dt, rss, rc, js = out.split(" ", 3)
        top = json.loads(js)["matches"][0]["cause"] if json.loads(js)["matches"] else "none"
        row(f"{size / 2**20:.0f} MB log: wall time", f"{float(dt):.1f} s", "goal < 20 s")
        row(f"{size / 2**20:.0f} MB log: peak memory (max RSS)", f"{int(rss) / 1024:.0f} MB", "goal < 1 GB")
        row(f"{size / 2**20:.0f} MB log: top cause (error on first+last lines)", top)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def bench_import() -> None:
    p = subprocess.run([sys.executable, "-X", "importtime", "-c", "import dnnfix"], capture_output=True, text=True)
    mods = [ln.rsplit("|", 1)[-1].strip() for ln in p.stderr.splitlines() if "|" in ln]
    total = [ln for ln in p.stderr.splitlines() if ln.rstrip().endswith("| dnnfix")]
    cum = int(total[0].split("|")[1]) if total else -1
    heavy = [
        m
        for m in mods
        if m.split(".")[0] in ("yaml", "rapidfuzz", "markdown_it", "textual", "pynvml", "tensorflow", "torch", "jax")
    ]
    row(
        "python -X importtime: import dnnfix (cumulative)",
        f"{cum} us",
        "no yaml/rapidfuzz/markdown_it/textual/pynvml/frameworks",
    )
    row("heavy modules imported by `import dnnfix`", ", ".join(heavy) or "none")


def main() -> int:
    print(
        f"dnnfix bench on {platform.node() or 'this machine'}: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )
    texts, kb = corpus()
    print(f"  corpus: {len(texts)} case and negative texts from the shipped knowledge base\n")
    print(f"  {'measure':<58} {'value':>18}  goal")
    bench_import()
    bench_kb_load()
    bench_match(kb)
    bench_process(texts)
    bench_growth(kb, texts)
    bench_adversarial(kb)
    if "--quick" not in sys.argv:
        bench_huge()
    for extra in ("bench_env.py", "bench_hook.py", "bench_tui.py", "bench_scan.py", "bench_pytest_plugin.py"):
        p = ROOT / "scripts" / extra
        if p.is_file() and "--quick" not in sys.argv:
            print(f"\n  [{extra}]", flush=True)
            subprocess.run([sys.executable, str(p)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
