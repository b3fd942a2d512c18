"""The bounded worker: a diagnosis in a thread of its own, cut off at its time limit, never a second traceback.

diagnose_bounded() runs the diagnosis in a daemon thread joined with a deadline (`timeout`, default 2 s,
DNNFIX_TIMEOUT): a slow probe is cut off, not waited for. A first knowledge-base load (YAML compiled once, then
cached on disk) gets its own allowance, KB_GRACE. For native code that keeps the GIL, which no join can stop, a
script's crash also has a watchdog outside the GIL (faulthandler's timer) armed around it by the exception hooks.
A diagnosis that fails or overruns raises DiagnosisFailed; the hooks turn it into one line (state._note).

Imported on the first failure (in a Jupyter kernel right after install(), to warm up the knowledge base, the
matcher and the renderers in the background: `_prewarm`), never by install() in a script.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing is not imported at run time
if TYPE_CHECKING:
    from typing import Any

from .state import _S, DiagnosisFailed, _take_log, _timeout, in_kernel, ipython_shell

KB_GRACE = 10.0  # extra seconds for a first knowledge-base load (YAML compiled once, then cached on disk)


def _prewarm() -> None:
    """Import the matcher and load the knowledge base in the background (kernels only)."""
    import threading

    def work():  # runs beside the user's code: the collector is left alone here
        try:
            import importlib

            with _kb_lock():
                from ..knowledge.load import load_kb

                load_kb()
            for name in ("api", "panel", "render_text", "render_html") + (("probe",) if _S.probe else ()):
                importlib.import_module(f"..{name}", __package__)
        except Exception:
            pass

    threading.Thread(target=work, name="dnnfix-prewarm", daemon=True).start()


def _pause_collector() -> bool:
    """Pause the cyclic garbage collector for one diagnosis (whether it was on). The first diagnosis imports
    dnnfix's modules and loads the knowledge base: that many new objects would trigger full collections, each
    walking every object of the user's process (a model, torch's modules: 80 ms and more), for nothing dnnfix
    leaves behind. The collector resumes as it was; a program that turned it off keeps it off."""
    import gc

    on = gc.isenabled()
    gc.disable()
    return on


def _resume_collector(was_on: bool) -> None:
    if was_on:
        import gc

        gc.enable()


def _kb_lock():
    if _S.kb_lock is None:
        import _thread

        _S.kb_lock = _thread.allocate_lock()
    return _S.kb_lock


def diagnose_bounded(exc: BaseException, log_text: str = "", timeout=None, html=None):
    """Diagnose in a worker thread; raise DiagnosisFailed when it fails or takes longer than `timeout` seconds."""
    import threading
    import time

    timeout = _timeout() if timeout is None else timeout
    html = in_kernel(_S.shell if _S.shell is not None else ipython_shell()) if html is None else html
    box: "dict[str, Any]" = {}
    t0 = time.perf_counter()

    def work():
        gc_was_on = _pause_collector()
        try:
            from ..panel import build

            with _kb_lock():
                from ..knowledge.load import load_kb

                kb = load_kb()
            box["kb"] = time.perf_counter()  # when the knowledge base was ready: the diagnosis's time counts from here
            _rearm_watchdog(timeout + 0.5)  # from here on the diagnosis has `timeout`, whatever holds the GIL
            # unasked-for advice: an `experimental` signature is never shown as confident here
            box["panel"] = build(
                exc, kb, log_text=log_text, top=_S.top, probe=_S.probe, t0=t0, html=html, experimental_confident=False
            )
        except BaseException as e:  # noqa: BLE001
            box["error"] = e
        finally:
            _resume_collector(gc_was_on)

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
            # the diagnosis has `timeout` from the moment the knowledge base was ready, also when a slow first load
            # ended just inside the first wait (then that wait's end is no deadline of the diagnosis's own)
            left = timeout - (time.perf_counter() - box["kb"])
            if left > 0:
                worker.join(left)
        if worker.is_alive():
            why = "loading the knowledge base" if "kb" not in box else "it"
            raise DiagnosisFailed(
                f"{why} took longer than {timeout:g} s; DNNFIX_TIMEOUT=SECONDS allows more"
                if "kb" in box
                else f"{why} took longer than {KB_GRACE:g} s"
            )
    if "error" in box:
        raise box["error"]
    return box["panel"]


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


# ------------------------------------------------------------------ the watchdog of a script's crash
_WATCHDOG: "dict[str, Any]" = {"armed": False, "devnull": None}


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


def _disarm_watchdog() -> None:
    import faulthandler

    _WATCHDOG["armed"] = False
    faulthandler.cancel_dump_traceback_later()
