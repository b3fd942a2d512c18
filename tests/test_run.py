"""`dnnfix run` in real subprocesses: the program's own words pass through, its own hook cannot hide the diagnosis."""

import os
import subprocess
import sys
import textwrap

import pytest

from dnnfix.commands.run import split_argv

OOM = "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity; 13.1 GiB already allocated)"
HEADER = "dnnfix: what most likely caused this error"


def _run(args, cwd, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "dnnfix"] + [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ, NO_COLOR="1"),
    )


@pytest.mark.parametrize(
    "argv,own,program",
    [
        (["-m", "pytest", "-q"], [], ["-m", "pytest", "-q"]),
        (["--top", "2", "--capture", "s.py", "--top", "9"], ["--top", "2", "--capture"], ["s.py", "--top", "9"]),
        (["--top=2", "-mpytest", "-x"], ["--top=2"], ["-mpytest", "-x"]),
        (["--", "-weird.py", "-h"], [], ["-weird.py", "-h"]),
        (["--help"], ["--help"], None),
        ([], [], None),
    ],
)
def test_split_argv_stops_at_the_program(argv, own, program):
    assert split_argv(argv) == (own, program)


def test_run_module_passes_its_flags_untouched(tmp_path):
    """`dnnfix run -m MODULE -q --x=1`: the flags reach the module (they used to be refused by dnnfix's parser)."""
    (tmp_path / "mymod.py").write_text("import sys\nprint(__name__, sys.argv[1:])\nraise SystemExit(5)\n")
    p = _run(["run", "-m", "mymod", "-q", "--x=1", "--top", "2"], tmp_path)
    assert (p.returncode, p.stdout, p.stderr) == (5, "__main__ ['-q', '--x=1', '--top', '2']\n", "")


def test_run_m_pytest_q_works(tmp_path):
    """The case from the issue: `dnnfix run -m pytest -q` runs pytest quietly with pytest's exit status."""
    (tmp_path / "test_one.py").write_text("def test_ok():\n    assert True\n\ndef test_bad():\n    assert 0\n")
    p = _run(["run", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_one.py"], tmp_path)
    assert p.returncode == 1, p.stderr
    assert "1 failed, 1 passed" in p.stdout


def test_a_scripts_own_excepthook_does_not_hide_the_diagnosis(tmp_path):
    """The script replaces sys.excepthook: its hook prints what it prints, and the diagnosis still follows."""
    (tmp_path / "s.py").write_text(
        textwrap.dedent(f"""
        import sys
        sys.excepthook = lambda t, v, tb: print("MY HOOK:", t.__name__, file=sys.stderr)
        raise RuntimeError({OOM!r})
    """)
    )
    p = _run(["run", "s.py"], tmp_path)
    assert p.returncode == 1
    assert p.stderr.startswith("MY HOOK: RuntimeError\n" + HEADER), p.stderr
    assert p.stderr.count(HEADER) == 1
    assert "torch.cuda.oom" in p.stderr


def test_ctrl_c_in_the_program_exits_130(tmp_path):
    (tmp_path / "s.py").write_text("raise KeyboardInterrupt\n")
    p = _run(["run", "s.py"], tmp_path)
    assert p.returncode == 130
    assert p.stderr.startswith("Traceback") and "KeyboardInterrupt" in p.stderr and "dnnfix" not in p.stderr


def test_global_kb_option_before_run(tmp_path):
    """`dnnfix --kb DIR run SCRIPT ARGS`: the global option is still dnnfix's, the rest the script's."""
    (tmp_path / "s.py").write_text("import sys\nprint(sys.argv[1:])\n")
    p = _run(["--kb", str(tmp_path), "run", "s.py", "--kb", "x"], tmp_path)
    assert (p.returncode, p.stdout) == (0, "['--kb', 'x']\n"), p.stderr
