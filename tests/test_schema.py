"""The published JSON Schemas and `dnnfix kb check` agree on what a well-formed file is."""

import copy
import json
from pathlib import Path

import pytest
import yaml

from dnnfix.knowledge.yamlmarks import load

jsonschema = pytest.importorskip("jsonschema")
ROOT = Path(__file__).resolve().parent.parent
SCHEMA = {
    n: json.loads((ROOT / "kb" / "schema" / f"{n}.schema.json").read_text())
    for n in ("signature", "cases", "negatives")
}
STRUCTURAL = {
    "DNX101",
    "DNX102",
    "DNX103",
    "DNX104",
    "DNX106",
    "DNX108",
    "DNX109",
    "DNX110",
    "DNX111",
    "DNX112",
    "DNX113",
    "DNX114",
    "DNX115",
    "DNX116",
    "DNX117",
    "DNX120",
    "DNX121",
    "DNX122",
    "DNX123",
    "DNX124",
    "DNX125",
    "DNX126",
    "DNX143",
    "DNX201",
    "DNX202",
    "DNX205",
    "DNX206",
    "DNX208",
    "DNX209",
    "DNX210",
    "DNX211",
    "DNX220",
    "DNX221",
    "DNX222",
}

GOOD_SIG = {
    "id": "x-sig",
    "cause": "tf.gpu.oom",
    "title": "t",
    "status": "test",
    "match": [
        {"regex": "OOM when allocating tensor", "weight": 0.9},
        {"exception": ["ResourceExhaustedError"]},
        {"phrase": "out of memory while allocating", "min_ratio": 85},
        {"frames": {"package": "tensorflow"}, "weight": 0.1},
        {"fact": {"path": "packages.tensorflow", "version": ">=2"}, "weight": 0.1},
    ],
    "against": [{"regex": "device:CPU:0 by allocator cpu", "weight": 0.8}],
}


def _mutations():
    yield "valid", GOOD_SIG
    for key, value in [("titel", "x"), ("status", "done"), ("id", "Not Kebab"), ("weight", 1)]:
        d = copy.deepcopy(GOOD_SIG)
        d[key] = value
        yield f"top-{key}", d
    for key in ("id", "title", "status", "match"):
        d = copy.deepcopy(GOOD_SIG)
        del d[key]
        yield f"missing-{key}", d
    for i, bad in enumerate(
        [
            {"regex": "OOM when allocating", "weight": 1.5},
            {"regex": "OOM when allocating", "wieght": 0.5},
            {"regex": "OOM when allocating", "phrase": "two kinds at once"},
            {"weight": 0.5},
            {"regex": "OOM when allocating", "in": "stderr"},
            {"phrase": "short"},
            {"phrase": "long enough phrase", "min_ratio": 20},
            {"exception": []},
            {"frames": {"package": "x", "path": "y"}},
            {"fact": {"equals": "x"}},
            {"fact": {"path": "a.b", "equals": "x", "present": True}},
            {"fact": {"path": "a", "bigger": 1}},
            {"regex": "OOM when allocating", "keys": "oom"},
            {"use": "failed.traceback", "weight": "strong"},
            "just a string",
        ]
    ):
        d = copy.deepcopy(GOOD_SIG)
        d["match"].append(bad)
        yield f"clause-{i}", d


def _check_codes(doc, tmp_path, causes=None):
    from dnnfix.knowledge.signature import compile_signature

    diags = []
    compile_signature(load(yaml.safe_dump(doc)), "x.yaml", causes or {"tf.gpu.oom": {}}, diags)
    return {d.code for d in diags if d.severity == "error"}


@pytest.mark.parametrize("name,doc", list(_mutations()), ids=[n for n, _ in _mutations()])
def test_signature_schema_and_checker_agree(name, doc, tmp_path):
    schema_ok = jsonschema.Draft202012Validator(SCHEMA["signature"]).is_valid(doc)
    check_ok = not (_check_codes(doc, tmp_path) & STRUCTURAL)
    assert schema_ok == check_ok, f"{name}: schema says {schema_ok}, checker says {check_ok}"
    assert (name == "valid") == schema_ok


def test_every_shipped_file_validates_against_its_schema():
    v = {n: jsonschema.Draft202012Validator(s) for n, s in SCHEMA.items()}
    kb = ROOT / "kb"
    bad = []
    for p in (kb / "signatures").rglob("*.yaml"):
        which = "cases" if p.name.endswith(".cases.yaml") else "signature"
        for err in v[which].iter_errors(yaml.safe_load(p.read_text())):
            bad.append(f"{p.relative_to(ROOT)}: {err.message[:120]}")
    for p in (kb / "negatives").glob("*.yaml"):
        for err in v["negatives"].iter_errors(yaml.safe_load(p.read_text())):
            bad.append(f"{p.relative_to(ROOT)}: {err.message[:120]}")
    assert bad == []


def test_case_file_schema_and_checker_agree(tmp_path):
    from dnnfix.knowledge.check import load_cases

    good = {"signature": "s", "cases": [{"name": "a", "expect": "match", "text": "x"}]}
    variants = [
        good,
        {"signature": "s", "cases": [{"name": "a", "expect": "maybe", "text": "x"}]},
        {"signature": "s", "cases": [{"name": "a", "expect": "match", "text": "  "}]},
        {"signature": "s", "cases": [{"expect": "match", "text": "x"}]},
        {"signature": "s", "cases": [{"name": "a", "expect": "match", "text": "x", "extra": 1}]},
        {"signature": "s", "cases": [{"name": "a", "expect": "match", "text": "x", "env": "linux"}]},
        {"signature": "s", "cases": "none"},
        {"signature": "s", "cases": [], "more": 1},
    ]
    for i, doc in enumerate(variants):
        p = tmp_path / f"s{i}.cases.yaml"
        p.write_text(yaml.safe_dump(doc))
        diags = []
        load_cases(p, {"s": object()}, diags)
        check_ok = not ({d.code for d in diags} & STRUCTURAL)
        schema_ok = jsonschema.Draft202012Validator(SCHEMA["cases"]).is_valid(doc)
        assert schema_ok == check_ok, f"variant {i}: schema {schema_ok}, checker {check_ok}"
