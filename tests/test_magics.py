"""%dnnfix and the IPython handler in an in-process (terminal-style) IPython shell; fixes as notebook cells."""

import json

import pytest

pytest.importorskip("IPython")

from dnnfix import hook  # noqa: E402
from dnnfix.magics import cell_code  # noqa: E402

OOM = "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity; 13.1 GiB already allocated)"


@pytest.fixture
def shell():
    from IPython.core.interactiveshell import InteractiveShell

    hook.uninstall()
    sh = InteractiveShell.instance()
    yield sh
    hook.uninstall()
    InteractiveShell.clear_instance()


def _state(sh):
    return (sh.custom_exceptions, sh.CustomTB, sh.magics_manager.magics["line"].get("dnnfix"))


def test_load_and_unload_extension_restore_ipython_exactly(shell):
    """%load_ext dnnfix sets the handler and %dnnfix; %unload_ext puts back what was there."""
    before = _state(shell)
    shell.run_line_magic("load_ext", "dnnfix")
    assert shell.custom_exceptions == (Exception,)
    assert "dnnfix" in shell.magics_manager.magics["line"]
    shell.run_line_magic("load_ext", "dnnfix")  # loading twice changes nothing
    shell.run_line_magic("unload_ext", "dnnfix")
    assert _state(shell) == before


def test_terminal_ipython_shows_traceback_then_text_panel(shell, capsys):
    """In terminal IPython the traceback is printed as usual, the text panel right after it."""
    hook.install(shell=shell)
    result = shell.run_cell(f"raise RuntimeError({OOM!r})")
    assert isinstance(result.error_in_exec, RuntimeError)
    out = capsys.readouterr().out
    assert out.index("CUDA out of memory") < out.index("dnnfix: what most likely caused this error")
    assert "torch.cuda.oom" in out
    assert "Traceback (most recent call last)" not in out[out.index("dnnfix:") :]


def test_ipython_traceback_is_identical_with_and_without_the_hook(shell, capsys):
    """The text IPython prints for the error does not change."""
    code = "def f():\n    return {}['missing']\nf()"
    shell.run_cell(code)
    plain = capsys.readouterr().out
    hook.install(shell=shell)
    shell.run_cell(code)
    hooked = capsys.readouterr().out
    assert hooked.startswith(plain.rstrip("\n"))
    assert "dnnfix:" in hooked[len(plain.rstrip()) :]


def test_cell_syntax_error_and_usage_error_get_no_panel(shell, capsys):
    """A cell that does not parse, and a wrong magic, are shown by IPython alone."""
    hook.install(shell=shell)
    shell.run_cell("def broken(:\n    pass")
    shell.run_cell("%dnnfix fix")
    out = capsys.readouterr()
    assert "SyntaxError" in out.out + out.err
    assert "dnnfix: what most likely" not in out.out and "no known cause" not in out.out


def test_keyboard_interrupt_is_not_diagnosed(shell, capsys):
    """Ctrl-C in a cell: IPython's KeyboardInterrupt display, no panel."""
    hook.install(shell=shell)
    shell.run_cell("raise KeyboardInterrupt")
    out = capsys.readouterr().out
    assert "KeyboardInterrupt" in out and "dnnfix:" not in out


def test_fix_n_puts_code_into_the_next_input(shell, capsys):
    """%dnnfix fix N: the fix's code becomes the next input; nothing is executed."""
    hook.install(shell=shell)
    shell.run_cell(f"raise RuntimeError({OOM!r})")
    fixes = hook.last().fixes
    assert len(fixes) >= 2
    shell.rl_next_input = None
    shell.run_line_magic("dnnfix", "fix 2")
    assert shell.rl_next_input == cell_code(fixes[1]["code"], fixes[1]["language"])
    assert "fix 2 (" + fixes[1]["title"] + ") is in the next cell" in capsys.readouterr().out
    shell.run_line_magic("dnnfix", f"fix {len(fixes) + 1}")
    assert f"there is no fix {len(fixes) + 1}" in capsys.readouterr().out


def test_rediagnose_env_status_log_and_unknown(shell, capsys, monkeypatch):
    """%dnnfix, %dnnfix env --json, status, log, and a helpful line for an unknown sub-command."""
    import sys

    for name in ("last_exc", "last_value", "last_type", "last_traceback"):
        monkeypatch.delattr(sys, name, raising=False)
    hook.install(shell=shell)
    shell.run_line_magic("dnnfix", "")
    assert "no exception to diagnose yet" in capsys.readouterr().out
    shell.run_cell("1 / 0")
    capsys.readouterr()
    shell.run_line_magic("dnnfix", "")
    assert "ZeroDivisionError" in capsys.readouterr().out
    shell.run_line_magic("dnnfix", "env --json")
    snap = json.loads(capsys.readouterr().out)
    assert "python" in snap
    shell.run_line_magic("dnnfix", "status")
    assert "hook installed, panel on" in capsys.readouterr().out
    shell.run_line_magic("dnnfix", "log")
    assert "native stderr capture is off" in capsys.readouterr().out
    shell.run_line_magic("dnnfix", "frobnicate")
    assert "unknown sub-command 'frobnicate'" in capsys.readouterr().out


def test_off_and_on(shell, capsys):
    """%dnnfix off hides the panel (the traceback stays); %dnnfix on brings it back."""
    hook.install(shell=shell)
    shell.run_line_magic("dnnfix", "off")
    shell.run_cell("1 / 0")
    out = capsys.readouterr().out
    assert "ZeroDivisionError" in out and "no known cause" not in out
    shell.run_line_magic("dnnfix", "on")
    shell.run_cell("1 / 0")
    assert "no known cause" in capsys.readouterr().out


def test_a_custom_handler_set_before_ours_keeps_working(shell, capsys):
    """Someone else's set_custom_exc handler still handles its exceptions; our panel follows."""
    seen = []

    def theirs(self, etype, value, tb, tb_offset=None):
        seen.append(etype)
        print("their handler")

    shell.set_custom_exc((LookupError,), theirs)
    before = _state(shell)
    hook.install(shell=shell)
    shell.run_cell("{}['x']")
    out = capsys.readouterr().out
    assert seen == [KeyError] and "their handler" in out and "dnnfix:" in out
    hook.uninstall()
    assert _state(shell) == before
    shell.set_custom_exc((), None)


@pytest.mark.parametrize(
    "code,language,cell",
    [
        ("pip install -U 'tensorflow[and-cuda]==2.15.*'", "bash", "%pip install -U 'tensorflow[and-cuda]==2.15.*'"),
        ("pip uninstall tensorflow", "bash", "%pip uninstall -y tensorflow"),
        (
            "export TF_FORCE_GPU_ALLOW_GROWTH=true\nnvidia-smi",
            "bash",
            "%env TF_FORCE_GPU_ALLOW_GROWTH=true\n!nvidia-smi",
        ),
        ("# check the driver\nnvidia-smi", "sh", "# check the driver\n!nvidia-smi"),
        ("for d in /usr/lib/*; do\n  ls $d\ndone", "bash", "%%bash\nfor d in /usr/lib/*; do\n  ls $d\ndone"),
        ("import torch\nprint(torch.__version__)", "python", "import torch\nprint(torch.__version__)"),
    ],
)
def test_shell_fixes_become_notebook_cells(code, language, cell):
    """Shell fixes become %pip / %env / ! lines (or a %%bash cell); Python stays as it is."""
    assert cell_code(code, language) == cell
