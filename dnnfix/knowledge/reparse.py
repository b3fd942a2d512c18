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
    try:
        import re._parser as p  # Python 3.11+
        from re import _constants as c
    except ImportError:  # Python 3.10
        import sre_constants as c  # type: ignore
        import sre_parse as p  # type: ignore
    return p, c
