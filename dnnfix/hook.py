"""The exception hook: the normal traceback first, unchanged, then what most likely caused it.

    import dnnfix; dnnfix.install()      # script, notebook, Colab
    %load_ext dnnfix                     # IPython / Jupyter / Colab

Where it hooks in:
- IPython (terminal, Jupyter, Colab, VS Code): `shell.set_custom_exc((Exception,), handler)`. The handler
  calls `shell.showtraceback(...)` exactly as IPython would, so the frontend's own formatting and buttons stay,
  then shows the panel: text/html + text/plain in a kernel, coloured text in a terminal.
- Scripts: `sys.excepthook` and `threading.excepthook`: the previous hook prints the traceback, then a compact
  report goes to standard error (colour only on a TTY, never with NO_COLOR).
- Optionally the native stderr capture of dnnfix.capture (see `install(capture=...)`).

Safety: an internal failure (broken knowledge base, probe crash, rendering error, time-out) prints exactly one
line, "dnnfix: could not diagnose this error (...)", after the normal traceback, never a second traceback.
KeyboardInterrupt, SystemExit and IPython usage errors are shown as usual and never diagnosed. The diagnosis runs
in a worker thread joined with a deadline (`timeout`, default 2 s, DNNFIX_TIMEOUT): a slow probe is cut off, not
waited for. `DNNFIX_DISABLE=1` turns everything off; `DNNFIX_DEBUG=1` prints internal tracebacks.

Importing this module costs almost nothing: the knowledge base, the matcher and the renderers are imported on
the first failure (in a Jupyter kernel they are warmed up in the background right after install()).
"""
from __future__ import annotations

import os
import sys

__all__ = ["install", "uninstall", "installed", "enabled", "set_enabled", "last", "diagnose_last",
           "load_ipython_extension", "unload_ipython_extension"]

DEFAULT_TIMEOUT = 2.0
KB_GRACE = 10.0  # extra seconds for a first knowledge-base load (YAML compiled once, then cached on disk)
_UNSET = object()


class _State:
    def __init__(self) -> None:
        self.installed = False
        self.enabled = True
        self.top = 3
        self.timeout = DEFAULT_TIMEOUT
        self.probe = True
        self.prev_sys = _UNSET
        self.prev_thread = _UNSET
        self.chain_sys = None  # what our hooks call first; kept after uninstall for anyone who chained to us
        self.chain_thread = None
        self.in_sys_hook = False
        self.shell = None
        self.prev_custom = None  # (custom_exceptions, CustomTB in instance dict?, CustomTB)
        self.magic = None  # (shell, previous magic or None)
        self.capture = False
        self.last = None  # the last Panel shown
        self.lock = None
        self.chain_inner = None  # the hook our chain replaced at a re-install (a hook that calls us back reaches it)
        self.seen = None  # the last exception a hook of ours handled (so none is diagnosed twice)
        self.baseline = None  # sys.last_value at install: an error from before is not ours to diagnose
        self.warned = False
        self.our_custom = None


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


def _ipython_shell():
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
def install(*, capture=None, top: int = 3, timeout: float = DEFAULT_TIMEOUT, probe: bool = True,
            threads: bool = True, shell=None, capture_size: int = 256 * 1024) -> None:
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
    shell = shell if shell is not None else _ipython_shell()
    if _S.installed:
        _reinstall(shell)
    else:
        _S.baseline = _last_exception()
        import _thread

        _S.lock = _thread.RLock()
        if shell is not None:
            _install_ipython(shell)
        else:
            # IPython swaps sys.excepthook around every cell, so only scripts get it.
            _S.prev_sys = _S.chain_sys = sys.excepthook
            sys.excepthook = _excepthook
        if threads:
            if "threading" in sys.modules:
                _hook_threading(sys.modules["threading"])
            else:  # importing threading costs more than all of install(): hook it when the program imports it
                sys.meta_path.insert(0, _THREADING_FINDER)
        _S.installed = True
        _S.enabled = True
        _register_fork_handler()
        import atexit

        atexit.register(_at_exit)
        if in_kernel(shell):
            _prewarm()
    want = capture_default(shell) if capture is None else bool(capture)
    if want and not _S.capture:
        from . import capture as cap

        _S.capture = cap.start(capture_size)
    return None


def uninstall() -> None:
    """Restore exactly what was there before install(): excepthooks, IPython handler and magic, fd 2."""
    if not _S.installed:
        return None
    if _S.capture:
        from . import capture as cap

        cap.stop()
        _S.capture = False
    if _S.prev_sys is not _UNSET:
        if sys.excepthook is _excepthook:
            sys.excepthook = _S.prev_sys
        _S.prev_sys = _UNSET
    if _THREADING_FINDER in sys.meta_path:
        sys.meta_path.remove(_THREADING_FINDER)
    if _S.prev_thread is not _UNSET:
        threading = sys.modules.get("threading")
        if threading is not None and threading.excepthook is _threading_excepthook:
            threading.excepthook = _S.prev_thread
        _S.prev_thread = _UNSET
    if _S.shell is not None:
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
    if shell is None or _S.shell is None:
        if sys.excepthook is not _excepthook and _S.prev_sys is not _UNSET:
            _S.chain_inner = _S.chain_sys
            _S.prev_sys = _S.chain_sys = sys.excepthook
            sys.excepthook = _excepthook
    threading = sys.modules.get("threading")
    if threading is not None and _S.prev_thread is not _UNSET and threading.excepthook is not _threading_excepthook:
        _S.prev_thread = _S.chain_thread = threading.excepthook
        threading.excepthook = _threading_excepthook
    if shell is not None and _S.shell is shell and not _ours_in_ipython(shell):
        _S.prev_custom = (shell.custom_exceptions, "CustomTB" in shell.__dict__, shell.__dict__.get("CustomTB"))
        shell.set_custom_exc((Exception,), _ipython_handler)
        _S.our_custom = shell.__dict__.get("CustomTB")


def _ours_in_ipython(shell) -> bool:
    """Whether IPython's custom-exception handler is still the one set_custom_exc made for us."""
    handler = shell.__dict__.get("CustomTB")
    return handler is not None and handler is _S.our_custom


def _warn_replaced(what: str, by) -> None:
    """One line, once per process: a hook installed after ours took its place."""
    if _S.warned:
        return
    _S.warned = True
    try:
        sys.stderr.write(f"dnnfix: {what} was replaced by {_describe(by)} after dnnfix.install(); "
                         "call dnnfix.install() after it to keep both\n")
        sys.stderr.flush()
    except Exception:
        pass


def _last_exception():
    return getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)


def _missed():
    """The last exception Python or IPython showed, when no hook of ours saw it (else None)."""
    exc = _last_exception()
    if exc is None or exc is _S.seen or exc is _S.baseline or _skip(type(exc)):
        return None
    return exc


def report_missed(exc, stream=None) -> None:
    """Diagnose an exception that was shown without our hook (a script's own sys.excepthook under `dnnfix run`,
    a hook installed after ours, `%run`/`ipython script.py`). Never raises."""
    try:
        if exc is None or exc is _S.seen or not enabled() or _skip(type(exc)):
            return
        _S.seen = exc
        with _Stoppable(exc):
            _report(exc, sys.stderr if stream is None else stream, _take_log())
    except BaseException:  # noqa: BLE001
        pass


def _hook_threading(threading) -> None:
    if _S.prev_thread is _UNSET:
        _S.prev_thread = _S.chain_thread = threading.excepthook
        threading.excepthook = _threading_excepthook


class _ThreadingLoader:
    """Runs the real loader of `threading`, then sets threading.excepthook."""

    def __init__(self, real) -> None:
        self._real = real

    def create_module(self, spec):
        return self._real.create_module(spec)

    def exec_module(self, module) -> None:
        self._real.exec_module(module)
        if _S.installed:
            try:
                _hook_threading(module)
            except Exception:
                pass

    def __getattr__(self, name):  # get_source, get_code, ... for inspect and friends
        return getattr(self._real, name)


class _ThreadingFinder:
    """A one-shot meta-path finder: wraps the loader of `threading` the first time it is imported."""

    def find_spec(self, name, path=None, target=None):
        if name != "threading":
            return None
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass
        try:
            for finder in sys.meta_path:
                find = getattr(finder, "find_spec", None)
                spec = find(name, path, target) if find else None
                if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _ThreadingLoader(spec.loader)
                    return spec
                if spec is not None:
                    return spec
        except Exception:
            pass
        return None


_THREADING_FINDER = _ThreadingFinder()


_FORK_HANDLER = False


def _register_fork_handler() -> None:
    """A child forked while another thread held our locks must not inherit them held."""
    global _FORK_HANDLER
    if _FORK_HANDLER or not hasattr(os, "register_at_fork"):
        return

    def renew():
        global _KB_LOCK
        import _thread

        _S.lock = _thread.RLock()
        _KB_LOCK = None

    os.register_at_fork(after_in_child=renew)
    _FORK_HANDLER = True


def _at_exit() -> None:
    """At exit: an uncaught exception that a hook installed after ours printed without us still gets its
    diagnosis (after one line saying what replaced the hook); then the stderr tee stops."""
    try:
        exc = _missed() if enabled() else None
        if exc is not None:
            if _S.shell is None and sys.excepthook is not _excepthook:
                _warn_replaced("sys.excepthook", sys.excepthook)
            report_missed(exc)
    except BaseException:  # noqa: BLE001
        pass
    if _S.capture:
        try:
            from . import capture as cap

            cap.stop()
        except Exception:
            pass
        _S.capture = False


# ------------------------------------------------------------------ IPython
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
        from .magics import register

        _S.magic = (shell, register(shell))
    except Exception:
        _S.magic = None


def _new_cell(*_args) -> None:
    """pre_run_cell: forget the native stderr of earlier cells. Never raises."""
    if _S.capture:
        try:
            from . import capture as cap

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
            from .magics import unregister

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
        panel = diagnose_bounded(value, log)
        _S.last = panel
        show_panel(panel, shell)
    except BaseException as e:  # noqa: BLE001 - one line, never a second traceback
        _note(e, sys.stderr)
    return None


def show_panel(panel, shell=None) -> None:
    """Publish a panel: HTML + text in a kernel, coloured text on a terminal."""
    shell = shell if shell is not None else _ipython_shell()
    if in_kernel(shell):
        from IPython.display import display

        display(panel.bundle(), raw=True)
    else:
        from .term import Style, use_color

        stream = sys.stdout if shell is not None else sys.stderr
        print(panel.text(Style(use_color(stream))), file=stream, flush=True)


def _skip(etype) -> bool:
    if etype is None or not isinstance(etype, type):
        return True
    if issubclass(etype, (KeyboardInterrupt, SystemExit, GeneratorExit)):
        return True
    return etype.__name__ == "UsageError" and etype.__module__.startswith("IPython")


# ------------------------------------------------------------------ scripts and threads
def _excepthook(etype, value, tb):
    if _S.in_sys_hook:  # a hook we call calls us again (it chained to us before our re-install): pass it on
        (_S.chain_inner or sys.__excepthook__)(etype, value, tb)
        return
    log = _take_log() if _S.installed else ""
    _S.seen = value
    _S.in_sys_hook = True
    try:
        (_S.chain_sys or sys.__excepthook__)(etype, value, tb)
    finally:
        _S.in_sys_hook = False
    if not enabled() or _skip(etype):
        return
    with _Stoppable(value):
        _report(value, sys.stderr, log)


class _Stoppable:
    """Around the diagnosis of a script's uncaught exception (the process is about to exit with status 1):

    - Ctrl-C ends the process at once, as the default SIGINT action does (the shell sees 130), even while the
      worker thread holds the GIL in native code, where no Python signal handler could run;
    - a watchdog outside the GIL (faulthandler's timer thread) ends the process with status 1, the status it is
      about to exit with anyway, if the diagnosis overruns its cap by more than 0.5 s (cut off by the join, the
      diagnosis returns well before; this is for native code that keeps the GIL, which the join cannot stop).
    Only in the main thread of a plain script, and only for the exception Python is ending the process with
    (sys.last_value is set to it just before the hook is called; a program that calls sys.excepthook itself
    for a handled error and goes on is left alone); restores the SIGINT handler and cancels the timer afterwards.
    """

    def __init__(self, exc=None) -> None:
        self.exc = exc

    def __enter__(self):
        self.sig = self.armed = None
        try:
            import signal
            import threading

            if _S.shell is not None or threading.current_thread() is not threading.main_thread():
                return self
            if self.exc is None or _last_exception() is not self.exc:
                return self
            self.sig = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            self.armed = True
            _arm_watchdog(_timeout() + KB_GRACE + 2.0)  # re-armed to `timeout` + 0.5 once the KB is loaded
        except Exception:
            pass
        return self

    def __exit__(self, *exc):
        try:
            if self.armed:
                import faulthandler

                _WATCHDOG["armed"] = False
                faulthandler.cancel_dump_traceback_later()
            if self.sig is not None:
                import signal

                signal.signal(signal.SIGINT, self.sig)
        except Exception:
            pass
        return False


_WATCHDOG = {"armed": False, "devnull": None}


def _arm_watchdog(seconds: float) -> None:
    """(Re)arm the exit timer (status 1, nothing printed: the traceback is already on screen)."""
    import faulthandler

    if _WATCHDOG["devnull"] is None:
        _WATCHDOG["devnull"] = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    faulthandler.dump_traceback_later(max(0.1, seconds), exit=True, file=_WATCHDOG["devnull"])
    _WATCHDOG["armed"] = True


def _rearm_watchdog(seconds: float) -> None:
    if _WATCHDOG["armed"]:
        try:
            _arm_watchdog(seconds)
        except Exception:
            pass


def _threading_excepthook(args):
    log = _take_log() if _S.installed else ""
    prev = _S.chain_thread
    if prev is None:
        import threading

        prev = threading.__excepthook__
    prev(args)
    if not enabled() or _skip(args.exc_type) or args.exc_value is None:
        return
    stream = sys.stderr
    if stream is None and args.thread is not None:
        stream = getattr(args.thread, "_stderr", None)
    if stream is not None:
        _report(args.exc_value, stream, log)


def _report(exc, stream, log: str) -> None:
    try:
        panel = diagnose_bounded(exc, log)
        _S.last = panel
        from .term import Style, use_color

        text = panel.text(Style(use_color(stream)))
        with _S.lock:
            stream.write(text + "\n")
            stream.flush()
    except BaseException as e:  # noqa: BLE001
        _note(e, stream)
        if isinstance(e, KeyboardInterrupt) and _S.shell is None:
            _exit_interrupted()


def _exit_interrupted() -> None:
    """Ctrl-C during the diagnosis of a script's crash ends the process now, with 130, as Ctrl-C would."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    for s in (sys.stdout, sys.stderr):
        try:
            s.flush()
        except Exception:
            pass
    os._exit(130)


def _note(e: BaseException, stream) -> None:
    """The one line shown when dnnfix itself fails."""
    if isinstance(e, _Failure):
        why = str(e)
    elif isinstance(e, KeyboardInterrupt):
        why = "interrupted"
    else:
        why = f"{type(e).__name__}: {e}".strip()
        if len(why) > 200:
            why = why[:197] + "..."
    try:
        if _env_true("DNNFIX_DEBUG") and not isinstance(e, _Failure):
            import traceback

            traceback.print_exception(type(e), e, e.__traceback__, file=stream)
        hint = "" if _env_true("DNNFIX_DEBUG") else "; DNNFIX_DEBUG=1 shows details"
        stream.write(f"dnnfix: could not diagnose this error ({why}{hint})\n")
        stream.flush()
    except Exception:
        pass


# ------------------------------------------------------------------ diagnosis
class _Failure(Exception):
    """A diagnosis that could not be made, with the reason for the one-line note."""


def _take_log() -> str:
    """Native stderr written since the previous diagnosis or cell (empty without capture), with credentials and
    the home folder removed: the panel shows it, and a saved notebook keeps it. Never raises."""
    if not _S.capture:
        return ""
    try:
        from . import capture as cap
        from .redact import redact_log

        return redact_log(cap.take_since_mark())
    except Exception:
        return ""


def _prewarm() -> None:
    """Import the matcher and load the knowledge base in the background (kernels only)."""
    import threading

    def work():
        try:
            import importlib

            with _kb_lock():
                from .knowledge import load as kbload

                kbload.load_kb()
            for name in ("api", "panel", "render_text", "render_html") + (("probe",) if _S.probe else ()):
                importlib.import_module(f"{__package__}.{name}")
        except Exception:
            pass

    threading.Thread(target=work, name="dnnfix-prewarm", daemon=True).start()


_KB_LOCK = None


def _kb_lock():
    global _KB_LOCK
    if _KB_LOCK is None:
        import _thread

        _KB_LOCK = _thread.allocate_lock()
    return _KB_LOCK


def diagnose_bounded(exc: BaseException, log_text: str = "", timeout=None, html=None):
    """Diagnose in a worker thread; raise _Failure when it fails or takes longer than `timeout` seconds."""
    import threading
    import time

    timeout = _timeout() if timeout is None else timeout
    html = in_kernel(_S.shell if _S.shell is not None else _ipython_shell()) if html is None else html
    box = {}
    t0 = time.perf_counter()

    def work():
        try:
            from .panel import build

            with _kb_lock():
                from .knowledge.load import load_kb

                kb = load_kb()
            box["kb"] = True
            _rearm_watchdog(timeout + 0.5)  # from here on the diagnosis has `timeout`, whatever holds the GIL
            # unasked-for advice: an `experimental` signature is never shown as confident here
            box["panel"] = build(exc, kb, log_text=log_text, top=_S.top, probe=_S.probe, t0=t0, html=html,
                                 experimental_confident=False)
        except BaseException as e:  # noqa: BLE001
            box["error"] = e

    try:
        worker = threading.Thread(target=work, name="dnnfix-diagnose", daemon=True)
        worker.start()
    except RuntimeError:  # no new threads (interpreter shutting down): diagnose inline, unbounded
        work()
    else:
        worker.join(timeout)
        if worker.is_alive() and "kb" not in box:
            # Still loading the knowledge base (first use without a cache, or the kernel's warm-up holds it):
            # bounded work, not a hanging probe, so it gets its own allowance, then the diagnosis its time.
            t_kb = time.perf_counter()
            while worker.is_alive() and "kb" not in box and time.perf_counter() - t_kb < KB_GRACE:
                worker.join(0.02)
            if worker.is_alive() and "kb" in box:
                worker.join(timeout)
        if worker.is_alive():
            why = "loading the knowledge base" if "kb" not in box else "it"
            raise _Failure(f"{why} took longer than {timeout:g} s; DNNFIX_TIMEOUT=SECONDS allows more"
                           if "kb" in box else f"{why} took longer than {KB_GRACE:g} s")
    if "error" in box:
        raise box["error"]
    return box["panel"]


def last():
    """The last Panel shown (diagnosis, fixes, renderings), or None."""
    return _S.last


def diagnose_last(exc=None):
    """Diagnose `exc` (default: the last exception IPython or the interpreter showed) and remember it."""
    if exc is None:
        exc = getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)
    if exc is None:
        return None
    log = _S.last.log_text if (_S.last is not None and _S.last.exc_id == id(exc)) else _take_log()
    panel = diagnose_bounded(exc, log)
    _S.last = panel
    return panel


# ------------------------------------------------------------------ %load_ext dnnfix
def load_ipython_extension(ipython) -> None:
    install(shell=ipython)  # does nothing under DNNFIX_DISABLE=1


def unload_ipython_extension(ipython) -> None:
    uninstall()
