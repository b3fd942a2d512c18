"""Shared clauses (kb/clauses.yaml): a signature's `- use: NAME` stands for the clause defined once under that name."""

import dataclasses
import json
from pathlib import Path

import pytest
import yaml

from dnnfix.knowledge.check import check
from dnnfix.knowledge.load import build_kb, kb_dirs, load_kb

ROOT = Path(__file__).resolve().parent.parent

SIG = """\
id: {sid}
cause: torch.cuda.oom
title: t
status: test
match:
  - regex: 'special\\s+notice\\s+{sid}'
    weight: solid
against:
{against}
"""


def _kb(root: Path, clauses: str, sigs: dict) -> Path:
    (root / "signatures").mkdir(parents=True, exist_ok=True)
    if clauses is not None:
        (root / "clauses.yaml").write_text(clauses)
    for sid, against in sigs.items():
        (root / "signatures" / f"{sid}.yaml").write_text(SIG.format(sid=sid, against=against))
    return root


def _fields(c):
    d = dataclasses.asdict(c)
    d.pop("line")
    d.pop("shared")
    return d


CLAUSES = """\
clauses:
  mine.boom:
    regex: 'kaboom\\s+happened'
    weight: strong
"""


def test_use_is_the_clause_written_out(tmp_path):
    root = _kb(
        tmp_path / "kb",
        CLAUSES,
        {
            "x-used": "  - use: mine.boom",
            "x-inline": "  - regex: 'kaboom\\s+happened'\n    weight: strong",
        },
    )
    kb = build_kb(kb_dirs([str(root)]))
    assert [d.format() for d in kb.diagnostics if d.severity == "error"] == []
    used, inline = kb.by_id("x-used").against[0], kb.by_id("x-inline").against[0]
    assert used.shared == "mine.boom" and inline.shared == ""
    assert _fields(used) == _fields(inline)
    assert used.line == 9  # the use line of the signature file, where a diagnostic or an evidence link points


def test_the_shared_definition_reaches_every_use(tmp_path):
    from dnnfix.api import diagnose_text

    root = _kb(tmp_path / "kb", CLAUSES, {"x-one": "  - use: mine.boom", "x-two": "  - use: mine.boom"})
    text = "special notice x-one\nspecial notice x-two\nkaboom happened\n"

    def scores():
        kb = load_kb([str(root)], use_cache=False)
        d = diagnose_text(text, kb=kb, env={})
        return {m.signature: m.score for m in d.matches if m.signature.startswith("x-")}

    before = scores()
    assert set(before) == {"x-one", "x-two"} and all(s < 0.3 for s in before.values())  # the against fired
    (root / "clauses.yaml").write_text(CLAUSES.replace("kaboom", "nothing-like-it"))
    after = scores()
    assert all(after[k] > before[k] + 0.3 for k in before)  # one edit changed both signatures


def test_unknown_name_and_extra_keys_are_errors(tmp_path):
    root = _kb(
        tmp_path / "kb",
        CLAUSES,
        {"x-typo": "  - use: mine.bom", "x-extra": "  - use: mine.boom\n    weight: hint"},
    )
    res = check([str(root)])
    got = {(Path(d.path).name, d.code): d for d in res.diagnostics if d.severity == "error"}
    typo = got[("x-typo.yaml", "DNX144")]
    assert typo.line == 9 and "mine.bom" in typo.message and "mine.boom" in typo.hint
    extra = got[("x-extra.yaml", "DNX143")]
    assert "weight" in extra.message
    assert res.kb.by_id("x-typo") is None and res.kb.by_id("x-extra") is None  # not loaded, as any broken signature


def test_a_broken_shared_clause_is_reported_at_each_use_naming_it(tmp_path):
    broken = "clauses:\n  mine.bad:\n    regex: 'unclosed(group'\n"
    root = _kb(tmp_path / "kb", broken, {"x-a": "  - use: mine.bad", "x-b": "  - use: mine.bad"})
    res = check([str(root)])
    bad = [d for d in res.diagnostics if d.code == "DNX118"]
    assert sorted(Path(d.path).name for d in bad) == ["x-a.yaml", "x-b.yaml"]
    assert all("shared clause 'mine.bad'" in d.message and "clauses.yaml" in d.message for d in bad)


@pytest.mark.parametrize(
    "text,needle",
    [
        ("clauses: [a, b]\n", "'clauses:' mapping"),
        ("clauses:\n  Bad Name:\n    regex: 'abcdef'\n", "kebab-case"),
        ("clauses:\n  mine.x: 'abcdef'\n", "must be a clause mapping"),
        ("clauses:\n  mine.x:\n    use: mine.y\n", "cannot hold 'use'"),
        ("clauses:\n  mine.x:\n    regex: 'abcdef'\n    fix: Some fix\n", "cannot hold 'fix'"),
    ],
)
def test_bad_clause_files_are_errors(tmp_path, text, needle):
    root = _kb(tmp_path / "kb", text, {})
    res = check([str(root)])
    bad = [d for d in res.diagnostics if d.code == "DNX145"]
    assert len(bad) == 1 and needle in bad[0].message and bad[0].path.endswith("clauses.yaml")


def test_unused_shared_clause_is_a_warning(tmp_path):
    root = _kb(tmp_path / "kb", CLAUSES + "  mine.idle:\n    regex: 'never\\s+used'\n", {"x-one": "  - use: mine.boom"})
    res = check([str(root)])
    warned = [d for d in res.diagnostics if d.code == "DNX146"]
    assert [(d.severity, "mine.idle" in d.message, d.line) for d in warned] == [("warning", True, 6)]


def test_a_user_kb_uses_the_builtin_clauses_and_may_define_its_own(tmp_path):
    root = _kb(
        tmp_path / "kb",
        CLAUSES,
        {"x-builtin": "  - use: failed.traceback", "x-own": "  - use: mine.boom"},
    )
    kb = load_kb([str(root)], use_cache=False)
    assert kb.by_id("x-builtin").against[0].pattern == kb.clauses["failed.traceback"]["clause"]["regex"]
    assert kb.by_id("x-own").against[0].shared == "mine.boom"


def test_the_disk_cache_keeps_shared_clauses(tmp_path):
    root = _kb(tmp_path / "kb", CLAUSES, {"x-one": "  - use: mine.boom"})
    first = load_kb([str(root)])
    from dnnfix.knowledge import cache

    again = cache.read(first._key)  # type: ignore[attr-defined]
    assert again is not None and again.clauses == first.clauses
    assert again.by_id("x-one").against[0].shared == "mine.boom"


def test_shipped_shared_clauses_are_used_and_valid():
    res = check()
    assert [d.format() for d in res.diagnostics if d.code in ("DNX143", "DNX144", "DNX145", "DNX146")] == []
    names = set(res.kb.clauses)
    used = {c.shared for s in res.kb.signatures for c in s.match + s.against if c.shared}
    assert used == names and len(names) >= 20
    # each shared clause stands for a clause many signatures would otherwise copy
    counts = {n: sum(1 for s in res.kb.signatures for c in s.match + s.against if c.shared == n) for n in names}
    assert min(counts.values()) >= 3, counts


def test_clauses_file_validates_against_its_schema():
    jsonschema = pytest.importorskip("jsonschema")
    from referencing import Registry, Resource

    schemas = {
        n: json.loads((ROOT / "kb" / "schema" / f"{n}.schema.json").read_text()) for n in ("signature", "clauses")
    }
    reg = Registry().with_resources([(s["$id"], Resource.from_contents(s)) for s in schemas.values()])
    v = jsonschema.Draft202012Validator(schemas["clauses"], registry=reg)
    assert [e.message for e in v.iter_errors(yaml.safe_load((ROOT / "kb" / "clauses.yaml").read_text()))] == []
    assert not v.is_valid({"clauses": {"mine.x": {"regex": "abcdef", "fix": "Some fix"}}})
    assert not v.is_valid({"clauses": {"mine.x": {"use": "mine.y"}}})
    assert not v.is_valid({"clauses": {"Not Kebab": {"regex": "abcdef"}}})
    assert v.is_valid({"clauses": {"mine.x": {"regex": "abcdef", "weight": "strong", "keys": ["abcdef"]}}})
