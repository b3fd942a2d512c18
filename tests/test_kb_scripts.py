"""The knowledge-base tools in scripts/ keep working as the matcher changes: kb_fit's recorder wraps the
matcher's own functions (a changed signature there must not break it), kb_eval and promote_signatures run."""

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parent.parent


def _load(name):
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_kb_fit_records_the_clauses_that_fired():
    from dnnfix import matcher
    from dnnfix.knowledge.load import load_kb

    kb_fit = _load("kb_fit")
    case = SimpleNamespace(
        text="RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity)",
        env=None,
    )
    before = (matcher.score_signature, matcher._eval)
    rows = kb_fit.record(SimpleNamespace(cases=[case], negatives=[], kb=load_kb()))
    assert (matcher.score_signature, matcher._eval) == before  # put back
    ((got, fired),) = rows
    assert got is case and any(m for m, _a in fired.values()), fired
    sig = next(iter(fired))
    assert load_kb().by_id(sig).cause == "torch.cuda.oom"


@pytest.mark.shipped_data
def test_kb_eval_and_promote_signatures_run():
    for cmd in (["scripts/kb_eval.py"], ["scripts/promote_signatures"]):
        p = subprocess.run([sys.executable, *cmd], cwd=REPO, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, (cmd, p.stderr[-2000:])
        assert p.stdout.strip()


def _fake_module(path, source: str) -> None:
    """One source file of a fake package that is never imported (the miner reads it as text)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)


def test_mine_raise_messages_reads_source_and_flags_unknown_wording(tmp_path):
    """scripts/mine_raise_messages.py reads raise statements without importing the package, fills f-string parts
    with a word, and reports what dnnfix recognises: a known framework message scores high, an unknown one not."""
    mine = _load("mine_raise_messages")
    _fake_module(
        tmp_path / "fakefw" / "cuda.py",
        "import sys\n"
        "sys.exit('importing this module would be a bug')\n"
        "def device(i):\n"
        "    raise RuntimeError('PyTorch was compiled without CUDA support')\n"
        "def other(n):\n"
        "    raise ValueError(f'the frobnication device index {n} must be a prime number, got {n}')\n"
        "def quiet(n):\n"
        "    raise ValueError('the value of the counter must be positive here')\n",
    )
    rows = mine.mine(str(tmp_path), ["fakefw/*.py"])
    by_msg = {r["message"]: r for r in rows}
    known = by_msg["PyTorch was compiled without CUDA support"]
    assert known["cause"] == "torch.build.cpu-only" and known["score"] >= 0.6 and known["line"] == 4
    unknown = by_msg["the frobnication device index X1 must be a prime number, got X1"]
    assert unknown["score"] < 0.3 and unknown["exc"] == "ValueError"
    assert mine.paste("ValueError", unknown["message"]).startswith("ValueError: the frobnication device index foo")
    # no environment word: left out unless --all
    assert "the value of the counter must be positive here" not in by_msg
    assert "the value of the counter must be positive here" in {
        r["message"] for r in mine.mine(str(tmp_path), ["fakefw/*.py"], True)
    }


def test_mine_raise_messages_calls_reads_warnings_logs_and_prints(tmp_path):
    """--calls also reads what a package prints without raising (warnings.warn, logger.warning/error, print), pasted
    as the user would see it; without --calls those are left out."""
    mine = _load("mine_raise_messages")
    _fake_module(
        tmp_path / "fakelib" / "setup.py",
        "import logging, warnings\n"
        "logger = logging.getLogger(__name__)\n"
        "def a():\n"
        "    warnings.warn('The installed version of bitsandbytes was compiled without GPU support.')\n"
        "def b(v):\n"
        "    logger.warning(f'Disabling PyTorch because PyTorch >= 2.4 is required but found 2.1.{v}')\n"
        "def c():\n"
        "    print('the frobnication driver version could not be read on this device')\n"
        "def d():\n"
        "    logger.info('loading the weights of the model from the cache folder now')\n",
    )
    assert mine.mine(str(tmp_path), ["fakelib/*.py"]) == []
    rows = {r["message"]: r for r in mine.mine(str(tmp_path), ["fakelib/*.py"], calls=True)}
    warned = rows["The installed version of bitsandbytes was compiled without GPU support."]
    assert warned["exc"] == "UserWarning" and warned["line"] == 4
    assert warned["cause"] == "ext.build.no-gpu-support" and warned["score"] >= 0.6
    logged = rows["Disabling PyTorch because PyTorch >= 2.4 is required but found 2.1.X1"]
    assert logged["exc"] == "log" and logged["cause"] == "py.package.api-mismatch"
    assert (
        mine.paste("log", logged["message"])
        == "Disabling PyTorch because PyTorch >= 2.4 is required but found 2.1.foo\n"
    )
    printed = rows["the frobnication driver version could not be read on this device"]
    assert printed["exc"] == "print" and printed["score"] < 0.3
    # an info-level log line is not a notice about a failure
    assert not any("loading the weights" in m for m in rows)


_RELIABILITY = """reliability (top claim of every case, binned by score; a negative's claim is never right):
  0.00-0.20  claims    {a}  right    1  
  0.60-0.70  claims    2  right    1  50.0%
  0.95-1.00  claims    {b}  right    {c}  
  confident claims (>= 0.60): 0, right 0
"""


def test_untuned_calibration_pools_batches_and_the_all_part_only(tmp_path):
    """Batches are different cases (each counts); "all" then "dev" and "sealed" are the same cases again (only "all"
    counts); a --no-similar table after the first one does not count."""
    mod = _load("untuned_calibration")

    def sections(*parts):  # (heading, a, b, c) -> "## heading" and its table
        return "".join(f"## {h}\n" + _RELIABILITY.format(a=a, b=b, c=c) for h, a, b, c in parts)

    batches = tmp_path / "devset-wave901-untuned.txt"
    batches.write_text("# header\n" + sections(("batch 1 (3 cases)", 3, 4, 4), ("batch 2 (2 cases)", 1, 1, 0)))
    parts = tmp_path / "devset-wave902-untuned.txt"
    parts.write_text(
        sections(
            ("--part all", 2, 5, 5),
            ("--part dev", 1, 3, 3),
            ("--part sealed", 1, 2, 2),
            ("--part all --no-similar", 9, 9, 9),
        )
    )
    plain = tmp_path / "devset-wave903-untuned.txt"
    plain.write_text("cause n\n" + _RELIABILITY.format(a=0, b=1, c=1) + "misses\n")
    empty = tmp_path / "devset-wave904-untuned.txt"
    empty.write_text("## all\nnegatives: 3   confident claims: 0 (0.0%)\n")
    bins, files = mod.pool([str(batches), str(parts), str(plain), str(empty)])
    assert files == 3
    assert bins["0.00-0.20"] == [3 + 1 + 2 + 0, 4]
    assert bins["0.60-0.70"] == [2 * 4, 4]
    assert bins["0.95-1.00"] == [4 + 1 + 5 + 1, 4 + 0 + 5 + 1]
    out = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "untuned_calibration.py"), "--json", str(batches), str(parts)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert '"confident": {"claims": 16, "right": 12}' in out.stdout
