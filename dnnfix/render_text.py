"""Diagnosis -> the human report for terminals (compact, evidence first, the fix to run first)."""
from __future__ import annotations

from typing import List

from .api import Diagnosis, fixes_for
from .term import Style, glyph


def bar(score: float, width: int = 10) -> str:
    from . import term

    full = int(round(score * width))
    return term.glyph("█", "#") * full + term.glyph("░", ".") * (width - full)


def render(d: Diagnosis, kb, style: Style, *, top: int = 3, show_fix: bool = True, header: bool = True) -> str:
    out: List[str] = []
    if header:
        out.append(style(f"dnnfix: {d.input}", "bold") + style(f"  ({d.elapsed_ms:.1f} ms)", "grey"))
    for note in d.notes:
        out.append(style(f"note: {note}", "grey"))
    # one entry per cause (its best signature); the others that agree are named under it
    shown = []
    also = {}
    for m in d.matches:
        if m.cause in also:
            also[m.cause].append(m)
            continue
        if len(shown) < top:
            shown.append(m)
            also[m.cause] = []
    if not d.confident:
        out.append(style("No known cause fits with confidence.", "yellow", "bold"))
        out.append("  " + d.family)
        if shown:
            out.append(style("  Weaker candidates (not confident):", "grey"))
    for i, m in enumerate(shown, 1):
        tag = style("confident", "green") if m.confident else style("possible", "yellow")
        out.append(f"{style(f'{i}.', 'bold')} {style(m.title, 'bold')}")
        out.append(f"   {style(m.cause, 'cyan')}  {bar(m.score)} {m.score:.2f} {tag}  {style('[' + m.signature + ']', 'grey')}")
        seen_lines = set()
        shown_ev = 0
        for e in m.evidence:
            # one line of the input may fire several clauses: quote it once
            if e.line and (e.line, e.against) in seen_lines:
                continue
            seen_lines.add((e.line, e.against))
            mark = style(glyph("−", "-"), "red") if e.against else style("+", "green")
            out.append(f"   {mark} {e.format()}")
            shown_ev += 1
            if shown_ev == 6:
                break
        agree = [a for a in also.get(m.cause, []) if a.score >= 0.3]
        if agree:
            out.append(style("     also: " + ", ".join(f"{a.signature} {a.score:.2f}" for a in agree[:3]), "grey"))
        if show_fix and (i == 1 or m.confident):
            fixes = fixes_for(m, kb)
            if fixes:
                f = fixes[0]
                out.append(f"   {style('fix first:', 'bold')} {f['title']}")
                for ln in f["code"].splitlines()[:12]:
                    out.append("     " + style(ln, "blue"))
                if len(fixes) > 1:
                    out.append(style(f"     (+{len(fixes) - 1} more fix{'es' if len(fixes) > 2 else ''}: dnnfix explain {m.cause})", "grey"))
    if not d.confident:
        out.append(style(f"  fingerprint {d.fingerprint}", "grey"))
        target = d.input if d.input not in ("-", "<exception>") else "-"
        out.append(style(f"  teach dnnfix this one: dnnfix kb new {target} --cause CAUSE-ID", "grey"))
    return "\n".join(out)
