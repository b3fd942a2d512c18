"""The regex engine for knowledge-base patterns: RE2 (linear time) where it can, Python's `re` where it must.

RE2 (google-re2) guarantees time linear in the input whatever the pattern, so no paste can stall matching.
It lacks look-arounds and back-references; the few patterns that use them run on `re`, one line at a time,
each line cut at RE_LINE_CAP characters, and `kb check` rejects such patterns when they can backtrack badly
(DNX119). Without google-re2 (a platform with no wheel), or with DNNFIX_REGEX_ENGINE=re, every pattern runs
that way.

Matching never crosses a line boundary: a pattern is searched in each line (RE2 searches many lines in one
call with `never_nl`, which keeps `\\s*` and `.` from spilling into the next line).
"""

from __future__ import annotations

import bisect
import itertools
import os
import re
from typing import Any, Dict, FrozenSet, List, Optional, Sequence, Tuple

# the longest line handed to Python's re engine (a backtracking engine); RE2 takes lines whole
RE_LINE_CAP = 2000

_re2_mod = None
_re2_tried = False


def re2_module():
    """google-re2, or None where it is not installed or does not load."""
    global _re2_mod, _re2_tried
    if not _re2_tried:
        _re2_tried = True
        if os.environ.get("DNNFIX_REGEX_ENGINE", "").lower() == "re":  # force the fallback (tests, comparisons)
            return None
        try:
            import re2 as mod  # google-re2

            mod.Options  # a different "re2" package has no Options
            _re2_mod = mod
        except Exception:  # noqa: BLE001 - a third-party extension (or another "re2"): any failure means Python's re
            _re2_mod = None
    return _re2_mod


def _re2_options(mod, never_nl: bool):
    o = mod.Options()
    o.case_sensitive = False
    o.never_nl = never_nl
    o.log_errors = False
    return o


def re2_compile(pattern: str, multiline: bool = False):
    """The RE2 form of a pattern (case-insensitive, never crossing a newline), or None when RE2 cannot take it."""
    mod = re2_module()
    if mod is None:
        return None
    try:
        return mod.compile(("(?m)" if multiline else "") + pattern, _re2_options(mod, True))
    except Exception:  # noqa: BLE001 - RE2 (third-party) refuses what it cannot take in its own ways: Python's re then
        return None


def needs_backtracking(pattern: str) -> bool:
    """Whether the pattern uses what RE2 lacks (look-arounds, back-references, ...), so it runs on Python's re.

    Decided by RE2 itself when it is installed, else by the syntax that RE2 is known to reject.
    """
    if re2_module() is not None:
        return re2_compile(pattern) is None
    return bool(re.search(r"\(\?<?[=!]|\(\?P=|\\[1-9]|\\Z|\\u[0-9a-fA-F]{4}|\{\d{4,}", pattern))


class Match:
    """What the matcher needs of a match: where it is in its line, and the named groups."""

    __slots__ = ("start", "end", "groups")

    def __init__(self, start: int, end: int, groups: Dict[str, Optional[str]]):
        self.start, self.end, self.groups = start, end, groups


class _Fast:
    """RE2's compiled program called directly on UTF-8 bytes: google-re2's public `search` re-maps every offset
    in Python, which costs more than the search itself on a short line. Falls back to the public API."""

    __slots__ = ("prog", "names", "unanchored")

    def __init__(self, compiled):
        self.prog = compiled._regexp
        self.unanchored = re2_module()._Anchor.UNANCHORED
        groups = self.prog.NamedCapturingGroups()
        self.names = [(n.decode() if isinstance(n, bytes) else n, i) for n, i in groups]

    def search(self, text: str) -> Optional[Match]:
        return self.search_encoded(text, text.encode("utf-8", "surrogatepass"))

    def search_encoded(self, text: str, b: bytes) -> Optional[Match]:
        """search(text), with `b` the text's UTF-8 bytes already encoded (one text searched by many patterns)."""
        spans = self.prog.Match(self.unanchored, b, 0, len(b))
        if spans[0][0] < 0:
            return None
        if len(b) == len(text):  # ASCII: byte offsets are character offsets
            return Match(
                spans[0][0],
                spans[0][1],
                {n: (text[spans[i][0] : spans[i][1]] if spans[i][0] >= 0 else None) for n, i in self.names},
            )

        def char(off: int) -> int:
            return len(b[:off].decode("utf-8", "ignore"))

        groups = {
            n: (b[spans[i][0] : spans[i][1]].decode("utf-8", "replace") if spans[i][0] >= 0 else None)
            for n, i in self.names
        }
        return Match(char(spans[0][0]), char(spans[0][1]), groups)


def _fast(compiled):
    try:
        f = _Fast(compiled)
        f.search("")  # the low-level call works on this build
        return f
    except Exception:  # noqa: BLE001 - a third-party build that lacks or changed the low-level call: the plain path
        pass
    return None


def _class_end(p: str, i: int) -> int:
    """The index after the character class that opens at p[i] ("["), or -1."""
    k = i + 1
    if k < len(p) and p[k] == "^":
        k += 1
    if k < len(p) and p[k] == "]":
        k += 1
    while k < len(p):
        if p[k] == "\\":
            k += 2
        elif p[k] == "]":
            return k + 1
        else:
            k += 1
    return -1


def _group_end(p: str, i: int) -> int:
    """The index after the group that opens at p[i] ("("), or -1."""
    depth, k = 0, i
    while k < len(p):
        c = p[k]
        if c == "\\":
            k += 2
            continue
        if c == "[":
            k = _class_end(p, k)
            if k < 0:
                return -1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return k + 1
        k += 1
    return -1


def without_lookarounds(pattern: str) -> Optional[str]:
    """The pattern with its look-around groups removed, or None when that is not surely a pattern matching at
    least wherever the original does (a quantified look-around, a whole-string anchor, an unbalanced group).
    Removing a zero-width test only widens what matches; RE2 then refuses what else it cannot run."""
    out: List[str] = []
    i, n = 0, len(pattern)
    removed = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i : i + 2])
            i += 2
        elif c == "[":
            j = _class_end(pattern, i)
            if j < 0:
                return None
            out.append(pattern[i:j])
            i = j
        elif pattern.startswith(("(?=", "(?!", "(?<=", "(?<!"), i):
            j = _group_end(pattern, i)
            if j < 0 or (j < n and pattern[j] in "*+?{"):
                return None
            i, removed = j, True
        else:
            out.append(c)
            i += 1
    relaxed = "".join(out)
    if not removed or _WHOLE_ANCHOR.search(relaxed):
        return None  # \A, \Z: a line's start and end for re, the whole text's for the joined search
    return relaxed


# anchors at the whole text's ends (a joined search would read them at the joined text's ends only)
_WHOLE_ANCHOR = re.compile(r"\\[AZz]")

# characters where Python's re and RE2 disagree even in ASCII text (\s: vertical tab, \x1c-\x1f)
ODD_ASCII_CHARS = "\x0b\x1c\x1d\x1e\x1f"
_ODD_ASCII = re.compile("[" + ODD_ASCII_CHARS + "]")


class Pattern:
    """One knowledge-base regex, compiled for the engine that suits it."""

    __slots__ = ("pattern", "engine", "_line", "_multi", "_fast", "_pre")

    def __init__(self, pattern: str):
        self.pattern = pattern
        self._multi = None
        self._fast = None
        self._pre: Any = None  # engine "re": RE2 form without look-arounds (a superset), False when there is none
        # one RE2 program serves both a line and lines joined by newlines: (?m) changes nothing in a text with no
        # newline, and never_nl keeps every match inside one line
        multi = re2_compile(pattern, multiline=True)
        if multi is not None:
            self.engine = "re2"
            self._line = multi
            self._fast = _fast(multi)
            self._multi = self._fast or multi
        else:
            self.engine = "re"
            self._line = re.compile(pattern, re.I)

    def search(self, line: str) -> Optional[Match]:
        """The first match in one line."""
        if self._fast is not None:
            return self._fast.search(line)
        if self.engine == "re" and len(line) > RE_LINE_CAP:
            line = line[:RE_LINE_CAP]
        m = self._line.search(line)
        if m is None:
            return None
        return Match(m.start(), m.end(), m.groupdict())

    def _multiline(self):
        if self._multi is None:
            multi = re2_compile(self.pattern, multiline=True)
            self._multi = _fast(multi) or multi
        return self._multi

    def search_text(
        self, text: str, starts: Sequence[int], encoded: Optional[bytes] = None
    ) -> Optional[Tuple[int, Match]]:
        """The first match in `text`, lines joined by newlines starting at `starts` (RE2 patterns only: never_nl
        keeps a match inside one line): (line index, match in that line). `encoded`: the text's UTF-8 bytes, when
        the caller keeps them for many patterns."""
        multi = self._multiline()
        if encoded is not None and isinstance(multi, _Fast):
            m = multi.search_encoded(text, encoded)
        else:
            m = multi.search(text)
        if m is None:
            return None
        if not isinstance(m, Match):  # the public API's match object
            m = Match(m.start(), m.end(), m.groupdict())
        k = bisect.bisect_right(starts, m.start) - 1
        base = starts[k]
        return k, Match(m.start - base, m.end - base, m.groups)

    def search_lines(self, lines: Sequence[str], idx: Sequence[int]) -> Optional[Tuple[int, Match]]:
        """The first line of `idx` (in that order) where the pattern matches: (index, match in that line)."""
        if len(idx) > 2 and (self.engine == "re2" or self._prefilter()):
            text, starts = join_lines([lines[i] for i in idx])
            if self.engine == "re2":  # one linear pass over the selected lines joined
                hit = self.search_text(text, starts)
                return (idx[hit[0]], hit[1]) if hit is not None else None
            # the lines where the pattern without its look-arounds matches (one RE2 pass) are the only lines where
            # it can match: re runs on those alone (ASCII text, where both engines read \w \s \d alike)
            if text.isascii() and not _ODD_ASCII.search(text):
                hits = self.superset_lines(text, starts) or ()
                for k in hits:
                    m = self.search(lines[idx[k]])
                    if m is not None:
                        return idx[k], m
                return None
        for i in idx:
            m = self.search(lines[i])
            if m is not None:
                return i, m
        return None

    def superset_lines(self, text: str, starts: Sequence[int]) -> Optional[List[int]]:
        """For an `re` pattern: the indexes (ascending) of the lines of `text` (lines joined by newlines, starting at
        `starts`) where its form without look-arounds matches, the only lines where the pattern itself can match when
        the text is ASCII with none of _ODD_ASCII; None when it has no such form."""
        pre = self._prefilter()
        if not pre:
            return None
        return sorted({bisect.bisect_right(starts, m.start()) - 1 for m in pre.finditer(text)})

    def whole_text_safe(self) -> bool:
        """Whether one search over lines joined by newlines tells if any line matches: no \\A, \\Z or \\z,
        which mean the whole text's ends there instead of each line's."""
        return _WHOLE_ANCHOR.search(self.pattern) is None

    def _prefilter(self):
        if self._pre is None:
            relaxed = without_lookarounds(self.pattern)
            self._pre = (re2_compile(relaxed, multiline=True) if relaxed is not None else None) or False
        return self._pre


def join_lines(lines: Sequence[str]) -> Tuple[str, List[int]]:
    """The lines joined by newlines, and where each starts in the result (for search_text)."""
    starts = list(itertools.accumulate(map((1).__add__, map(len, lines)), initial=0))  # (C loops, no Python one)
    starts.pop()
    return "\n".join(lines), starts


_CACHE: Dict[str, Pattern] = {}


def compiled(pattern: str) -> Pattern:
    p = _CACHE.get(pattern)
    if p is None:
        p = _CACHE[pattern] = Pattern(pattern)
    return p


class _SetOfPatterns:
    """RE2's multi-pattern Set over UTF-8 bytes, built on first use: which of its patterns match somewhere in one pass.
    RE2's Set reports nothing when its DFA runs out of memory, which would read as "no pattern matches"; a sentinel
    pattern that matches every text tells that case apart (_hits() then answers None, as it does without google-re2
    or for a pattern RE2 refuses: the caller tests each pattern its own way)."""

    __slots__ = ("_items", "_set", "_ready")

    def __init__(self, items: Sequence[str]) -> None:
        self._items = tuple(items)
        self._set: Any = None
        self._ready = False

    def _options(self, mod):
        return mod.Options()

    def _form(self, mod, item: str) -> bytes:
        """The RE2 pattern (UTF-8) that finds `item`."""
        raise NotImplementedError

    def _build(self) -> None:
        self._ready = True
        mod = re2_module()  # None where google-re2 is missing or DNNFIX_REGEX_ENGINE=re forces Python's re
        if mod is None or not self._items:
            return
        refused = getattr(mod, "error", ValueError)  # google-re2's error: a pattern or the compiled set refused
        try:
            s = mod.Set.SearchSet(self._options(mod))
            for item in self._items:
                s.Add(self._form(mod, item))
            s.Add(b"")  # the sentinel: the empty pattern matches any text, so a real answer is never empty
            s.Compile()
        except (AttributeError, TypeError, ValueError, refused):  # an older google-re2 without Set, a refused pattern
            return
        self._set = s

    def _hits(self, encoded: bytes) -> Optional[FrozenSet[int]]:
        if not self._ready:
            self._build()
        if self._set is None:
            return None
        hits = self._set.Match(encoded)
        sentinel = len(self._items)
        if not hits or sentinel not in hits:
            return None
        return frozenset(i for i in hits if i != sentinel)


class LiteralSet(_SetOfPatterns):
    """Which of a fixed list of literal strings occur in a text: one pass of RE2's multi-pattern Set where it can
    answer, a substring test per literal otherwise (the same answer either way: a literal's UTF-8 bytes occur in the
    text's bytes exactly where the literal occurs in the text)."""

    __slots__ = ()

    @property
    def literals(self) -> Tuple[str, ...]:
        return self._items

    def _form(self, mod, item: str) -> bytes:
        return mod.escape(item).encode("utf-8")

    def found(self, text: str) -> FrozenSet[str]:
        """The literals that occur in `text`."""
        hits = self._hits(text.encode("utf-8", "surrogatepass")) if self.literals else None
        if hits is not None:
            return frozenset(self.literals[i] for i in hits)
        return frozenset(lit for lit in self.literals if lit in text)


class PatternSet(_SetOfPatterns):
    """Which of a list of RE2 patterns (case-insensitive, never crossing a newline, `^`/`$` at each line) match
    anywhere in lines joined by newlines: one pass of RE2's multi-pattern Set instead of one search per pattern."""

    __slots__ = ()

    @property
    def patterns(self) -> Tuple[str, ...]:
        return self._items

    def _options(self, mod):
        return _re2_options(mod, True)

    def _form(self, mod, item: str) -> bytes:
        return ("(?m)" + item).encode("utf-8")

    def matching(self, encoded: bytes) -> Optional[FrozenSet[int]]:
        """The indexes of the patterns that match somewhere in `encoded` (UTF-8 lines joined by newlines), or None
        when the Set cannot say (no google-re2, a pattern it refused, its DFA out of memory)."""
        return self._hits(encoded)


_SETS: Dict[Tuple[str, ...], PatternSet] = {}


def pattern_set(patterns: Sequence[str]) -> PatternSet:
    """The PatternSet of these patterns, built once per process for equal lists (signatures that share their clauses,
    a knowledge base's copies of a signature), as compiled() keeps one Pattern per pattern."""
    key = tuple(patterns)
    got = _SETS.get(key)
    if got is None:
        got = _SETS[key] = PatternSet(key)
    return got
