"""Tiny terminal styling: ANSI colour only on a TTY, never with NO_COLOR (https://no-color.org)."""

from __future__ import annotations

import os
from typing import IO

_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
    "grey": "90",
}


def use_color(stream: IO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError, OSError):  # no isatty, a closed stream
        return False


# set when standard output cannot encode the report's glyphs (a Windows console or file in cp1252, ASCII)
ASCII = False


def glyph(fancy: str, plain: str) -> str:
    return plain if ASCII else fancy


def make_stdout_safe() -> None:
    """Never fail on output: when stdout cannot encode the report's glyphs, switch to ASCII glyphs and replace
    whatever else it cannot encode (non-ASCII text from the paste) instead of raising."""
    global ASCII
    import sys

    out = sys.stdout
    enc = getattr(out, "encoding", None) or "ascii"
    try:
        "\u2588\u2591\u2212\u2026".encode(enc)
        return
    except (UnicodeEncodeError, LookupError):
        ASCII = True
    try:
        out.reconfigure(errors="replace")  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):  # not a TextIOWrapper (a capture, a notebook stream)
        pass


class Style:
    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles:
            return text
        return "\x1b[" + ";".join(_CODES[s] for s in styles) + "m" + text + "\x1b[0m"
