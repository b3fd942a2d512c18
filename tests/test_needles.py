"""The matcher's substring prefilter (Clause.needles, signature.literal_needles): in ASCII text, a clause whose
needle alternatives are all missing from the lowercase text is not searched. That is only right if every text the
pattern matches holds one alternative's runs, which these tests check against texts made to match the pattern
(hypothesis' from_regex) and against the shipped cases with each KB pattern."""

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnnfix.knowledge.signature import literal_needles

DATA = Path(__file__).parent / "data" / "reparse_baseline.json"


def _passes(needles, lower_text: str) -> bool:
    return not needles or any(all(run in lower_text for run in alt) for alt in needles)


def _patterns():
    data = json.loads(DATA.read_text(encoding="utf-8"))
    kb = [r["pattern"] for r in data["kb"] if r.get("compiles", True)]
    fuzz = [r["pattern"] for r in data["fuzz"] if r.get("compiles")]
    return kb, fuzz


def test_needles_are_found_for_real_patterns():
    """The prefilter applies to most KB patterns (a check that the analysis is not silently empty)."""
    kb, _ = _patterns()
    with_needles = [p for p in kb if literal_needles(p)]
    assert len(with_needles) > 0.8 * len(kb)
    assert literal_needles(r"\bGPUs?\b[^\[\n]{0,30}[:=]\s*\[\]\s*$") == (("gpu", "[]"),)
    assert literal_needles(r"(?-i:(?:\]\s+|status:\s+)(?:Internal|Not\s+found))") == (("internal",), ("found", "not"))
    assert literal_needles(r"x(?:foo|bar)?yz") == (("yz",),)  # an optional part is no requirement
    assert literal_needles(r"\d+|abc") == ()  # an alternative without runs: no prefilter


def _check_pattern(pattern: str, data) -> None:
    needles = literal_needles(pattern)
    if not needles:
        return
    rx = re.compile(pattern, re.I)
    for _ in range(6):
        text = data.draw(st.from_regex(rx))
        if not text.isascii():
            continue
        assert rx.search(text)
        assert _passes(needles, text.lower()), (pattern, text)


@pytest.mark.shipped_data
@pytest.mark.parametrize("which", ["kb", "fuzz"])
def test_texts_the_pattern_matches_hold_its_needles(which):
    kb, fuzz = _patterns()
    pats = kb if which == "kb" else fuzz

    @settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(pats), st.data())
    def prop(pattern, data):
        try:
            _check_pattern(pattern, data)
        except (re.error, ValueError, RuntimeError):  # hypothesis cannot generate from it, or CPython's re fails on it
            pass  # ("The span of capturing group is wrong": a bug of re on some fuzz patterns, not of dnnfix)

    prop()


@pytest.mark.shipped_data
def test_shipped_cases_never_lose_a_match_to_the_prefilter():
    """Every KB regex against every shipped case text (ASCII): where a line matches, the needles pass."""
    from dnnfix import rx
    from dnnfix.knowledge.check import check
    from dnnfix.parse import parse_text

    res = check()
    texts = [c.text for c in res.cases][::3]
    clauses = {cl.pattern: cl for s in res.kb.signatures for cl in s.match + s.against if cl.kind == "regex"}
    checked = 0
    for text in texts:
        lines = parse_text(text).lines
        low = "\n".join(lines).lower()
        if not low.isascii():
            continue
        for pattern, cl in clauses.items():
            if _passes(cl.needles, low):
                continue
            assert all(rx.compiled(pattern).search(ln) is None for ln in lines), (pattern, text[:200])
            checked += 1
    assert checked > 10000


def test_a_run_is_found_among_the_words_exactly_when_it_is_in_the_text():
    """_Corpus.holds looks for a run of word characters among the input's words (joined, each once): that must
    say the same as a search of the whole lowercase text, for runs taken from the text and made up."""
    from dnnfix import matcher
    from dnnfix.parse import parse_text

    alphabet = "abcxyz_09 .:/-()[]'\n"

    @settings(max_examples=400, deadline=None, derandomize=True)
    @given(
        st.text(alphabet=alphabet, min_size=1, max_size=300),
        st.lists(st.text(alphabet=alphabet, min_size=1, max_size=6), max_size=8),
        st.data(),
    )
    def prop(text, made_up, data):
        corpus = matcher._Corpus(parse_text(text))
        low = corpus._lower_text
        runs = list(made_up)
        if len(low) > 2:
            i = data.draw(st.integers(0, len(low) - 2))
            runs.append(low[i : i + data.draw(st.integers(1, 5))])
        for run in runs:
            assert corpus.holds(run) == (run in low), (run, low)

    prop()
