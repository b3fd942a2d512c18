"""dnnfix's own parser of Python regex syntax: the one place dnnfix reads a regex's structure.

Prefilter words (signature.py) and the backtracking check (backtrack.py) need the parse tree of a pattern as
Python's `re` reads it. CPython keeps its parser private (`re._parser`, `sre_parse` before 3.11), so this module
parses the same syntax itself, for every supported Python (3.10-3.14), into a small tree of its own:

    Literal(code)  NotLiteral(code)  AnyChar()            one character
    In(items, negated)   items: Literal | Range(lo, hi) | Category(kind)   a character class, \\d \\s \\w ...
    Anchor(kind)         ^ $ \\A \\Z \\b \\B
    Group(index, name, add_flags, del_flags, body)   (...) (?P<n>...) (?i:...); index None: not capturing
    Atomic(body)         (?>...)                   Branch(alternatives)   a|b
    Repeat(min, max, mode, body)   max None: unbounded; mode greedy | lazy | possessive
    LookAround(behind, negated, body)   Backref(group)   Conditional(group, yes, no)   Fail()  (?!) on 3.13+

A sequence is a tuple of nodes. The tree has the shape CPython's parser gives, simplifications included, so the
analyses see the same structure `re` compiles: a plain (?:...) group is spliced into its sequence, a repeated
one is replaced by its body, a one-character class is a Literal / NotLiteral, alternatives that share leading
items have them moved in front of the Branch, and alternatives of single characters become one In.
Every node with a body compares by identity (as CPython's do), leaves by value.

`parse` raises RegexSyntaxError for anything `re` rejects at parse time, and for anything outside the syntax
above; callers treat that as "nothing known about the pattern" (no prefilter words, no backtracking verdict).
Syntax of one Python version only (possessive repeats and atomic groups: 3.11+, the `t` flag: until 3.12,
`\\z`: 3.14+) follows the running interpreter, as `re` does.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Dict, List, Optional, Tuple, Union

__all__ = [
    "AnyChar",
    "Anchor",
    "Atomic",
    "Backref",
    "Branch",
    "Category",
    "Conditional",
    "Fail",
    "Group",
    "In",
    "Literal",
    "LookAround",
    "Node",
    "NotLiteral",
    "Range",
    "Regex",
    "RegexSyntaxError",
    "Repeat",
    "parse",
    "IGNORECASE",
    "LOCALE",
    "MULTILINE",
    "DOTALL",
    "UNICODE",
    "VERBOSE",
    "ASCII",
]

_PY = sys.version_info[:2]
POSSESSIVE = _PY >= (3, 11)  # possessive repeats and atomic groups
_FLAGS_ONLY_AT_START = _PY >= (3, 11)  # 3.10: a global flag anywhere (deprecated); (?x) later re-reads it all
_EMPTY_NEGATIVE_IS_FAIL = _PY >= (3, 13)  # (?!) and (?<!) parse as a failure

# flag values: the public ones of the re module
TEMPLATE, IGNORECASE, LOCALE, MULTILINE, DOTALL, UNICODE, VERBOSE, DEBUG, ASCII = 1, 2, 4, 8, 16, 32, 64, 128, 256
_FLAGS = {"i": IGNORECASE, "L": LOCALE, "m": MULTILINE, "s": DOTALL, "x": VERBOSE, "a": ASCII, "u": UNICODE}
if _PY < (3, 13):
    _FLAGS["t"] = TEMPLATE
_TYPE_FLAGS = ASCII | LOCALE | UNICODE
_GLOBAL_FLAGS = DEBUG | (TEMPLATE if _PY < (3, 13) else 0)
MAXREPEAT = 2**32 - 1  # _sre.MAXREPEAT: a bound at or above it is an error in re
MAXGROUPS = 2**30 - 1  # _sre.MAXGROUPS on 64-bit builds

_SPECIAL = frozenset(".\\[{()*+?^$|")
_DIGITS = frozenset("0123456789")
_OCTDIGITS = frozenset("01234567")
_HEXDIGITS = frozenset("0123456789abcdefABCDEF")
_ASCIILETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_WHITESPACE = frozenset(" \t\n\r\v\f")


class RegexSyntaxError(ValueError):
    """A pattern this parser does not accept (re rejects it, or it is outside the syntax above)."""

    def __init__(self, msg: str, pos: int) -> None:
        super().__init__(f"{msg} at position {pos}")
        self.msg = msg
        self.pos = pos


# ---------------------------------------------------------------- the tree
@dataclass(frozen=True)
class Literal:
    code: int  # ord() of the character


@dataclass(frozen=True)
class NotLiteral:
    code: int


@dataclass(frozen=True)
class AnyChar:
    pass


@dataclass(frozen=True)
class Range:
    lo: int
    hi: int


@dataclass(frozen=True)
class Category:
    kind: str  # digit, not_digit, space, not_space, word, not_word


@dataclass(frozen=True)
class In:
    items: Tuple[Union[Literal, Range, Category], ...]
    negated: bool = False


@dataclass(frozen=True)
class Anchor:
    kind: str  # start (^), end ($), start_string (\A), end_string (\Z), boundary (\b), non_boundary (\B)


@dataclass(frozen=True)
class Backref:
    group: int


@dataclass(frozen=True)
class Fail:
    pass


@dataclass(frozen=True, eq=False)
class Group:
    index: Optional[int]  # None: a flags group (?i:...); a plain (?:...) is never a node (spliced, see above)
    name: Optional[str]
    add_flags: int
    del_flags: int
    body: Tuple["Node", ...]


@dataclass(frozen=True, eq=False)
class Atomic:
    body: Tuple["Node", ...]


@dataclass(frozen=True, eq=False)
class Branch:
    alternatives: Tuple[Tuple["Node", ...], ...]


@dataclass(frozen=True, eq=False)
class Repeat:
    min: int
    max: Optional[int]  # None: unbounded
    mode: str  # greedy | lazy | possessive
    body: Tuple["Node", ...]


@dataclass(frozen=True, eq=False)
class LookAround:
    behind: bool
    negated: bool
    body: Tuple["Node", ...]


@dataclass(frozen=True, eq=False)
class Conditional:
    group: int
    yes: Tuple["Node", ...]
    no: Optional[Tuple["Node", ...]]


Node = Union[
    Literal, NotLiteral, AnyChar, In, Anchor, Backref, Fail, Group, Atomic, Branch, Repeat, LookAround, Conditional
]
Seq = Tuple[Node, ...]


@dataclass(frozen=True)
class Regex:
    body: Seq
    flags: int  # the global flags in effect: those passed plus inline (?i) etc.
    groups: int  # capturing groups
    groupindex: Tuple[Tuple[str, int], ...]


# ---------------------------------------------------------------- escapes
_ESCAPES = {
    "\\a": Literal(7),
    "\\b": Literal(8),
    "\\f": Literal(12),
    "\\n": Literal(10),
    "\\r": Literal(13),
    "\\t": Literal(9),
    "\\v": Literal(11),
    "\\\\": Literal(92),
}
_CATEGORY_CLASSES = {
    "\\d": In((Category("digit"),)),
    "\\D": In((Category("not_digit"),)),
    "\\s": In((Category("space"),)),
    "\\S": In((Category("not_space"),)),
    "\\w": In((Category("word"),)),
    "\\W": In((Category("not_word"),)),
}
_ANCHOR_ESCAPES = {
    "\\A": Anchor("start_string"),
    "\\b": Anchor("boundary"),
    "\\B": Anchor("non_boundary"),
    "\\Z": Anchor("end_string"),
}
if _PY >= (3, 14):
    _ANCHOR_ESCAPES["\\z"] = Anchor("end_string")
_CATEGORIES: Dict[str, Node] = {**_ANCHOR_ESCAPES, **_CATEGORY_CLASSES}


class _Source:
    """The pattern as tokens: one character, or a backslash and the character after it."""

    __slots__ = ("string", "index", "next")

    def __init__(self, string: str) -> None:
        self.string = string
        self.index = 0
        self.next: Optional[str] = None
        self._advance()

    def _advance(self) -> None:
        i = self.index
        s = self.string
        if i >= len(s):
            self.next = None
            return
        ch = s[i]
        if ch == "\\":
            i += 1
            if i >= len(s):
                raise RegexSyntaxError("bad escape (end of pattern)", len(s) - 1)
            ch += s[i]
        self.index = i + 1
        self.next = ch

    def match(self, ch: str) -> bool:
        if ch == self.next:
            self._advance()
            return True
        return False

    def get(self) -> Optional[str]:
        this = self.next
        self._advance()
        return this

    def getwhile(self, n: int, charset) -> str:
        out = ""
        for _ in range(n):
            c = self.next
            if c is None or c not in charset:
                break
            out += c
            self._advance()
        return out

    def getuntil(self, terminator: str, name: str) -> str:
        out = ""
        while True:
            c = self.next
            self._advance()
            if c is None:
                if not out:
                    raise self.error("missing " + name)
                raise self.error(f"missing {terminator}, unterminated name", len(out))
            if c == terminator:
                if not out:
                    raise self.error("missing " + name, 1)
                return out
            out += c

    def tell(self) -> int:
        return self.index - len(self.next or "")

    def seek(self, index: int) -> None:
        self.index = index
        self._advance()

    def error(self, msg: str, offset: int = 0) -> RegexSyntaxError:
        return RegexSyntaxError(msg, self.tell() - offset)


class _State:
    __slots__ = ("flags", "groupdict", "groups", "closed", "lookbehindgroups", "grouprefpos")

    def __init__(self, flags: int) -> None:
        self.flags = flags
        self.groupdict: Dict[str, int] = {}
        self.groups = 1  # group 0 is the whole match
        self.closed = {0}
        self.lookbehindgroups: Optional[int] = None
        self.grouprefpos: Dict[int, int] = {}

    def opengroup(self, name: Optional[str], source: _Source) -> int:
        gid = self.groups
        self.groups += 1
        if self.groups > MAXGROUPS:
            raise source.error("too many groups")
        if name is not None:
            if name in self.groupdict:
                raise source.error(
                    f"redefinition of group name {name!r} as group {gid}; was group {self.groupdict[name]}",
                    len(name) + 1,
                )
            self.groupdict[name] = gid
        return gid

    def checkgroup(self, gid: int) -> bool:
        return gid < self.groups and gid in self.closed

    def checklookbehindgroup(self, gid: int, source: _Source) -> None:
        if self.lookbehindgroups is not None:
            if not self.checkgroup(gid):
                raise source.error("cannot refer to an open group")
            if gid >= self.lookbehindgroups:
                raise source.error("cannot refer to group defined in the same lookbehind subpattern")


class _Verbose(Exception):
    """3.10: (?x) after the start; the whole pattern is read again in verbose mode."""


def _checkgroupname(source: _Source, name: str, offset: int) -> None:
    if not name.isidentifier():
        raise source.error(f"bad character in group name {name!r}", len(name) + offset)


def _named_char(source: _Source) -> int:
    import unicodedata

    if not source.match("{"):
        raise source.error("missing {")
    name = source.getuntil("}", "character name")
    try:
        return ord(unicodedata.lookup(name))
    except (KeyError, TypeError):
        raise source.error(f"undefined character name {name!r}", len(name) + 4) from None


def _hex_escape(source: _Source, escape: str, kind: str) -> Optional[Literal]:
    """\\xhh, \\uhhhh, \\Uhhhhhhhh, or None for another escape."""
    n = {"x": 2, "u": 4, "U": 8}.get(kind)
    if n is None:
        return None
    escape += source.getwhile(n, _HEXDIGITS)
    if len(escape) != n + 2:
        raise source.error(f"incomplete escape {escape}", len(escape))
    code = int(escape[2:], 16)
    if code > 0x10FFFF:
        raise source.error(f"bad escape {escape}", len(escape))
    return Literal(code)


def _class_escape(source: _Source, escape: str) -> Union[Literal, Category]:
    """An escape inside [...]."""
    lit = _ESCAPES.get(escape)
    if lit is not None:
        return lit
    cls = _CATEGORY_CLASSES.get(escape)
    if cls is not None:
        return cls.items[0]  # type: ignore[return-value]
    c = escape[1:2]
    hexed = _hex_escape(source, escape, c)
    if hexed is not None:
        return hexed
    if c == "N":
        return Literal(_named_char(source))
    if c in _OCTDIGITS:
        escape += source.getwhile(2, _OCTDIGITS)
        code = int(escape[1:], 8)
        if code > 0o377:
            raise source.error(f"octal escape value {escape} outside of range 0-0o377", len(escape))
        return Literal(code)
    if c not in _DIGITS and len(escape) == 2 and c not in _ASCIILETTERS:
        return Literal(ord(c))
    raise source.error(f"bad escape {escape}", len(escape))


def _escape(source: _Source, escape: str, state: _State) -> Node:
    """An escape outside a class."""
    node = _CATEGORIES.get(escape) or _ESCAPES.get(escape)
    if node is not None:
        return node
    c = escape[1:2]
    hexed = _hex_escape(source, escape, c)
    if hexed is not None:
        return hexed
    if c == "N":
        return Literal(_named_char(source))
    if c == "0":
        escape += source.getwhile(2, _OCTDIGITS)
        return Literal(int(escape[1:], 8))
    if c in _DIGITS:
        # an octal escape (three octal digits) or a group reference
        if source.next in _DIGITS:
            escape += source.get()  # type: ignore[operator]
            if escape[1] in _OCTDIGITS and escape[2] in _OCTDIGITS and source.next in _OCTDIGITS:
                escape += source.get()  # type: ignore[operator]
                code = int(escape[1:], 8)
                if code > 0o377:
                    raise source.error(f"octal escape value {escape} outside of range 0-0o377", len(escape))
                return Literal(code)
        group = int(escape[1:])
        if group < state.groups:
            if not state.checkgroup(group):
                raise source.error("cannot refer to an open group", len(escape))
            state.checklookbehindgroup(group, source)
            return Backref(group)
        raise source.error(f"invalid group reference {group}", len(escape) - 1)
    if len(escape) == 2 and c not in _ASCIILETTERS:
        return Literal(ord(c))
    raise source.error(f"bad escape {escape}", len(escape))


# ---------------------------------------------------------------- the grammar
def _uniq(items: List) -> Tuple:
    return tuple(dict.fromkeys(items))


def _parse_sub(source: _Source, state: _State, verbose: bool, nested: int) -> List[Node]:
    """Alternatives a|b|c, simplified as CPython does (common leading items out, single characters to a class)."""
    items: List[List[Node]] = []
    while True:
        items.append(_parse(source, state, verbose, nested + 1, not nested and not items))
        if not source.match("|"):
            break
        if not nested and _FLAGS_ONLY_AT_START:
            verbose = bool(state.flags & VERBOSE)
    if len(items) == 1:
        return items[0]
    out: List[Node] = []
    while True:  # move a leading item every alternative shares out of the branch
        prefix = None
        for item in items:
            if not item:
                break
            if prefix is None:
                prefix = item[0]
            elif item[0] != prefix:
                break
        else:
            for item in items:
                del item[0]
            out.append(prefix)  # type: ignore[arg-type]
            continue
        break
    chars: List = []
    for item in items:  # can the branch be one character class?
        if len(item) != 1:
            break
        node = item[0]
        if type(node) is Literal:
            chars.append(node)
        elif type(node) is In and not node.negated:
            chars.extend(node.items)
        else:
            break
    else:
        out.append(In(_uniq(chars)))
        return out
    out.append(Branch(tuple(tuple(item) for item in items)))
    return out


def _parse_class(source: _Source) -> Node:
    here = source.tell() - 1
    items: List = []
    negate = source.match("^")
    while True:
        this = source.get()
        if this is None:
            raise source.error("unterminated character set", source.tell() - here)
        if this == "]" and items:
            break
        code1 = _class_escape(source, this) if this[0] == "\\" else Literal(ord(this))
        if source.match("-"):
            that = source.get()
            if that is None:
                raise source.error("unterminated character set", source.tell() - here)
            if that == "]":
                items.append(code1)
                items.append(Literal(45))
                break
            code2 = _class_escape(source, that) if that[0] == "\\" else Literal(ord(that))
            if type(code1) is not Literal or type(code2) is not Literal or code2.code < code1.code:
                raise source.error(f"bad character range {this}-{that}", len(this) + 1 + len(that))
            items.append(Range(code1.code, code2.code))
        else:
            items.append(code1)
    uniq = _uniq(items)
    if len(uniq) == 1 and type(uniq[0]) is Literal:
        return NotLiteral(uniq[0].code) if negate else uniq[0]
    return In(uniq, negate)


def _parse(source: _Source, state: _State, verbose: bool, nested: int, first: bool = False) -> List[Node]:
    """One alternative: a sequence of items up to | or ) or the end."""
    seq: List[Node] = []
    append = seq.append
    while True:
        this = source.next
        if this is None or this in "|)":
            break
        source.get()
        if verbose:
            if this in _WHITESPACE:
                continue
            if this == "#":
                while True:
                    this = source.get()
                    if this is None or this == "\n":
                        break
                continue
        if this[0] == "\\":
            append(_escape(source, this, state))
        elif this not in _SPECIAL:
            append(Literal(ord(this)))
        elif this == "[":
            append(_parse_class(source))
        elif this in "*+?{":
            here = source.tell()
            if this == "?":
                lo, hi = 0, 1
            elif this == "*":
                lo, hi = 0, None
            elif this == "+":
                lo, hi = 1, None
            else:
                if source.next == "}":
                    append(Literal(ord("{")))
                    continue
                lo_s = hi_s = ""
                while source.next in _DIGITS:
                    lo_s += source.get()  # type: ignore[operator]
                if source.match(","):
                    while source.next in _DIGITS:
                        hi_s += source.get()  # type: ignore[operator]
                else:
                    hi_s = lo_s
                if not source.match("}"):
                    append(Literal(ord("{")))
                    source.seek(here)
                    continue
                lo, hi = 0, None
                if lo_s:
                    lo = int(lo_s)
                    if lo >= MAXREPEAT:
                        raise source.error("the repetition number is too large")
                if hi_s:
                    hi = int(hi_s)
                    if hi >= MAXREPEAT:
                        raise source.error("the repetition number is too large")
                    if hi < lo:
                        raise source.error("min repeat greater than max repeat", source.tell() - here)
            last = seq[-1] if seq else None
            if last is None or type(last) is Anchor:
                raise source.error("nothing to repeat", source.tell() - here + len(this))
            if type(last) is Repeat:
                raise source.error("multiple repeat", source.tell() - here + len(this))
            body: Seq = (last,)
            if type(last) is Group and last.index is None and not last.add_flags and not last.del_flags:
                body = last.body
            if source.match("?"):
                mode = "lazy"
            elif POSSESSIVE and source.match("+"):
                mode = "possessive"
            else:
                mode = "greedy"
            seq[-1] = Repeat(lo, hi, mode, body)
        elif this == ".":
            append(AnyChar())
        elif this == "(":
            node = _parse_group(source, state, verbose, nested, first, seq)
            if node is _GLOBAL_FLAGS_GROUP:
                if _FLAGS_ONLY_AT_START:
                    verbose = bool(state.flags & VERBOSE)
                elif state.flags & VERBOSE and not verbose:
                    raise _Verbose()
            elif node is not None:
                append(node)
        elif this == "^":
            append(Anchor("start"))
        elif this == "$":
            append(Anchor("end"))
        else:  # pragma: no cover - every special character is handled above
            raise source.error(f"unsupported special character {this!r}")
    # splice plain non-capturing groups into the sequence
    out: List[Node] = []
    for node in seq:
        if type(node) is Group and node.index is None and not node.add_flags and not node.del_flags:
            out.extend(node.body)
        else:
            out.append(node)
    return out


_GLOBAL_FLAGS_GROUP: Any = object()  # _parse_group's answer for (?i) and the like: no node


def _parse_group(
    source: _Source, state: _State, verbose: bool, nested: int, first: bool, seq: List[Node]
) -> Optional[Node]:
    """What follows an opening parenthesis; None for a comment, _GLOBAL_FLAGS_GROUP for (?i) and the like."""
    start = source.tell() - 1
    capture = True
    atomic = False
    name = None
    add_flags = del_flags = 0
    if source.match("?"):
        char = source.get()
        if char is None:
            raise source.error("unexpected end of pattern")
        if char == "P":
            if source.match("<"):
                name = source.getuntil(">", "group name")
                _checkgroupname(source, name, 1)
            elif source.match("="):
                name = source.getuntil(")", "group name")
                _checkgroupname(source, name, 1)
                gid = state.groupdict.get(name)
                if gid is None:
                    raise source.error(f"unknown group name {name!r}", len(name) + 1)
                if not state.checkgroup(gid):
                    raise source.error("cannot refer to an open group", len(name) + 1)
                state.checklookbehindgroup(gid, source)
                return Backref(gid)
            else:
                char = source.get()
                if char is None:
                    raise source.error("unexpected end of pattern")
                raise source.error("unknown extension ?P" + char, len(char) + 2)
        elif char == ":":
            capture = False
        elif char == "#":
            while True:
                if source.next is None:
                    raise source.error("missing ), unterminated comment", source.tell() - start)
                if source.get() == ")":
                    return None
        elif char in "=!<":
            behind = False
            if char == "<":
                char = source.get()
                if char is None:
                    raise source.error("unexpected end of pattern")
                if char not in "=!":
                    raise source.error("unknown extension ?<" + char, len(char) + 2)
                behind = True
                outer = state.lookbehindgroups
                if outer is None:
                    state.lookbehindgroups = state.groups
            p = _parse_sub(source, state, verbose, nested + 1)
            if behind and outer is None:
                state.lookbehindgroups = None
            if not source.match(")"):
                raise source.error("missing ), unterminated subpattern", source.tell() - start)
            if char == "!" and not p and _EMPTY_NEGATIVE_IS_FAIL:
                return Fail()
            return LookAround(behind, char == "!", tuple(p))
        elif char == "(":
            condname = source.getuntil(")", "group name")
            if condname.isdecimal() and condname.isascii():
                condgroup = int(condname)
                if not condgroup:
                    raise source.error("bad group number", len(condname) + 1)
                if condgroup >= MAXGROUPS:
                    raise source.error(f"invalid group reference {condgroup}", len(condname) + 1)
                state.grouprefpos.setdefault(condgroup, source.tell() - len(condname) - 1)
            else:
                _checkgroupname(source, condname, 1)
                got = state.groupdict.get(condname)
                if got is None:
                    raise source.error(f"unknown group name {condname!r}", len(condname) + 1)
                condgroup = got
            state.checklookbehindgroup(condgroup, source)
            yes = _parse(source, state, verbose, nested + 1)
            no = None
            if source.match("|"):
                no = _parse(source, state, verbose, nested + 1)
                if source.next == "|":
                    raise source.error("conditional backref with more than two branches")
            if not source.match(")"):
                raise source.error("missing ), unterminated subpattern", source.tell() - start)
            return Conditional(condgroup, tuple(yes), None if no is None else tuple(no))
        elif char == ">" and POSSESSIVE:
            capture = False
            atomic = True
        elif char in _FLAGS or char == "-":
            flags = _parse_flags(source, state, char)
            if flags is None:  # global flags: (?i)
                if (not first or seq) and _FLAGS_ONLY_AT_START:
                    raise source.error("global flags not at the start of the expression", source.tell() - start)
                return _GLOBAL_FLAGS_GROUP
            add_flags, del_flags = flags
            capture = False
        else:
            raise source.error("unknown extension ?" + char, len(char) + 1)
    group = state.opengroup(name, source) if capture else None
    sub_verbose = bool((verbose or add_flags & VERBOSE) and not del_flags & VERBOSE)
    p = _parse_sub(source, state, sub_verbose, nested + 1)
    if not source.match(")"):
        raise source.error("missing ), unterminated subpattern", source.tell() - start)
    if group is not None:
        state.closed.add(group)
    if atomic:
        return Atomic(tuple(p))
    return Group(group, name, add_flags, del_flags, tuple(p))


def _parse_flags(source: _Source, state: _State, char: str) -> Optional[Tuple[int, int]]:
    add_flags = del_flags = 0
    if char != "-":
        while True:
            flag = _FLAGS[char]
            if char == "L":
                raise source.error("bad inline flags: cannot use 'L' flag with a str pattern")
            add_flags |= flag
            if flag & _TYPE_FLAGS and add_flags & _TYPE_FLAGS != flag:
                raise source.error("bad inline flags: flags 'a', 'u' and 'L' are incompatible")
            char = source.get()  # type: ignore[assignment]
            if char is None:
                raise source.error("missing -, : or )")
            if char in ")-:":
                break
            if char not in _FLAGS:
                raise source.error("unknown flag" if char.isalpha() else "missing -, : or )", len(char))
    if char == ")":
        state.flags |= add_flags
        return None
    if add_flags & _GLOBAL_FLAGS:
        raise source.error("bad inline flags: cannot turn on global flag", 1)
    if char == "-":
        char = source.get()  # type: ignore[assignment]
        if char is None:
            raise source.error("missing flag")
        if char not in _FLAGS:
            raise source.error("unknown flag" if char.isalpha() else "missing flag", len(char))
        while True:
            flag = _FLAGS[char]
            if flag & _TYPE_FLAGS:
                raise source.error("bad inline flags: cannot turn off flags 'a', 'u' and 'L'")
            del_flags |= flag
            char = source.get()  # type: ignore[assignment]
            if char is None:
                raise source.error("missing :")
            if char == ":":
                break
            if char not in _FLAGS:
                raise source.error("unknown flag" if char.isalpha() else "missing :", len(char))
    if del_flags & _GLOBAL_FLAGS:
        raise source.error("bad inline flags: cannot turn off global flag", 1)
    if add_flags & del_flags:
        raise source.error("bad inline flags: flag turned on and off", 1)
    return add_flags, del_flags


def _parse_all(pattern: str, flags: int) -> Regex:
    source = _Source(pattern)
    state = _State(flags)
    try:
        body = _parse_sub(source, state, bool(flags & VERBOSE), 0)
    except _Verbose:
        source = _Source(pattern)
        state = _State(flags | VERBOSE)
        body = _parse_sub(source, state, True, 0)
    if state.flags & LOCALE:
        raise RegexSyntaxError("cannot use LOCALE flag with a str pattern", 0)
    if state.flags & ASCII and state.flags & UNICODE:
        raise RegexSyntaxError("ASCII and UNICODE flags are incompatible", 0)
    if source.next is not None:
        raise source.error("unbalanced parenthesis")
    for g, pos in state.grouprefpos.items():
        if g >= state.groups:
            raise RegexSyntaxError(f"invalid group reference {g}", pos)
    return Regex(tuple(body), state.flags, state.groups, tuple(sorted(state.groupdict.items(), key=lambda kv: kv[1])))


@lru_cache(maxsize=4096)
def _parse_cached(pattern: str, flags: int) -> Regex:
    return _parse_all(pattern, flags)


def parse(pattern: str, flags: int = 0) -> Regex:
    """The tree of a str pattern (flags: re's values, e.g. re.I | re.X). Raises RegexSyntaxError.

    Results are cached (the tree is immutable): the knowledge-base compiler asks for each pattern three times."""
    if not isinstance(pattern, str):
        raise RegexSyntaxError("only str patterns are supported", 0)
    try:
        return _parse_cached(pattern, int(flags))
    except RecursionError:
        raise RegexSyntaxError("pattern nested too deeply", 0) from None
