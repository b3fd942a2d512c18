"""Signature files -> compiled signatures, with every problem reported as a located diagnostic.

The same compiler serves the runtime loader (which skips broken signatures with a one-line warning) and
`dnnfix kb check` (which lists every problem and exits non-zero).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

# the regex parser's node classes, bound on first use (_tree): a knowledge base read from the compiled cache never
# parses a pattern, so the hook's first diagnosis does not pay for importing the parser
Anchor: Any = None
Atomic: Any = None
Branch: Any = None
Category: Any = None
Group: Any = None
In: Any = None
Literal: Any = None
Repeat: Any = None
parse: Any = None
from .yamlmarks import Located

STATUSES = ("experimental", "test", "stable", "deprecated")
TOP_KEYS = (
    "id",
    "cause",
    "title",
    "status",
    "frameworks",
    "falsepositives",
    "match",
    "against",
    "env_only",
    "disabled",
    "description",
    "references",
    "author",
    "specificity",
    "severity",
    "fix_first",
)
SEVERITIES = ("error", "warning", "info")  # how `dnnfix doctor` reports an env_only signature
CLAUSE_KINDS = ("regex", "phrase", "exception", "frames", "fact")
CLAUSE_KEYS = {
    "regex": ("regex", "weight", "anchor", "keys", "in", "note", "fix"),
    "phrase": ("phrase", "weight", "anchor", "keys", "min_ratio", "in", "note", "fix"),
    "exception": ("exception", "weight", "anchor", "last", "note", "fix"),
    "frames": ("frames", "weight", "anchor", "note", "fix"),
    "fact": ("fact", "weight", "anchor", "note", "fix"),
}
# the keys a clause may carry besides its kind (DNX112 suggests a kind for any other key)
CLAUSE_OPTIONS = frozenset(k for keys in CLAUSE_KEYS.values() for k in keys) - frozenset(CLAUSE_KINDS)
FACT_TESTS = (
    "present",
    "equals",
    "version",
    "lt_fact",
    "gt_fact",
    "ne_major_fact",
    "ne_minor_fact",
    "empty",
    "min",
    "max",
    "in",
    "matches",
    "ne_fact",
    "spec_fact",
    "not_spec_fact",
    "cc_not_in",
    "none_major_eq_fact",
)
FACT_COMPOUNDS = ("any", "all", "not")  # {any: [conditions]}, {all: [conditions]}, {not: condition}
GENERIC_WORDS = frozenset(
    """
error errors failed failure fail cuda gpu cpu found not none true false file line module name value type the
and with from this that have been were will could would should exception traceback warning python import
call most recent last tensor tensors device devices input output model shape shapes runtime library self args
kwargs return site packages dist local lib usr home content nvidia memory data
""".split()
)
# Clause strengths as named levels, defined against the confidence threshold (0.6, dnnfix/matcher.py). The
# score is the noisy-OR of the fired match clauses, times (1 - w) for each fired against clause, so:
#   decisive, strong, solid: each alone makes its cause confident (a framework's decisive message: decisive);
#   moderate + hint together are confident (0.615); two hints are not (0.51);
#   trace: never decides anything, only orders otherwise equal candidates;
#   capture: no weight at all, for a supporting clause that only captures a value a fact clause compares.
# For `against`: decisive all but removes the cause, strong takes a confident 0.95 under 0.6, moderate halves it.
# `dnnfix kb fit` (scripts/kb_fit.py) fits them from the cases and negatives and reports calibration.
LEVELS = {"decisive": 0.95, "strong": 0.85, "solid": 0.7, "moderate": 0.45, "hint": 0.3, "trace": 0.1, "capture": 0.0}
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CAUSE_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*){1,3}$")
MIN_KEY = 4


@dataclass
class Diagnostic:
    path: str
    line: int
    col: int
    code: str
    message: str
    hint: str = ""
    severity: str = "error"  # error | warning

    def format(self) -> str:
        s = f"{self.path}:{self.line}:{self.col}: {self.code} {self.message}"
        return s + (f" (hint: {self.hint})" if self.hint else "")


@dataclass
class Clause:
    kind: str
    weight: float
    anchor: bool
    pattern: str = ""  # regex
    where: str = "any"
    keys: Tuple[str, ...] = ()
    phrase: str = ""
    min_ratio: float = 90.0
    types: Tuple[str, ...] = ()
    last_only: bool = False
    package: str = ""
    path_rx: str = ""
    fact: Optional[Dict[str, Any]] = None
    line: int = 0
    # regex: the whole words every match needs, one tuple per top-level alternative (a conjunctive prefilter:
    # a clause whose key word occurs but not the rest of its words is skipped without running the regex)
    required: Tuple[Tuple[str, ...], ...] = ()
    keys_given: bool = False  # `keys:` written in the file (the index keeps them as they are)
    # regex: alternatives of runs of literal characters (lowercase), each alternative's runs all in every match that
    # takes it: in ASCII text where no alternative has all its runs, the clause cannot fire (literal_needles)
    needles: Tuple[Tuple[str, ...], ...] = ()
    # the title of the cause's fix that leads when this clause fired (a signature that reads several libraries'
    # wording: each names its own library's fix); the first fired clause with one wins over the signature's fix_first
    fix: str = ""
    # the name of the shared clause (kb/clauses.yaml) this clause was written as (`- use: NAME`), "" when inline
    shared: str = ""

    def describe(self) -> str:
        if self.kind == "regex":
            return f"pattern /{self.pattern}/"
        if self.kind == "phrase":
            return f'phrase "{self.phrase}"'
        if self.kind == "exception":
            return "exception " + " | ".join(self.types)
        if self.kind == "frames":
            return f"frames in {self.package}" if self.package else f"frames matching /{self.path_rx}/"
        return "fact " + ", ".join(f"{k}={v}" for k, v in (self.fact or {}).items())


@dataclass
class Signature:
    id: str
    cause: str
    title: str
    status: str
    match: List[Clause]
    against: List[Clause] = field(default_factory=list)
    frameworks: Tuple[str, ...] = ()
    env_only: bool = False
    disabled: bool = False
    severity: str = "error"
    path: str = ""
    line: int = 1
    origin: str = "builtin"  # builtin | user folder path
    # the title of the cause's fix to show first when this signature decides (the explanation's order otherwise):
    # a signature that reads another library's wording for the same cause leads with that library's fix
    fix_first: str = ""


def _did_you_mean(word: object, options) -> str:
    import difflib

    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


# ---------------------------------------------------------------- regex analysis
def _bind_parser() -> None:
    global Anchor, Atomic, Branch, Category, Group, In, Literal, Repeat, parse
    from .reparse import Anchor, Atomic, Branch, Category, Group, In, Literal, Repeat, parse  # noqa: F811


def _tree(pattern: str):
    """The parsed sequence of a pattern (dnnfix/knowledge/reparse.py), read case-insensitively as the matcher compiles it."""
    if parse is None:
        _bind_parser()
    return parse(pattern, re.I).body


def _is_repeat(node) -> bool:
    """A greedy or lazy repeat (a possessive one is opaque to these analyses, as it always was)."""
    return type(node) is Repeat and node.mode != "possessive"


def _seq_ends_nonword(seq) -> bool:
    """Whether every match of the sequence ends with a non-word character."""
    items = list(seq)
    if not items:
        return False
    last = items[-1]
    if _is_repeat(last):
        return last.min >= 1 and _seq_ends_nonword(last.body)
    if type(last) is Group:
        return _seq_ends_nonword(last.body)
    if type(last) is Branch:
        return all(_seq_ends_nonword(alt) for alt in last.alternatives)
    return _nonword(last)


def _required_words(seq, at_start: bool, strict: bool = False) -> List[str]:
    """Whole words (lowercase) that every match of the parsed sequence contains.

    strict: only words with a separator on both sides inside the pattern itself (the start and the end of a
    (sub)pattern do not count as boundaries), so that each word is certain to be a whole token of the text."""
    if strict:
        at_start = False
    words: List[str] = []
    run: List[str] = []
    bounded_left = at_start

    def flush(bounded_right: bool) -> None:
        nonlocal run
        parts = re.split(r"[^a-z0-9_]", "".join(run))
        for k, part in enumerate(parts):
            if part and (k > 0 or bounded_left) and (k < len(parts) - 1 or bounded_right):
                words.append(part)
        run = []

    def ends_nonword() -> bool:
        return (not re.match(r"[a-z0-9_]", run[-1])) if run else bounded_left

    items = list(seq)

    def next_is_separator(k: int) -> bool:
        if k >= len(items):
            return True  # the end of the pattern: the caller decides, flush(True) treats it as bounded
        node2 = items[k]
        if type(node2) is Anchor or _nonword(node2):
            return True
        if _is_repeat(node2):
            body2 = node2.body
            return node2.min >= 1 and len(body2) == 1 and _nonword(body2[0])
        return False

    for k, node in enumerate(items):
        kind = type(node)
        if kind is Literal:
            run.append(chr(node.code).lower())
        elif (
            _is_repeat(node)
            and node.min == 0
            and len(node.body) == 1
            and _nonword(node.body[0])
            and next_is_separator(k + 1)
        ):
            run.append(" ")  # word\s*: (or word:?\s): a separator follows the word either way
        elif _nonword(node):
            run.append(" ")  # a class of separators: [ "'] \s \W
        elif kind is Group and all(type(x) is Literal for x in node.body):
            run.extend(chr(x.code).lower() for x in node.body)
        elif kind is Group:
            prev = ends_nonword()
            flush(False)
            words.extend(_required_words(node.body, prev, strict))
            bounded_left = _seq_ends_nonword(node.body)
        elif kind is Branch:
            prev = ends_nonword()
            flush(False)
            sets = [set(_required_words(alt, prev, strict)) for alt in node.alternatives]
            words.extend(sorted(set.intersection(*sets)) if sets else [])
            bounded_left = all(_seq_ends_nonword(alt) for alt in node.alternatives)
        elif kind is Anchor:
            flush(True)
            bounded_left = True
        elif _is_repeat(node):
            lo, body = node.min, node.body
            sep = len(body) == 1 and _nonword(body[0])
            if lo >= 1 and sep:
                run.append(" ")
            elif lo == 0:
                # optional: what follows is bounded when both what precedes and the optional part end in a separator
                prev = ends_nonword()
                flush(False)
                bounded_left = prev and (sep or _seq_ends_nonword(body))
            else:
                flush(False)
                bounded_left = False
        else:
            flush(False)
            bounded_left = False
    flush(not strict)
    return words


def _nonword(node) -> bool:
    """A single-character item that can never be a word character (a space, punctuation, \\s, \\W)."""
    if type(node) is Literal:
        return not re.match(r"[A-Za-z0-9_]", chr(node.code))
    if type(node) is In:
        if node.negated:
            return False
        for item in node.items:
            if type(item) is Literal and not re.match(r"[A-Za-z0-9_]", chr(item.code)):
                continue
            if type(item) is Category and item.kind in ("space", "not_word"):
                continue
            return False
        return True
    return False


# Words on nearly every line of a deep-learning paste: fine in an anchor, useless to index on.
COMMON_IN_PASTES = GENERIC_WORDS | frozenset(
    """
tensorflow keras torch jax jaxlib numpy python3 py in of to is at for on by be or an as it no
src core engine utils util ops framework eager execute nn modules functional
""".split()
)


def best_key(words: List[str]) -> Optional[str]:
    """The word to index on: the rarest-looking one (not common in pastes), then the longest."""
    cands = [w for w in set(words) if len(w) >= 2]
    if not cands:
        return None
    cands.sort(key=lambda w: (w in COMMON_IN_PASTES or len(w) < 3, w.isdigit(), -len(w), w))
    return cands[0]


def literal_keys(pattern: str) -> List[List[str]]:
    """The literal words a regex needs, as alternatives: every match contains all words of at least one list.

    One list for a plain pattern; one list per branch for a top-level alternation; [] when some match
    needs no literal word at all (an unanchored pattern).
    """
    try:
        parsed = _tree(pattern)
    except (ValueError, OverflowError, RecursionError):  # RegexSyntaxError, huge repeat, deep nesting
        return []

    words = _required_words(parsed, True)
    if words:
        return [sorted(set(words), key=lambda w: (-len(w), w))]
    items = list(parsed)
    # a top-level alternation, possibly wrapped in one group: (?:a|b|c)
    while len(items) == 1 and type(items[0]) is Group:
        items = list(items[0].body)
    branch = [node for node in items if type(node) is Branch]
    if len(items) == 1 and len(branch) == 1:
        alts = []
        for alt in branch[0].alternatives:
            w = _required_words(alt, True)
            if not w:
                return []
            alts.append(sorted(set(w), key=lambda x: (-len(x), x)))
        return alts
    if len(items) >= 1 and type(items[0]) is In:
        # a single-char class at the start of alternatives: (?:[Cc]ould|...) handled by branch above
        return []
    return []


def strict_words(pattern: str) -> Tuple[Tuple[str, ...], ...]:
    """For the matcher's conjunctive prefilter: per top-level alternative, the words every match surely contains
    as whole tokens; () when some alternative has none (then the prefilter does not apply)."""
    try:
        parsed = _tree(pattern)
    except (ValueError, OverflowError, RecursionError):  # RegexSyntaxError, huge repeat, deep nesting
        return ()
    items = list(parsed)
    while len(items) == 1 and type(items[0]) is Group:
        items = list(items[0].body)
    branch = [node for node in items if type(node) is Branch]
    alts = [list(a) for a in branch[0].alternatives] if len(items) == 1 and len(branch) == 1 else [items]
    out = []
    for alt in alts:
        words = sorted(set(_required_words(alt, False, strict=True)))
        if not words:
            return ()
        out.append(tuple(words))
    return tuple(out)


def _literal_runs(seq) -> List[str]:
    """Runs of literal characters (lowercase, printable ASCII) that every match of the parsed sequence contains."""
    runs: List[str] = []
    run: List[str] = []

    def flush() -> None:
        if run:
            runs.append("".join(run))
            run.clear()

    for node in seq:
        kind = type(node)
        if kind is Literal:
            ch = chr(node.code)
            if ch.isascii() and ch.isprintable():
                run.append(ch.lower())
            else:
                flush()
        elif kind is Group or kind is Atomic:
            flush()
            runs.extend(_literal_runs(node.body))
        elif kind is Branch:
            flush()
            sets = [set(_literal_runs(alt)) for alt in node.alternatives]
            runs.extend(sorted(set.intersection(*sets)) if sets else [])
        elif kind is Repeat and node.min >= 1:
            flush()
            runs.extend(_literal_runs(node.body))
        else:  # a class, any character, an anchor, a look-around, an optional part: the run ends
            flush()
    flush()
    return runs


# a `keys:` entry is one word as the prefilter index splits the input (normalize.words_in_order)
_KEY_WORD = re.compile(r"[a-z0-9_]+")
_NEEDLE_ALTS = 32  # the most alternatives a clause's needles may have (more: no substring prefilter)
_NEEDLE_RUNS = 3  # the longest runs of each alternative that are looked for


def _needle_dnf(seq) -> Optional[List[Tuple[str, ...]]]:
    """Alternatives of literal runs (each alternative: runs that must all be in the text) such that every match of
    the parsed sequence satisfies one alternative; None when no such runs are known. The runs every match holds
    are combined with the alternatives of at most one mandatory alternation (a group, or a branch, in the
    sequence) whose every alternative has runs of its own, unless the runs every match holds include one of 4
    characters or more (then they are the one alternative)."""
    runs = [r for r in _literal_runs(seq) if len(r) >= 2]
    best: Optional[List[Tuple[str, ...]]] = None
    for node in seq:
        kind = type(node)
        inner: Optional[List[Tuple[str, ...]]] = None
        if kind is Branch:
            parts = [_needle_dnf(alt) for alt in node.alternatives]
            if parts and all(parts):
                inner = [c for part in parts for c in part or ()]
        elif kind is Group or kind is Atomic or (kind is Repeat and node.min >= 1):
            inner = _needle_dnf(node.body)
        if inner and 1 < len(inner) <= _NEEDLE_ALTS and (best is None or len(inner) < len(best)):
            best = inner

    def top(rs) -> Tuple[str, ...]:
        return tuple(sorted(set(rs), key=lambda r: (-len(r), r))[:_NEEDLE_RUNS])

    if best is None or any(len(r) >= 4 for r in runs):  # runs every match holds are enough: one alternative
        return [top(runs)] if runs else None
    return [top(list(c) + runs) for c in best]


def literal_needles(pattern: str) -> Tuple[Tuple[str, ...], ...]:
    """For the matcher's substring prefilter: alternatives of literal runs (lowercase printable ASCII), each
    alternative a few runs that must all be there, such that every match satisfies one; () when not known. In ASCII
    text, a lowercase text where no alternative has all its runs holds no match (case-insensitive or not)."""
    try:
        parsed = _tree(pattern)
    except (ValueError, OverflowError, RecursionError):  # RegexSyntaxError, huge repeat, deep nesting
        return ()
    dnf = _needle_dnf(list(parsed))
    return tuple(dnf) if dnf else ()


def backtracking_risk(pattern: str) -> str:
    """Why a pattern must be rejected for its backtracking, or "".

    Exponential forms (nested or ambiguous repeats) are rejected everywhere: without google-re2 every pattern
    runs on Python's re. Polynomial forms (adjacent repeats over the same characters) only where the pattern
    needs re anyway (look-arounds, back-references); RE2 runs the others in linear time.
    """
    from .backtrack import risk
    from ..rx import needs_backtracking

    why = risk(pattern)
    if not why or (why.startswith("adjacent") and not needs_backtracking(pattern)):
        return ""
    return why


# ---------------------------------------------------------------- compiler
def compile_signature(
    loc: Located,
    path: str,
    causes: Dict[str, Any],
    diags: List[Diagnostic],
    origin: str = "builtin",
    vet: bool = True,
    shared: Optional[Dict[str, Dict[str, Any]]] = None,
) -> Optional[Signature]:
    """One signature file compiled, its problems as diagnostics. vet=False skips the two costly per-pattern safety
    checks (the pattern compiles; it cannot backtrack super-linearly): only for the shipped knowledge base when it
    is loaded to match, since `dnnfix kb check` (run by scripts/test and CI) vets every shipped pattern.
    shared: the shared clauses by name (KnowledgeBase.clauses, load.load_clauses) that `- use: NAME` items stand
    for."""
    data = loc.data

    def err(code: str, msg: str, *p: Any, hint: str = "", severity: str = "error") -> None:
        line, col = loc.where(*p)
        diags.append(Diagnostic(path, line, col, code, msg, hint, severity))

    if not isinstance(data, dict):
        err("DNX101", "a signature file must be a mapping with id, cause, title, status and match")
        return None
    n_before = sum(1 for d in diags if d.severity == "error")
    for key in data:
        if key not in TOP_KEYS:
            line, col = loc.where(key, "<key>")
            diags.append(Diagnostic(path, line, col, "DNX102", f"unknown key '{key}'", _did_you_mean(key, TOP_KEYS)))
    disabled = bool(data.get("disabled", False))
    for key in ("id", "cause", "title", "status", "match"):
        if key not in data and not (disabled and key != "id"):
            err("DNX103", f"missing required key '{key}'", hint="see kb/README.md for the signature format")
    sid = data.get("id")
    if sid is not None and (not isinstance(sid, str) or not ID_RE.match(sid)):
        err("DNX104", f"id {sid!r} is not kebab-case (lowercase words joined by '-')", "id")
    cause = data.get("cause")
    if cause is not None and cause not in causes:
        err(
            "DNX105",
            f"unknown cause id '{cause}'",
            "cause",
            hint=_did_you_mean(cause, causes) or "add it to kb/causes.yaml or pick one from shared/causes.yaml",
        )
    status = data.get("status", "experimental")
    if status not in STATUSES:
        err(
            "DNX106",
            f"status '{status}' is not one of {', '.join(STATUSES)}",
            "status",
            hint=_did_you_mean(status, STATUSES),
        )
    env_only = bool(data.get("env_only", False))
    match = _clauses(loc, data.get("match"), "match", path, diags, env_only, vet=vet, shared=shared)
    against = _clauses(
        loc, data.get("against"), "against", path, diags, env_only, is_against=True, vet=vet, shared=shared
    )
    if match is not None and not disabled and not any(c.anchor for c in match):
        err(
            "DNX107",
            "no anchor clause: a signature needs at least one regex or phrase (or env_only: true with fact clauses)",
            "match",
        )
    for key in ("falsepositives", "references"):
        val = data.get(key)
        if val is not None and (not isinstance(val, list) or not all(isinstance(x, str) for x in val)):
            bad = (
                next((i for i, x in enumerate(val) if not isinstance(x, str)), None) if isinstance(val, list) else None
            )
            err(
                "DNX109",
                f"{key} must be a list of strings" + (" (quote an item that contains ': ')" if bad is not None else ""),
                *((key, bad) if bad is not None else (key,)),
            )
    fw = data.get("frameworks") or []
    if not isinstance(fw, list):
        err("DNX108", "frameworks must be a list", "frameworks")
        fw = []
    if sum(1 for d in diags if d.severity == "error") > n_before or not isinstance(sid, str):  # no id: DNX103
        return None
    line, _ = loc.where()
    severity = data.get("severity", "error")
    if severity not in SEVERITIES:
        err("DNX128", f"severity must be one of {', '.join(SEVERITIES)}, got {severity!r}", "severity")
        return None
    fix_first = _fix_title(data, "fix_first")
    if fix_first is None:
        err("DNX129", "fix_first must be the title of one of the cause's fixes (a non-empty string)", "fix_first")
        return None
    return Signature(
        id=sid,
        cause=cause or "",
        title=str(data.get("title", "")),
        status=status,
        match=match or [],
        against=against or [],
        frameworks=tuple(fw),
        env_only=env_only,
        disabled=disabled,
        severity=severity,
        path=path,
        line=line,
        origin=origin,
        fix_first=fix_first,
    )


def _fix_title(data: Dict[str, Any], key: str) -> Optional[str]:
    """A fix title (a signature's fix_first, a clause's fix): "" when absent, None when present but not a non-empty
    string (DNX129)."""
    value = data.get(key, "")
    if not isinstance(value, str) or (key in data and not value.strip()):
        return None
    return value.strip()


def _clauses(
    loc: Located,
    items: Any,
    section: str,
    path: str,
    diags: List[Diagnostic],
    env_only: bool,
    is_against: bool = False,
    vet: bool = True,
    shared: Optional[Dict[str, Dict[str, Any]]] = None,
) -> Optional[List[Clause]]:
    def err(code: str, msg: str, *p: Any, hint: str = "") -> None:
        line, col = loc.where(*p)
        diags.append(Diagnostic(path, line, col, code, msg, hint))

    if items is None:
        return [] if section == "against" else None
    if not isinstance(items, list):
        err("DNX110", f"'{section}' must be a list of clauses", section)
        return None
    out: List[Clause] = []
    for i, item in enumerate(items):
        p = (section, i)
        name = ""
        if isinstance(item, dict) and "use" in item:
            item, name = _use(item, shared, loc, p, path, diags)
            if item is None:
                continue
        n_diags = len(diags)
        c = _clause(loc, item, p, path, diags, env_only, is_against, vet)
        if name and shared:  # _use resolved the name in `shared`
            for d in diags[n_diags:]:  # a problem of the shared clause itself: say where it is defined
                d.message += f" (in shared clause '{name}', {shared[name]['path']})"
            if c is not None:
                c.shared = name
        if c is not None:
            out.append(c)
    return out


def _use(
    item: Dict[str, Any],
    shared: Optional[Dict[str, Dict[str, Any]]],
    loc: Located,
    p: Tuple[Any, ...],
    path: str,
    diags: List[Diagnostic],
) -> Tuple[Optional[Dict[str, Any]], str]:
    """(the shared clause's mapping, its name) for a `- use: NAME` item, or (None, "") after a diagnostic."""
    name = item["use"]
    line, col = loc.where(*p, "use")
    if len(item) != 1:
        extra = next(k for k in item if k != "use")
        line, col = loc.where(*p, extra, "<key>")
        diags.append(
            Diagnostic(
                path,
                line,
                col,
                "DNX143",
                f"a `use:` clause takes no other key, got '{extra}'",
                "a shared clause is used as it is defined; to change it, write the clause out in full here",
            )
        )
        return None, ""
    if not isinstance(name, str) or not shared or name not in shared:
        known = sorted(shared or {})
        diags.append(
            Diagnostic(
                path,
                line,
                col,
                "DNX144",
                f"unknown shared clause {name!r}",
                _did_you_mean(name, known) or "shared clauses are defined in kb/clauses.yaml (`clauses:` by name)",
            )
        )
        return None, ""
    return shared[name]["clause"], name


def _clause(
    loc: Located,
    item: Any,
    p: Tuple[Any, ...],
    path: str,
    diags: List[Diagnostic],
    env_only: bool,
    is_against: bool,
    vet: bool,
) -> Optional[Clause]:
    """One clause mapping compiled, or None after a diagnostic."""

    def err(code: str, msg: str, *p: Any, hint: str = "") -> None:
        line, col = loc.where(*p)
        diags.append(Diagnostic(path, line, col, code, msg, hint))

    if not isinstance(item, dict):
        err("DNX111", "a clause must be a mapping with one of: " + ", ".join(CLAUSE_KINDS), *p)
        return None
    kinds = [k for k in item if k in CLAUSE_KINDS]
    if len(kinds) != 1:
        bad = [k for k in item if k not in CLAUSE_OPTIONS]
        hint = _did_you_mean(bad[0], CLAUSE_KINDS) if bad else ""
        err("DNX112", "a clause needs exactly one of: " + ", ".join(CLAUSE_KINDS), *p, hint=hint)
        return None
    kind = kinds[0]
    for key in item:
        if key not in CLAUSE_KEYS[kind]:
            line, col = loc.where(*p, key, "<key>")
            diags.append(
                Diagnostic(
                    path,
                    line,
                    col,
                    "DNX113",
                    f"unknown key '{key}' in a {kind} clause",
                    _did_you_mean(key, CLAUSE_KEYS[kind]),
                )
            )
    weight = item.get("weight", 0.5)
    if isinstance(weight, str) and weight in LEVELS:
        weight = LEVELS[weight]
    elif not isinstance(weight, (int, float)) or isinstance(weight, bool) or not 0 < weight <= 1:
        err(
            "DNX114",
            f"weight must be a level ({', '.join(LEVELS)}) or a number in (0, 1], got {weight!r}",
            *p,
            "weight",
            hint=_did_you_mean(str(weight), LEVELS),
        )
        weight = LEVELS["moderate"]
    default_anchor = kind in ("regex", "phrase") or (env_only and kind == "fact")
    anchor = bool(item.get("anchor", default_anchor)) and not is_against
    line = loc.where(*p)[0]
    c = Clause(kind=kind, weight=float(weight), anchor=anchor, line=line)
    fix = _fix_title(item, "fix")
    if fix is None:
        err("DNX129", "a clause's fix must be the title of one of the cause's fixes (a non-empty string)", *p, "fix")
    else:
        c.fix = fix
    keys = item.get("keys")
    if keys is not None:
        if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
            err("DNX115", "keys must be a list of words", *p, "keys")
        elif any(not _KEY_WORD.fullmatch(k.lower()) for k in keys):
            bad = next(k for k in keys if not _KEY_WORD.fullmatch(k.lower()))
            err(
                "DNX115",
                f"key {bad!r} is not one word: the index splits the input at every character other than "
                "letters, digits and _, so the key can never be found (use one of its parts)",
                *p,
                "keys",
            )
        else:
            c.keys = tuple(k.lower() for k in keys)
            c.keys_given = True
    where = item.get("in", "any")
    if where not in ("any", "message", "log"):
        err("DNX116", f"'in' must be any, message or log, got {where!r}", *p, "in")
    c.where = where
    if kind == "regex":
        pat = item["regex"]
        if not isinstance(pat, str) or not pat:
            err("DNX117", "regex must be a non-empty string", *p, "regex")
            return None
        if vet:
            try:
                re.compile(pat, re.I)
            except re.error as e:
                err(
                    "DNX118",
                    f"invalid regex: {e.msg} at position {e.pos}",
                    *p,
                    "regex",
                    hint="YAML single quotes keep backslashes as written: regex: '\\d+'",
                )
                return None
        why = backtracking_risk(pat) if vet else ""
        if why:
            err(
                "DNX119",
                f"regex can backtrack super-linearly on Python's re: {why}",
                *p,
                "regex",
                hint="replace (x+)+ with x+, make the alternatives start differently, or put a literal "
                "between two repeats of the same characters",
            )
            return None
        c.pattern = pat
        alts = literal_keys(pat)
        c.required = strict_words(pat)
        c.needles = literal_needles(pat)
        if not c.keys:
            c.keys = tuple(k for k in (best_key(a) for a in alts) if k)
        _check_anchor(c, alts, loc, p, path, diags)
    elif kind == "phrase":
        ph = item["phrase"]
        if not isinstance(ph, str) or len(ph.strip()) < 8:
            err("DNX120", "phrase must be a string of at least 8 characters", *p, "phrase")
            return None
        c.phrase = ph.strip()
        mr = item.get("min_ratio", 90)
        if not isinstance(mr, (int, float)) or not 50 <= mr <= 100:
            err("DNX121", f"min_ratio must be between 50 and 100, got {mr!r}", *p, "min_ratio")
            mr = 90
        c.min_ratio = float(mr)
        words = re.findall(r"[a-z0-9_]+", c.phrase.lower())
        if not c.keys:
            ranked = sorted(set(words), key=lambda w: (w in COMMON_IN_PASTES or len(w) < 3, -len(w), w))
            distinct = [w for w in ranked if w not in COMMON_IN_PASTES and len(w) >= 3]
            c.keys = tuple((distinct or ranked)[:2])  # either may drift; both index the phrase
        _check_anchor(c, [words], loc, p, path, diags)
    elif kind == "exception":
        t = item["exception"]
        t = [t] if isinstance(t, str) else t
        if not isinstance(t, list) or not t or not all(isinstance(x, str) and x for x in t):
            err("DNX122", "exception must be a class name or a list of class names", *p, "exception")
            return None
        c.types = tuple(x.rsplit(".", 1)[-1] if x != "*" else x for x in t)
        c.last_only = bool(item.get("last", False))
    elif kind == "frames":
        fr = item["frames"]
        if not isinstance(fr, dict) or not (set(fr) <= {"package", "path"}) or len(fr) != 1:
            err("DNX123", "frames must be {package: NAME} or {path: REGEX}", *p, "frames")
            return None
        if "package" in fr:
            c.package = str(fr["package"]).lower()
        else:
            try:
                re.compile(str(fr["path"]))
            except re.error as e:
                err("DNX118", f"invalid regex in frames.path: {e.msg}", *p, "frames")
                return None
            c.path_rx = str(fr["path"])
    elif kind == "fact":
        fc = item["fact"]
        problem = _fact_problem(fc)
        if problem:
            code, msg, key = problem
            if code == "DNX125":
                line2, col2 = loc.where(*p, "fact", key, "<key>") if key in fc else loc.where(*p, "fact")
                diags.append(Diagnostic(path, line2, col2, code, msg, _did_you_mean(key, FACT_TESTS)))
            else:
                err(code, msg, *p, "fact")
            return None
        c.fact = dict(fc)
    return c


def _fact_problem(fc: Any):
    """(code, message, key) for the first problem of a fact condition (compounds checked inside), or None."""
    if isinstance(fc, dict) and len(fc) == 1 and next(iter(fc)) in FACT_COMPOUNDS:
        key, inner = next(iter(fc.items()))
        items = [inner] if key == "not" else inner
        if not isinstance(items, list) or not items:
            return ("DNX124", f"fact '{key}' takes {'a condition' if key == 'not' else 'a list of conditions'}", key)
        for sub in items:
            problem = _fact_problem(sub)
            if problem:
                return problem
        return None
    if not isinstance(fc, dict) or "path" not in fc:
        return (
            "DNX124",
            "fact must be a mapping with 'path' and one test ("
            + ", ".join(FACT_TESTS)
            + "), or any/all/not of such mappings",
            "",
        )
    tests = [k for k in fc if k != "path"]
    unknown = [k for k in tests if k not in FACT_TESTS]
    if unknown:
        return ("DNX125", f"unknown fact test '{unknown[0]}'", unknown[0])
    if len(tests) != 1:
        return ("DNX126", "a fact condition needs exactly one test besides 'path'", "")
    if "matches" in fc:
        try:
            re.compile(str(fc["matches"]))
        except re.error as e:
            return ("DNX118", f"invalid regex in fact.matches: {e.msg}", "matches")
    if "version" in fc:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            SpecifierSet(str(fc["version"]))
        except InvalidSpecifier as e:
            return ("DNX127", f"invalid version specifier {fc['version']!r}: {e}", "version")
    return None


def _check_anchor(
    c: Clause, alts: List[List[str]], loc: Located, p: Tuple[Any, ...], path: str, diags: List[Diagnostic]
) -> None:
    """Weak anchors are bugs: every way an anchor can match must rest on distinctive literal text."""
    if not c.anchor:
        return
    line, col = loc.where(*p, c.kind)
    if not c.keys:
        diags.append(
            Diagnostic(
                path,
                line,
                col,
                "DNX130",
                "weak anchor: unanchored pattern (a match needs no fixed word)",
                "start the pattern with the message's fixed words, or give keys: [word]",
            )
        )
        return
    for words in alts:
        distinctive = [w for w in words if w not in GENERIC_WORDS and len(w) >= 3]
        if not distinctive or sum(len(w) for w in words) < 8:
            shown = " ".join(words[:5]) or "nothing"
            diags.append(
                Diagnostic(
                    path,
                    line,
                    col,
                    "DNX131",
                    f"weak anchor: its fixed words ({shown}) are too short or too generic",
                    "anchor on a distinctive part of the message, e.g. an error code or a library name",
                )
            )
            return
