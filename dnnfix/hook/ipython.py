"""IPython integration (terminal, Jupyter, Colab, VS Code): the custom-exception handler, cell events, %dnnfix.

`shell.set_custom_exc((Exception,), handler)`: the handler calls `shell.showtraceback(...)` exactly as IPython
would, so the frontend's own formatting and buttons stay, then shows the panel: text/html + text/plain in a
kernel, coloured text in a terminal. `pre_run_cell` starts a new stretch of captured stderr; `post_run_cell`
catches errors IPython showed without the handler (`%run script.py`, a handler set after ours).

Imported by install() only when it runs inside IPython; IPython itself is never imported by dnnfix.
"""

from __future__ import annotations

import sys

from .state import (
    _S,
    _missed,
    _note,
    _skip,
    _take_log,
    _warn_replaced,
    enabled,
    in_kernel,
    install,
    ipython_shell,
    uninstall,
)


def _install_ipython(shell) -> None:
    _S.shell = shell
    _S.prev_custom = (shell.custom_exceptions, "CustomTB" in shell.__dict__, shell.__dict__.get("CustomTB"))
    shell.set_custom_exc((Exception,), _ipython_handler)
    _S.our_custom = shell.__dict__.get("CustomTB")  # IPython wraps the handler: this is what it installed
    try:
        # each cell starts a new stretch of captured stderr: a panel shows only the failing cell's lines
        shell.events.register("pre_run_cell", _new_cell)
    except Exception:
        pass
    try:
        # `%run script.py` (and `ipython script.py`) show errors through showtraceback, never the custom handler
        shell.events.register("post_run_cell", _after_cell)
    except Exception:
        pass
    try:
        from ..magics import register

        _S.magic = (shell, register(shell))
    except Exception:
        _S.magic = None


def _ours_in_ipython(shell) -> bool:
    """Whether IPython's custom-exception handler is still the one set_custom_exc made for us."""
    handler = shell.__dict__.get("CustomTB")
    return handler is not None and handler is _S.our_custom


def _new_cell(*_args) -> None:
    """pre_run_cell: forget the native stderr of earlier cells. Never raises."""
    if _S.capture:
        try:
            from .. import capture as cap

            cap.take_since_mark()
        except Exception:
            pass


def _after_cell(*_args) -> None:
    """post_run_cell: a panel for an error the cell showed without our handler (`%run script.py`, a handler set
    after ours); one warning line when our handler was replaced. Never raises."""
    try:
        shell = _S.shell
        exc = _missed() if enabled() else None
        if exc is None or shell is None:
            return
        if not _ours_in_ipython(shell) and isinstance(exc, Exception):
            _warn_replaced("the IPython exception handler", shell.__dict__.get("CustomTB"))
        _S.seen = exc
        from .worker import diagnose_bounded

        panel = diagnose_bounded(exc, _take_log())
        _S.last = panel
        show_panel(panel, shell)
    except BaseException as e:  # noqa: BLE001
        _note(e, sys.stderr)


def _uninstall_ipython(shell) -> None:
    for event, fn in (("pre_run_cell", _new_cell), ("post_run_cell", _after_cell)):
        try:
            shell.events.unregister(event, fn)
        except Exception:
            pass
    exc_tuple, had, handler = _S.prev_custom or ((), False, None)
    shell.custom_exceptions = exc_tuple
    if had:
        shell.CustomTB = handler
    else:
        shell.__dict__.pop("CustomTB", None)
    if _S.magic is not None:
        try:
            from ..magics import unregister

            unregister(*_S.magic)
        except Exception:
            pass
    _S.shell = _S.prev_custom = _S.magic = None


def _ipython_handler(shell, etype, value, tb, tb_offset=None):
    """set_custom_exc handler: IPython's own traceback, then the panel. Never raises."""
    log = _take_log()
    _S.seen = value
    prev = _S.prev_custom
    try:  # run_code (the cell ran) or run_cell (the cell did not even parse)
        caller = sys._getframe(2).f_code.co_name
    except Exception:
        caller = "run_code"
    if prev and prev[0] and issubclass(etype, prev[0]) and prev[2] is not None:
        prev[2](etype, value, tb, tb_offset)  # a handler somebody set before us keeps its job
    elif issubclass(etype, SyntaxError) and caller != "run_code":
        # the cell itself does not parse: exactly what IPython does without a custom handler
        if issubclass(etype, IndentationError):
            shell.showindentationerror()
        else:
            shell.showsyntaxerror()
        return None
    else:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset, running_compiled_code=True)
    if not enabled() or _skip(etype):
        return None
    try:
        from .worker import diagnose_bounded

        panel = diagnose_bounded(value, log)
        _S.last = panel
        show_panel(panel, shell)
    except BaseException as e:  # noqa: BLE001 - one line, never a second traceback
        _note(e, sys.stderr)
    return None


def show_panel(panel, shell=None) -> None:
    """Publish a panel: HTML + text in a kernel, coloured text on a terminal."""
    shell = shell if shell is not None else ipython_shell()
    if in_kernel(shell):
        from IPython.display import display

        display(panel.bundle(), raw=True)
    else:
        from ..term import Style, use_color

        stream = sys.stdout if shell is not None else sys.stderr
        print(panel.text(Style(use_color(stream))), file=stream, flush=True)


# ------------------------------------------------------------------ %load_ext dnnfix
def load_ipython_extension(ipython) -> None:
    install(shell=ipython)  # does nothing under DNNFIX_DISABLE=1


def unload_ipython_extension(ipython) -> None:
    uninstall()
