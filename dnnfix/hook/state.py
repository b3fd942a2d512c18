"""Install state: what is installed, install() and uninstall(), and re-install over a hook that replaced ours.

The other parts of the hook read and write the one record here (`_S`), and share the few rules kept here: what
is never diagnosed (`_skip`), the native stderr a diagnosis gets (`_take_log`), the one line shown when dnnfix
itself fails (`_note`). This module imports no other part at import time. install() imports only the parts the
process needs: the exception hooks in a script, the deferred `threading` hook while the program has not imported
`threading`, the IPython part inside IPython, the worker only to warm up a kernel. The worker, and with it the
knowledge base, the matcher and the renderers, waits for the first failure.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing is not imported at run time: installing the hook stays nearly free
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

DEFAULT_TIMEOUT = 2.0
_UNSET = object()


class _State:
    def __init__(self) -> None:
        self.installed = False
        self.enabled = True
        self.top = 3
        self.timeout = DEFAULT_TIMEOUT
        self.probe = True
        self.prev_sys: Any = _UNSET
        self.prev_thread: Any = _UNSET
        self.chain_sys: Optional[Callable[..., Any]] = (
            None  # what our hooks call first; kept after uninstall for anyone who chained to us
        )
        self.chain_thread: Optional[Callable[..., Any]] = None
        self.in_sys_hook = False
        self.shell: Any = None
        self.prev_custom: Optional[tuple] = None  # (custom_exceptions, CustomTB in instance dict?, CustomTB)
        self.magic: Optional[tuple] = None  # (shell, previous magic or None)
        self.capture = False
        self.last: Any = None  # the last Panel shown
        self.lock: Any = None  # a _thread.RLock from install() on
        self.kb_lock: Any = None  # held while the knowledge base loads (the kernel's warm-up and a diagnosis share it)
        self.chain_inner: Optional[Callable[..., Any]] = (
            None  # the hook our chain replaced at a re-install (a hook that calls us back reaches it)
        )
        self.seen: Optional[BaseException] = (
            None  # the last exception a hook of ours handled (so none is diagnosed twice)
        )
        self.baseline: Optional[BaseException] = (
            None  # sys.last_value at install: an error from before is not ours to diagnose
        )
        self.warned = False
        self.our_custom: Any = None


_S = _State()


# ------------------------------------------------------------------ switches
def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


def disabled() -> bool:
    return _env_true("DNNFIX_DISABLE")


def installed() -> bool:
    return _S.installed


def enabled() -> bool:
    return _S.installed and _S.enabled and not disabled()


def set_enabled(flag: bool) -> None:
    """%dnnfix on|off: keep the hooks, stop or resume the panels."""
    _S.enabled = bool(flag)


def ipython_shell():
    """The running IPython shell, or None (IPython itself is never imported here)."""
    if "IPython" not in sys.modules:  # never import IPython ourselves
        return None
    try:
        from IPython import get_ipython

        return get_ipython()
    except Exception:
        return None


def in_kernel(shell) -> bool:
    """A Jupyter-protocol kernel (Jupyter, Colab, VS Code): rich outputs, and fd 2 goes to a server log."""
    return shell is not None and getattr(shell, "kernel", None) is not None


def capture_default(shell) -> bool:
    """Whether native stderr capture is on when install() is not told.

    On in a Jupyter-protocol kernel (Jupyter, JupyterLab, Colab, VS Code notebooks). The C++ lines that decide many
    GPU failures ("Loaded runtime CuDNN library: 8.1.0 but source was compiled with: 8.6.0") are written to fd 2,
    never into the exception: without capture the diagnosis cannot see them. In Colab they do not even reach the
    notebook (only the runtime log); recent ipykernel forwards them to the cell, but still as separate text. The
    kernel's fd 2 is already a pipe, so the program observes nothing new, and the cost is one small process.

    Off in terminals and scripts: the user already sees those lines, and redirecting fd 2 through a pipe would
    change what the program observes (`isatty(2)` becomes false, so libraries drop colours and progress bars) and
    how stdout and stderr interleave on the terminal. `install(capture=True)`, `dnnfix run --capture` or
    `DNNFIX_CAPTURE=1` turn it on there; `DNNFIX_CAPTURE=0` turns it off everywhere.
    """
    env = os.environ.get("DNNFIX_CAPTURE", "").strip().lower()
    if env:
        return env not in ("0", "false", "no", "off")
    return in_kernel(shell)


def _timeout() -> float:
    try:
        v = float(os.environ.get("DNNFIX_TIMEOUT", ""))
        return v if v > 0 else _S.timeout
    except ValueError:
        return _S.timeout


# ------------------------------------------------------------------ install / uninstall
def install(
    *,
    capture=None,
    top: int = 3,
    timeout: float = DEFAULT_TIMEOUT,
    probe: bool = True,
    threads: bool = True,
    shell=None,
    capture_size: int = 256 * 1024,
) -> None:
    """Show a diagnosis under every uncaught exception. Idempotent; `uninstall()` undoes it exactly.

    capture: tee native fd 2 into a ring buffer whose recent lines become part of the incident
             (None: on in Jupyter/Colab kernels, off elsewhere; see capture_default()).
    top:     how many causes the panel shows.
    timeout: seconds the diagnosis may take before it is cut off (one line is printed instead).
    probe:   use live facts about this machine (in-process probes only; no subprocess).
    threads: also hook threading.excepthook.
    """
    if disabled():
        return None
    _S.top, _S.timeout, _S.probe = max(1, int(top)), float(timeout), bool(probe)
    shell = shell if shell is not None else ipython_shell()
    if _S.installed:
        _reinstall(shell)
    else:
        _S.baseline = _last_exception()
        import _thread

        _S.lock = _thread.RLock()
        if shell is not None:
            from .ipython import _install_ipython

            _install_ipython(shell)
        else:
            from .excepthooks import _excepthook

            # IPython swaps sys.excepthook around every cell, so only scripts get it.
            _S.prev_sys = _S.chain_sys = sys.excepthook
            sys.excepthook = _excepthook
        if threads:
            if "threading" in sys.modules:
                from .excepthooks import _hook_threading

                _hook_threading(sys.modules["threading"])
            else:  # importing threading costs more than all of install(): hook it when the program imports it
                from .deferred_threading import _THREADING_FINDER

                sys.meta_path.insert(0, _THREADING_FINDER)
        _S.installed = True
        _S.enabled = True
        _register_fork_handler()
        import atexit

        atexit.register(_at_exit)
        if in_kernel(shell):
            from .worker import _prewarm

            _prewarm()
    want = capture_default(shell) if capture is None else bool(capture)
    if want and not _S.capture:
        from .. import capture as cap

        _S.capture = cap.start(capture_size)
    return None


def uninstall() -> None:
    """Restore exactly what was there before install(): excepthooks, IPython handler and magic, fd 2."""
    if not _S.installed:
        return None
    if _S.capture:
        from .. import capture as cap

        cap.stop()
        _S.capture = False
    if _S.prev_sys is not _UNSET:
        from .excepthooks import _excepthook

        if sys.excepthook is _excepthook:
            sys.excepthook = _S.prev_sys
        _S.prev_sys = _UNSET
    finder = getattr(sys.modules.get(f"{__package__}.deferred_threading"), "_THREADING_FINDER", None)
    if finder is not None and finder in sys.meta_path:
        sys.meta_path.remove(finder)
    if _S.prev_thread is not _UNSET:
        from .excepthooks import _threading_excepthook

        threading: Any = sys.modules.get("threading")
        if threading is not None and threading.excepthook is _threading_excepthook:
            threading.excepthook = _S.prev_thread
        _S.prev_thread = _UNSET
    if _S.shell is not None:
        from .ipython import _uninstall_ipython

        _uninstall_ipython(_S.shell)
    try:
        import atexit

        atexit.unregister(_at_exit)
    except Exception:
        pass
    _S.installed = False
    return None


def _describe(obj) -> str:
    """'rich.traceback.excepthook' for a function, the class name for anything else."""
    mod = getattr(obj, "__module__", None) or type(obj).__module__
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"{mod}.{name}" if mod and mod != "builtins" else str(name)


def _reinstall(shell) -> None:
    """install() again: put our hooks back on top of whatever replaced them, chaining to it."""
    from .excepthooks import _excepthook, _threading_excepthook

    if shell is None or _S.shell is None:
        if sys.excepthook is not _excepthook and _S.prev_sys is not _UNSET:
            _S.chain_inner = _S.chain_sys
            _S.prev_sys = _S.chain_sys = sys.excepthook
            sys.excepthook = _excepthook
    threading: Any = sys.modules.get("threading")
    if threading is not None and _S.prev_thread is not _UNSET and threading.excepthook is not _threading_excepthook:
        _S.prev_thread = _S.chain_thread = threading.excepthook
        threading.excepthook = _threading_excepthook
    if shell is not None and _S.shell is shell:
        from .ipython import _ipython_handler, _ours_in_ipython

        if not _ours_in_ipython(shell):
            _S.prev_custom = (shell.custom_exceptions, "CustomTB" in shell.__dict__, shell.__dict__.get("CustomTB"))
            shell.set_custom_exc((Exception,), _ipython_handler)
            _S.our_custom = shell.__dict__.get("CustomTB")


def _warn_replaced(what: str, by) -> None:
    """One line, once per process: a hook installed after ours took its place."""
    if _S.warned:
        return
    _S.warned = True
    try:
        sys.stderr.write(
            f"dnnfix: {what} was replaced by {_describe(by)} after dnnfix.install(); "
            "call dnnfix.install() after it to keep both\n"
        )
        sys.stderr.flush()
    except Exception:
        pass


_FORK_HANDLER = False


def _register_fork_handler() -> None:
    """A child forked while another thread held our locks must not inherit them held."""
    global _FORK_HANDLER
    if _FORK_HANDLER or not hasattr(os, "register_at_fork"):
        return

    def renew():
        import _thread

        _S.lock = _thread.RLock()
        _S.kb_lock = None

    os.register_at_fork(after_in_child=renew)
    _FORK_HANDLER = True


def _at_exit() -> None:
    """At exit: an uncaught exception that a hook installed after ours printed without us still gets its
    diagnosis (after one line saying what replaced the hook); then the stderr tee stops."""
    try:
        exc = _missed() if enabled() else None
        if exc is not None:
            from .excepthooks import _excepthook, report_missed

            if _S.shell is None and sys.excepthook is not _excepthook:
                _warn_replaced("sys.excepthook", sys.excepthook)
            report_missed(exc)
    except BaseException:  # noqa: BLE001
        pass
    if _S.capture:
        try:
            from .. import capture as cap

            cap.stop()
        except Exception:
            pass
        _S.capture = False


def last():
    """The last Panel shown (diagnosis, fixes, renderings), or None."""
    return _S.last


# ------------------------------------------------------------------ shared by the parts
def _last_exception():
    return getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)


def _skip(etype) -> bool:
    """Never diagnosed: Ctrl-C, exit, IPython usage errors (and anything that is not an exception class)."""
    if etype is None or not isinstance(etype, type):
        return True
    if issubclass(etype, (KeyboardInterrupt, SystemExit, GeneratorExit)):
        return True
    return etype.__name__ == "UsageError" and etype.__module__.startswith("IPython")


def _missed():
    """The last exception Python or IPython showed, when no hook of ours saw it (else None)."""
    exc = _last_exception()
    if exc is None or exc is _S.seen or exc is _S.baseline or _skip(type(exc)):
        return None
    return exc


class DiagnosisFailed(Exception):
    """A diagnosis that could not be made, with the reason for the one-line note."""


def _take_log() -> str:
    """Native stderr written since the previous diagnosis or cell (empty without capture), with credentials and
    the home folder removed: the panel shows it, and a saved notebook keeps it. Never raises."""
    if not _S.capture:
        return ""
    try:
        from .. import capture as cap
        from ..redact import redact_log

        return redact_log(cap.take_since_mark())
    except Exception:
        return ""


def _note(e: BaseException, stream) -> None:
    """The one line shown when dnnfix itself fails."""
    if isinstance(e, DiagnosisFailed):
        why = str(e)
    elif isinstance(e, KeyboardInterrupt):
        why = "interrupted"
    else:
        why = f"{type(e).__name__}: {e}".strip()
        if len(why) > 200:
            why = why[:197] + "..."
    try:
        if _env_true("DNNFIX_DEBUG") and not isinstance(e, DiagnosisFailed):
            import traceback

            traceback.print_exception(type(e), e, e.__traceback__, file=stream)
        hint = "" if _env_true("DNNFIX_DEBUG") else "; DNNFIX_DEBUG=1 shows details"
        stream.write(f"dnnfix: could not diagnose this error ({why}{hint})\n")
        stream.flush()
    except Exception:
        pass
