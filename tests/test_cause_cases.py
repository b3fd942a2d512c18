"""Cause-level cases (kb/cases/*.cases.yaml): the checker's diagnostics, the schema agreeing with it, what each
expectation demands of a ranking, and pytest collecting every case of the KB as its own item."""

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from dnnfix.knowledge.check import Case, check_placeholders, load_cause_cases
from dnnfix.knowledge.runner import cause_case_problems

ROOT = Path(__file__).resolve().parent.parent
CAUSES = {"a.one": {}, "b.two": {}, "c.three": {}}
SIGS = {"sig-a": object()}


def _load(tmp_path, doc):
    p = tmp_path / "fam.cases.yaml"
    p.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False))
    diags = []
    return load_cause_cases(p, CAUSES, SIGS, diags), diags


GOOD = {
    "cases": [
        {
            "name": "x",
            "cause": "a.one",
            "top": 2,
            "confident": "any",
            "also": {"b.two": 3},
            "facts": {"v": "1.2"},
            "not_confident": ["c.three"],
            "not_first": ["b.two"],
            "not_ranked": [],
            "signature": "sig-a",
            "env": {"packages": {"torch": "2.1"}},
            "text": "Error: boom\n",
        },
        {"name": "y", "silent": True, "text": "x"},
        {"name": "z", "not_ranked": ["b.two"], "todo": "the wording is not known yet", "text": "x"},
    ]
}
BAD = [  # (document, the code the checker must report)
    ({"cases": "none"}, "DNX250"),
    ({"cases": [], "signature": "s"}, "DNX202"),
    ({"cases": [{"name": "x", "cause": "a.one", "text": "t", "expect": "match"}]}, "DNX206"),
    ({"cases": [{"name": "x", "cause": "a.onee", "text": "t"}]}, "DNX252"),
    ({"cases": [{"name": "x", "not_confident": ["nope.nope"], "text": "t"}]}, "DNX252"),
    ({"cases": [{"name": "x", "also": {"nope.x": 2}, "text": "t"}]}, "DNX252"),
    ({"cases": [{"name": "x", "cause": "a.one", "top": 0, "text": "t"}]}, "DNX251"),
    ({"cases": [{"name": "x", "cause": "a.one", "confident": "maybe", "text": "t"}]}, "DNX251"),
    ({"cases": [{"name": "x", "not_first": "a.one", "text": "t"}]}, "DNX251"),
    ({"cases": [{"name": "x", "also": {"a.one": 0}, "text": "t"}]}, "DNX251"),
    ({"cases": [{"name": "x", "cause": "a.one", "silent": True, "text": "t"}]}, "DNX253"),
    ({"cases": [{"name": "x", "text": "t"}]}, "DNX253"),
    ({"cases": [{"name": "x", "cause": "a.one", "text": "  "}]}, "DNX209"),
    ({"cases": [{"cause": "a.one", "text": "t"}]}, "DNX211"),
    ({"cases": [{"name": "x", "cause": "a.one", "text": "t"}, {"name": "x", "cause": "a.one", "text": "u"}]}, "DNX207"),
    ({"cases": [{"name": "x", "cause": "a.one", "env": "linux", "text": "t"}]}, "DNX210"),
    ({"cases": [{"name": "x", "signature": "sig-b", "text": "t"}]}, "DNX203"),
]


def test_a_well_formed_file_loads_every_case(tmp_path):
    cases, diags = _load(tmp_path, GOOD)
    assert [d.format() for d in diags] == []
    assert [(c.name, c.kind, c.expect) for c in cases] == [
        ("x", "cause", "cause"),
        ("y", "cause", "cause"),
        ("z", "cause", "todo"),
    ]
    x = cases[0]
    assert (x.cause, x.top, x.confident, x.also, x.facts, x.signature) == (
        "a.one",
        2,
        "any",
        {"b.two": 3},
        {"v": "1.2"},
        "sig-a",
    )
    assert x.line == 2 and x.key == "fam.cases.yaml#x"


@pytest.mark.parametrize("doc,code", BAD, ids=[f"{c}-{i}" for i, (_, c) in enumerate(BAD)])
def test_each_mistake_has_its_code_and_position(tmp_path, doc, code):
    cases, diags = _load(tmp_path, doc)
    assert code in {d.code for d in diags}, [d.format() for d in diags]
    assert all(d.line >= 1 and d.path.endswith("fam.cases.yaml") for d in diags)


def test_schema_and_checker_agree(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "kb" / "schema" / "cases.schema.json").read_text())
    v = jsonschema.Draft202012Validator(schema)
    assert v.is_valid(GOOD)
    # what the schema can see (shapes; not which causes exist, nor the folder that makes a file cause-level)
    for doc, code in BAD:
        if code in ("DNX252", "DNX207", "DNX203", "DNX202"):
            continue
        assert not v.is_valid(doc), (doc, code)
    for p in sorted((ROOT / "kb" / "cases").glob("*.cases.yaml")):
        errs = [e.message for e in v.iter_errors(yaml.safe_load(p.read_text()))]
        assert errs == [], (p.name, errs[:3])


def _m(cause, score, confident, signature="s", **facts):
    return SimpleNamespace(cause=cause, score=score, confident=confident, signature=signature, facts=facts)


RANKING = [
    _m("a.one", 0.9, True, "sig-a", v="1.2"),
    _m("b.two", 0.5, False),
    _m("a.one", 0.4, False, "sig-a2"),
    _m("c.three", 0.3, False),
]


def _case(**kw):
    return Case(name="n", expect="cause", text="t", path="f.cases.yaml", line=1, kind="cause", **kw)


@pytest.mark.parametrize(
    "kw,ok",
    [
        ({"cause": "a.one"}, True),
        ({"cause": "b.two"}, False),  # not first
        ({"cause": "b.two", "top": 2, "confident": "any"}, True),
        ({"cause": "b.two", "top": 2}, False),  # ranked but not confident
        ({"cause": "a.one", "confident": False}, False),  # confident, which the case forbids
        ({"cause": "c.three", "top": 3, "confident": False}, True),
        ({"cause": "a.one", "facts": {"v": "1.2"}}, True),
        ({"cause": "a.one", "facts": {"v": "1.3"}}, False),
        ({"cause": "a.one", "facts": {"w": "1"}}, False),
        ({"also": {"c.three": 3}}, True),
        ({"also": {"c.three": 2}}, False),
        ({"signature": "sig-a2"}, True),
        ({"signature": "sig-z"}, False),
        ({"not_confident": ["b.two", "c.three", "d.four"]}, True),
        ({"not_confident": ["a.one"]}, False),
        ({"not_first": ["b.two"]}, True),
        ({"not_first": ["a.one"]}, False),
        ({"not_ranked": ["d.four"]}, True),
        ({"not_ranked": ["c.three"]}, False),
        ({"silent": True}, False),
    ],
)
def test_each_expectation_holds_or_fails_on_a_ranking(kw, ok):
    problems = cause_case_problems(_case(**kw), RANKING)
    assert (problems == []) is ok, problems


def test_silent_holds_when_nothing_is_confident():
    assert cause_case_problems(_case(silent=True), RANKING[1:]) == []
    assert cause_case_problems(_case(cause="a.one", silent=True, confident="any"), []) == ["expected a.one first"]


def _one_cause_kb(tmp_path, page: str, pattern: str):
    """A knowledge base of one cause, a.one: its page's text and one signature with one regex clause."""
    md = tmp_path / "a.one.md"
    md.write_text(page)
    clause = SimpleNamespace(kind="regex", pattern=pattern)
    kb = SimpleNamespace(
        signatures=[SimpleNamespace(cause="a.one", match=[clause], against=[])],
        explanations={"a.one": SimpleNamespace(path=str(md))},
    )
    return kb, clause


def test_placeholders_are_checked_against_captures_and_aliases(tmp_path):
    kb, clause = _one_cause_kb(
        tmp_path,
        "# T\n\nInstalled {{tf_version}}; loaded {{loaded}}; built {{bulit|unknown}}.\nAlso {{drift.summary}}.\n",
        r"Loaded (?P<loaded>[\d.]+) built (?P<built>[\d.]+)",
    )
    diags = []
    check_placeholders(kb, diags)
    got = [(d.code, d.line, d.severity) for d in diags]
    assert got == [("DNX158", 3, "warning"), ("DNX158", 4, "warning")], [d.format() for d in diags]
    assert "built" in diags[0].hint
    clause.pattern += r" (?P<drift_name>\w+)"  # a drift capture brings the drift.* facts
    diags = []
    check_placeholders(kb, diags)
    assert [d.line for d in diags] == [3]


@pytest.mark.shipped_data
def test_pytest_collects_every_case_by_file_and_name(tmp_path):
    """One item per case, named by its file and case; todo cases become strict xfails; the KB loads once."""
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests/kb_cases.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    ids = [ln for ln in out.stdout.splitlines() if ln.startswith("tests/kb_cases.yaml::")]
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    from dnnfix.knowledge.check import check

    res = check()
    assert len(ids) == 1 + len(res.cases) + len(res.cause_cases) + len(res.negatives)
    assert "tests/kb_cases.yaml::kb-check" in ids
    c = res.cause_cases[0]
    rel = Path(c.path).relative_to(ROOT).as_posix()
    assert f"tests/kb_cases.yaml::{rel}::{c.name}" in ids
    assert any(i.startswith("tests/kb_cases.yaml::kb/negatives/") for i in ids)


def test_a_value_worked_out_from_a_capture_is_a_known_placeholder(tmp_path):
    """{{package}} is filled from a captured module name (facts.derived): accepted where a signature of the cause
    captures one of its sources, reported where none does."""
    kb, clause = _one_cause_kb(
        tmp_path, '# T\n\nprint(md.version("{{package|numpy}}"))\n', r"cannot import name '\w+' from '(?P<other>\w+)"
    )
    diags = []
    check_placeholders(kb, diags)
    assert [(d.code, d.line) for d in diags] == [("DNX158", 3)]
    clause.pattern = r"cannot import name '\w+' from '(?P<stale_module>\w+)"
    diags = []
    check_placeholders(kb, diags)
    assert diags == []
