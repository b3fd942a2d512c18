"""Report -> the JSON object of ../shared/CONTRACT.md (one per input, JSON Lines), plus our own keys.

`matches` keeps every signature that fired (the contract's list, score-ordered, facts filled into fixes);
`causes` is the report's grouping (a cause once, benign noise marked), `numbered_fixes` the numbers `%dnnfix fix N`
uses. `schema_version` (dnnfix.report.SCHEMA_VERSION) changes when a key changes meaning.
"""

from __future__ import annotations

from typing import Any, Dict

from .report import SCHEMA_VERSION, Report, fixes_of, is_harmless_log


def _match_dict(m, noise, **more: Any) -> Dict[str, Any]:
    """One match's object, its keys in the contract's order (`more`: fixes, lines and facts, after the evidence)."""
    out: Dict[str, Any] = {
        "cause": m.cause,
        "signature": m.signature,
        "score": m.score,
        "confident": m.confident,
        "title": m.title,
        "evidence": list(dict.fromkeys(e.format() for e in m.evidence)),
    }
    out.update(more)
    out["noise"] = m.cause in noise or (is_harmless_log(m.cause) and not m.confident)
    out["hint"] = m.hint
    return out


def _noise_causes(r: Report) -> set:
    """The causes the report marks as harmless log noise (hidden, or shown as noise)."""
    return {e.cause for e in r.hidden} | {e.cause for e in r.entries if e.noise}


def _exception(r: Report) -> Dict[str, Any]:
    """The final exception's object (empty when the input shows none); the message capped as the contract says."""
    if r.exception is None:
        return {}
    return {"exception": {"type": r.exception["type"], "message": r.exception["message"][:2000]}}


def report_dict(r: Report, kb) -> Dict[str, Any]:
    d = r.diagnosis
    noise = _noise_causes(r)
    filled = {
        id(e.match): [{"title": f.title, "language": f.language, "code": f.code} for f in e.fixes] for e in r.entries
    }  # the report filled these already
    out: Dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "input": r.input,
        "matches": [
            _match_dict(
                m,
                noise,
                fixes=filled[id(m)] if id(m) in filled else fixes_of(m, kb),
                lines=m.lines,
                facts={k: v for k, v in m.facts.items() if isinstance(v, (str, int, float, bool))},
            )
            for m in d.matches
        ],
        "elapsed_ms": r.elapsed_ms,
        "fingerprint": r.fingerprint,
        "causes": [
            {
                "rank": e.rank,
                "cause": e.cause,
                "signature": e.signature,
                "score": e.score,
                "confident": e.confident,
                "also": [a.signature for a in e.also],
            }
            for e in r.entries
        ],
        "numbered_fixes": [f.as_dict() for f in r.fixes],
    }
    out.update(_exception(r))
    if not d.confident:
        out["unknown"] = {"explanation": r.family, "scaffold": r.scaffold}
    notes = list(r.notes) + ([r.kb_warning] if r.kb_warning else [])
    if notes:
        out["notes"] = notes
    return out


def to_dict(d, kb, *, top: int = 3) -> Dict[str, Any]:
    """Diagnosis -> the JSON object (builds the Report; `matches` is not cut to `top`, `causes` is)."""
    from .report import build

    return report_dict(build(d, kb, top=top, explain=False), kb)


def error_dict(name: str, reason: str) -> Dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "input": name, "matches": [], "elapsed_ms": 0.0, "error": reason}


def row_dict(d, kb, *, top: int = 3) -> Dict[str, Any]:
    """The keys of to_dict() that a scan's summary row reads (scan.flat: each match's cause, signature, score,
    confidence, title, evidence, noise and hint marks; the exception, fingerprint and time), without filling every
    match's fixes: a scan that writes no JSON line builds only these."""
    from .report import build

    r = build(d, kb, top=top, explain=False, fixes=False)
    noise = _noise_causes(r)
    out: Dict[str, Any] = {
        "input": r.input,
        "matches": [_match_dict(m, noise) for m in d.matches],
        "elapsed_ms": r.elapsed_ms,
        "fingerprint": r.fingerprint,
    }
    out.update(_exception(r))
    return out
