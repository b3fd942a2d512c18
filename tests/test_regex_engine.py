"""The regex engine (dnnfix/rx.py) and the backtracking check (dnnfix/knowledge/backtrack.py, DNX119).

Linear time is by construction (RE2); these tests check the semantics that construction must keep (a match
never spans lines, positions and groups are those of the line), that both engines agree on the knowledge base,
and that `kb check` rejects the patterns that would backtrack on Python's re.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dnnfix import rx
from dnnfix.knowledge.backtrack import risk
from dnnfix.knowledge.signature import backtracking_risk

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "pattern",
    [
        r"(a|a)+$",  # alternatives that match the same text
        r"(?:cuda\w*)+$",  # the inner repeat eats the next iteration's literal
        r"(x+)+y",
        r"(.*a){20}$",  # a counted repeat of an unbounded one
        r"GPU\s+(?P<gpu_name>[^\n]*?)\s+x",  # adjacent repeats over the same characters (cubic on spaces)
        r"[^\n]*\s*False\s*$",
    ],
)
def test_risky_patterns_are_named(pattern):
    assert risk(pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        r"(?:\.\d+)+",  # a separator the inner repeat cannot eat
        r"\d+(?:\.\d+)*",
        r"\S+\s*\d",
        r"\s*:\s*",
        r"CUDA\s+error:\s+out\s+of\s+memory",
        r"(?:\s(?:sm|compute)_\d+){0,24}",
        r"(?<![\w.-])jaxlib\s*(?:(?:==|:|-)\s*)?(?:version\s*(?::\s*)?)?v?\d+\.\d+",
    ],
)
def test_safe_patterns_pass(pattern):
    assert risk(pattern) is None


def test_polynomial_only_rejected_where_re_runs_it():
    """Adjacent repeats are linear on RE2; with a look-behind the pattern needs re, so it is rejected."""
    assert backtracking_risk(r"GPU\s+(?P<gpu_name>[^\n]*?)\s+x") == ""
    assert backtracking_risk(r"(?<!x)GPU\s+(?P<gpu_name>[^\n]*?)\s+x")
    assert backtracking_risk(r"(?:cuda\w*)+$")  # exponential: rejected everywhere


def test_kb_check_reports_polynomial_pattern(tmp_path):
    """A user KB with the polynomial pattern gets a located DNX119 from `dnnfix kb check`."""
    sig = tmp_path / "signatures" / "local" / "slow.yaml"
    sig.parent.mkdir(parents=True)
    sig.write_text(
        textwrap.dedent("""\
        id: slow-gpu-name
        cause: gpu.arch.unsupported
        title: slow pattern
        status: test
        match:
          - regex: '(?<!x)no\\s+kernel\\s+image\\s+GPU\\s+(?P<gpu_name>[^\\n]*?)\\s+x'
        """),
        encoding="utf-8",
    )
    env = dict(os.environ, DNNFIX_USER_KB=str(tmp_path / "none"), DNNFIX_CACHE_DIR=str(tmp_path / "cache"))
    out = subprocess.run(
        [sys.executable, "-m", "dnnfix", "kb", "check", "--kb", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert "slow.yaml:6:" in out.stdout and "DNX119" in out.stdout, out.stdout


@pytest.mark.skipif(rx.re2_module() is None, reason="google-re2 is not installed")
def test_builtin_patterns_mostly_run_on_re2():
    from dnnfix.knowledge.load import load_kb

    pats = {cl.pattern for s in load_kb().signatures for cl in list(s.match) + list(s.against) if cl.kind == "regex"}
    on_re = [p for p in pats if rx.compiled(p).engine == "re"]
    assert len(on_re) < 0.06 * len(pats), on_re


def test_a_match_never_spans_lines():
    p = rx.Pattern(r"^\s*False\s*$")
    lines = ["In [3]: torch.cuda.is_available()", "   ", "", "Out[3]: True"]
    assert p.search_lines(lines, range(len(lines))) is None
    lines[2] = "  False "
    i, m = p.search_lines(lines, range(len(lines)))
    assert (i, m.start, m.end) == (2, 0, 8)


def _use_engine(monkeypatch, engine: str) -> None:
    """ "re": Python's re only (google-re2 taken as missing); "default": detect google-re2 again."""
    monkeypatch.setattr(rx, "_re2_tried", engine == "re")
    monkeypatch.setattr(rx, "_re2_mod", None)


@pytest.mark.parametrize("engine", ["default", "re"])
def test_positions_and_groups_are_those_of_the_line(engine, monkeypatch):
    _use_engine(monkeypatch, engine)
    p = rx.Pattern(r"Loaded\s+runtime\s+CuDNN\s+library:\s+(?P<loaded>[\d.]+)")
    lines = ["é début", "x", "——  Loaded runtime CuDNN library: 8.6.0 but source", "y"]
    i, m = p.search_lines(lines, [0, 1, 2, 3])
    assert i == 2 and m.groups["loaded"] == "8.6.0"
    assert lines[2][m.start : m.end] == "Loaded runtime CuDNN library: 8.6.0"


@pytest.mark.parametrize("engine", ["default", "re"])
def test_a_literal_set_finds_what_substring_tests_find(engine, monkeypatch):
    """rx.LiteralSet (RE2's multi-pattern Set, or one `in` per literal) answers like `lit in text`, for regex
    metacharacters, non-ASCII text and a lone surrogate too."""
    import random

    _use_engine(monkeypatch, engine)
    lits = ["GPU/TPU found", "[pip", "a.b", "(x)", "Ü", "ü", "déjà", "\\d", "", "no such"]
    s = rx.LiteralSet(lits)
    rnd = random.Random(7)
    pieces = lits[:-1] + ["x", "y", "ä", " ", "\n", "GPU/TPU", "[", "a_b", "\udcff", "é"]
    for _ in range(300):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 12)))
        assert s.found(text) == {lit for lit in lits if lit in text}, text
    # where google-re2 is installed the default engine really answers from RE2's Set, not from the fallback
    assert (s._set is not None) == (engine == "default" and rx.re2_module() is not None)
    assert rx.LiteralSet([]).found("anything") == set()


@pytest.mark.shipped_data
def test_both_engines_agree_on_the_held_out_sets():
    """The whole held-out corpus gives the same ranking with RE2 and with Python's re."""
    code = textwrap.dedent("""
        import glob, json
        from dnnfix.api import diagnose_text
        from dnnfix.knowledge.load import load_kb
        kb = load_kb()
        out = {}
        for f in sorted(glob.glob("tests/heldout*/*/*.txt")):
            d = diagnose_text(open(f, encoding="utf-8").read(), probe=False, kb=kb)
            out[f] = [(m.signature, m.score) for m in d.matches[:3]]
        print(json.dumps(out))
    """)
    res = {}
    for engine in ("", "re"):
        env = dict(os.environ, DNNFIX_REGEX_ENGINE=engine)
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env, timeout=600
        )
        assert out.returncode == 0, out.stderr
        res[engine] = out.stdout
    assert res[""] == res["re"]


def test_work_budget_stops_matching_and_says_so(monkeypatch):
    """When the (deterministic) work budget for an input is spent, matching stops and the report says how many
    candidate signatures were not tried; the same input always gets the same answer."""
    from dnnfix import matcher
    from dnnfix.api import diagnose_text

    text = (
        "RuntimeError: CUDA error: out of memory\n"
        "2024-01-01 10:00:00.000000: W tensorflow/core/common_runtime/bfc_allocator.cc:479] Allocator (GPU_0_bfc) "
        "ran out of memory trying to allocate 2.00GiB (rounded to 2147483648)requested by op MatMul\n"
        "2024-01-01 10:00:01.000000: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load "
        "dynamic library 'libcudnn.so.8'; dlerror: libcudnn.so.8: cannot open shared object file: No such file\n"
    ) * 3
    full = diagnose_text(text, probe=False)
    assert not any("stopped early" in n for n in full.notes)
    assert len(full.matches) >= 3  # several signatures to search: a tiny budget stops after the first
    monkeypatch.setattr(matcher, "WORK_BASE", 0)
    monkeypatch.setattr(matcher, "WORK_PER_CHAR", 0.01)
    cut = diagnose_text(text, probe=False)
    again = diagnose_text(text, probe=False)
    note = [n for n in cut.notes if "stopped early" in n]
    assert note and "candidate signatures were not tried" in note[0]
    assert [m.signature for m in cut.matches] == [m.signature for m in again.matches]
    assert len(cut.matches) < len(full.matches)


def test_look_around_patterns_searched_only_where_their_re2_superset_matches():
    """A pattern that needs re (look-arounds) is tried only on the lines where the pattern without its
    look-arounds matches (one RE2 pass): the answer must be that of trying every line, for every such KB pattern,
    on every line of the shipped cases, and on lines made to sit on the look-arounds' edges."""
    if rx.re2_module() is None:
        pytest.skip("google-re2 is not installed: every pattern runs on re, line by line")
    from dnnfix.knowledge.check import check

    res = check()
    lines = [ln for c in list(res.cases) + list(res.negatives) for ln in c.text.splitlines() if ln.strip()]
    lines += [
        "2024 W tensorflow/core/x.cc:1] The caller indicates that this is not a failure, out of memory",
        "CUDA error: out of memory",
        "No module named 'triton'",
        "was: No module named 'triton'",
        "caf\u00e9 No module named 'triton'",
        "x\x0bNo module named 'triton'",
    ]
    pats = sorted(
        {
            cl.pattern
            for s in res.kb.signatures
            for cl in list(s.match) + list(s.against)
            if cl.kind == "regex" and rx.compiled(cl.pattern).engine == "re"
        }
    )
    with_pre = [p for p in pats if rx.compiled(p)._prefilter()]
    assert len(with_pre) >= 10, "most look-around patterns should have an RE2 superset"
    rnd = __import__("random").Random(7)
    for p in pats:
        pat = rx.compiled(p)
        for _ in range(20):
            chunk = rnd.sample(lines, min(40, len(lines)))
            idx = list(range(len(chunk)))
            plain = next(((i, m) for i in idx for m in [pat.search(chunk[i])] if m is not None), None)
            got = pat.search_lines(chunk, idx)
            assert (got and (got[0], got[1].start, got[1].end, got[1].groups)) == (
                plain and (plain[0], plain[1].start, plain[1].end, plain[1].groups)
            ), p


def test_without_lookarounds_keeps_only_safe_widenings():
    assert rx.without_lookarounds(r"^(?!.*benign)(?:A\s+b|C)") == r"^(?:A\s+b|C)"
    assert rx.without_lookarounds(r"[(?=]x(?!y)") == r"[(?=]x"  # a class is not a group
    assert rx.without_lookarounds(r"a(?=b){2}") is None  # a quantified look-around: not a widening
    assert rx.without_lookarounds(r"\Ax(?!y)") is None  # \A: the text's start in the joined search
    assert rx.without_lookarounds(r"plain") is None  # nothing removed: no prefilter needed


def test_a_pattern_set_answers_like_one_search_per_pattern():
    """rx.PatternSet says which patterns match some line of lines joined by newlines, exactly as one search per
    pattern does (a match never crosses a line, ^ and $ are a line's ends, (?-i:...) keeps case), for every RE2
    pattern of the knowledge base over chunks of the shipped cases' lines; None where it cannot say."""
    if rx.re2_module() is None:
        pytest.skip("google-re2 is not installed: no Set")
    from dnnfix.knowledge.check import check

    res = check()
    lines = [ln for c in list(res.cases) + list(res.negatives) for ln in c.text.splitlines() if ln.strip()]
    lines += ["caf\u00e9 ABC", "a", "b"]
    pats = sorted(
        {
            cl.pattern
            for s in res.kb.signatures
            for cl in list(s.match) + list(s.against)
            if cl.kind == "regex"
            and rx.compiled(cl.pattern).engine == "re2"
            and rx.compiled(cl.pattern).whole_text_safe()
        }
    )
    rnd = __import__("random").Random(11)
    for _ in range(40):
        group = rnd.sample(pats, 25)
        s = rx.PatternSet(group)
        for _ in range(5):
            chunk = rnd.sample(lines, 30)
            text, starts = rx.join_lines(chunk)
            enc = text.encode("utf-8", "surrogatepass")
            want = {k for k, p in enumerate(group) if rx.compiled(p).search_text(text, starts) is not None}
            assert s.matching(enc) == want
    small = rx.PatternSet([r"a.b", r"^b$", r"(?-i:ABC)", r"x\s+y"])
    assert small.matching(b"a\nb\nabc\nx\ny") == {1}
    assert small.matching(b"") == frozenset()


def test_a_pattern_set_that_cannot_answer_says_so(monkeypatch):
    """RE2's Set answers nothing when its DFA runs out of memory: the sentinel turns that into None (search each
    pattern; a literal set tests each literal), never into "no pattern matches"; without google-re2 there is no Set."""
    if rx.re2_module() is not None:
        s = rx.PatternSet([r"foo", r"bar"])
        assert s.matching(b"foo") == {0}

        class Failing:
            def Match(self, text):
                return None  # what google-re2 returns when RE2::Set::Match fails

        s._set = Failing()
        assert s.matching(b"foo") is None
        # a literal set whose Set cannot answer falls back to one substring test per literal: the same answer
        lits = rx.LiteralSet(["foo", "bar", "baz"])
        assert lits.found("a foo and a baz") == {"foo", "baz"} and lits._set is not None
        lits._set = Failing()
        assert lits.found("a foo and a baz") == {"foo", "baz"}
    _use_engine(monkeypatch, "re")
    assert rx.PatternSet([r"foo", r"bar"]).matching(b"foo") is None


def test_fired_signatures_clauses_tried_in_one_set_pass_give_the_same_answer(monkeypatch):
    """A signature that fired tries its supporting and against regex clauses in one RE2 Set pass first
    (_Corpus.unmatched), and a candidate whose keyed anchors all lack a needed word is not tried (_Corpus.gate): the
    ranked matches and their evidence are those of trying everything, over every shipped case, and over texts where a
    look-around pattern's superset proves nothing (non-ASCII) or proves a miss."""
    from dnnfix import matcher
    from dnnfix.knowledge.check import check
    from dnnfix.parse import parse_text

    res = check()
    kb = res.kb
    noise = (
        "2024-01-01 10:00:00.123456: I tensorflow/core/common_runtime/gpu/gpu_device.cc:1886] Created device "
        "/job:localhost/replica:0/task:0/device:GPU:0 with 14000 MB memory"
    )
    texts = [c.text for c in list(res.cases) + list(res.negatives)] + [
        noise + "\nW0000 INTERNAL: caf\u00e9 failed\n",
        noise + "\nthe caller out of memory\n",
        noise + "\nThe caller indicates that this is not a failure, out of memory\n",
        noise + "\n\u00e9t\u00e9 out of memory\nEpoch 1/5\n",
    ]

    def run():
        out = []
        for t in texts:
            ms = matcher.match_incident(parse_text(t), kb)
            out.append([(m.signature, m.score, [(e.text, e.line, e.against) for e in m.evidence]) for m in ms])
        return out

    with_set = run()
    assert any(e[2] for res_ in with_set[-4:] for m in res_ for e in m[2]), "an against clause must fire"
    monkeypatch.setattr(matcher._Corpus, "unmatched", lambda self, sig: matcher._NONE)
    assert run() == with_set
    # and a candidate dismissed by the words its keyed anchors need (_Corpus.gate) is one that would not have fired
    monkeypatch.setattr(matcher._Corpus, "gate", lambda self, sig: None)
    assert run() == with_set
