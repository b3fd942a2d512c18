"""Knowledge-base quality report: coverage per cause, top-1/top-3 on our own cases, false alarms on the
negative corpus, and a leave-one-cause-out check of how often dnnfix claims confidently when the truth is a
cause it does not know.

    python scripts/kb_eval.py [--json]
"""

from __future__ import annotations

import copy
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def ranked_causes(matches):
    out = []
    for m in matches:
        if m.cause not in out:
            out.append(m.cause)
    return out


def main() -> int:
    from dnnfix.api import diagnose_text
    from dnnfix.knowledge.check import check
    from dnnfix.knowledge.load import index_kb

    res = check()
    kb = res.kb
    sig_cause = {s.id: s.cause for s in kb.signatures}
    per = defaultdict(lambda: {"signatures": 0, "match": 0, "top1": 0, "top3": 0, "no-match": 0, "todo": 0})
    for s in kb.signatures:
        per[s.cause]["signatures"] += 1
    for cid in kb.causes:
        per[cid]
    match_cases = []
    for c in res.cases:
        cause = sig_cause.get(c.signature)
        if not cause:
            continue
        per[cause][c.expect] += 1
        if c.expect != "match":
            continue
        d = diagnose_text(c.text, env=c.env, kb=kb, similar=False)
        rc = ranked_causes(d.matches)
        per[cause]["top1"] += bool(rc[:1] == [cause])
        per[cause]["top3"] += cause in rc[:3]
        match_cases.append((cause, c))
    # calibration: how often the top-ranked cause is right, by its score, over our cases and the held-out set
    bins = [[0, 0] for _ in range(5)]
    texts = [(c, case.text, case.env) for c, case in match_cases]
    held = Path(__file__).resolve().parent.parent / "tests" / "heldout"
    if held.is_dir():
        for d in sorted(held.iterdir()):
            if d.is_dir() and d.name != "negatives":
                texts += [(d.name, f.read_text(encoding="utf-8"), None) for f in sorted(d.glob("*.txt"))]
    for cause, text, env in texts:
        d = diagnose_text(text, env=env, kb=kb, similar=False)
        if d.matches:
            b = min(int(d.matches[0].score * 5), 4)
            bins[b][0] += 1
            bins[b][1] += d.matches[0].cause == cause
    neg_alarms = []
    for c in res.negatives:
        d = diagnose_text(c.text, env=c.env, kb=kb, similar=False)
        conf = [m for m in d.matches if m.confident]
        if conf:
            neg_alarms.append((c.name, conf[0].signature))
    # leave-one-cause-out: remove a cause's signatures; its own match cases become "unknown errors"
    loo_total = loo_conf = 0
    loo_examples = []
    for cause in sorted({c for c, _ in match_cases}):
        reduced = copy.copy(kb)
        reduced.signatures = [s for s in kb.signatures if s.cause != cause]
        reduced.index, reduced.unkeyed, reduced.env_only = {}, [], []
        index_kb(reduced)
        for cz, case in match_cases:
            if cz != cause:
                continue
            d = diagnose_text(case.text, env=case.env, kb=reduced, similar=False)
            loo_total += 1
            conf = [m for m in d.matches if m.confident]
            if conf:
                loo_conf += 1
                if len(loo_examples) < 40:
                    loo_examples.append(f"{cause} case {case.name}: confident {conf[0].cause} [{conf[0].signature}]")
    n_match = len(match_cases)
    top1 = sum(v["top1"] for v in per.values())
    top3 = sum(v["top3"] for v in per.values())
    summary = {
        "causes": len(kb.causes),
        "causes_with_signatures": sum(1 for v in per.values() if v["signatures"]),
        "signatures": len(kb.signatures),
        "match_cases": n_match,
        "top1": top1 / n_match if n_match else 0,
        "top3": top3 / n_match if n_match else 0,
        "negatives": len(res.negatives),
        "negative_confident_alarms": len(neg_alarms),
        "leave_one_cause_out_cases": loo_total,
        "leave_one_cause_out_confident_rate": loo_conf / loo_total if loo_total else 0,
    }
    summary["calibration"] = {
        f"{i / 5:.1f}-{(i + 1) / 5:.1f}": (f"{r}/{n} right" if n else "-") for i, (n, r) in enumerate(bins)
    }
    if "--json" in sys.argv:
        print(
            json.dumps(
                {
                    "summary": summary,
                    "per_cause": per,
                    "negative_alarms": neg_alarms,
                    "leave_one_out_examples": loo_examples,
                },
                indent=2,
            )
        )
        return 0
    w = max(len(c) for c in per)
    print(f"{'cause':<{w}}  sigs  match  top1  top3  no-match  todo")
    for cid, v in sorted(per.items()):
        print(
            f"{cid:<{w}}  {v['signatures']:>4}  {v['match']:>5}  {v['top1']:>4}  {v['top3']:>4}  {v['no-match']:>8}  {v['todo']:>4}"
        )
    print()
    for k, v in summary.items():
        print(f"{k:<40} {v:.3f}" if isinstance(v, float) else f"{k:<40} {v}")
    print("(calibration: top-ranked cause right, by its score; `confident` starts at 0.6)")
    if neg_alarms:
        print("\nconfident false alarms on negatives:", *neg_alarms, sep="\n  ")
    if loo_examples:
        print("\nleave-one-cause-out confident claims (first 40):", *loo_examples, sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
