"""DNNFIX_TEST_PART (tests/conftest.py) spreads one suite over several cores (`DNNFIX_TEST_PART=1/2
scripts/test_pythons` beside `DNNFIX_TEST_PART=2/2 ...`), so the parts must hold every test exactly once."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

# CI plumbing, the same on every Python: the whole suite runs it, the core suite on the other Pythons leaves it out
pytestmark = pytest.mark.shipped_data

REPO = Path(__file__).resolve().parent.parent
FILES = ["tests/test_parse.py", "tests/test_normalize.py", "tests/test_levels.py", "tests/test_diagcodes.py"]


def _collected(part):
    env = dict(os.environ)
    env.pop("DNNFIX_TEST_PART", None)
    if part:
        env["DNNFIX_TEST_PART"] = part
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--collect-only", "-p", "no:cacheprovider", *FILES],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return [ln for ln in r.stdout.splitlines() if "::" in ln]


def test_the_parts_hold_every_test_once():
    every = _collected(None)
    one, two = _collected("1/2"), _collected("2/2")
    assert every and one and two  # these four files fall into both halves
    assert not set(one) & set(two)
    assert sorted(one + two) == sorted(every)
    assert sorted(_collected("1,2/2")) == sorted(every)


def test_a_malformed_part_is_a_usage_error():
    env = dict(os.environ, DNNFIX_TEST_PART="3/2")
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--collect-only", "-p", "no:cacheprovider", FILES[0]],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode != 0
    assert "DNNFIX_TEST_PART" in r.stdout + r.stderr
