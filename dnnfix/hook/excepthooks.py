"""Exception hooks for scripts and threads: sys.excepthook and threading.excepthook, chained to what was there.

The previous hook prints the traceback first, unchanged; then a compact report goes to standard error (colour only
on a TTY, never with NO_COLOR). A hook that replaced ours and calls it back reaches the one our chain replaced
(`_S.chain_inner`), so nothing loops and the traceback is printed once. While a script's crash is diagnosed,
Ctrl-C and an overrunning diagnosis end the process as it was about to end anyway (`_Stoppable`).

Imported by install(); the worker (and what the diagnosis needs: knowledge base, matcher, renderers) only when an
exception is reported.
"""

from __future__ import annotations

import os
import sys

from .state import _S, _UNSET, _last_exception, _note, _skip, _take_log, _timeout, enabled


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


def _hook_threading(threading) -> None:
    if _S.prev_thread is _UNSET:
        _S.prev_thread = _S.chain_thread = threading.excepthook
        threading.excepthook = _threading_excepthook


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

            from .worker import KB_GRACE, _arm_watchdog

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
                from .worker import _disarm_watchdog

                _disarm_watchdog()
            if self.sig is not None:
                import signal

                signal.signal(signal.SIGINT, self.sig)
        except Exception:
            pass
        return False


def _report(exc, stream, log: str) -> None:
    try:
        from .worker import diagnose_bounded

        panel = diagnose_bounded(exc, log)
        _S.last = panel
        from ..term import Style, use_color

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
