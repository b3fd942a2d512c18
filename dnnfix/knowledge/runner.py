"""`dnnfix kb test`: run every case beside every signature, and the negative corpus.

- match: the signature fires and its cause ranks first (a signature of another cause that outranks it is
  a cross-cause failure, unless kb/allow.yaml names the overlap with a reason);
- no-match: the signature is not confident (and `cause:`, when given, ranks first);
- todo: a known gap, reported, never failing;
- cause-level cases (kb/cases/*.cases.yaml): the text ranks `cause` within the first `top` distinct causes,
  confident or not as `confident` says, with the `facts` captured; `also` causes within their rank limits;
  `not_confident` / `not_first` / `not_ranked` causes kept down; `silent`: nothing confident;
- negatives: no signature is confident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .check import Case, CheckResult


@dataclass
class Outcome:
    case: Case
    ok: bool
    message: str = ""
    top: str = ""
    allowed: str = ""


@dataclass
class TestReport:
    outcomes: List[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> List[Outcome]:
        return [o for o in self.outcomes if not o.ok and o.case.expect != "todo"]

    @property
    def passed(self) -> List[Outcome]:
        return [o for o in self.outcomes if o.ok and o.case.expect != "todo"]

    @property
    def todos(self) -> List[Outcome]:
        return [o for o in self.outcomes if o.case.expect == "todo"]


def _summ(ms) -> str:
    return (
        ", ".join(f"{m.cause} {m.score:.2f}{'*' if m.confident else ''} [{m.signature}]" for m in ms[:3]) or "nothing"
    )


def cause_case_problems(case: Case, ms) -> List[str]:
    """What a cause-level case expects and the ranked matches `ms` do not show (empty: the case passes)."""
    causes: List[str] = []
    first: Dict[str, Any] = {}
    for m in ms:
        if m.cause not in first:
            first[m.cause] = m
            causes.append(m.cause)
    errs: List[str] = []
    if case.cause:
        where = "first" if case.top == 1 else f"in the top {case.top}"
        if case.cause not in causes[: case.top]:
            errs.append(f"expected {case.cause} {where}")
        else:
            m = first[case.cause]
            if case.confident is True and not m.confident:
                errs.append(f"{case.cause} ranked but not confident ({m.score:.2f})")
            elif case.confident is False and m.confident:
                errs.append(f"{case.cause} must not be confident ({m.score:.2f})")
            for k, v in case.facts.items():
                got = m.facts.get(k)
                if got is None or str(got) != v:
                    errs.append(f"fact {k}: expected {v!r}, captured {got!r}")
    for cid, n in case.also.items():
        if cid not in causes[:n]:
            errs.append(f"expected {cid} in the top {n}")
    if case.signature and not any(m.signature == case.signature for m in ms):
        errs.append(f"signature {case.signature} did not fire")
    for cid in case.not_confident:
        if any(m.cause == cid and m.confident for m in ms):
            errs.append(f"{cid} must not be confident")
    for cid in case.not_first:
        if causes[:1] == [cid]:
            errs.append(f"{cid} must not rank first")
    for cid in case.not_ranked:
        if cid in first:
            errs.append(f"{cid} must not be offered at all")
    if case.silent and any(m.confident for m in ms):
        errs.append("expected nothing confident")
    return errs


def run_case(case: Case, kb, sigs: Dict[str, Any], allow: List[Dict[str, str]]) -> Outcome:
    from ..api import diagnose_text

    d = diagnose_text(case.text, env=case.env, probe=False, kb=kb, similar=False)  # cases test signatures
    ms = d.matches
    if case.kind == "cause":
        errs = cause_case_problems(case, ms)
        return Outcome(case, not errs, "; ".join(errs) + (f"; got {_summ(ms)}" if errs else ""), _summ(ms))
    top = ms[0] if ms else None
    mine = next((m for m in ms if m.signature == case.signature), None)
    got = _summ(ms)
    if case.expect == "negative":
        conf = [m for m in ms if m.confident]
        return Outcome(case, not conf, "" if not conf else f"confident on an ordinary failure: {_summ(conf)}", got)
    sig = sigs.get(case.signature)
    cause = sig.cause if sig else ""
    if case.expect in ("match", "todo"):
        if mine is None:
            return Outcome(case, False, f"signature did not fire; got {got}", got)
        if case.confident and not mine.confident:
            return Outcome(case, False, f"fired but not confident ({mine.score:.2f}); got {got}", got)
        if top is not None and top.cause != cause:
            key = f"{case.path.rsplit('/', 1)[-1]}#{case.name}"
            for a in allow:
                if a.get("signature") == top.signature and a.get("case") in (key, case.name):
                    return Outcome(case, True, "", got, allowed=a.get("reason", ""))
            return Outcome(
                case,
                False,
                f"cross-cause: {top.signature} ({top.cause} {top.score:.2f}) outranks "
                f"{case.signature} ({cause} {mine.score:.2f})",
                got,
            )
        return Outcome(case, True, "", got)
    # no-match
    if mine is not None and mine.confident:
        return Outcome(case, False, f"near miss matched confidently ({mine.score:.2f}); got {got}", got)
    if case.cause:
        if top is None or top.cause != case.cause:
            return Outcome(case, False, f"expected {case.cause} first; got {got}", got)
    return Outcome(case, True, "", got)


def run_all(res: CheckResult, only: Optional[str] = None) -> TestReport:
    kb = res.kb
    sigs = {s.id: s for s in kb.signatures}
    rep = TestReport()
    for case in res.cases:
        if (
            only
            and only not in case.signature
            and only not in getattr(sigs.get(case.signature), "cause", "")
            and only not in case.path
        ):
            continue
        rep.outcomes.append(run_case(case, kb, sigs, res.allow))
    for case in res.cause_cases:
        if only and only not in case.path and only != case.cause and only not in case.name:
            continue
        rep.outcomes.append(run_case(case, kb, sigs, res.allow))
    for case in res.negatives:
        if only and only not in case.path and only != "negatives":
            continue
        rep.outcomes.append(run_case(case, kb, sigs, res.allow))
    return rep
