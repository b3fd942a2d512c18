"""The shipped knowledge base: clean, covering every cause, explained, and its cases all pass."""

from collections import Counter
from pathlib import Path

import pytest
import yaml

from dnnfix.knowledge.explain import SECTIONS
from dnnfix.knowledge.check import check

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "causes.yaml"


@pytest.fixture(scope="module")
def res():
    return check()


def test_kb_check_is_clean(res):
    assert [d.format() for d in res.errors] == []


def test_the_case_corpus_is_large(res):
    """Each case runs as its own pytest item (tests/kb_cases.yaml, collected in tests/conftest.py)."""
    assert len(res.cases) > 500 and len(res.cause_cases) >= 150


def test_canonical_causes_are_kept_unchanged():
    if not SHARED.is_file():
        pytest.skip("../shared/causes.yaml is not beside this checkout")
    shared = yaml.safe_load(SHARED.read_text())["causes"]
    ours = yaml.safe_load((ROOT / "kb" / "causes.yaml").read_text())["causes"]
    assert {k: ours.get(k) for k in shared} == shared


def test_every_cause_has_a_signature_and_a_full_explanation(res):
    kb = res.kb
    with_sig = {s.cause for s in kb.signatures}
    assert sorted(set(kb.causes) - with_sig) == []
    for cid in kb.causes:
        ex = kb.explanations.get(cid)
        assert ex is not None, f"no kb/causes/{cid}.md"
        assert [s for s in SECTIONS if not ex.sections.get(s, "").strip()] == [], cid
        assert ex.fixes and all(f["code"].strip() and f["language"] for f in ex.fixes), cid


def test_every_signature_has_three_match_cases_and_a_near_miss(res):
    counts = Counter((c.signature, c.expect) for c in res.cases)
    thin = [
        s.id
        for s in res.kb.signatures
        if not s.env_only and (counts[(s.id, "match")] < 3 or counts[(s.id, "no-match")] < 1)
    ]
    assert thin == []


def test_negative_corpus_is_large_and_silent(res):
    assert len(res.negatives) >= 40  # each one runs as its own item (tests/kb_cases.yaml)
