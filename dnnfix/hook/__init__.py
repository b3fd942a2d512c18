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

The parts, one job each:
    state.py               install state: what is installed, install()/uninstall(), re-install over a hook
                           that replaced ours, the switches (DNNFIX_DISABLE, %dnnfix on|off), the exit check;
                           and what the parts share: what is never diagnosed, the one line when dnnfix fails
    ipython.py             IPython integration: the custom-exception handler, cell events, %load_ext, show_panel()
    excepthooks.py         sys.excepthook and threading.excepthook, chained to the hooks they replace
    deferred_threading.py  threading.excepthook set when the program imports `threading`, not before
    worker.py              the bounded worker: the diagnosis in a thread with a time limit (and the watchdog
                           of a script's crash), the kernel's warm-up

Importing this package imports none of them: each name it exports is looked up in its part on first use, and
install() imports only the parts the process needs. The knowledge base, the matcher and the renderers are
imported on the first failure (in a Jupyter kernel they are warmed up in the background right after install()).
A test that replaces one of these functions patches the part that owns it (e.g. `dnnfix.hook.worker`): the
other parts look names up in their own module, never in this package.
"""

from __future__ import annotations

import sys

__all__ = [
    "install",
    "uninstall",
    "installed",
    "enabled",
    "set_enabled",
    "last",
    "diagnose_last",
    "load_ipython_extension",
    "unload_ipython_extension",
]

# what this package exports: name -> (the part that owns it, its name there)
_PARTS = {
    "install": ("state", "install"),
    "uninstall": ("state", "uninstall"),
    "installed": ("state", "installed"),
    "enabled": ("state", "enabled"),
    "set_enabled": ("state", "set_enabled"),
    "disabled": ("state", "disabled"),
    "last": ("state", "last"),
    "capture_default": ("state", "capture_default"),
    "in_kernel": ("state", "in_kernel"),
    "ipython_shell": ("state", "ipython_shell"),
    "DiagnosisFailed": ("state", "DiagnosisFailed"),
    "DEFAULT_TIMEOUT": ("state", "DEFAULT_TIMEOUT"),
    "show_panel": ("ipython", "show_panel"),
    "load_ipython_extension": ("ipython", "load_ipython_extension"),
    "unload_ipython_extension": ("ipython", "unload_ipython_extension"),
    "report_missed": ("excepthooks", "report_missed"),
    "_excepthook": ("excepthooks", "_excepthook"),
    "_threading_excepthook": ("excepthooks", "_threading_excepthook"),
    "_report": ("excepthooks", "_report"),
    "diagnose_bounded": ("worker", "diagnose_bounded"),
    "diagnose_last": ("worker", "diagnose_last"),
    "KB_GRACE": ("worker", "KB_GRACE"),
    # the names these had before the hook became a package
    "_Failure": ("state", "DiagnosisFailed"),
    "_ipython_shell": ("state", "ipython_shell"),
}


def __getattr__(name):
    part = _PARTS.get(name)
    if part is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = f"{__name__}.{part[0]}"
    __import__(module)
    return getattr(sys.modules[module], part[1])


def __dir__():
    return sorted(set(globals()) | set(_PARTS))
