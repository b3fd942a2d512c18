"""Helpers for tests of dnnfix and of knowledge bases (yours included).

from dnnfix.testing import assert_matches, assert_silent
assert_matches(traceback_text, "tf.cudnn.version-mismatch")
"""

from __future__ import annotations

from typing import Any, List, Mapping, Optional, Sequence


def diagnose(text: str, env: Optional[Mapping[str, Any]] = None, kb_paths: Sequence[str] = ()) -> List[Any]:
    """Ranked matches for `text` (no facts about this machine unless `env` is given)."""
    from .api import diagnose_text

    return diagnose_text(text, env=env, probe=False, kb_paths=kb_paths, similar=False).matches


def ranked_causes(text: str, env: Optional[Mapping[str, Any]] = None, kb_paths: Sequence[str] = ()) -> List[str]:
    """Distinct causes in rank order (a cause's rank is its first match)."""
    out: List[str] = []
    for m in diagnose(text, env=env, kb_paths=kb_paths):
        if m.cause not in out:
            out.append(m.cause)
    return out


def top_cause(text: str, env: Optional[Mapping[str, Any]] = None, kb_paths: Sequence[str] = ()) -> Optional[str]:
    """The first-ranked cause, or None when nothing matched."""
    ranked = ranked_causes(text, env=env, kb_paths=kb_paths)
    return ranked[0] if ranked else None


def _summary(matches) -> str:
    return (
        "; ".join(f"{m.cause} {m.score:.2f}{'*' if m.confident else ''} [{m.signature}]" for m in matches[:5])
        or "no match"
    )


def assert_matches(
    text: str,
    cause: str,
    env: Optional[Mapping[str, Any]] = None,
    top: int = 1,
    confident: bool = True,
    kb_paths: Sequence[str] = (),
) -> Any:
    """Assert `cause` ranks within the first `top` distinct causes (and is confident). Returns its match."""
    ms = diagnose(text, env=env, kb_paths=kb_paths)
    causes: List[str] = []
    for m in ms:
        if m.cause not in causes:
            causes.append(m.cause)
    assert cause in causes[:top], f"expected {cause} in top {top}, got: {_summary(ms)}"
    m = next(m for m in ms if m.cause == cause)
    if confident:
        assert m.confident, f"{cause} ranked but not confident ({m.score:.2f}): {_summary(ms)}"
    return m


def assert_silent(text: str, env: Optional[Mapping[str, Any]] = None, kb_paths: Sequence[str] = ()) -> None:
    """Assert no match is confident."""
    ms = diagnose(text, env=env, kb_paths=kb_paths)
    conf = [m for m in ms if m.confident]
    assert not conf, f"expected no confident match, got: {_summary(conf)}"
