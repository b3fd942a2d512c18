"""One diagnosed exception as the hook shows it: the Diagnosis, its numbered fixes and its renderings.

The text form is dnnfix.render_text's report under a one-line header (no second text renderer); the HTML form is
dnnfix.render_html. Fix numbers are shared by both and by `%dnnfix fix N`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .api import Diagnosis, diagnose_exception, fixes_for, probe_snapshot

MIME = "application/vnd.dnnfix.diagnosis+json"


@dataclass
class Panel:
    exc_id: int  # id() of the exception: the panel keeps no reference to it (its frames may hold GPU tensors)
    diagnosis: Diagnosis
    kb: Any
    log_text: str = ""
    top: int = 3
    total_ms: float = 0.0
    fixes: List[Dict[str, Any]] = field(default_factory=list)
    kb_note: str = ""  # a broken knowledge-base entry that was skipped
    _html: str = ""

    def text(self, style, *, magics: bool = False) -> str:
        from .render_text import render

        d = self.diagnosis
        head = "dnnfix: what most likely caused this error" if d.confident else "dnnfix: no known cause fits with confidence"
        out = [style(head, "bold") + style(f"  ({self.total_ms:.0f} ms)", "grey")]
        body = render(d, self.kb, style, top=self.top, header=False)
        if not d.confident:  # render() opens with the same sentence as our header
            body = "\n".join(ln for ln in body.splitlines() if ln.strip() != "No known cause fits with confidence.")
        out.append(body)
        if self.kb_note:
            out.append(style(f"note: {self.kb_note}", "grey"))
        if magics:
            if self.fixes:
                out.append(style("%dnnfix fix N puts fix N into the next cell (it never runs it):", "grey"))
                for f in self.fixes:
                    out.append(style(f"  [{f['n']}] {f['title']}  ({f['cause']})", "grey"))
            n = sum(1 for ln in self.log_text.splitlines() if ln.strip())
            if n:
                out.append(style(f"({n} line{'s' if n != 1 else ''} of native stderr were part of this diagnosis: "
                                 "%dnnfix log shows them)", "grey"))
        return "\n".join(x for x in out if x)

    def html(self) -> str:
        if self._html:
            return self._html
        from .render_html import render

        self._html = render(self.diagnosis, self.kb, top=self.top, fixes=self.fixes, log_text=self.log_text,
                      total_ms=self.total_ms, notes=[self.kb_note] if self.kb_note else [])
        return self._html

    def as_dict(self) -> Dict[str, Any]:
        from .render_json import to_dict

        out = to_dict(self.diagnosis, self.kb)
        out["matches"] = out["matches"][: self.top]
        out["numbered_fixes"] = self.fixes
        out["total_ms"] = round(self.total_ms, 1)
        out["log_lines"] = len(self.log_text.splitlines())
        if self.kb_note:
            out.setdefault("notes", []).append(self.kb_note)
        return out

    def bundle(self) -> Dict[str, Any]:
        """The display_data bundle for a Jupyter frontend."""
        from .term import Style

        return {"text/plain": self.text(Style(False), magics=True), "text/html": self.html(), MIME: self.as_dict()}


def numbered_fixes(d: Diagnosis, kb, top: int) -> List[Dict[str, Any]]:
    """Fixes in panel order: the first cause's always, other causes' when confident; each cause once."""
    out: List[Dict[str, Any]] = []
    seen = set()
    for rank, m in enumerate(d.matches[:top], 1):
        if m.cause in seen or not (rank == 1 or m.confident):
            continue
        seen.add(m.cause)
        for f in fixes_for(m, kb):
            out.append({"n": len(out) + 1, "rank": rank, "cause": m.cause, "title": f["title"],
                        "language": f.get("language", ""), "code": f["code"]})
    return out


def broken_kb_note(kb) -> str:
    """The knowledge-base entry skipped as broken (as `dnnfix match` reports it; unreadable files first), or ''."""
    errors = [dg for dg in getattr(kb, "diagnostics", ()) or ()
              if dg.severity == "error" and (dg.code in ("DNX001", "DNX002") or dg.code.startswith("DNX1"))]
    if not errors:
        return ""
    errors.sort(key=lambda dg: dg.code not in ("DNX001", "DNX002"))
    more = f" (+{len(errors) - 1} more: dnnfix kb check)" if len(errors) > 1 else ""
    return f"skipped a broken knowledge-base entry: {errors[0].format()}{more}"


def build(exc: BaseException, kb, *, log_text: str = "", top: int = 3, probe: bool = True,
          t0: Optional[float] = None, html: bool = True, experimental_confident: bool = True) -> Panel:
    t0 = time.perf_counter() if t0 is None else t0
    env = probe_snapshot(quick=True) if probe else None
    d = diagnose_exception(exc, log_text=log_text, env=env, probe=False, kb=kb, env_is_probe=bool(probe),
                           experimental_confident=experimental_confident)
    p = Panel(exc_id=id(exc), diagnosis=d, kb=kb, log_text=log_text, top=top, fixes=numbered_fixes(d, kb, top),
              kb_note=broken_kb_note(kb))
    p.total_ms = (time.perf_counter() - t0) * 1000
    if html:
        p.html()  # render now, inside the time limit, so that showing it cannot fail later
    return p
