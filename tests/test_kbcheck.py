"""`dnnfix kb check` reports every planted problem at its path:line:col, and `kb test` runs cases."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dnnfix.knowledge.check import check

# whole CLI / TUI / hook runs in many processes: the whole suite and the newest Python run them, the oldest
# Python's core suite in CI leaves them out (scripts/test_pythons, DNNFIX_CORE_LIGHT)
pytestmark = pytest.mark.subprocess_heavy


def _write(root: Path, rel: str, text: str) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return p


def _own_cause_kb(tmp_path: Path) -> Path:
    """A knowledge-base folder with one cause of its own (my.own.cause)."""
    root = tmp_path / "kb"
    _write(root, "causes.yaml", "causes:\n  my.own.cause: {category: code-error, summary: x}\n")
    return root


@pytest.fixture
def bad_kb(tmp_path):
    root = _own_cause_kb(tmp_path)
    _write(
        root,
        "signatures/a/typo.yaml",
        """
        id: typo-key
        cause: my.own.cause
        titel: misspelt
        status: stable
        match:
          - regex: 'Segmentation fault in libfoo_special'
        """,
    )
    _write(
        root,
        "signatures/a/unknown-cause.yaml",
        """
        id: unknown-cause
        cause: tf.cudnn.version-mismatc
        title: t
        status: stable
        match:
          - regex: 'libfoo_special exploded'
        """,
    )
    _write(
        root,
        "signatures/a/dup1.yaml",
        "id: dup\ncause: my.own.cause\ntitle: t\nstatus: stable\nmatch:\n  - regex: 'libfoo_special one'\n",
    )
    _write(
        root,
        "signatures/a/dup2.yaml",
        "id: dup\ncause: my.own.cause\ntitle: t\nstatus: stable\nmatch:\n  - regex: 'libfoo_special two'\n",
    )
    _write(
        root,
        "signatures/a/bad-regex.yaml",
        """
        id: bad-regex
        cause: my.own.cause
        title: t
        status: stable
        match:
          - regex: 'libfoo_special (unclosed'
        """,
    )
    _write(
        root,
        "signatures/a/weak.yaml",
        """
        id: weak
        cause: my.own.cause
        title: t
        status: stable
        match:
          - regex: 'CUDA error'
          - regex: '(\\w+): .*'
        """,
    )
    _write(
        root,
        "signatures/a/redos.yaml",
        """
        id: redos
        cause: my.own.cause
        title: t
        status: stable
        match:
          - regex: 'libfoo_special (\\s*\\w+)+$'
        """,
    )
    _write(
        root,
        "signatures/a/split-key.yaml",
        """
        id: split-key
        cause: my.own.cause
        title: t
        status: stable
        match:
          - regex: 'train this model on a down-stream task'
            keys: [down-stream]
        """,
    )
    _write(
        root, "signatures/a/syntax.yaml", "id: syntax\ncause: my.own.cause\nmatch:\n  - regex: 'x'\n   weight: [1, 2\n"
    )
    _write(
        root,
        "signatures/a/typo-key.cases.yaml",
        """
        signature: typo-key
        cases:
          - name: one
            expect: matches
            text: x
        """,
    )
    _write(root, "causes/my.own.cause.md", "# T\n\n## What happened\nx\n\n## Fix\n### Do it\nno code here\n")
    return root


def _codes(res, root):
    return sorted(
        (Path(d.path).name, d.line, d.col, d.code)
        for d in res.diagnostics
        if str(d.path).startswith(str(root)) and d.severity == "error"
    )


def test_every_planted_problem_is_reported_at_its_place(bad_kb):
    res = check([str(bad_kb)])
    got = _codes(res, bad_kb)
    assert ("typo.yaml", 3, 1, "DNX102") in got  # unknown key 'titel'
    assert ("typo.yaml", 1, 1, "DNX103") in got  # ... so 'title' is missing
    assert ("unknown-cause.yaml", 2, 8, "DNX105") in got
    assert ("dup2.yaml", 1, 1, "DNX141") in got
    assert ("bad-regex.yaml", 6, 12, "DNX118") in got
    assert ("weak.yaml", 6, 12, "DNX131") in got  # generic words only
    assert ("weak.yaml", 7, 12, "DNX130") in got  # unanchored
    assert ("redos.yaml", 6, 12, "DNX119") in got
    assert ("syntax.yaml", 5, 4, "DNX001") in got
    assert ("split-key.yaml", 7, 11, "DNX115") in got  # a key the word index splits in two can never be found
    assert ("typo-key.cases.yaml", 4, 13, "DNX208") in got
    assert ("my.own.cause.md", 1, 1, "DNX150") in got
    assert ("my.own.cause.md", 6, 1, "DNX154") in got or ("my.own.cause.md", 7, 1, "DNX154") in got
    msgs = {d.code: d.format() for d in res.diagnostics if str(d.path).startswith(str(bad_kb))}
    assert "did you mean 'title'?" in msgs["DNX102"]
    assert "did you mean 'tf.cudnn.version-mismatch'?" in msgs["DNX105"]


def test_a_misspelt_or_wrong_cause_origin_is_reported(tmp_path):
    root = tmp_path / "kb"
    _write(
        root,
        "causes.yaml",
        """
        causes:
          my.own.cause: {category: code-error, summary: x, orgin: project}
          my.other.cause:
            category: code-error
            summary: y
            origin: shared
          my.third.cause: {category: code-error, summary: z, origin: project}
          my.bare.cause: just a summary
          my.half.cause: {category: code-error}
        """,
    )
    got = _codes(check([str(root)]), root)
    assert ("causes.yaml", 8, 18, "DNX142") in got  # not a mapping (at its value)
    assert ("causes.yaml", 9, 18, "DNX142") in got  # no summary
    assert ("causes.yaml", 2, 59, "DNX142") in got  # the value of the misspelt "orgin"
    assert ("causes.yaml", 6, 13, "DNX142") in got  # origin other than 'project'
    assert not [g for g in got if g[0] == "causes.yaml" and g[1] == 7]  # a well-formed project cause


def test_cli_check_exits_nonzero_and_prints_path_line_col(bad_kb):
    p = subprocess.run(
        [sys.executable, "-m", "dnnfix", "kb", "check", "--kb", str(bad_kb)], capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 1
    assert f"{bad_kb}/signatures/a/typo.yaml:3:1: DNX102 unknown key 'titel'" in p.stdout
    assert "Traceback" not in p.stderr


def test_kb_test_runs_cases_and_reports_failures(tmp_path):
    root = _own_cause_kb(tmp_path)
    _write(
        root,
        "signatures/a/libfoo-exploded.yaml",
        """
        id: libfoo-exploded
        cause: my.own.cause
        title: libfoo exploded
        status: test
        match:
          - regex: 'libfoo_special exploded at (?P<where>\\w+)'
            weight: 0.9
        """,
    )
    _write(
        root,
        "signatures/a/libfoo-exploded.cases.yaml",
        """
        signature: libfoo-exploded
        cases:
          - name: fires
            expect: match
            text: "RuntimeError: libfoo_special exploded at init"
          - name: wrongly-expected
            expect: match
            text: "RuntimeError: libbar exploded"
          - name: near-miss
            expect: no-match
            text: "libfoo_special is fine"
          - name: gap
            expect: todo
            text: "libfoo went away"
        """,
    )
    p = subprocess.run(
        [sys.executable, "-m", "dnnfix", "kb", "test", "--kb", str(root), "--only", "libfoo"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 1
    assert "libfoo-exploded#wrongly-expected: signature did not fire" in p.stdout
    assert "2 passed, 1 failed" in p.stdout and "1 todo" in p.stdout


def test_loading_to_match_vets_every_pattern_but_the_shipped_ones(bad_kb):
    """load_kb skips the costly per-pattern checks (it compiles; it cannot backtrack) for the shipped signatures
    only, which `kb check` vets in CI: a user folder's bad and backtracking patterns are still refused when loaded,
    and the shipped knowledge base compiles to the same signatures either way."""
    from dnnfix.knowledge.load import build_kb, kb_dirs, load_kb

    kb = load_kb([str(bad_kb)], use_cache=False)
    loaded = {s.id for s in kb.signatures}
    assert "redos" not in loaded and "bad-regex" not in loaded
    assert any(s.origin == str(bad_kb) for s in kb.signatures)  # the folder itself was read

    def shape(kb):
        return sorted((s.id, tuple((c.pattern, c.keys, c.needles) for c in s.match + s.against)) for s in kb.signatures)

    shipped = kb_dirs([])
    assert shape(build_kb(shipped, vet_builtin=False)) == shape(build_kb(shipped))


def _fix_first_kb(tmp_path):
    root = _own_cause_kb(tmp_path)
    _write(
        root,
        "causes/my.own.cause.md",
        """
        # libfoo broke

        ## What happened
        libfoo stopped.

        ## Why
        Two builds of libfoo print the same refusal.

        ## Fix
        ### Restart the service
        ```bash
        systemctl restart foo
        ```

        ### Reinstall libfoo-extra
        ```bash
        pip install --force-reinstall libfoo-extra
        ```

        ### Pin libfoo
        ```bash
        pip install 'libfoo<2'
        ```

        ## How to check
        ```bash
        foo --version
        ```

        ## Fix safety
        Safe.

        ## References
        - none
        """,
    )
    sig = "id: {id}\ncause: my.own.cause\ntitle: t\nstatus: stable\n{extra}match:\n  - regex: '{regex}'\n"
    _write(root, "signatures/a/plain.yaml", sig.format(id="libfoo-plain", extra="", regex="libfoo_core refused"))
    _write(
        root,
        "signatures/a/extra.yaml",
        sig.format(id="libfoo-extra", extra="fix_first: Reinstall libfoo-extra\n", regex="libfoo_extra refused"),
    )
    _write(
        root,
        "signatures/a/typo.yaml",
        sig.format(id="libfoo-typo", extra="fix_first: Reinstal libfoo-extra\n", regex="libfoo_typo refused"),
    )
    _write(root, "signatures/a/nonstr.yaml", sig.format(id="libfoo-nonstr", extra="fix_first: 3\n", regex="libfoo_x"))
    return root


def test_fix_first_must_name_one_of_the_causes_fixes(tmp_path):
    root = _fix_first_kb(tmp_path)
    res = check([str(root)])
    got = _codes(res, root)
    assert ("typo.yaml", 1, 1, "DNX242") in got
    assert ("nonstr.yaml", 5, 12, "DNX129") in got
    assert not [g for g in got if g[0] in ("extra.yaml", "plain.yaml")]
    msg = next(d.format() for d in res.diagnostics if d.code == "DNX242")
    assert "did you mean 'Reinstall libfoo-extra'?" in msg


def test_the_deciding_signatures_fix_first_leads_and_the_rest_keep_their_order(tmp_path):
    from dnnfix.api import diagnose_text, fixes_for
    from dnnfix.knowledge.load import load_kb
    from dnnfix.render_json import to_dict
    from dnnfix.report import build

    kb = load_kb([str(_fix_first_kb(tmp_path))])
    order = {}
    for word, sid in (("core", "libfoo-plain"), ("extra", "libfoo-extra")):
        d = diagnose_text(f"RuntimeError: libfoo_{word} refused to start\n", env={}, kb=kb)
        m = d.matches[0]
        assert m.signature == sid
        titles = [f["title"] for f in fixes_for(m, kb)]
        assert [f.title for f in build(d, kb).entries[0].fixes] == titles
        assert [f["title"] for f in to_dict(d, kb)["matches"][0]["fixes"]] == titles
        order[word] = titles
    assert order["core"] == ["Restart the service", "Reinstall libfoo-extra", "Pin libfoo"]
    assert order["extra"] == ["Reinstall libfoo-extra", "Restart the service", "Pin libfoo"]


def test_the_fired_clauses_fix_leads_over_the_signatures_fix_first(tmp_path):
    """A signature that reads two libraries' wording names each one's fix on its clause: the first clause that fired
    decides which fix leads; without one, the signature's fix_first; a clause's fix that names no fix is DNX242."""
    from dnnfix.api import diagnose_text, fixes_for
    from dnnfix.knowledge.load import load_kb

    root = _fix_first_kb(tmp_path)
    _write(
        root,
        "signatures/a/two.yaml",
        "id: libfoo-two\ncause: my.own.cause\ntitle: t\nstatus: stable\nfix_first: Restart the service\nmatch:\n"
        "  - regex: 'libfoo_pin refused'\n    fix: Pin libfoo\n"
        "  - regex: 'libfoo_more refused'\n"
        "  - regex: 'libfoo_bad refused'\n    fix: Pin libfo\n",
    )
    got = _codes(check([str(root)]), root)
    assert ("two.yaml", 10, 1, "DNX242") in got  # the misspelt title, at its clause's line
    kb = load_kb([str(root)])
    lead = {}
    for word in ("pin", "more"):
        d = diagnose_text(f"RuntimeError: libfoo_{word} refused to start\n", env={}, kb=kb)
        assert d.matches[0].signature == "libfoo-two"
        lead[word] = [f["title"] for f in fixes_for(d.matches[0], kb)]
    assert lead["pin"] == ["Pin libfoo", "Restart the service", "Reinstall libfoo-extra"]
    assert lead["more"] == ["Restart the service", "Reinstall libfoo-extra", "Pin libfoo"]
