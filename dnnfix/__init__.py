"""dnnfix: why did my deep-learning run fail, and how do I fix it?

`import dnnfix; dnnfix.install()` is nearly free: nothing heavy is imported until a failure needs a diagnosis.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["install", "uninstall", "diagnose", "diagnose_exception", "__version__"]


def install(**kwargs):
    """Show a diagnosis under every uncaught exception (IPython/Jupyter/Colab, scripts, threads)."""
    from .hook import install as _install

    return _install(**kwargs)


def uninstall():
    """Restore exactly what was there before install()."""
    from .hook import uninstall as _uninstall

    return _uninstall()


def diagnose(text: str, **kwargs):
    """Diagnose a pasted traceback/log: returns a Diagnosis with ranked matches."""
    from .api import diagnose_text

    return diagnose_text(text, **kwargs)


def diagnose_exception(exc: BaseException, **kwargs):
    from .api import diagnose_exception as _d

    return _d(exc, **kwargs)


def load_ipython_extension(ipython):  # %load_ext dnnfix
    from .hook import load_ipython_extension as _load

    return _load(ipython)


def unload_ipython_extension(ipython):
    from .hook import unload_ipython_extension as _unload

    return _unload(ipython)
