"""The app's plain helpers and session, without a terminal: capping, scripts, environment rows, saving."""

import subprocess
import sys
from pathlib import Path

import pytest

from dnnfix.tui.present import MAX_LINES, cap_text, env_rows, script_name, script_text
from dnnfix.tui.session import Session

MINI = Path(__file__).parent / "fixtures" / "kb-mini"


class M:  # the fields of a Match that the helpers read
    cause, signature = "demo.cudnn.mismatch", "demo-loaded-older"


def test_small_text_is_untouched():
    assert cap_text("a\nb\n") == ("a\nb\n", False, "")


def test_huge_text_keeps_head_error_lines_and_tail_within_the_cap():
    lines = [f"step {i}" for i in range(100_000)]
    lines[50_000] = "E0101 12:00:00.000 1 cuda_dnn.cc:1] Loaded runtime CuDNN library: 8.0.5"
    lines[60_000] = "RuntimeError: CUDA error: out of memory"
    text, truncated, note = cap_text("\n".join(lines))
    out = text.split("\n")
    assert truncated and len(out) <= MAX_LINES and "100,000 lines" in note
    assert out[0] == "step 0" and out[-1] == "step 99999"
    assert lines[50_000] in out and lines[60_000] in out


def test_very_long_lines_are_cut():
    text, truncated, note = cap_text("x" * 100_000)
    assert not truncated and len(text) < 5_000 and "cut" in note


def test_scripts_get_a_shebang_and_say_where_they_came_from():
    sh = script_text(M, {"title": "Install", "language": "bash", "code": "pip install x"})
    assert sh.startswith("#!/usr/bin/env bash\n") and "set -e\n" in sh and sh.endswith("pip install x\n")
    assert "demo.cudnn.mismatch" in sh
    py = script_text(M, {"title": "Check", "language": "python", "code": "print(1)"})
    assert py.startswith("#!/usr/bin/env python3\n")
    assert script_text(M, {"title": "Read", "language": "text", "code": "x"}) == "x\n"
    assert script_name(M, 0, {"language": "bash"}) == "dnnfix-fix-demo-cudnn-mismatch-1.sh"
    assert script_name(M, 1, {"language": "python"}) == "dnnfix-fix-demo-cudnn-mismatch-2.py"


def test_env_rows_name_the_deciding_facts_and_skip_unknown_ones():
    rows = dict(env_rows({"packages": {"tensorflow": "2.15.0"}, "cuda": {"cudnn_version": "8.6.0"}, "gpus": []}))
    assert rows == {"Packages": "tensorflow 2.15.0", "Libraries": "cuDNN 8.6.0", "GPUs": "none"}
    assert env_rows(None) == []


def test_session_refuses_to_save_a_signature_with_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("DNNFIX_USER_KB", str(tmp_path / "kb"))
    s = Session(kb_dirs=[str(MINI)])
    with pytest.raises(ValueError, match="DNX105 unknown cause id 'nope'"):
        s.save("id: x\ncause: nope\ntitle: t\nstatus: stable\nmatch:\n  - regex: 'frobnicator refused'\n", "")
    assert not (tmp_path / "kb").exists()


def test_session_saves_then_refuses_to_overwrite(tmp_path, monkeypatch):
    monkeypatch.setenv("DNNFIX_USER_KB", str(tmp_path / "kb"))
    s = Session(kb_dirs=[str(MINI)])
    sig = "id: local-x\ncause: demo.cudnn.missing\ntitle: t\nstatus: experimental\nmatch:\n  - regex: 'frobnicator refused'\n"
    cases = "signature: old-name\ncases:\n  - name: a\n    expect: match\n    text: frobnicator refused\n"
    p, c = s.save(sig, cases)
    assert p == tmp_path / "kb" / "signatures" / "local" / "local-x.yaml"
    assert c.read_text().startswith("signature: local-x\n")
    assert s.kb.by_id("local-x") is not None  # reloaded with the user folder
    with pytest.raises(ValueError, match="already loaded|exists"):
        s.save(sig, cases)


def test_cli_registers_tui_without_importing_textual():
    code = (
        "import sys, dnnfix.cli; a = dnnfix.cli.build_parser().parse_args(['tui', '--no-probe', 'x.txt']); "
        "assert a.command == 'tui' and a.file == 'x.txt'; assert 'textual' not in sys.modules"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr


def test_tui_without_a_terminal_says_so(tmp_path):
    f = tmp_path / "log.txt"
    f.write_text("ValueError: x\n")
    p = subprocess.run(
        [sys.executable, "-m", "dnnfix", "tui", str(f)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert p.returncode == 2 and "needs a terminal" in p.stderr


class _Tty:
    def isatty(self):
        return True


def test_tui_without_the_original_std_streams_says_so(tmp_path, monkeypatch, capsys):
    # sys.__stdout__ and sys.__stderr__ are None under pythonw and in some embedding hosts: this used to be an
    # AttributeError ("internal error") instead of the sentence
    from dnnfix.cli import build_parser
    from dnnfix.commands import tui

    f = tmp_path / "log.txt"
    f.write_text("ValueError: x\n")
    monkeypatch.setattr(sys, "stdin", _Tty())
    monkeypatch.setattr(sys, "__stdout__", None)
    monkeypatch.setattr(sys, "__stderr__", None)
    monkeypatch.setattr(tui, "under_web_driver", lambda: False)
    assert tui.run(build_parser().parse_args(["tui", str(f)])) == 2
    assert "needs a terminal" in capsys.readouterr().err
