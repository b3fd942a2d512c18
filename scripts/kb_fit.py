#!/usr/bin/env python3
"""Fit the knowledge base's clause strengths from its cases and negatives, snap them to the named levels, and
check the result on data that no fitting saw.

    python scripts/kb_fit.py [--iters 400] [--reg 0.3] [--apply] [--check-dirs tests/heldout3 tests/devset]

Noisy-OR is additive in t = -log(1 - w): a signature's score is (1 - exp(-sum t_match)) * exp(-sum t_against)
over the clauses that fired. Which clauses fire does not depend on the weights, so the cases are matched once,
the fired clauses recorded, and the fit is a small regularised problem over the t's:
- a `match` case: the signature is confident (score >= 0.6 + margin) and beats every signature of another cause;
- a `no-match` case: the signature stays under 0.6 - margin (and `cause:` wins when given);
- a negative: every signature stays under 0.6 - margin;
- a pull towards today's weights (--reg), so that clauses no case exercises keep their strength.
The fitted strengths are snapped to the nearest level (dnnfix.knowledge.signature.LEVELS). The report compares, on the
cases (what the fit saw) and on --check-dirs (what it did not: the held-out sets, the development set's dev part
and its sealed quarter as aggregate numbers only): today's weights, today's weights snapped to levels, and the
fitted levels. --apply writes the fitted levels into the signature files (`weight: strong`).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CONF = 0.6
MARGIN = 0.04


def record(res):
    """Match every case once, recording which clauses of which signatures fired."""
    from dnnfix import matcher
    from dnnfix.api import diagnose_text

    fired: Dict[str, Dict[str, set]] = {}
    cur = [None]
    orig_score, orig_eval = matcher.score_signature, matcher._eval

    def score(sig, corpus, inc, facts, *more, **kw):
        cur[0] = sig
        fired[sig.id] = {"m": set(), "a": set()}
        out = orig_score(sig, corpus, inc, facts, *more, **kw)
        if out is None:
            fired.pop(sig.id, None)
        cur[0] = None
        return out

    def ev(cl, *a):
        e = orig_eval(cl, *a)
        sig = cur[0]
        if e is not None and sig is not None:
            for sect, clauses in (("m", sig.match), ("a", sig.against)):
                for i, c in enumerate(clauses):
                    if c is cl:
                        fired[sig.id][sect].add(i)
        return e

    matcher.score_signature, matcher._eval = score, ev
    rows = []
    try:
        for case in res.cases + res.negatives:
            fired.clear()
            diagnose_text(case.text, env=case.env, probe=False, kb=res.kb, similar=False)
            rows.append((case, {k: (sorted(v["m"]), sorted(v["a"])) for k, v in fired.items()}))
    finally:
        matcher.score_signature, matcher._eval = orig_score, orig_eval
    return rows


def clause_ids(kb) -> Tuple[Dict[Tuple[str, str, int], int], List[float]]:
    ids, w = {}, []
    for s in kb.signatures:
        for sect, clauses in (("m", s.match), ("a", s.against)):
            for i, c in enumerate(clauses):
                ids[(s.id, sect, i)] = len(w)
                w.append(c.weight)
    return ids, w


def to_t(w: float) -> float:
    return -math.log(max(1e-6, 1.0 - min(w, 0.999)))


def to_w(t: float) -> float:
    return 1.0 - math.exp(-t)


def scores(rows, ids, t, sig_cause):
    """For each case: [(signature, cause, score, n_fired)], best first, as the matcher ranks them."""
    out = []
    for case, fired in rows:
        cands = []
        for sid, (m, a) in fired.items():
            sm = sum(t[ids[(sid, "m", i)]] for i in m)
            sa = sum(t[ids[(sid, "a", i)]] for i in a)
            sc = round((1 - math.exp(-sm)) * math.exp(-sa), 4)
            cands.append((sid, sig_cause[sid], sc, len(m)))
        cands.sort(key=lambda c: (-c[2], -c[3], c[0]))
        out.append(cands)
    return out


def passes(rows, ranked) -> Tuple[int, int]:
    """kb-test outcome per case (allow-list aside): (passed, total)."""
    ok = 0
    for (case, _), cands in zip(rows, ranked):
        top = cands[0] if cands else None
        mine = next((c for c in cands if c[0] == case.signature), None)
        if case.expect == "negative":
            good = not any(c[2] >= CONF for c in cands)
        elif case.expect == "match":
            good = mine is not None and (mine[2] >= CONF or not case.confident) and top[1] == mine[1]
        elif case.expect == "no-match":
            good = not (mine is not None and mine[2] >= CONF) and (not case.cause or (top and top[1] == case.cause))
        else:
            continue
        ok += good
    return ok, sum(1 for c, _ in rows if c.expect in ("match", "no-match", "negative"))


def fit(rows, ids, t0, sig_cause, iters: int, reg: float, lr: float = 0.05):
    """Projected gradient descent on hinge losses in score space, with a pull towards t0."""
    import numpy as np

    t = np.array(t0, dtype=float)
    t0a = np.array(t0, dtype=float)
    # terms: (sign, sid, target) where sign +1 wants score >= target, -1 wants score <= target
    terms = []
    for case, fired in rows:
        if case.expect == "match" and case.signature in fired:
            if case.confident:
                terms.append((case, +1, case.signature, CONF + MARGIN))
            for sid in fired:
                if sig_cause[sid] != sig_cause[case.signature]:
                    terms.append((case, 0, (case.signature, sid), 0.02))  # rank margin
        elif case.expect == "no-match" and case.signature in fired:
            terms.append((case, -1, case.signature, CONF - MARGIN))
        elif case.expect == "negative":
            for sid in fired:
                terms.append((case, -1, sid, CONF - MARGIN))
    fired_of = {id(case): f for case, f in rows}

    def sc_grad(case, sid):
        m, a = fired_of[id(case)][sid]
        mi = [ids[(sid, "m", i)] for i in m]
        ai = [ids[(sid, "a", i)] for i in a]
        sm, sa = t[mi].sum(), t[ai].sum()
        s = (1 - math.exp(-sm)) * math.exp(-sa)
        g = {}
        for i in mi:
            g[i] = g.get(i, 0.0) + math.exp(-sm) * math.exp(-sa)
        for i in ai:
            g[i] = g.get(i, 0.0) - s
        return s, g

    for _ in range(iters):
        grad = reg * (t - t0a)
        for case, sign, who, target in terms:
            if sign == 0:
                s1, g1 = sc_grad(case, who[0])
                s2, g2 = sc_grad(case, who[1])
                if s1 - s2 < target:
                    for i, v in g1.items():
                        grad[i] -= v
                    for i, v in g2.items():
                        grad[i] += v
                continue
            s, g = sc_grad(case, who)
            if sign > 0 and s < target:
                for i, v in g.items():
                    grad[i] -= v
            elif sign < 0 and s > target:
                for i, v in g.items():
                    grad[i] += v
        t = np.clip(t - lr * grad, to_t(0.02), to_t(0.99))
    return [float(x) for x in t]


def repair(rows, ids, t: List[float], sig_cause, rounds: int = 3) -> List[float]:
    """Discrete step after snapping: move one clause one level up or down when that makes more cases pass
    and breaks none (greedy, a few rounds)."""
    from dnnfix.knowledge.signature import LEVELS

    lv = sorted(to_t(w) for w in LEVELS.values() if w > 0)  # capture is no strength
    t = list(t)
    where: Dict[int, List[int]] = defaultdict(list)
    for r, (case, fired) in enumerate(rows):
        for sid, (m, a) in fired.items():
            for i in m:
                where[ids[(sid, "m", i)]].append(r)
            for i in a:
                where[ids[(sid, "a", i)]].append(r)

    def ok_rows(rs):
        sub = [rows[r] for r in rs]
        ranked = scores(sub, ids, t, sig_cause)
        return [passes([row], [rk])[0] for row, rk in zip(sub, ranked)]

    for _ in range(rounds):
        ranked = scores(rows, ids, t, sig_cause)
        failing = [
            r
            for r, (row, rk) in enumerate(zip(rows, ranked))
            if not passes([row], [rk])[0] and row[0].expect in ("match", "no-match", "negative")
        ]
        moved = 0
        for r in failing:
            case, fired = rows[r]
            cands = [
                ids[(sid, sect, i)] for sid, (m, a) in fired.items() for sect, idx in (("m", m), ("a", a)) for i in idx
            ]
            for ci in cands:
                rs = sorted(set(where[ci]))
                before = ok_rows(rs)
                k = min(range(len(lv)), key=lambda j: abs(lv[j] - t[ci]))
                best = None
                for k2 in (k - 1, k + 1):
                    if 0 <= k2 < len(lv):
                        old, t[ci] = t[ci], lv[k2]
                        after = ok_rows(rs)
                        t[ci] = old
                        if all(a >= b for a, b in zip(after, before)) and sum(after) > sum(before):
                            best = lv[k2]
                            break
                if best is not None:
                    t[ci] = best
                    moved += 1
                    break
        if not moved:
            break
    return t


def snap(t: List[float]) -> List[float]:
    from dnnfix.knowledge.signature import LEVELS

    lv = sorted((to_t(w), w) for w in LEVELS.values() if w > 0)
    return [to_t(min(lv, key=lambda p: abs(p[0] - x))[1]) for x in t]


def measure(kb, weights: List[float], ids, dirs: List[str]) -> List[str]:
    """Evaluate the given weights on folders no fitting saw (aggregate numbers only)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("heldout_eval", REPO / "scripts" / "heldout_eval.py")
    ev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ev)
    saved = [c.weight for s in kb.signatures for c in list(s.match) + list(s.against)]
    for s in kb.signatures:
        for sect, clauses in (("m", s.match), ("a", s.against)):
            for i, c in enumerate(clauses):
                c.weight = weights[ids[(s.id, sect, i)]]
    out = []
    try:
        for d in dirs:
            parts = ["dev", "sealed"] if Path(d).name == "devset" else ["all"]
            for part in parts:
                r = ev.evaluate(ev.load_cases(Path(d), part), kb=kb)
                conf = [b for b in r["reliability"] if float(b["bin"].split("-")[0]) >= CONF]
                n, right = sum(b["claims"] for b in conf), sum(b["right"] for b in conf)
                out.append(
                    f"{Path(d).name}{'' if part == 'all' else ':' + part}: top-1 {r['top1_rate']:.1%}, "
                    f"first+confident {r['top1_confident_rate']:.1%}, confident claims right "
                    f"{(right / n if n else 0):.1%} ({n}), negatives claimed {r['negative_claim_rate']:.1%}"
                )
    finally:
        for (s, sect, i), w in zip(
            [
                (s, sect, i)
                for s in kb.signatures
                for sect, cl in (("m", s.match), ("a", s.against))
                for i, _ in enumerate(cl)
            ],
            saved,
        ):
            (s.match if sect == "m" else s.against)[i].weight = w
    return out


def apply_levels(kb, ids, t_new: List[float]) -> int:
    """Write `weight: <level>` into the signature files for every clause (clause line -> its weight line)."""
    from dnnfix.knowledge.signature import LEVELS

    by_w = {round(w, 4): name for name, w in LEVELS.items()}
    edits: Dict[str, List[Tuple[int, str]]] = defaultdict(list)
    for s in kb.signatures:
        if s.origin != "builtin":
            continue
        for sect, clauses in (("m", s.match), ("a", s.against)):
            for i, c in enumerate(clauses):
                if c.shared:  # `- use: NAME` (kb/clauses.yaml): one weight for every signature that uses it
                    continue
                level = by_w[round(to_w(t_new[ids[(s.id, sect, i)]]), 4)]
                edits[s.path].append((c.line, level))
    n = 0
    for path, items in edits.items():
        lines = Path(path).read_text(encoding="utf-8").split("\n")
        for line, level in items:
            # the clause's own mapping: from its line until the next "- " item at the same indent
            start = line - 1
            indent = len(lines[start]) - len(lines[start].lstrip())
            j, placed = start, False
            while j < len(lines):
                cur = lines[j]
                if j > start and cur.strip() and (len(cur) - len(cur.lstrip()) <= indent):
                    break
                m = re.match(r"^(\s*(?:-\s+)?)weight:\s*[^#\s]+(.*)$", cur)
                if m:
                    lines[j] = f"{m.group(1)}weight: {level}{m.group(2)}"
                    placed = True
                    break
                j += 1
            if not placed:  # no weight written: the default (0.5) becomes explicit
                first = lines[start]
                pad = " " * (len(first) - len(first.lstrip()) + 2)
                lines.insert(start + 1, f"{pad}weight: {level}")
            n += 1
        Path(path).write_text("\n".join(lines), encoding="utf-8")
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=300)
    ap.add_argument("--reg", type=float, default=0.3)
    ap.add_argument("--apply", action="store_true", help="write the fitted levels into the signature files")
    ap.add_argument(
        "--check-dirs", nargs="*", default=["tests/heldout", "tests/heldout2", "tests/heldout3", "tests/devset"]
    )
    args = ap.parse_args()
    os.environ["DNNFIX_USER_KB"] = os.path.join(os.sep, "nonexistent-dnnfix-user-kb")
    os.environ.pop("DNNFIX_KB_PATH", None)
    from dnnfix.knowledge.check import check

    res = check()
    kb = res.kb
    sig_cause = {s.id: s.cause for s in kb.signatures}
    ids, w0 = clause_ids(kb)
    t0 = [to_t(w) for w in w0]
    print(
        f"kb_fit: {len(kb.signatures)} signatures, {len(w0)} clauses, {len(res.cases)} cases, "
        f"{len(res.negatives)} negatives; distinct weights today: {len(set(w0))}"
    )
    rows = record(res)
    t_snap = snap(t0)
    t_fit = repair(rows, ids, snap(fit(rows, ids, t0, sig_cause, args.iters, args.reg)), sig_cause)
    variants = [("today's weights", t0), ("today's, snapped to levels", t_snap), ("fitted levels", t_fit)]
    for name, t in variants:
        ok, n = passes(rows, scores(rows, ids, t, sig_cause))
        print(f"  cases (seen by the fit)  {name:28s} {ok}/{n} pass")
    changed = sum(1 for a, b in zip(t_snap, t_fit) if abs(a - b) > 1e-9)
    print(f"  the fit moved {changed} clause(s) to another level than rounding would")
    for name, t in variants:
        for line in measure(kb, [to_w(x) for x in t], ids, args.check_dirs):
            print(f"  unseen  {name:28s} {line}")
    if args.apply:
        n = apply_levels(kb, ids, t_fit)
        print(f"wrote {n} weights as levels")
    return 0


if __name__ == "__main__":
    sys.exit(main())
