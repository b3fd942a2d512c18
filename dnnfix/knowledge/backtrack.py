"""Static check of a regex for super-linear backtracking on Python's `re` (a backtracking engine).

Patterns normally run on RE2 (dnnfix/rx.py), which is linear whatever they say; this check guards the patterns
that need `re` (look-arounds, back-references) and every pattern on a machine without google-re2.
`risk(pattern)` names the first construct that makes matching time grow faster than the input:

- nested:      an unbounded repeat inside an unbounded repeat, where one iteration can end where the inner
               repeat could go on: (x+)+, (?:cuda\\w*)+ (not (?:\\.\\d+)+, whose separator the inner repeat
               cannot eat)
- alternation: an unbounded repeat over alternatives that can start with the same character: (a|a)+, (\\w|\\d)+
- power:       a counted repeat of ten or more over a body with an unbounded repeat: (.*a){20}
- adjacent:    two unbounded repeats in a row (only optional items between them) that can consume the same
               characters: \\s+[^\\n]*?\\s+, \\w*\\d+ (quadratic or worse on a run of those characters)

Character sets are compared on a sample alphabet (ASCII printable, tab, newline, a few non-ASCII letters and
spaces), enough to tell the classes knowledge-base patterns use apart.
"""

from __future__ import annotations

from typing import FrozenSet, List, Optional, Tuple

from .reparse import (
    AnyChar,
    Anchor,
    Backref,
    Branch,
    Category,
    Conditional,
    Group,
    In,
    Literal,
    LookAround,
    NotLiteral,
    Range,
    Repeat,
    parse,
)

SAMPLE: Tuple[str, ...] = tuple(chr(i) for i in range(32, 127)) + (
    "\t",
    "\n",
    "\r",
    "\u00e9",
    "\u00c9",
    "\u00a0",
    "\u4e2d",
)
ALL: FrozenSet[str] = frozenset(SAMPLE)
_MAXREPEAT_MIN = 100  # a repeat with a larger bound counts as unbounded


def _fold(ch: str) -> FrozenSet[str]:
    return frozenset({ch, ch.lower(), ch.upper()}) & ALL | {ch}


_CATEGORY_TESTS = {
    "digit": lambda ch: ch.isdigit(),
    "space": lambda ch: ch.isspace(),
    "word": lambda ch: ch.isalnum() or ch == "_",
}


def _is_repeat(node) -> bool:
    """A greedy or lazy repeat (a possessive one never backtracks into its body and is left out, as it always was)."""
    return type(node) is Repeat and node.mode != "possessive"


class _Analyzer:
    # ------------------------------------------------------------ character sets
    def _category(self, kind: str) -> FrozenSet[str]:
        for key, fn in _CATEGORY_TESTS.items():
            if kind == key:
                return frozenset(ch for ch in SAMPLE if fn(ch))
            if kind == "not_" + key:
                return frozenset(ch for ch in SAMPLE if not fn(ch))
        return ALL

    def _in(self, node: In) -> FrozenSet[str]:
        out: set = set()
        for item in node.items:
            if isinstance(item, Literal):
                out |= _fold(chr(item.code))
            elif isinstance(item, Range):
                lo, hi = item.lo, item.hi
                out |= {
                    ch
                    for ch in SAMPLE
                    if lo <= ord(ch) <= hi or lo <= ord(ch.lower()) <= hi or lo <= ord(ch.upper()) <= hi
                }
            elif isinstance(item, Category):
                out |= self._category(item.kind)
            else:
                out |= ALL
        return (ALL - out) if node.negated else frozenset(out)

    def chars(self, seq) -> FrozenSet[str]:
        """Every character the sequence can consume."""
        out: set = set()
        for node in seq:
            kind = type(node)
            if kind is Literal:
                out |= _fold(chr(node.code))
            elif kind is NotLiteral:
                out |= ALL - _fold(chr(node.code))
            elif kind is AnyChar:
                out |= ALL - {"\n"}
            elif kind is In:
                out |= self._in(node)
            elif _is_repeat(node):
                out |= self.chars(node.body)
            elif kind is Group:
                out |= self.chars(node.body)
            elif kind is Branch:
                for alt in node.alternatives:
                    out |= self.chars(alt)
            elif kind in (Backref, Conditional):
                out |= ALL
        return frozenset(out)

    def nullable(self, seq) -> bool:
        return all(self._nullable_item(node) for node in seq)

    def _nullable_item(self, node) -> bool:
        if _is_repeat(node):
            return node.min == 0 or self.nullable(node.body)
        if type(node) is Group:
            return self.nullable(node.body)
        if type(node) is Branch:
            return any(self.nullable(alt) for alt in node.alternatives)
        if type(node) in (Anchor, LookAround):
            return True
        return False

    def first(self, seq) -> FrozenSet[str]:
        """The characters a match of the sequence can start with."""
        out: set = set()
        for node in seq:
            kind = type(node)
            if kind in (Anchor, LookAround):
                continue
            if _is_repeat(node):
                out |= self.first(node.body)
            elif kind is Group:
                out |= self.first(node.body)
            elif kind is Branch:
                for alt in node.alternatives:
                    out |= self.first(alt)
            else:
                out |= self.chars([node])
            if not self._nullable_item(node):
                break
        return frozenset(out)

    # ------------------------------------------------------------ structure
    def unbounded(self, node) -> bool:
        return _is_repeat(node) and (node.max is None or node.max > _MAXREPEAT_MIN)

    def children(self, node) -> List:
        if _is_repeat(node) or type(node) in (Group, LookAround):
            return [node.body]
        if type(node) is Branch:
            return list(node.alternatives)
        return []

    def inner_unbounded(self, seq) -> List:
        out = []
        for node in seq:
            if self.unbounded(node):
                out.append(node)
            for ch in self.children(node):
                out.extend(self.inner_unbounded(ch))
        return out

    def branches(self, seq) -> List:
        out = []
        for node in seq:
            if type(node) is Branch:
                out.append(node.alternatives)
            if not self.unbounded(node):  # a repeat below gets its own check
                for ch in self.children(node):
                    out.extend(self.branches(ch))
        return out

    def _leading_repeat(self, node):
        """The unbounded repeat an item starts with (itself, or the first item of its group), if any."""
        while True:
            if self.unbounded(node):
                return node
            if type(node) is Group and node.body:
                node = node.body[0]
                continue
            return None

    def risk(self, seq) -> Optional[str]:
        items = list(seq)
        for k, node in enumerate(items):
            if self.unbounded(node):
                body = node.body
                start = self.first(body)
                for inner in self.inner_unbounded(body):
                    if self.chars(inner.body) & (start or ALL) or self.nullable(body):
                        return "nested unbounded repeats that can split the same text in many ways"
                for alts in self.branches(body):
                    firsts = [self.first(a) for a in alts]
                    if sum(1 for a in alts if self.nullable(a)) >= 2:
                        return "a repeated alternation with two alternatives that can match nothing"
                    for i in range(len(alts)):
                        for j in range(i + 1, len(alts)):
                            if firsts[i] & firsts[j]:
                                return "a repeated alternation whose alternatives can start with the same character"
            elif _is_repeat(node) and node.max >= 10:
                start = self.first(node.body)
                for inner in self.inner_unbounded(node.body):
                    if self.chars(inner.body) & (start or ALL) or self.nullable(node.body):
                        return "a counted repeat of an unbounded repeat (polynomial of high degree)"
            if self.unbounded(node):
                # the next unbounded repeat with only optional items between: can it start on characters this
                # one could still take? (then every split point between the two is tried)
                shared = self.chars(node.body)
                for node2 in items[k + 1 :]:
                    nxt = self._leading_repeat(node2)
                    if nxt is not None:
                        if shared & self.first(nxt.body):
                            return "adjacent unbounded repeats that can consume the same characters"
                        break
                    if not self._nullable_item(node2):
                        break
                    shared = shared | self.chars([node2])
            for ch in self.children(node):
                r = self.risk(ch)
                if r:
                    return r
        return None


def risk(pattern: str) -> Optional[str]:
    """Why the pattern can backtrack super-linearly on Python's re, or None when it cannot (see module doc)."""
    try:
        parsed = parse(pattern, 2).body  # re.IGNORECASE, as the matcher compiles
    except (ValueError, OverflowError, RecursionError):  # RegexSyntaxError, huge repeat, deep nesting
        return None
    return _Analyzer().risk(parsed)
