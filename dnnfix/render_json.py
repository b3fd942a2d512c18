"""Diagnosis -> the JSON object of ../shared/CONTRACT.md (one per input, JSON Lines)."""
from __future__ import annotations

from typing import Any, Dict

from .api import Diagnosis, fixes_for


def to_dict(d: Diagnosis, kb) -> Dict[str, Any]:
    out: Dict[str, Any] = {
        "input": d.input,
        "matches": [
            {
                "cause": m.cause,
                "signature": m.signature,
                "score": m.score,
                "confident": m.confident,
                "title": m.title,
                "evidence": list(dict.fromkeys(e.format() for e in m.evidence)),
                "fixes": fixes_for(m, kb),
                "lines": m.lines,
                "facts": {k: v for k, v in m.facts.items() if isinstance(v, (str, int, float, bool))},
            }
            for m in d.matches
        ],
        "elapsed_ms": d.elapsed_ms,
        "fingerprint": d.fingerprint,
    }
    final = d.incident.final
    if final is not None:
        out["exception"] = {"type": final.type, "message": final.message[:2000]}
    if not d.confident:
        out["unknown"] = {"explanation": d.family,
                          "scaffold": f"dnnfix kb new {d.input if d.input not in ('-', '<exception>') else '-'} --cause CAUSE-ID"}
    if d.notes:
        out["notes"] = d.notes
    return out


def error_dict(name: str, reason: str) -> Dict[str, Any]:
    return {"input": name, "matches": [], "elapsed_ms": 0.0, "error": reason}
