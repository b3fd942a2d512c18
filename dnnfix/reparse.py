"""The one place dnnfix reads a regex's structure: CPython's own `re` parser.

Prefilter words (signature.py) and the backtracking check (backtrack.py) need the parse tree of a pattern exactly
as `re` reads it. CPython exposes that parser only as a private module whose name changed in 3.11
(`re._parser` / `re._constants`; `sre_parse` / `sre_constants` before, kept as deprecated aliases since). Both
names are tried here, so every supported Python (3.10-3.14, run by scripts/test_pythons) takes the same path; if a
future CPython drops both, this is the single function to replace.
"""
from __future__ import annotations

from typing import Any, Tuple


def sre() -> Tuple[Any, Any]:
    """(parser module, constants module) of CPython's `re`."""
    import importlib  # by name: each Python knows only one of the two spellings (and so do type checkers)

    try:
        p = importlib.import_module("re._parser")  # Python 3.11+
        c = importlib.import_module("re._constants")
    except ImportError:  # Python 3.10
        p = importlib.import_module("sre_parse")
        c = importlib.import_module("sre_constants")
    return p, c
