"""A hook that stays: another library's hook installed after ours, install() again, %run and `ipython script.py`."""

import os
import subprocess
import sys
import textwrap

import pytest

OOM = "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity; 13.1 GiB already allocated)"
HEADER = "dnnfix: what most likely caused this error"
WARNING = "dnnfix: sys.excepthook was replaced by"


def _py(tmp_path, body, *args, exe=(sys.executable,), stdin=None):
    s = tmp_path / "s.py"
    s.write_text(textwrap.dedent(body))
    env = dict(os.environ, NO_COLOR="1", IPYTHONDIR=str(tmp_path / "ipython"))
    return subprocess.run(
        [*exe, *args, str(s)], cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env, input=stdin
    )


def _blocks(stderr):
    return stderr.count(HEADER), stderr.count(WARNING)


def test_a_hook_set_after_ours_warns_once_and_the_diagnosis_still_comes(tmp_path):
    p = _py(
        tmp_path,
        f"""
        import sys, dnnfix
        dnnfix.install()
        sys.excepthook = lambda t, v, tb: print("THEIR HOOK", file=sys.stderr)
        raise RuntimeError({OOM!r})
    """,
    )
    assert p.returncode == 1
    assert p.stderr.startswith("THEIR HOOK\n" + WARNING), p.stderr
    assert _blocks(p.stderr) == (1, 1)
    assert "torch.cuda.oom" in p.stderr


def test_install_again_chains_to_the_hook_it_found_without_a_warning(tmp_path):
    p = _py(
        tmp_path,
        f"""
        import sys, dnnfix
        dnnfix.install()
        sys.excepthook = lambda t, v, tb: print("THEIR HOOK", file=sys.stderr)
        dnnfix.install()
        assert sys.excepthook.__name__ == "_excepthook"
        raise RuntimeError({OOM!r})
    """,
    )
    assert p.returncode == 1
    assert p.stderr.startswith("THEIR HOOK\n" + HEADER), p.stderr
    assert _blocks(p.stderr) == (1, 0)


def test_a_hook_that_chains_back_to_ours_prints_the_traceback_once(tmp_path):
    """Their hook calls the one it found (ours); we re-install over it: no loop, one traceback, one report."""
    p = _py(
        tmp_path,
        f"""
        import sys, dnnfix
        dnnfix.install()
        found = sys.excepthook
        def theirs(t, v, tb):
            print("THEIRS", file=sys.stderr)
            found(t, v, tb)
        sys.excepthook = theirs
        dnnfix.install()
        raise RuntimeError({OOM!r})
    """,
    )
    assert p.returncode == 1
    assert p.stderr.startswith("THEIRS\nTraceback (most recent call last):"), p.stderr
    assert p.stderr.count("Traceback (most recent call last)") == 1
    assert _blocks(p.stderr) == (1, 0)


def test_a_handler_set_after_ours_in_ipython_warns_once_and_the_panel_still_comes(tmp_path):
    pytest.importorskip("IPython")
    env = dict(os.environ, NO_COLOR="1", IPYTHONDIR=str(tmp_path / "ipython"))
    cells = (
        "%load_ext dnnfix\n"
        "get_ipython().set_custom_exc((ValueError,), lambda self, *a, **k: print('THEIRS'))\n"
        f"raise RuntimeError({OOM!r})\n"
        f"raise RuntimeError({OOM!r})\n"
        "exit\n"
    )
    p = subprocess.run(IPYTHON, cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env, input=cells)
    assert p.stdout.count(HEADER) == 2, p.stdout + p.stderr
    assert p.stderr.count("dnnfix: the IPython exception handler was replaced by") == 1, p.stderr


def test_rich_traceback_installed_after_dnnfix(tmp_path):
    pytest.importorskip("rich")
    p = _py(
        tmp_path,
        f"""
        import dnnfix, rich.traceback
        dnnfix.install()
        rich.traceback.install(width=80)
        raise RuntimeError({OOM!r})
    """,
    )
    assert p.returncode == 1
    assert "Traceback (most recent call last)" in p.stderr  # rich's panel title
    assert _blocks(p.stderr) == (1, 1)
    assert p.stderr.index("Traceback (most recent call last)") < p.stderr.index(HEADER)


def test_uninstall_after_a_reinstall_restores_the_hook_found(tmp_path):
    p = _py(
        tmp_path,
        """
        import sys, dnnfix
        dnnfix.install()
        def theirs(t, v, tb):
            pass
        sys.excepthook = theirs
        dnnfix.install()
        dnnfix.uninstall()
        print(sys.excepthook is theirs)
    """,
    )
    assert (p.returncode, p.stdout, p.stderr) == (0, "True\n", "")


def test_an_error_from_before_install_is_not_diagnosed_at_exit(tmp_path):
    p = _py(
        tmp_path,
        f"""
        import sys, dnnfix
        try:
            raise RuntimeError({OOM!r})
        except RuntimeError as e:
            sys.last_value = e
        dnnfix.install()
        sys.excepthook = lambda *a: None
    """,
    )
    assert (p.returncode, p.stderr) == (0, "")


IPYTHON = (sys.executable, "-m", "IPython", "--no-banner", "--colors=NoColor", "--simple-prompt")


def test_ipython_script_gets_the_report(tmp_path):
    """`ipython script.py` shows errors through showtraceback (no custom handler): the report comes at exit."""
    pytest.importorskip("IPython")
    p = _py(
        tmp_path,
        f"""
        import dnnfix; dnnfix.install()
        raise RuntimeError({OOM!r})
    """,
        exe=IPYTHON,
    )
    out = p.stdout + p.stderr
    assert out.count(HEADER) == 1, out
    assert out.count("RuntimeError: CUDA out of memory") == 1
    assert out.index("RuntimeError: CUDA out of memory") < out.index(HEADER)


def test_percent_run_gets_the_panel_once(tmp_path):
    pytest.importorskip("IPython")
    (tmp_path / "boom.py").write_text(f"raise RuntimeError({OOM!r})\n")
    env = dict(os.environ, NO_COLOR="1", IPYTHONDIR=str(tmp_path / "ipython"))
    p = subprocess.run(
        IPYTHON,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        input="%load_ext dnnfix\n%run boom.py\nprint('still ' + 'here')\n1/0\nexit\n",
    )
    out = p.stdout + p.stderr
    assert out.count(HEADER) == 1, out  # the %run error, once
    assert out.count("dnnfix: no known cause fits") == 1  # the ZeroDivisionError cell, once
    assert "torch.cuda.oom" in out and "still here" in out
    assert "replaced" not in out


GIL_STUCK = """
import re, sys
import dnnfix, dnnfix.panel
dnnfix.install()
def stuck(*a, **k):  # native code that keeps the GIL (Python's re backtracking): no join or handler can run
    re.match(r"(?:a|a)+$", "a" * 64 + "!")
dnnfix.panel.build = stuck
sys.stderr.write("START\\n"); sys.stderr.flush()
raise RuntimeError("boom")
"""


def _stuck(tmp_path):
    s = tmp_path / "stuck.py"
    s.write_text(GIL_STUCK)
    env = dict(os.environ, DNNFIX_TIMEOUT="1", NO_COLOR="1")
    return subprocess.Popen([sys.executable, str(s)], stderr=subprocess.PIPE, text=True, env=env)


def test_a_diagnosis_stuck_in_native_code_still_ends_with_status_1(tmp_path):
    """The watchdog outside the GIL ends the process at the diagnosis' cap (+0.5 s), with the status Python
    gives for the uncaught exception, and the traceback shown once."""
    import time

    t = time.monotonic()
    p = _stuck(tmp_path)
    assert p.stderr.readline() == "START\n"
    t_start = time.monotonic()
    p.wait(60)
    err = p.stderr.read()
    assert p.returncode == 1
    assert err.count("Traceback (most recent call last)") == 1 and "RuntimeError: boom" in err
    assert time.monotonic() - t_start < 1 + 10 + 2 + 1  # timeout + KB allowance + margins, never a hang
    assert time.monotonic() - t < 60


def test_ctrl_c_during_a_stuck_diagnosis_ends_the_process_at_once(tmp_path):
    import signal
    import time

    p = _stuck(tmp_path)
    assert p.stderr.readline() == "START\n"
    err = ""
    while "RuntimeError: boom" not in err:  # the traceback is out: the diagnosis is running
        err += p.stderr.readline()
    time.sleep(0.3)
    t = time.monotonic()
    p.send_signal(signal.SIGINT)
    p.wait(10)
    assert time.monotonic() - t < 1.0
    assert p.returncode in (-signal.SIGINT, 130)  # the shell shows 130 either way


def test_percent_run_in_a_real_kernel_gets_one_panel(tmp_path):
    """`%run script.py` in a Jupyter kernel: the script's error is shown by IPython's showtraceback (not the custom
    handler); the panel (with its MIME bundle) still follows, once, in the same cell."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    (tmp_path / "boom.py").write_text(f"raise RuntimeError({OOM!r})\n")
    cells = ["%load_ext dnnfix", f"%run {tmp_path / 'boom.py'}", "1 / 0"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(
        nb, timeout=300, allow_errors=True, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    mime = "application/vnd.dnnfix.diagnosis+json"
    run_cell, div_cell = nb.cells[1], nb.cells[2]
    kinds = [o.output_type for o in run_cell.outputs if o.output_type in ("error", "display_data")]
    panels = [o for o in run_cell.outputs if o.output_type == "display_data" and mime in o.data]
    assert len(panels) == 1, run_cell.outputs
    assert "torch.cuda.oom" in str(panels[0].data[mime])
    tb_text = "".join("".join(o.get("traceback", [])) + o.get("text", "") for o in run_cell.outputs)
    assert tb_text.count("RuntimeError") >= 1 and kinds[-1] == "display_data"
    # the next cell's own error gets its own panel, and the %run error is not shown again
    div_panels = [o for o in div_cell.outputs if o.output_type == "display_data" and mime in o.data]
    assert len(div_panels) == 1 and "torch.cuda.oom" not in str(div_panels[0].data[mime])


def test_a_program_calling_the_hook_for_a_handled_error_keeps_its_sigint_handler(tmp_path):
    """sys.excepthook called by the program itself (a handled error, the program goes on): no watchdog, and
    Ctrl-C is still the program's KeyboardInterrupt afterwards and during."""
    p = _py(
        tmp_path,
        f"""
        import signal, sys, dnnfix
        dnnfix.install()
        before = signal.getsignal(signal.SIGINT)
        try:
            raise RuntimeError({OOM!r})
        except RuntimeError:
            sys.excepthook(*sys.exc_info())
        print(signal.getsignal(signal.SIGINT) is before)
    """,
    )
    assert (p.returncode, p.stdout) == (0, "True\n")
    assert p.stderr.count(HEADER) == 1


def test_rich_traceback_in_ipython_keeps_the_panel(tmp_path):
    """rich.traceback.install() inside IPython (it wraps showtraceback): rich draws the traceback, the panel follows."""
    pytest.importorskip("IPython")
    pytest.importorskip("rich")
    env = dict(os.environ, NO_COLOR="1", IPYTHONDIR=str(tmp_path / "ipython"))
    cells = (
        "%load_ext dnnfix\n"
        "import rich.traceback; _ = rich.traceback.install(width=80)\n"
        f"raise RuntimeError({OOM!r})\n"
        "exit\n"
    )
    p = subprocess.run(IPYTHON, cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env, input=cells)
    out = p.stdout + p.stderr
    assert "Traceback (most recent call last)" in p.stderr  # rich's panel title
    assert out.count(HEADER) == 1 and "torch.cuda.oom" in out
    assert "replaced" not in out
