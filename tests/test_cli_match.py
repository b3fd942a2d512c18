"""`dnnfix match` as ../shared/CONTRACT.md specifies: JSON Lines, exit codes, bad input in one sentence."""

import json
from pathlib import Path

from _cli import LOADED_CUDNN, dnnfix
import pytest

# whole CLI / TUI / hook runs in many processes: the whole suite and the newest Python run them, the oldest
# Python's core suite in CI leaves them out (scripts/test_pythons, DNNFIX_CORE_LIGHT)
pytestmark = pytest.mark.subprocess_heavy

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "fixtures" / "kb-mini"
GOOD = LOADED_CUDNN


def test_json_lines_one_object_per_input_in_order(tmp_path):
    a = tmp_path / "a.txt"
    a.write_text(GOOD)
    b = tmp_path / "b.txt"
    b.write_text("Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\nKeyError: 'label_col'\n")
    rc, out, err = dnnfix("match", "--json", "--no-probe", "--kb", str(MINI), str(a), str(b))
    assert rc == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["input"] for r in rows] == [str(a), str(b)]
    m = rows[0]["matches"][0]
    assert set(m) >= {"cause", "signature", "score", "confident", "title", "evidence", "fixes"}
    assert m["cause"] == "demo.cudnn.mismatch" and m["confident"] is True and 0 <= m["score"] <= 1
    assert all(isinstance(e, str) for e in m["evidence"])
    assert m["fixes"][0]["code"].startswith("pip install") and m["fixes"][0]["language"] == "bash"
    scores = [x["score"] for x in rows[0]["matches"]]
    assert scores == sorted(scores, reverse=True)
    assert not any(x["confident"] for x in rows[1]["matches"])
    assert rows[1]["fingerprint"].startswith("dnnfix-") and "kb new" in rows[1]["unknown"]["scaffold"]
    assert isinstance(rows[0]["elapsed_ms"], float)


def test_stdin_dash_and_no_file(tmp_path):
    for args in (["-"], []):
        rc, out, _ = dnnfix("match", "--json", "--no-probe", "--kb", str(MINI), *args, stdin=GOOD.encode())
        assert rc == 0 and json.loads(out)["input"] == "-"


def test_top_limits_matches():
    rc, out, _ = dnnfix("match", "--json", "--no-probe", "--top", "1", "--kb", str(MINI), stdin=GOOD.encode())
    assert rc == 0 and len(json.loads(out)["matches"]) == 1


def test_unreadable_inputs_exit_2_and_others_are_still_analysed(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(GOOD)
    binary = tmp_path / "model.bin"
    binary.write_bytes(b"\x00\x01\x02PK\x03\x04" * 100)
    rc, out, err = dnnfix(
        "match", "--json", "--no-probe", str(tmp_path / "nope.txt"), str(tmp_path), str(binary), str(good)
    )
    assert rc == 2
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["input"] for r in rows] == [str(tmp_path / "nope.txt"), str(tmp_path), str(binary), str(good)]
    assert "error" not in rows[3]
    lines = err.strip().splitlines()
    assert f"dnnfix: {tmp_path / 'nope.txt'}: no such file" in lines
    assert f"dnnfix: {tmp_path} is a directory; give a file (or several)" in lines
    assert any("looks like binary data" in ln for ln in lines)
    assert "Traceback" not in err


def test_empty_and_undecodable_inputs_are_said_in_one_sentence(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("RuntimeError: caf\xe9 \xff broke\n".encode("latin-1"))
    rc, out, err = dnnfix("match", "--no-probe", str(empty), str(latin))
    assert rc == 0
    assert f"dnnfix: {empty} is empty: nothing to diagnose" in err
    assert "undecodable byte(s) replaced" in err
    assert "Traceback" not in err


def test_bad_snapshot_and_bad_usage():
    rc, _, err = dnnfix("match", "--env", "/no/such.json")
    assert rc == 2 and err.strip() == "dnnfix: /no/such.json: no such file"
    rc, _, err = dnnfix("match", "--top", "0")
    assert rc == 2
    rc, _, err = dnnfix("match", "--frobnicate")
    assert rc == 2 and "unrecognized arguments" in err


def test_human_report_quotes_evidence_and_the_first_fix_without_colour_when_piped():
    rc, out, _ = dnnfix("match", "--no-probe", "--kb", str(MINI), stdin=GOOD.encode())
    assert rc == 0 and "\x1b[" not in out
    assert "Loaded cuDNN older than build" in out
    assert "line 1: E tensorflow/stream_executor/cuda/cuda_dnn.cc:361] Loaded runtime CuDNN library: 8.0.5" in out
    assert "fix first: Install the matching cuDNN" in out and "nvidia-cudnn-cu12==8.1.0.*" in out


def test_colour_only_when_forced_and_never_with_no_color():
    _, out, _ = dnnfix(
        "match", "--no-probe", "--kb", str(MINI), stdin=GOOD.encode(), env={"FORCE_COLOR": "1", "NO_COLOR": ""}
    )
    assert "\x1b[" in out
    _, out, _ = dnnfix(
        "match", "--no-probe", "--kb", str(MINI), stdin=GOOD.encode(), env={"FORCE_COLOR": "1", "NO_COLOR": "1"}
    )
    assert "\x1b[" not in out


def test_a_huge_log_keeps_the_decisive_head_line_and_the_final_error(tmp_path):
    big = tmp_path / "big.log"
    with open(big, "wb") as fh:
        fh.write(
            b"E tensorflow/stream_executor/cuda/cuda_dnn.cc:361] Loaded runtime CuDNN library: 8.0.5 but source was compiled with: 8.1.0.\n"
        )
        fh.write(b"Epoch 1/1 step ok loss 0.1234 accuracy 0.98 learning rate 0.001 and more padding text\n" * 250_000)
        fh.write(b"UnimplementedError: Graph execution error:\nDNN library is not found.\n")
    assert big.stat().st_size > 20_000_000
    rc, out, _ = dnnfix("match", "--json", "--no-probe", "--kb", str(MINI), str(big))
    row = json.loads(out)
    assert rc == 0 and row["matches"][0]["cause"] == "demo.cudnn.mismatch" and row["notes"]


def test_broken_user_signature_is_skipped_with_one_line(tmp_path):
    kbdir = tmp_path / "mykb" / "signatures"
    kbdir.mkdir(parents=True)
    (kbdir / "broken.yaml").write_text("id: broken\ncause: [unclosed\n")
    rc, out, err = dnnfix("match", "--json", "--no-probe", "--kb", str(tmp_path / "mykb"), stdin=GOOD.encode())
    assert rc == 0 and json.loads(out)["input"] == "-"
    assert "broken.yaml:3:1: DNX001 YAML syntax error" in err and len(err.strip().splitlines()) == 1
