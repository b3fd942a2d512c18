"""dnnfix/knowledge/reparse.py: our own parser of Python regex syntax (issue 13), and the analyses that read its tree.

- Equivalence: for every regex of the built-in KB and a fuzz set, the prefilter words (signature.literal_keys,
  signature.strict_words) and the backtracking verdict (backtrack.risk) equal those recorded in
  tests/data/reparse_baseline.json when the analyses still read CPython's private parser
  (scripts/reparse_baseline.py). Where CPython's parser is importable, the tree itself is also compared with it
  node for node (this test, and only this test, imports it: as an oracle).
- Properties (hypothesis): what `re` accepts, the parser accepts with the same tree; what it rejects, the parser
  rejects; nothing else ever escapes (no crash, no hang).
- Unit tests for the syntax the KB uses and the tricky corners.
- No module of dnnfix/ imports CPython's private regex modules.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnnfix.knowledge import reparse as R
from dnnfix.knowledge.backtrack import risk
from dnnfix.knowledge.signature import literal_keys, strict_words

ROOT = Path(__file__).resolve().parents[1]
BASELINE = json.loads((ROOT / "tests" / "data" / "reparse_baseline.json").read_text(encoding="utf-8"))
PRIVATE = ("re._parser", "re._constants", "re._compiler", "sre_parse", "sre_constants", "sre_compile")


# ---------------------------------------------------------------- CPython's parser, as an oracle only
def _cpython_parser():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                import re._parser as p  # Python 3.11+
                from re import _constants as c
            except ImportError:
                import sre_constants as c  # type: ignore
                import sre_parse as p  # type: ignore
        p.parse  # noqa: B018
        return p, c
    except Exception:  # a future Python without them: the fixture comparison still runs
        return None


SRE = _cpython_parser()
needs_oracle = pytest.mark.skipif(SRE is None, reason="CPython's private regex parser is not importable here")

_CAT = {
    "CATEGORY_DIGIT": "digit",
    "CATEGORY_NOT_DIGIT": "not_digit",
    "CATEGORY_SPACE": "space",
    "CATEGORY_NOT_SPACE": "not_space",
    "CATEGORY_WORD": "word",
    "CATEGORY_NOT_WORD": "not_word",
}
_AT = {
    "AT_BEGINNING": "start",
    "AT_END": "end",
    "AT_BEGINNING_STRING": "start_string",
    "AT_END_STRING": "end_string",
    "AT_BOUNDARY": "boundary",
    "AT_NON_BOUNDARY": "non_boundary",
}
_REPEATS = {"MAX_REPEAT": "greedy", "MIN_REPEAT": "lazy", "POSSESSIVE_REPEAT": "possessive"}


def _sre_dump(seq) -> tuple:
    """CPython's tree as plain tuples, in the vocabulary of _dump."""
    out = []
    for op, av in seq:
        n = str(op)
        if n in ("LITERAL", "NOT_LITERAL"):
            out.append(("lit" if n == "LITERAL" else "notlit", av))
        elif n == "ANY":
            out.append(("any",))
        elif n == "IN":
            neg = bool(av) and str(av[0][0]) == "NEGATE"
            items = []
            for o, a in av[1:] if neg else av:
                o = str(o)
                items.append(
                    ("lit", a) if o == "LITERAL" else ("range", a[0], a[1]) if o == "RANGE" else ("cat", _CAT[str(a)])
                )
            out.append(("in", neg, tuple(items)))
        elif n == "AT":
            out.append(("at", _AT[str(av)]))
        elif n == "GROUPREF":
            out.append(("ref", av))
        elif n == "FAILURE":
            out.append(("fail",))
        elif n == "SUBPATTERN":
            out.append(("group", av[0], av[1], av[2], _sre_dump(av[3])))
        elif n == "ATOMIC_GROUP":
            out.append(("atomic", _sre_dump(av)))
        elif n == "BRANCH":
            out.append(("branch", tuple(_sre_dump(a) for a in av[1])))
        elif n in _REPEATS:
            hi = None if av[1] == SRE[1].MAXREPEAT else av[1]
            out.append(("rep", av[0], hi, _REPEATS[n], _sre_dump(av[2])))
        elif n in ("ASSERT", "ASSERT_NOT"):
            out.append(("look", av[0] < 0, n == "ASSERT_NOT", _sre_dump(av[1])))
        elif n == "GROUPREF_EXISTS":
            out.append(("cond", av[0], _sre_dump(av[1]), None if av[2] is None else _sre_dump(av[2])))
        else:
            raise AssertionError(f"unexpected opcode {n}")
    return tuple(out)


def _dump(seq) -> tuple:
    """Our tree as plain tuples (structural, unlike the identity equality of nodes with a body)."""
    out = []
    for x in seq:
        t = type(x)
        if t in (R.Literal, R.NotLiteral):
            out.append(("lit" if t is R.Literal else "notlit", x.code))
        elif t is R.AnyChar:
            out.append(("any",))
        elif t is R.In:
            out.append(
                (
                    "in",
                    x.negated,
                    tuple(
                        ("lit", i.code)
                        if type(i) is R.Literal
                        else ("range", i.lo, i.hi)
                        if type(i) is R.Range
                        else ("cat", i.kind)
                        for i in x.items
                    ),
                )
            )
        elif t is R.Anchor:
            out.append(("at", x.kind))
        elif t is R.Backref:
            out.append(("ref", x.group))
        elif t is R.Fail:
            out.append(("fail",))
        elif t is R.Group:
            out.append(("group", x.index, x.add_flags, x.del_flags, _dump(x.body)))
        elif t is R.Atomic:
            out.append(("atomic", _dump(x.body)))
        elif t is R.Branch:
            out.append(("branch", tuple(_dump(a) for a in x.alternatives)))
        elif t is R.Repeat:
            out.append(("rep", x.min, x.max, x.mode, _dump(x.body)))
        elif t is R.LookAround:
            out.append(("look", x.behind, x.negated, _dump(x.body)))
        elif t is R.Conditional:
            out.append(("cond", x.group, _dump(x.yes), None if x.no is None else _dump(x.no)))
        else:
            raise AssertionError(f"unexpected node {x!r}")
    return tuple(out)


def _ours(pattern: str, flags: int = re.I):
    try:
        return _dump(R.parse(pattern, flags).body)
    except R.RegexSyntaxError:
        return "rejected"


def _theirs(pattern: str, flags: int = re.I):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return _sre_dump(SRE[0].parse(pattern, flags))
        except Exception:
            return "rejected"


def _compiles(pattern: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            re.compile(pattern, re.I)
            return True
        except Exception:
            return False


# ---------------------------------------------------------------- equivalence with the recorded results
def _version_dependent(pattern: str) -> bool:
    """Syntax `re` reads differently across Pythons: (?!) is a failure on 3.13+; possessive repeats and atomic
    groups exist from 3.11, the t flag until 3.12, global flags after the start until 3.10 (all four change
    whether the pattern compiles). Checked on the recording Python only; the oracle test covers every Python."""
    if not (_compiles(pattern) and _compiled_on_recording_python[pattern]):
        return True  # (a pattern re rejects at compile time may still parse, on some Pythons only)
    try:
        body = R.parse(pattern, re.I).body
    except R.RegexSyntaxError:
        return False
    todo = list(body)
    while todo:
        x = todo.pop()
        if type(x) is R.Fail or (type(x) is R.LookAround and x.negated and not x.body):
            return True
        for attr in ("body", "yes", "no"):
            todo.extend(getattr(x, attr, None) or ())
        for alt in getattr(x, "alternatives", ()):
            todo.extend(alt)
    return False


_compiled_on_recording_python = {row["pattern"]: row["compiles"] for part in ("kb", "fuzz") for row in BASELINE[part]}


def _baseline_rows():
    same_python = BASELINE["python"] == "%d.%d" % sys.version_info[:2]
    for part in ("kb", "fuzz"):
        for row in BASELINE[part]:
            # a row with version-dependent syntax holds on the recording Python only
            if same_python or not _version_dependent(row["pattern"]):
                yield part, row


def test_baseline_covers_the_built_in_kb():
    from dnnfix.knowledge.load import load_kb

    kb = load_kb(use_cache=False)
    patterns = {c.pattern for s in kb.signatures for c in list(s.match) + list(s.against) if c.kind == "regex"}
    recorded = {row["pattern"] for row in BASELINE["kb"]}
    assert len(BASELINE["kb"]) > 1000 and len(BASELINE["fuzz"]) > 2000
    # the KB grows after the recording: new patterns are covered by the oracle test below
    assert len(patterns & recorded) >= 0.8 * len(recorded)


def test_analyses_equal_the_recorded_results():
    rows = list(_baseline_rows())
    assert len(rows) > 2500
    bad = []
    for part, row in rows:
        p = row["pattern"]
        got = {"literal_keys": literal_keys(p), "strict_words": [list(a) for a in strict_words(p)], "risk": risk(p)}
        if got != {k: row[k] for k in got}:
            bad.append((part, p, got, {k: row[k] for k in got}))
    assert bad == [], f"{len(bad)} differ, first: {bad[:3]}"


def test_kb_rows_have_words_and_compile():
    kb_rows = BASELINE["kb"]
    assert all(row["compiles"] for row in kb_rows)
    assert sum(1 for row in kb_rows if row["literal_keys"]) > 0.9 * len(kb_rows)


@needs_oracle
def test_tree_equals_cpython_for_every_kb_pattern():
    from dnnfix.knowledge.load import load_kb

    kb = load_kb(use_cache=False)
    patterns = sorted(
        {c.pattern for s in kb.signatures for c in list(s.match) + list(s.against) if c.kind == "regex"}
        | {row["pattern"] for row in BASELINE["kb"]}
    )
    assert len(patterns) > 1000
    bad = [p for p in patterns if _ours(p) != _theirs(p)]
    assert bad == []
    assert all(_ours(p) != "rejected" for p in patterns)


@needs_oracle
def test_tree_equals_cpython_for_the_fuzz_set():
    bad = [row["pattern"] for row in BASELINE["fuzz"] if _ours(row["pattern"]) != _theirs(row["pattern"])]
    assert bad == []


# ---------------------------------------------------------------- properties
_WORDS = ["cuda", "error", "out", "of", "x", "ab", "8", "é", " ", ":", ".", "'", "-", "/", "_", ",", "=", "#"]
_ATOMS = _WORDS + [
    r"\d",
    r"\D",
    r"\w",
    r"\W",
    r"\s",
    r"\S",
    r"\.",
    r"\(",
    r"\n",
    r"\t",
    r"\x41",
    r"\u00e9",
    r"\N{EM DASH}",
    r"\0",
    r"\101",
    r"\12",
    r"\\",
    r"\-",
    r"\ ",
    r"\#",
    r"\q",
    r"\8",
    "\\",
    ".",
    "^",
    "$",
    r"\b",
    r"\B",
    r"\A",
    r"\Z",
    "[a-z]",
    "[A-Za-z0-9_]",
    r"[^\n]",
    r"[\s:]",
    "[.]",
    "[^a]",
    "[-a]",
    "[a-]",
    r"[\d.]",
    r"[\w-]",
    "[]a]",
    "[^]a]",
    "[Cc]",
    r"[\W]",
    "[z-a]",
    r"[\d-z]",
    r"[\b]",
    r"[\A]",
    "[",
    "]",
    "{",
    "}",
    "(",
    ")",
    "|",
    "*",
    "+",
    "?",
    r"\1",
    r"\2",
    "(?P=g0)",
    "(?P=g9)",
    "(?(1)a|b)",
    "(?(g0)x)",
    "(?(3)y)",
    "(?(1)a|b|c)",
    "(?!)",
    "(?<!)",
    "(?#note)",
    "(?i)",
    "(?x)",
    "(?a)",
    "(?u)",
    "(?L)",
    "(?-x)",
    "(?P",
    "(?<",
    "(?",
    "(?>x)",
    "(?t)",
]
_QUANTS = [
    "",
    "",
    "",
    "?",
    "*",
    "+",
    "{2}",
    "{1,}",
    "{,3}",
    "{0,2}",
    "{12}",
    "{2,200}",
    "{}",
    "{a}",
    "{1,2,3}",
    "{3,1}",
    "{,}",
    "??",
    "*?",
    "+?",
    "{2}?",
    "*+",
    "++",
    "?+",
    "{1,3}+",
    "**",
    "{99999999999}",
]
_OPENERS = [
    "(",
    "(?:",
    "(?P<g0>",
    "(?P<g1>",
    "(?P<1x>",
    "(?=",
    "(?!",
    "(?<=",
    "(?<!",
    "(?i:",
    "(?-i:",
    "(?x:",
    "(?-x:",
    "(?>",
    "(?s:",
    "(?im-sx:",
    "(?a:",
    "(?i-i:",
    "(?#",
    "(?<x",
    "(?P<g0>",
]


def _regexes():
    atom = st.sampled_from(_ATOMS)

    def extend(inner):
        seq = st.lists(st.tuples(inner, st.sampled_from(_QUANTS)), max_size=4).map(
            lambda xs: "".join(a + q for a, q in xs)
        )
        alt = st.lists(seq, min_size=1, max_size=3).map("|".join)
        group = st.tuples(st.sampled_from(_OPENERS), alt, st.sampled_from([")", ")", ")", ""])).map("".join)
        return st.one_of(seq, alt, group)

    body = st.recursive(atom, extend, max_leaves=12)
    verbose = st.tuples(
        st.sampled_from(["", "", "(?x)", "(?x) ", "(?i)(?x)", "(?#c)(?x)", "a(?x)"]),
        body,
        st.sampled_from(["", " ", "  # note\n", "\t#)\n"]),
    ).map("".join)
    return st.one_of(body, verbose)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_regexes())
def test_accepts_what_re_accepts_with_the_same_tree(pattern):
    ours = _ours(pattern)  # RegexSyntaxError is the only exception parse lets out
    if _compiles(pattern):
        assert ours != "rejected", pattern
    if SRE is not None:
        assert ours == _theirs(pattern), pattern
    # the analyses never raise, whatever the pattern
    literal_keys(pattern)
    strict_words(pattern)
    risk(pattern)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab(?)[]{}|*+^$.\\-:<>=!P#x019 \nu", max_size=30))
def test_any_text_is_parsed_or_rejected_never_crashes(pattern):
    ours = _ours(pattern)
    if SRE is not None:
        assert ours == _theirs(pattern), pattern
    elif _compiles(pattern):
        assert ours != "rejected", pattern


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_unicode_text(pattern):
    ours = _ours(pattern)
    if SRE is not None:
        assert ours == _theirs(pattern), pattern


def test_deep_nesting_fails_safe():
    deep = "(" * 5000 + "a" + ")" * 5000
    with pytest.raises(R.RegexSyntaxError):
        R.parse(deep)
    assert literal_keys(deep) == [] and strict_words(deep) == () and risk(deep) is None


# ---------------------------------------------------------------- unit tests
def _one(pattern: str, flags: int = 0):
    body = R.parse(pattern, flags).body
    assert len(body) == 1, body
    return body[0]


def test_escapes():
    assert R.parse(r"\n\t\x41\u00e9\U0001F600\N{EM DASH}\0\07\101\\\.\ \-").body == tuple(
        R.Literal(ord(c)) for c in "\n\tAé\U0001f600\u2014\0\x07A\\. -"
    )
    assert _one(r"\d") == R.In((R.Category("digit"),))
    assert _one(r"\W") == R.In((R.Category("not_word"),))
    assert [_one(e).kind for e in (r"\A", r"\Z", r"\b", r"\B", "^", "$")] == [
        "start_string",
        "end_string",
        "boundary",
        "non_boundary",
        "start",
        "end",
    ]
    for bad in (r"\q", r"\x4", r"\u12", r"\N{NO SUCH NAME}", r"\N", r"\8", r"\1", "\\", r"\400"):
        with pytest.raises(R.RegexSyntaxError):
            R.parse(bad)


def test_classes():
    assert _one("[a-z_]") == R.In((R.Range(97, 122), R.Literal(95)))
    assert _one(r"[^\n]") == R.NotLiteral(10)
    assert _one("[.]") == R.Literal(46)
    assert _one("[]a]") == R.In((R.Literal(93), R.Literal(97)))
    assert _one("[^]a]") == R.In((R.Literal(93), R.Literal(97)), negated=True)
    assert _one("[a-]") == R.In((R.Literal(97), R.Literal(45)))
    assert _one(r"[\b\d\s]") == R.In((R.Literal(8), R.Category("digit"), R.Category("space")))
    assert _one("[aa]") == R.Literal(97)  # duplicates dropped, then a one-character class
    for bad in ("[z-a]", r"[\d-z]", r"[\A]", "[a", "[]"):
        with pytest.raises(R.RegexSyntaxError):
            R.parse(bad)


def test_repeats():
    r = _one("a{2,5}?")
    assert (r.min, r.max, r.mode, r.body) == (2, 5, "lazy", (R.Literal(97),))
    assert (_one("a{,3}").min, _one("a{,3}").max) == (0, 3)
    assert (_one("a{4,}").min, _one("a{4,}").max) == (4, None)
    assert (_one("a{4}").min, _one("a{4}").max) == (4, 4)
    assert _one("(?:ab)+").body == (R.Literal(97), R.Literal(98))  # a repeated plain group is its body
    assert R.parse("a{").body == (R.Literal(97), R.Literal(123))
    assert R.parse("a{1,2,3}").body[:2] == (R.Literal(97), R.Literal(123))  # not a repeat: literal text
    assert R.parse("x{}").body == (R.Literal(120), R.Literal(123), R.Literal(125))
    for bad in ("*a", "a**", "a{3,1}", "^*", r"\b+", "a{4294967295}"):
        with pytest.raises(R.RegexSyntaxError):
            R.parse(bad)
    if sys.version_info >= (3, 11):
        assert _one("a++").mode == "possessive" and _one("a{2}+").mode == "possessive"
        assert type(_one("(?>ab)")) is R.Atomic
    else:
        for bad in ("a++", "(?>ab)"):
            with pytest.raises(R.RegexSyntaxError):
                R.parse(bad)


def test_groups_and_references():
    g = _one("(?P<gpu>a)")
    assert (g.index, g.name, g.body) == (1, "gpu", (R.Literal(97),))
    assert R.parse("(?P<gpu>a)(?P=gpu)").body[1] == R.Backref(1)
    assert R.parse(r"(a)\1").body[1] == R.Backref(1)
    assert R.parse("(?:ab)c").body == (R.Literal(97), R.Literal(98), R.Literal(99))  # spliced
    f = _one("(?i:ab)")
    assert (f.index, f.add_flags, f.del_flags) == (None, re.I, 0)
    assert _one("(?-i:a)").del_flags == re.I
    c = R.parse("(a)?(?(1)b|c)").body[1]
    assert (type(c), c.group, c.yes, c.no) == (R.Conditional, 1, (R.Literal(98),), (R.Literal(99),))
    la = _one("(?<!ab)")
    assert (la.behind, la.negated, la.body) == (True, True, (R.Literal(97), R.Literal(98)))
    assert R.parse("(?#a comment)x").body == (R.Literal(120),)
    assert R.parse("(?P<n>x)").groupindex == (("n", 1),) and R.parse("(a)(b)").groups == 3
    if sys.version_info >= (3, 13):
        assert _one("(?!)") == R.Fail()
    else:
        assert _one("(?!)").negated
    for bad in (
        "(?P=nope)",
        r"(a\1)",
        "(?P<1>x)",
        "(?P<a>x)(?P<a>y)",
        "(?<x)",
        "(?Px)",
        "(a",
        "a)",
        "(?(2)a)(b)",
        "(?(0)a)",
        "(?(1)a|b|c)(x)",
        "(?(x)a)",
        "(?z)",
        "(?i-i:a)",
        "(?L)a",
        "(?au)a",
        "(?-a:x)",
        "(?#x",
    ):
        with pytest.raises(R.RegexSyntaxError):
            R.parse(bad)


def test_alternation_is_simplified_as_cpython_does():
    # common leading items move in front of the branch
    body = R.parse("foo bar|foo baz").body
    assert body[:6] == tuple(R.Literal(ord(c)) for c in "foo ba") and type(body[6]) is R.In
    # single characters become one class
    assert _one("a|b|[cd]|a") == R.In((R.Literal(97), R.Literal(98), R.Literal(99), R.Literal(100)))
    b = _one("ab|cd")
    assert type(b) is R.Branch and len(b.alternatives) == 2
    assert type(_one("a|[^b]")) is R.Branch  # a negated class does not merge


def test_verbose_mode_and_flags():
    assert R.parse("(?x) a b # a comment\n c").body == tuple(R.Literal(ord(c)) for c in "abc")
    assert R.parse("(?x)[ ]\\ ").body == (R.Literal(32), R.Literal(32))  # kept inside a class and escaped
    assert R.parse("a b", re.X).body == (R.Literal(97), R.Literal(98))
    assert _dump(R.parse("(?x:a b) c").body) == (
        ("group", None, re.X, 0, (("lit", 97), ("lit", 98))),
        ("lit", 32),
        ("lit", 99),
    )
    assert R.parse("(?x)a (?-x: b)").body[1].body == (R.Literal(32), R.Literal(98))
    assert R.parse("(?x)a +").body[0].min == 1  # a quantifier after white space
    assert R.parse("(?im)a").flags & (re.I | re.M) == re.I | re.M
    if sys.version_info >= (3, 11):
        with pytest.raises(R.RegexSyntaxError):
            R.parse("a(?x) b")
    else:  # 3.10: accepted (deprecated), and the whole pattern is read in verbose mode again
        assert R.parse("a(?x) b").body == (R.Literal(97), R.Literal(98))


def test_nodes_with_a_body_compare_by_identity_leaves_by_value():
    assert R.Literal(1) == R.Literal(1) and R.Literal(1) != R.NotLiteral(1)
    assert R.In((R.Literal(1),)) == R.In((R.Literal(1),))
    assert R.Group(None, None, 0, 0, ()) != R.Group(None, None, 0, 0, ())


def test_consumers_fail_safe(monkeypatch):
    assert literal_keys("(unclosed") == [] and strict_words("(unclosed") == () and risk("(unclosed") is None

    def refuse(pattern, flags=0):
        raise R.RegexSyntaxError("not understood", 0)

    import dnnfix.knowledge.backtrack as bt
    import dnnfix.knowledge.signature as sig

    monkeypatch.setattr(sig, "parse", refuse)
    monkeypatch.setattr(bt, "parse", refuse)
    assert literal_keys(r"CUDA out of memory") == []
    assert strict_words(r"CUDA out of memory") == ()
    assert risk(r"(a+)+$") is None


def test_analyses_on_known_patterns():
    assert literal_keys(r"CUDA\s+out\s+of\s+memory") == [["memory", "cuda", "out", "of"]]
    assert strict_words(r"CUDA\s+out\s+of\s+memory") == (("of", "out"),)
    assert literal_keys(r"(?x) CUDA \s+ out \s+ of \s+ memory  # verbose") == [["memory", "cuda", "out", "of"]]
    assert literal_keys("CUDA out of memory|device-side assert triggered") == [
        ["memory", "cuda", "out", "of"],
        ["triggered", "assert", "device", "side"],
    ]
    assert strict_words("CUDA out of memory|device-side assert triggered") == (("of", "out"), ("assert", "side"))
    # the shared start of the alternatives moves out of the branch (as CPython's parser does): only "so" is certain
    assert literal_keys(r"libcudnn\.so|libcublas\.so") == [["so"]]
    assert risk(r"(a+)+$") and risk(r"(?:\.\d+)+") is None and risk(r"\w*\d+")


# ---------------------------------------------------------------- no private CPython modules
def test_dnnfix_does_not_import_cpython_private_regex_modules():
    offenders = []
    for path in sorted((ROOT / "dnnfix").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")) in ("import_module", "__import__")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names = [str(node.args[0].value)]
            elif (
                isinstance(node, ast.Attribute)
                and node.attr in ("_parser", "_constants", "_compiler")
                and getattr(node.value, "id", "") == "re"
            ):
                names = ["re." + node.attr]
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno}: {n}" for n in names if n in PRIVATE]
    assert offenders == []
