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

SAMPLE: Tuple[str, ...] = tuple(chr(i) for i in range(32, 127)) + ("\t", "\n", "\r", "\u00e9", "\u00c9", "\u00a0", "\u4e2d")
ALL: FrozenSet[str] = frozenset(SAMPLE)
_MAXREPEAT_MIN = 100  # a repeat with a larger bound counts as unbounded


def _fold(ch: str) -> FrozenSet[str]:
    return frozenset({ch, ch.lower(), ch.upper()}) & ALL | {ch}


class _Analyzer:
    def __init__(self, c):
        self.c = c

    # ------------------------------------------------------------ character sets
    def _category(self, cat) -> FrozenSet[str]:
        c = self.c
        name = str(cat)
        base = {
            "CATEGORY_DIGIT": lambda ch: ch.isdigit(),
            "CATEGORY_SPACE": lambda ch: ch.isspace(),
            "CATEGORY_WORD": lambda ch: ch.isalnum() or ch == "_",
        }
        for key, fn in base.items():
            if name.endswith(key):
                return frozenset(ch for ch in SAMPLE if fn(ch))
            if name.endswith(key.replace("CATEGORY_", "CATEGORY_NOT_")):
                return frozenset(ch for ch in SAMPLE if not fn(ch))
        del c
        return ALL

    def _in(self, items) -> FrozenSet[str]:
        c = self.c
        out: set = set()
        neg = False
        for op, av in items:
            if op is c.NEGATE:
                neg = True
            elif op is c.LITERAL:
                out |= _fold(chr(av))
            elif op is c.RANGE:
                lo, hi = av
                out |= {ch for ch in SAMPLE if lo <= ord(ch) <= hi or lo <= ord(ch.lower()) <= hi
                        or lo <= ord(ch.upper()) <= hi}
            elif op is c.CATEGORY:
                out |= self._category(av)
            else:
                out |= ALL
        return (ALL - out) if neg else frozenset(out)

    def chars(self, seq) -> FrozenSet[str]:
        """Every character the sequence can consume."""
        c = self.c
        out: set = set()
        for op, av in seq:
            if op is c.LITERAL:
                out |= _fold(chr(av))
            elif op is c.NOT_LITERAL:
                out |= ALL - _fold(chr(av))
            elif op is c.ANY:
                out |= ALL - {"\n"}
            elif op is c.IN:
                out |= self._in(av)
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
                out |= self.chars(av[2])
            elif op is c.SUBPATTERN:
                out |= self.chars(av[-1])
            elif op is c.BRANCH:
                for alt in av[1]:
                    out |= self.chars(alt)
            elif op in (c.GROUPREF, getattr(c, "GROUPREF_EXISTS", None)):
                out |= ALL
        return frozenset(out)

    def nullable(self, seq) -> bool:
        return all(self._nullable_item(op, av) for op, av in seq)

    def _nullable_item(self, op, av) -> bool:
        c = self.c
        if op in (c.MAX_REPEAT, c.MIN_REPEAT):
            return av[0] == 0 or self.nullable(av[2])
        if op is c.SUBPATTERN:
            return self.nullable(av[-1])
        if op is c.BRANCH:
            return any(self.nullable(alt) for alt in av[1])
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            return True
        return False

    def first(self, seq) -> FrozenSet[str]:
        """The characters a match of the sequence can start with."""
        c = self.c
        out: set = set()
        for op, av in seq:
            if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
                continue
            if op in (c.MAX_REPEAT, c.MIN_REPEAT):
                out |= self.first(av[2])
            elif op is c.SUBPATTERN:
                out |= self.first(av[-1])
            elif op is c.BRANCH:
                for alt in av[1]:
                    out |= self.first(alt)
            else:
                out |= self.chars([(op, av)])
            if not self._nullable_item(op, av):
                break
        return frozenset(out)

    # ------------------------------------------------------------ structure
    def unbounded(self, op, av) -> bool:
        c = self.c
        return op in (c.MAX_REPEAT, c.MIN_REPEAT) and (av[1] == c.MAXREPEAT or av[1] > _MAXREPEAT_MIN)

    def children(self, op, av) -> List:
        c = self.c
        if op in (c.MAX_REPEAT, c.MIN_REPEAT):
            return [av[2]]
        if op is c.SUBPATTERN:
            return [av[-1]] if av[-1] is not None else []
        if op is c.BRANCH:
            return list(av[1])
        if op in (c.ASSERT, c.ASSERT_NOT):
            return [av[1]]
        return []

    def inner_unbounded(self, seq) -> List:
        out = []
        for op, av in seq:
            if self.unbounded(op, av):
                out.append((op, av))
            for ch in self.children(op, av):
                out.extend(self.inner_unbounded(ch))
        return out

    def branches(self, seq) -> List:
        out = []
        for op, av in seq:
            if op is self.c.BRANCH:
                out.append(av[1])
            if not self.unbounded(op, av):  # a repeat below gets its own check
                for ch in self.children(op, av):
                    out.extend(self.branches(ch))
        return out

    def _leading_repeat(self, op, av):
        """The unbounded repeat an item starts with (itself, or the first item of its group), if any."""
        while True:
            if self.unbounded(op, av):
                return av
            if op is self.c.SUBPATTERN and av[-1] is not None and list(av[-1]):
                op, av = list(av[-1])[0]
                continue
            return None

    def risk(self, seq) -> Optional[str]:
        c = self.c
        items = list(seq)
        for k, (op, av) in enumerate(items):
            if self.unbounded(op, av):
                body = av[2]
                start = self.first(body)
                for iop, iav in self.inner_unbounded(body):
                    if self.chars(iav[2]) & (start or ALL) or self.nullable(body):
                        return "nested unbounded repeats that can split the same text in many ways"
                for alts in self.branches(body):
                    firsts = [self.first(a) for a in alts]
                    if sum(1 for a in alts if self.nullable(a)) >= 2:
                        return "a repeated alternation with two alternatives that can match nothing"
                    for i in range(len(alts)):
                        for j in range(i + 1, len(alts)):
                            if firsts[i] & firsts[j]:
                                return "a repeated alternation whose alternatives can start with the same character"
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[1] >= 10:
                start = self.first(av[2])
                for iop, iav in self.inner_unbounded(av[2]):
                    if self.chars(iav[2]) & (start or ALL) or self.nullable(av[2]):
                        return "a counted repeat of an unbounded repeat (polynomial of high degree)"
            if self.unbounded(op, av):
                # the next unbounded repeat with only optional items between: can it start on characters this
                # one could still take? (then every split point between the two is tried)
                shared = self.chars(av[2])
                for op2, av2 in items[k + 1:]:
                    nxt = self._leading_repeat(op2, av2)
                    if nxt is not None:
                        if shared & self.first(nxt[2]):
                            return "adjacent unbounded repeats that can consume the same characters"
                        break
                    if not self._nullable_item(op2, av2):
                        break
                    shared = shared | self.chars([(op2, av2)])
            for ch in self.children(op, av):
                r = self.risk(ch)
                if r:
                    return r
        return None


def risk(pattern: str) -> Optional[str]:
    """Why the pattern can backtrack super-linearly on Python's re, or None when it cannot (see module doc)."""
    from .reparse import sre

    p, c = sre()
    try:
        parsed = p.parse(pattern, 2)  # re.IGNORECASE, as the matcher compiles
    except Exception:
        return None
    return _Analyzer(c).risk(list(parsed))
