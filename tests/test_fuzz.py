"""Fuzzing as a test (issue 15): thousands of generated pastes; dnnfix never raises and always answers the same.

The generator (tests/fuzzgen.py) splices fragments of real case texts with whitespace runs, long lines, control
characters and traceback skeletons. Inputs that were once slow or failing live in tests/fuzz_regressions/ (kept
by scripts/fuzz_bench) and are replayed here. Time per input is measured by scripts/fuzz_bench, not here.
"""

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnnfix.api import diagnose_text
from dnnfix.knowledge.load import builtin_dir, load_kb

from fuzzgen import adversarial, case_fragments, paste

HERE = Path(__file__).resolve().parent
FRAGMENTS = case_fragments(builtin_dir() / "signatures")


def _answer(text):
    d = diagnose_text(text, probe=False, kb=load_kb())
    return [(m.signature, m.score, m.confident, [e.format() for e in m.evidence]) for m in d.matches], d.fingerprint


@settings(max_examples=1000, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_generated_pastes_never_raise_and_are_deterministic(seed):
    text = paste(random.Random(seed), FRAGMENTS, max_len=6000)
    assert _answer(text) == _answer(text)


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(max_size=2000))
def test_arbitrary_unicode_never_raises(text):
    assert _answer(text) == _answer(text)


@pytest.mark.parametrize("i", range(len(adversarial())))
def test_known_slow_inputs_still_answer(i):
    _answer(adversarial()[i])


def test_kept_regressions():
    kept = sorted((HERE / "fuzz_regressions").glob("*.txt"))
    assert kept, "tests/fuzz_regressions/ holds the inputs scripts/fuzz_bench kept"
    for path in kept:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        assert _answer(text) == _answer(text), path.name
