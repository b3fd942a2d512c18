"""`dnnfix kb new`: the draft anchors on the most specific line, is scored on the negatives and on the other
causes' cases before it is called ok, keeps case texts as literal blocks, and names its schema relatively."""

import os
import subprocess
import sys
from pathlib import Path

import yaml

from dnnfix.parse import parse_text
from dnnfix.knowledge.scaffold import draft, dump_yaml, literal_block, specific_line
import pytest

# whole CLI / TUI / hook runs in many processes: the whole suite and the newest Python run them, the oldest
# Python's core suite in CI leaves them out (scripts/test_pythons, DNNFIX_CORE_LIGHT)
pytestmark = pytest.mark.subprocess_heavy

COLAB = Path(__file__).parent / "fixtures" / "kbnew" / "colab-graph-execution.txt"


def _kb_new(tmp_path, text_file, cause, *extra):
    env = dict(os.environ, DNNFIX_USER_KB=str(tmp_path / "no-user-kb"), NO_COLOR="1")
    env.pop("DNNFIX_KB_PATH", None)
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "dnnfix",
            "kb",
            "new",
            str(text_file),
            "--cause",
            cause,
            "--out",
            str(tmp_path / "kb"),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    return p, tmp_path / "kb" / "signatures" / "local"


def test_anchor_is_the_specific_line_not_the_graph_execution_wrapper():
    text = COLAB.read_text()
    sig, _ = draft(parse_text(text), text, "keras.loss-label-mismatch")
    rx = sig["match"][0]["regex"]
    assert rx.startswith(r"Received\s+a\s+label\s+value\s+of\s+\d+")
    assert "Graph" not in rx and "Detected" not in rx
    assert "Graph execution error" not in sig["title"] and "Received a label value" in sig["title"]


def test_specific_line_skips_wrappers_and_quoted_source():
    msg = "Exception encountered when calling layer 'dense' (type Dense)."
    after = [
        '  File "/x/y.py", line 3, in call',
        "    return tf.matmul(inputs, self.kernel_weights_matrix)",
        "Matrix size-incompatible: In[0]: [3,5], In[1]: [4,2]",
    ]
    assert specific_line(msg, after) == "Matrix size-incompatible: In[0]: [3,5], In[1]: [4,2]"
    assert specific_line("CUDA error: device-side assert triggered") == "CUDA error: device-side assert triggered"


def test_draft_on_the_colab_example_is_ok_and_claims_nothing_else(tmp_path):
    p, folder = _kb_new(tmp_path, COLAB, "keras.loss-label-mismatch")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "ok   case pasted (match)" in p.stdout
    assert "ok   confident on none of the" in p.stdout


def test_a_draft_that_claims_ordinary_failures_is_not_ok(tmp_path):
    """The old draft's anchor ("Graph execution error:") passes its own cases but is confident on other
    causes' cases and negatives: that must be reported, with exit status 1."""
    text = (
        "InvalidArgumentError                      Traceback (most recent call last)\n"
        "InvalidArgumentError: Graph execution error:\n"
    )
    src = tmp_path / "generic.txt"
    src.write_text(text)
    p, folder = _kb_new(tmp_path, src, "keras.loss-label-mismatch")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "ok   case pasted (match)" in p.stdout
    assert "FAIL also confident on " in p.stdout and "the anchor is too broad" in p.stdout


def test_case_texts_are_literal_blocks_even_with_tabs(tmp_path):
    p, folder = _kb_new(tmp_path, COLAB, "keras.loss-label-mismatch")
    (cases_file,) = folder.glob("*.cases.yaml")
    raw = cases_file.read_text()
    assert "  text: |\n" in raw and "\\t" not in raw and "\t [[{{node" in raw
    doc = yaml.safe_load(raw)
    assert doc["cases"][0]["text"] == COLAB.read_text().rstrip("\n") + "\n"


def test_schema_comment_is_relative(tmp_path):
    p, folder = _kb_new(tmp_path, COLAB, "keras.loss-label-mismatch")
    for f in folder.glob("*.yaml"):
        first = f.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema=")
        ref = first.split("=", 1)[1]
        assert not ref.startswith(("/", "file:")), ref
        assert (f.parent / ref).resolve().is_file()


def test_dump_yaml_round_trips_awkward_texts():
    texts = ["a\n\tb  \n", "  starts indented\nx", "ends\n\n\n", "ctrl \x1b[31mred\x1b[0m\nx\n", "x\n   \ny\n"]
    doc = {"cases": [{"name": str(i), "text": t} for i, t in enumerate(texts)]}
    out = dump_yaml(doc, "# header\n")
    assert out.startswith("# header\n") and yaml.safe_load(out) == doc
    assert out.count(": |") == 4  # the control-character text keeps PyYAML's quoting
    assert literal_block("a\nb", 4) == "|-\n    a\n    b"


def test_a_harmless_notice_draft_counts_a_failed_run_against_itself(tmp_path):
    """A draft for a harmless-notice cause uses the shared clauses that show a run really failed (kb/clauses.yaml), so
    the notice followed by a real error is not claimed as harmless; other causes' drafts get no such clauses."""
    notice = "UserWarning: the frobnicator cache is cold; warming it up takes a minute\n"
    sig, _ = draft(parse_text(notice), notice, "py.log.benign-warning")
    assert [c["use"] for c in sig["against"]][:2] == ["failed.exception-name", "failed.traceback"]
    other, _ = draft(parse_text(notice), notice, "keras.loss-label-mismatch")
    assert "against" not in other
    assert "against" not in draft(parse_text(notice), notice, "py.log.benign-warning", shared=())[0]
    paste = tmp_path / "notice.txt"
    paste.write_text(notice)
    p, folder = _kb_new(tmp_path, paste, "py.log.benign-warning")
    assert p.returncode == 0, p.stdout + p.stderr
    (written,) = [f for f in folder.glob("*.yaml") if not f.name.endswith(".cases.yaml")]
    assert "- use: failed.traceback" in written.read_text()
    from dnnfix.api import diagnose_text
    from dnnfix.knowledge.load import load_kb

    kb = load_kb([str(tmp_path / "kb")], use_cache=False)
    sid = yaml.safe_load(written.read_text())["id"]
    alone = {m.signature: m for m in diagnose_text(notice, kb=kb, env={}).matches}
    assert alone[sid].cause == "py.log.benign-warning"
    failed = notice + 'Traceback (most recent call last):\n  File "run.py", line 3, in <module>\nRuntimeError: boom\n'
    after = {m.signature: m for m in diagnose_text(failed, kb=kb, env={}).matches}
    assert sid not in after or after[sid].score < alone[sid].score * 0.5
