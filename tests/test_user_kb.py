"""User and team knowledge bases: merge, override, disable; `kb new`; fingerprints; `report`."""

import json
import os
from pathlib import Path

from _cli import LOADED_CUDNN, dnnfix
import pytest

# whole CLI / TUI / hook runs in many processes: the whole suite and the newest Python run them, the oldest
# Python's core suite in CI leaves them out (scripts/test_pythons, DNNFIX_CORE_LIGHT)
pytestmark = pytest.mark.subprocess_heavy

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "fixtures" / "kb-mini"
UNKNOWN = """Traceback (most recent call last):
  File "/home/ana/proj/train.py", line 88, in <module>
    trainer.fit(model, dm)
  File "/home/ana/.venv/lib/python3.11/site-packages/lightning/pytorch/trainer/trainer.py", line 543, in fit
    call._call_and_handle_interrupt(
lightning.fabric.utilities.exceptions.MisconfigurationException: `val_check_interval` (1.5) must be less than or equal to the number of the training batches (12).
"""
SAME_ELSEWHERE = """Traceback (most recent call last):
  File "C:\\Users\\bo\\work\\fit.py", line 12, in main
    trainer.fit(net, data)
  File "C:\\Users\\bo\\miniconda3\\Lib\\site-packages\\lightning\\pytorch\\trainer\\trainer.py", line 551, in fit
    call._call_and_handle_interrupt(
lightning.fabric.utilities.exceptions.MisconfigurationException: `val_check_interval` (2.0) must be less than or equal to the number of the training batches (7).
"""
LOADED = LOADED_CUDNN


def _match_json(text, *args, env=None):
    rc, out, err = dnnfix("match", "--json", "--no-probe", *args, stdin=text.encode(), env=env)
    assert rc == 0, err
    return json.loads(out)


def test_from_unknown_error_to_a_matching_signature(tmp_path):
    team = tmp_path / "team-kb"
    env = {"DNNFIX_KB_PATH": str(team)}
    before = _match_json(UNKNOWN, env=env)
    assert not any(m["confident"] for m in before["matches"])
    src = tmp_path / "err.txt"
    src.write_text(UNKNOWN)
    rc, out, err = dnnfix(
        "kb", "new", str(src), "--cause", "torch.shape-mismatch", "--id", "lightning-val-interval", env=env
    )
    assert rc == 0, out + err
    assert (team / "signatures" / "local" / "lightning-val-interval.yaml").is_file()
    assert "ok   case pasted (match)" in out
    after = _match_json(UNKNOWN, env=env)
    assert after["matches"][0]["signature"] == "lightning-val-interval" and after["matches"][0]["confident"]
    # the generalised anchor also fits the same error from another machine
    other = _match_json(SAME_ELSEWHERE, env=env)
    assert other["matches"][0]["signature"] == "lightning-val-interval"


def test_kb_new_refuses_unknown_cause_and_names_the_closest(tmp_path):
    src = tmp_path / "err.txt"
    src.write_text(UNKNOWN)
    rc, _, err = dnnfix(
        "kb", "new", str(src), "--cause", "torch.shape-mismatc", env={"DNNFIX_KB_PATH": str(tmp_path / "k")}
    )
    assert rc == 2 and "did you mean 'torch.shape-mismatch'?" in err
    assert not (tmp_path / "k").exists()


def test_fingerprint_is_the_same_for_the_same_error_on_two_machines():
    a = _match_json(UNKNOWN)["fingerprint"]
    b = _match_json(SAME_ELSEWHERE)["fingerprint"]
    c = _match_json(UNKNOWN.replace("training batches", "validation batches"))["fingerprint"]
    assert a == b != c


def _sig(root: Path, sid: str, body: str) -> None:
    d = root / "signatures" / "mine"
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{sid}.yaml").write_text(body)


def test_user_signature_overrides_and_disables_builtin_ones(tmp_path):
    team = tmp_path / "team"
    base = _match_json(LOADED, "--kb", str(MINI))
    assert base["matches"][0]["signature"] == "demo-loaded-older"
    # override: same id, different title and weight
    _sig(
        team,
        "demo-loaded-older",
        "id: demo-loaded-older\ncause: demo.cudnn.mismatch\ntitle: Team wording\nstatus: stable\n"
        "match:\n  - regex: 'Loaded runtime CuDNN library'\n    weight: 0.7\n",
    )
    got = _match_json(LOADED, "--kb", str(team), "--kb", str(MINI))
    m = next(m for m in got["matches"] if m["signature"] == "demo-loaded-older")
    assert m["title"] == "Team wording" and m["score"] == 0.7
    # disable: the built-in id no longer fires
    (team / "signatures" / "mine" / "demo-loaded-older.yaml").write_text("id: demo-loaded-older\ndisabled: true\n")
    got = _match_json(LOADED, "--kb", str(team), "--kb", str(MINI))
    assert all(m["signature"] != "demo-loaded-older" for m in got["matches"])


def test_kb_path_lists_folders_in_priority_order(tmp_path):
    rc, out, err = dnnfix(
        "kb", "path", env={"DNNFIX_KB_PATH": os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")])}
    )
    lines = out.splitlines()
    assert rc == 0 and lines[-2:] == [str(tmp_path / "b"), str(tmp_path / "a")]
    assert f"new signatures go to: {tmp_path / 'a'}" in err


def test_report_bundle_is_redacted(tmp_path):
    text = UNKNOWN + "HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz0123\n"
    src = tmp_path / "err.txt"
    src.write_text(text)
    out = tmp_path / "r.json"
    rc, _, err = dnnfix("report", str(src), "-o", str(out), "--no-probe")
    assert rc == 0, err
    data = json.loads(out.read_text())
    assert "/home/<user>/proj/train.py" in data["text"] and "ana" not in data["text"]
    assert "hf_abcdefghijkl" not in data["text"]
    assert data["fingerprint"] == data["diagnosis"]["fingerprint"]


def test_kb_stats_reports_gaps_as_json():
    rc, out, _ = dnnfix("kb", "stats", "--json", "--kb", str(MINI))
    data = json.loads(out)
    assert rc == 0 and data["causes"]["demo.cudnn.mismatch"]["signatures"] == 1
    assert "demo-missing" in data["gaps"]["signatures_with_few_cases"]
