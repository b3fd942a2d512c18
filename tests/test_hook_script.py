"""The hook in real scripts (subprocesses): sys.excepthook, threading.excepthook and `python -m dnnfix run`."""

import os
import subprocess
import sys
import textwrap

import pytest

OOM = "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity; 13.1 GiB already allocated)"

HEADER = "dnnfix: what most likely caused this error"


def _script(tmp_path, body: str, name: str = "script.py"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(body))
    return p


def _run(args, cwd, env=None, timeout=120):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run(
        [sys.executable] + [str(a) for a in args], cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout
    )


HOOKED = """\
import os, sys
import dnnfix; dnnfix.install() if os.environ.get("HOOK") == "1" else None
"""


def test_excepthook_prints_the_unchanged_traceback_then_the_report(tmp_path):
    """stderr = exactly what Python prints without dnnfix, then the report; the exit status is unchanged."""
    s = _script(
        tmp_path,
        HOOKED
        + f"""
def load_batch():
    raise RuntimeError({OOM!r})
load_batch()
""",
    )
    plain = _run([s.name], tmp_path, {"HOOK": "0"})
    hooked = _run([s.name], tmp_path, {"HOOK": "1"})
    assert plain.returncode == hooked.returncode == 1
    assert plain.stderr.startswith("Traceback (most recent call last):")
    assert hooked.stderr.startswith(plain.stderr)
    report = hooked.stderr[len(plain.stderr) :]
    assert report.startswith(HEADER)
    assert "torch.cuda.oom" in report
    assert "Traceback" not in report
    assert hooked.stdout == plain.stdout == ""


def test_disable_env_gives_python_output_byte_for_byte(tmp_path):
    """DNNFIX_DISABLE=1: nothing but Python's own traceback."""
    s = _script(tmp_path, HOOKED + f"raise RuntimeError({OOM!r})\n")
    plain = _run([s.name], tmp_path, {"HOOK": "0"})
    off = _run([s.name], tmp_path, {"HOOK": "1", "DNNFIX_DISABLE": "1"})
    assert (off.returncode, off.stdout, off.stderr) == (plain.returncode, plain.stdout, plain.stderr)


@pytest.mark.parametrize("raise_", ["raise SystemExit(3)", "sys.exit('bye')", "raise KeyboardInterrupt"])
def test_exit_and_ctrl_c_are_not_diagnosed(tmp_path, raise_):
    """SystemExit and KeyboardInterrupt behave exactly as without dnnfix."""
    s = _script(tmp_path, HOOKED + raise_ + "\n")
    plain = _run([s.name], tmp_path, {"HOOK": "0"})
    hooked = _run([s.name], tmp_path, {"HOOK": "1"})
    assert (hooked.returncode, hooked.stderr) == (plain.returncode, plain.stderr)
    assert "dnnfix" not in hooked.stderr


def test_thread_exception_gets_a_report_after_its_traceback(tmp_path):
    """threading.excepthook: 'Exception in thread' block first, then the report; the program goes on."""
    s = _script(
        tmp_path,
        HOOKED
        + f"""
import threading
def work():
    raise RuntimeError({OOM!r})
t = threading.Thread(target=work, name="loader")
t.start(); t.join()
print("main thread still running")
""",
    )
    plain = _run([s.name], tmp_path, {"HOOK": "0"})
    hooked = _run([s.name], tmp_path, {"HOOK": "1"})
    assert hooked.returncode == plain.returncode == 0
    assert hooked.stdout == "main thread still running\n"
    assert hooked.stderr.startswith(plain.stderr)
    assert hooked.stderr[len(plain.stderr) :].startswith(HEADER)


def test_threading_imported_after_install_is_still_hooked(tmp_path):
    """install() does not import threading (start-up cost) yet hooks it when the program imports it."""
    s = _script(
        tmp_path,
        """
import sys
import dnnfix; dnnfix.install()
assert "threading" not in sys.modules
import threading
threading.Thread(target=lambda: 1 / 0).start()
""",
    )
    p = _run([s.name], tmp_path)
    assert p.returncode == 0
    assert "ZeroDivisionError: division by zero\ndnnfix: " in p.stderr


def test_internal_failure_is_one_line_and_keeps_the_exit_status(tmp_path):
    """A crashing knowledge base: the traceback, one 'could not diagnose' line, exit status 1."""
    s = _script(
        tmp_path,
        HOOKED
        + """
import dnnfix.knowledge.load
def broken(*a, **k):
    raise OSError("planted failure")
dnnfix.knowledge.load.load_kb = broken
raise ValueError("user error")
""",
    )
    p = _run([s.name], tmp_path, {"HOOK": "1"})
    assert p.returncode == 1
    lines = p.stderr.rstrip("\n").splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[-2:] == [
        "ValueError: user error",
        "dnnfix: could not diagnose this error (OSError: planted failure; DNNFIX_DEBUG=1 shows details)",
    ]
    assert p.stderr.count("Traceback") == 1


def test_dnnfix_run_passes_arguments_and_keeps_the_traceback(tmp_path):
    """`python -m dnnfix run script.py ARGS`: same argv, same traceback as `python script.py ARGS`, then the report."""
    s = _script(
        tmp_path,
        f"""
import sys
print(sys.argv)
if sys.argv[1:] == ["--steps", "3"]:
    raise RuntimeError({OOM!r})
""",
    )
    plain = _run([s.name, "--steps", "3"], tmp_path)
    ran = _run(["-m", "dnnfix", "run", s.name, "--steps", "3"], tmp_path)
    assert plain.returncode == ran.returncode == 1
    assert ran.stdout == plain.stdout == "['script.py', '--steps', '3']\n"
    assert ran.stderr.startswith(plain.stderr), ran.stderr
    assert ran.stderr[len(plain.stderr) :].startswith(HEADER)


@pytest.mark.parametrize(
    "code,status,err",
    [("raise SystemExit(4)", 4, ""), ("pass", 0, ""), ("import sys; sys.exit('stopped')", 1, "stopped\n")],
)
def test_dnnfix_run_exit_status_is_the_scripts(tmp_path, code, status, err):
    """Exit status and SystemExit messages pass through `dnnfix run` unchanged."""
    s = _script(tmp_path, code + "\n")
    p = _run(["-m", "dnnfix", "run", s.name], tmp_path)
    assert (p.returncode, p.stderr) == (status, err)


def test_dnnfix_run_module(tmp_path):
    """`dnnfix run -m MODULE ARGS` runs a module as __main__ like `python -m`."""
    _script(tmp_path, "import sys\nprint(__name__, sys.argv[1:])\n", "mymod.py")
    p = _run(["-m", "dnnfix", "run", "-m", "mymod", "a", "-b"], tmp_path)
    assert (p.returncode, p.stdout) == (0, "__main__ ['a', '-b']\n")


def test_dnnfix_run_missing_script_is_a_usage_error(tmp_path):
    """A script that does not exist: exit 2 and one line naming it."""
    p = _run(["-m", "dnnfix", "run", "nope.py"], tmp_path)
    assert (p.returncode, p.stderr) == (2, "dnnfix: nope.py: no such file\n")


def test_dnnfix_run_capture_turns_native_lines_into_evidence(tmp_path):
    """`dnnfix run --capture`: a line the process wrote to fd 2 before failing is quoted as evidence."""
    s = _script(
        tmp_path,
        """
import os
os.write(2, b"Loaded runtime CuDNN library: 8.1.0 but source was compiled with: 8.6.0.\\n")
raise RuntimeError("DNN library is not found.")
""",
    )
    p = _run(["-m", "dnnfix", "run", "--capture", s.name], tmp_path)
    assert p.returncode == 1
    assert p.stderr.startswith(
        "Loaded runtime CuDNN library: 8.1.0 but source was compiled with: 8.6.0.\nTraceback (most recent call last):"
    )
    report = p.stderr[p.stderr.index(HEADER) :]
    assert "tf.cudnn.version-mismatch" in report
    assert "+ line 1: Loaded runtime CuDNN library: 8.1.0" in report
