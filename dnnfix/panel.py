"""One diagnosed exception as the hook shows it: the Diagnosis, its Report and the Report's renderings.

The Report (dnnfix.report) is built once; text/plain, text/html and the application/vnd.dnnfix.diagnosis+json
data are functions of it, so all three list the same causes and the same fix numbers (the ones `%dnnfix fix N`
uses).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from .api import diagnose_exception, probe_snapshot
from .model import Diagnosis
from .report import Report, broken_kb_warning

MIME = "application/vnd.dnnfix.diagnosis+json"


@dataclass
class Panel:
    exc_id: int  # id() of the exception: the panel keeps no reference to it (its frames may hold GPU tensors)
    diagnosis: Diagnosis
    kb: Any
    report: Optional[Report] = None
    log_text: str = ""
    top: int = 3
    total_ms: float = 0.0
    _html: str = ""

    def __post_init__(self) -> None:
        if self.report is None:
            from .report import build

            self.report = build(self.diagnosis, self.kb, top=self.top)

    @property
    def _report(self) -> Report:
        """The report (built in __post_init__ when none was given; again if someone set it to None since)."""
        if self.report is None:
            from .report import build

            self.report = build(self.diagnosis, self.kb, top=self.top)
        return self.report

    @property
    def fixes(self) -> List[Dict[str, Any]]:
        """The numbered fixes as dicts (n, rank, cause, title, language, code)."""
        return [f.as_dict() for f in self._report.fixes]

    @property
    def kb_note(self) -> str:
        return self._report.kb_warning

    def text(self, style, *, magics: bool = False) -> str:
        from .render_text import lines, plain

        r = self._report
        head = (
            "dnnfix: what most likely caused this error"
            if r.confident
            else "dnnfix: no known cause fits with confidence"
        )
        out = [style(head, "bold") + style(f"  ({self.total_ms:.0f} ms)", "grey")]
        body = lines(r, header=False)
        if not r.confident:  # the report opens with the same sentence as our header
            body = [ln for ln in body if ln.runs[0][0] != "No known cause fits with confidence."]
        out.append(plain(body, style))
        if r.kb_warning:
            out.append(style(f"note: {r.kb_warning}", "grey"))
        if magics:
            if r.fixes:
                out.append(style("%dnnfix fix N puts fix N into the next cell (it never runs it):", "grey"))
                for f in r.fixes:
                    out.append(style(f"  [{f.n}] {f.title}  ({f.cause})", "grey"))
            n = sum(1 for ln in self.log_text.splitlines() if ln.strip())
            if n:
                out.append(
                    style(
                        f"({n} line{'s' if n != 1 else ''} of native stderr were part of this diagnosis: "
                        "%dnnfix log shows them)",
                        "grey",
                    )
                )
        return "\n".join(x for x in out if x)

    def html(self) -> str:
        if not self._html:
            from .render_html import render_report

            self._html = render_report(self._report, log_text=self.log_text, total_ms=self.total_ms)
        return self._html

    def as_dict(self) -> Dict[str, Any]:
        from .render_json import report_dict

        out = report_dict(self._report, self.kb)
        out["matches"] = out["matches"][: self.top]
        out["total_ms"] = round(self.total_ms, 1)
        out["log_lines"] = len(self.log_text.splitlines())
        return out

    def bundle(self) -> Dict[str, Any]:
        """The display_data bundle for a Jupyter frontend."""
        from .term import Style

        return {"text/plain": self.text(Style(False), magics=True), "text/html": self.html(), MIME: self.as_dict()}


def numbered_fixes(d: Diagnosis, kb, top: int) -> List[Dict[str, Any]]:
    """Fixes in panel order (the Report's numbering): the first cause's always, other causes' when confident."""
    from .report import build

    return [f.as_dict() for f in build(d, kb, top=top, explain=False).fixes]


def broken_kb_note(kb) -> str:
    """The one broken-knowledge-base warning (dnnfix.report.broken_kb_warning)."""
    return broken_kb_warning(kb)


def build(
    exc: BaseException,
    kb,
    *,
    log_text: str = "",
    top: int = 3,
    probe: bool = True,
    t0: Optional[float] = None,
    html: bool = True,
    experimental_confident: bool = True,
) -> Panel:
    t0 = time.perf_counter() if t0 is None else t0
    env = probe_snapshot(quick=True) if probe else None
    d = diagnose_exception(
        exc,
        log_text=log_text,
        env=env,
        probe=False,
        kb=kb,
        env_is_probe=bool(probe),
        experimental_confident=experimental_confident,
        similar=False,  # a user's traceback gets causes with evidence, not look-alikes (resemble.py)
    )
    p = Panel(exc_id=id(exc), diagnosis=d, kb=kb, log_text=log_text, top=top)
    p.total_ms = (time.perf_counter() - t0) * 1000
    if html:
        p.html()  # render now, inside the time limit, so that showing it cannot fail later
    return p
