"""Diagnosis -> Report: the one model that every front-end renders.

The way rich extracts a traceback once and renders it many ways: `build()` decides, once, which causes are shown
(a cause once, at its best rank, with its other signatures as "also"), which are benign noise (hidden unless
asked), the deduplicated evidence, the numbered fixes with the match's facts filled in (the numbers that
`%dnnfix fix N` uses), the explanation sections, the notes and the broken-knowledge-base warning. The text,
HTML, JSON, GitHub-annotation renderers and the TUI's cause list are functions of a Report and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from .model import Diagnosis, Evidence, Match

# The version of the JSON object `dnnfix match --json` writes (../shared/CONTRACT.md's keys plus ours).
# 1: the object of CONTRACT.md; 2: schema_version, noise per match, causes (grouped), numbered_fixes;
# 3: hint per match (known failures that look alike, after the signatures: resemble.py).
SCHEMA_VERSION = 3
MAX_EVIDENCE = 6  # evidence lines a report shows per cause
ALSO_MIN_SCORE = 0.3  # another signature of the same cause is named under it when it scores at least this
EXPLAINED = ("What happened", "Why", "How to check", "Fix safety", "References")


@dataclass
class Fix:
    n: int  # the number `%dnnfix fix N` uses; 0 when the fix is not numbered (a weak cause's)
    rank: int  # the rank of its cause in the report
    cause: str
    title: str
    language: str
    code: str

    def as_dict(self) -> Dict[str, Any]:
        return {
            "n": self.n,
            "rank": self.rank,
            "cause": self.cause,
            "title": self.title,
            "language": self.language,
            "code": self.code,
        }


@dataclass
class Entry:
    """One cause as a report shows it."""

    rank: int
    match: Match  # the cause's best signature
    also: List[Match] = field(default_factory=list)  # other signatures of the same cause that agree
    group: List[Match] = field(default_factory=list)  # every signature of the cause that fired, best first
    evidence: List[Evidence] = field(default_factory=list)  # deduplicated, at most MAX_EVIDENCE
    more_evidence: int = 0  # evidence left out of `evidence`
    fixes: List[Fix] = field(default_factory=list)  # every fix of the cause, facts filled in
    summary: str = ""  # first paragraph of "What happened", facts filled in (Markdown)
    sections: Dict[str, str] = field(default_factory=dict)  # explanation sections, facts filled in (Markdown)
    noise: bool = False  # benign log noise or a score that rounds to 0.00
    strong: bool = False  # the first cause, or a confident one: its fixes are numbered and shown

    @property
    def cause(self) -> str:
        return self.match.cause

    @property
    def signature(self) -> str:
        return self.match.signature

    @property
    def title(self) -> str:
        return self.match.title

    @property
    def score(self) -> float:
        return self.match.score

    @property
    def confident(self) -> bool:
        return self.match.confident


@dataclass
class Report:
    input: str
    diagnosis: Diagnosis
    elapsed_ms: float
    entries: List[Entry]  # the causes shown, best first
    hidden: List[Entry] = field(default_factory=list)  # benign-noise causes left out (shown with show_all)
    fixes: List[Fix] = field(default_factory=list)  # the numbered fixes, in order
    notes: List[str] = field(default_factory=list)
    kb_warning: str = ""  # one line when a broken knowledge-base entry was skipped
    family: str = ""  # what is known about the exception when no cause is confident
    fingerprint: str = ""
    exception: Optional[Dict[str, str]] = None  # {"type", "message"} of the final exception
    scaffold: str = ""  # the command that drafts a signature from this input (when nothing is confident)
    similar: List[Match] = field(default_factory=list)  # hints: known failures that look alike (resemble.py)
    show_all: bool = False  # built with show_all (nothing hidden): the text report lists hints beside a confident cause

    @property
    def confident(self) -> bool:
        return any(e.confident for e in self.entries)

    @property
    def strong(self) -> List[Entry]:
        return [e for e in self.entries if e.strong]

    @property
    def weak(self) -> List[Entry]:
        return [e for e in self.entries if not e.strong]


def is_harmless_log(cause: str) -> bool:
    """Causes that say "this log line is harmless" (tf.log.benign-noise, py.log.benign-warning, ...)."""
    return ".log.benign" in cause or cause.endswith(".benign-noise")


def dedup_evidence(evidence: List[Evidence]) -> List[Evidence]:
    """One line of the input may fire several clauses: quote it once (facts and types once by their text)."""
    out, seen = [], set()
    for e in evidence:
        key = (e.line, e.against) if e.line else (e.text, e.against)
        if key in seen:
            continue
        seen.add(key)
        out.append(e)
    return out


def fixes_of(match: Match, kb) -> List[Dict[str, str]]:
    """The cause's fixes with this match's facts filled in, in the explanation's order, except that one leads: the
    `fix` of the first clause that fired, else the deciding signature's `fix_first`."""
    from .knowledge.explain import fill

    ex = kb.explanations.get(match.cause) if kb is not None else None
    if ex is None:
        return []
    fixes = list(ex.fixes)
    first = match.fix_first  # the matcher's choice: the first fired clause's `fix`, else the signature's fix_first
    if first:
        fixes.sort(key=lambda f: f["title"] != first)  # stable: the others keep their order
    return [
        {"title": f["title"], "language": f.get("language", ""), "code": fill(f["code"], match.facts)} for f in fixes
    ]


def broken_kb_warning(kb, short: bool = False) -> str:
    """The one warning for skipped knowledge-base entries (unreadable files and the user's folders first);
    `short` names the file only (the TUI's status line)."""
    errors = [dg for dg in getattr(kb, "diagnostics", ()) or () if dg.severity == "error"]
    if not errors:
        return ""
    try:
        from .knowledge.load import builtin_dir

        home = str(builtin_dir())
    except (ImportError, OSError):  # (a warning must never fail the report)
        home = "\0"
    errors.sort(key=lambda dg: (dg.code not in ("DNX001", "DNX002"), str(dg.path).startswith(home)))
    more = f" (+{len(errors) - 1} more: run `dnnfix kb check`)" if len(errors) > 1 else " (run `dnnfix kb check`)"
    what = Path(str(errors[0].path)).name if short else errors[0].format()
    return f"skipped a broken knowledge-base entry: {what}{more}"


def _explanation(match: Match, kb):
    from .knowledge.explain import fill

    ex = kb.explanations.get(match.cause) if kb is not None else None
    if ex is None:
        return "", {}
    sections = {name: fill(ex.sections[name], match.facts).strip() for name in EXPLAINED if ex.sections.get(name)}
    para = (sections.get("What happened") or "").split("\n\n")[0].strip()
    if para.startswith(("```", "- ", "* ", "|", "#")):
        para = ""
    return para, sections


def build(
    d: Diagnosis,
    kb,
    *,
    top: int = 3,
    show_all: bool = False,
    explain: bool = True,
    input_name: Optional[str] = None,
    fixes: bool = True,
) -> Report:
    """The report of `d`: at most `top` causes, benign noise hidden unless `show_all`. fixes=False leaves the fixes out
    (a reader that needs only the causes: a scan's summary rows)."""
    groups: List[List[Match]] = []
    index: Dict[str, int] = {}
    for m in d.matches:
        if m.hint:  # a look-alike, not a signature that fired: listed apart (Report.similar)
            continue
        if m.cause in index:
            groups[index[m.cause]].append(m)
        else:
            index[m.cause] = len(groups)
            groups.append([m])
    shown: List[Entry] = []
    hidden: List[Entry] = []
    for pos, g in enumerate(groups):
        best = g[0]
        noise = not best.confident and (round(best.score, 2) <= 0.0 or (is_harmless_log(best.cause) and pos > 0))
        ev = dedup_evidence(best.evidence)
        entry = Entry(
            rank=0,
            match=best,
            group=list(g),
            also=[a for a in g[1:] if a.score >= ALSO_MIN_SCORE][:3],
            evidence=ev[:MAX_EVIDENCE],
            more_evidence=max(0, len(ev) - MAX_EVIDENCE),
            noise=noise,
        )
        if noise and not show_all:
            hidden.append(entry)
        elif len(shown) < top:
            shown.append(entry)
    numbered: List[Fix] = []
    for rank, e in enumerate(shown, 1):
        e.rank = rank
        e.strong = rank == 1 or e.confident
        for f in fixes_of(e.match, kb) if fixes else ():
            fx = Fix(n=0, rank=rank, cause=e.cause, title=f["title"], language=f["language"], code=f["code"])
            if e.strong:
                fx.n = len(numbered) + 1
                numbered.append(fx)
            e.fixes.append(fx)
        if explain:
            e.summary, e.sections = _explanation(e.match, kb)
    final = d.incident.final if d.incident is not None else None
    name = d.input if input_name is None else input_name
    r = Report(
        input=name,
        diagnosis=d,
        elapsed_ms=d.elapsed_ms,
        entries=shown,
        hidden=hidden,
        fixes=numbered,
        notes=list(d.notes),
        kb_warning=broken_kb_warning(kb),
        family=d.family,
        fingerprint=d.fingerprint,
        exception={"type": final.type, "message": final.message} if final is not None else None,
        similar=[m for m in d.matches if m.hint],
        show_all=show_all,
    )
    if not r.confident:
        r.scaffold = f"dnnfix kb new {name if name not in ('-', '<exception>') else '-'} --cause CAUSE-ID"
    return r


def bar(score: float, width: int = 10, ascii: Optional[bool] = None) -> str:
    """The one confidence bar: `width` cells, full ones for the score (ASCII `#`/`.` where glyphs cannot show)."""
    if ascii is None:
        from . import term

        ascii = term.ASCII
    full = int(round(max(0.0, min(1.0, score)) * width))
    return ("#" if ascii else "█") * full + ("." if ascii else "░") * (width - full)
