"""The deferred `threading` hook: threading.excepthook is set when the program imports `threading`, not before.

Importing `threading` costs more than all of install(), and many scripts never import it. When it is not imported
yet, install() puts a one-shot finder first on sys.meta_path: the first `import threading` runs the real loader,
then hooks threading.excepthook (if the hook is still installed), and the finder takes itself off the path.
"""

from __future__ import annotations

import sys

from .excepthooks import _hook_threading
from .state import _S


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
