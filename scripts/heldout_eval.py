"""Held-out evaluation: run dnnfix on the pastes in tests/heldout/ and report how often the right cause ranks
first / in the top 3, and how often dnnfix makes a confident claim on ordinary failures (negatives).

    python scripts/heldout_eval.py [--json] [--root DIR | --dir DIR] [--user-kb]

tests/heldout/<cause-id>/*.txt   one paste per file, expected cause = the folder name
tests/heldout/negatives/*.txt    ordinary failures: no confident claim allowed

The pastes were written without looking at kb/signatures or kb/negatives (see tests/heldout/README.md), so
these numbers estimate how the knowledge base generalises. By default the user KB and DNNFIX_KB_PATH are
ignored so that only the shipped knowledge base is measured; --user-kb keeps them.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DEFAULT_ROOT = REPO / "tests" / "heldout"
NEGATIVES = "negatives"


def load_cases(root: Path = DEFAULT_ROOT) -> List[Dict[str, Any]]:
    """Every paste under root: {"path", "expected" (None for negatives), "text"}, sorted by path."""
    cases = []
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        expected = None if d.name == NEGATIVES else d.name
        for f in sorted(d.glob("*.txt")):
            with open(f, encoding="utf-8", newline="") as fh:
                text = fh.read()
            cases.append({"path": f"{d.name}/{f.name}", "expected": expected, "text": text})
    return cases


def ranked(matches) -> List[Dict[str, Any]]:
    """Matches collapsed to distinct causes, best first (a cause keeps its best-scoring signature)."""
    out: List[Dict[str, Any]] = []
    seen = set()
    for m in matches:
        if m.cause in seen:
            continue
        seen.add(m.cause)
        out.append({"cause": m.cause, "score": round(float(m.score), 3), "confident": bool(m.confident),
                    "signature": m.signature})
    return out


def evaluate(cases: List[Dict[str, Any]], kb=None) -> Dict[str, Any]:
    """Run dnnfix on every case and aggregate top-1/top-3 per cause and confident claims on negatives."""
    from dnnfix.api import diagnose_text
    from dnnfix.kbload import load_kb

    kb = kb or load_kb()
    per: Dict[str, Dict[str, int]] = defaultdict(lambda: {"n": 0, "top1": 0, "top3": 0})
    misses: List[Dict[str, Any]] = []
    neg_claims: List[Dict[str, Any]] = []
    rows: List[Dict[str, Any]] = []
    n_neg = 0
    confident_wrong = 0
    for c in cases:
        d = diagnose_text(c["text"], probe=False, kb=kb, name=c["path"])
        top = ranked(d.matches)
        top3 = top[:3]
        row = {"path": c["path"], "expected": c["expected"], "top3": top3}
        rows.append(row)
        if c["expected"] is None:
            n_neg += 1
            claims = [t for t in top if t["confident"]]
            row["confident_claim"] = bool(claims)
            if claims:
                neg_claims.append({"path": c["path"], "claims": claims[:3]})
            continue
        exp = c["expected"]
        causes = [t["cause"] for t in top3]
        hit1 = bool(causes) and causes[0] == exp
        hit3 = exp in causes
        row.update(top1=hit1, top3_hit=hit3)
        per[exp]["n"] += 1
        per[exp]["top1"] += hit1
        per[exp]["top3"] += hit3
        if top3 and top3[0]["confident"] and not hit1:
            confident_wrong += 1
        if not hit1:
            misses.append({"path": c["path"], "expected": exp, "in_top3": hit3, "got": top3})
    n_pos = sum(v["n"] for v in per.values())
    top1 = sum(v["top1"] for v in per.values())
    top3 = sum(v["top3"] for v in per.values())
    return {
        "positives": n_pos,
        "top1": top1,
        "top3": top3,
        "top1_rate": round(top1 / n_pos, 4) if n_pos else 0.0,
        "top3_rate": round(top3 / n_pos, 4) if n_pos else 0.0,
        "confident_wrong_top1": confident_wrong,
        "negatives": n_neg,
        "negative_confident_claims": len(neg_claims),
        "negative_claim_rate": round(len(neg_claims) / n_neg, 4) if n_neg else 0.0,
        "per_cause": {k: dict(v) for k, v in sorted(per.items())},
        "misses": misses,
        "negative_claims": neg_claims,
        "cases": rows,
    }


def _fmt_top(top3: List[Dict[str, Any]]) -> str:
    if not top3:
        return "(no match)"
    return ", ".join(f"{t['cause']} {t['score']:.2f}{'*' if t['confident'] else ''}" for t in top3)


def report(res: Dict[str, Any], out=sys.stdout) -> None:
    p = lambda *a: print(*a, file=out)  # noqa: E731
    p(f"{'cause':45s} {'n':>3s} {'top1':>5s} {'top3':>5s}")
    for cause, v in res["per_cause"].items():
        flag = "" if v["top1"] == v["n"] else "  <"
        p(f"{cause:45s} {v['n']:3d} {v['top1']:5d} {v['top3']:5d}{flag}")
    p("")
    p(f"positives: {res['positives']}   top-1: {res['top1']} ({res['top1_rate']:.1%})   "
      f"top-3: {res['top3']} ({res['top3_rate']:.1%})   confident but wrong at top-1: {res['confident_wrong_top1']}")
    p(f"negatives: {res['negatives']}   confident claims: {res['negative_confident_claims']} "
      f"({res['negative_claim_rate']:.1%})")
    if res["misses"]:
        p("")
        p("misses (expected not ranked first; * = confident):")
        by: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
        for m in res["misses"]:
            by[m["expected"]].append(m)
        for cause in sorted(by):
            p(f"  {cause}")
            for m in by[cause]:
                where = "top-3" if m["in_top3"] else "MISS "
                p(f"    [{where}] {m['path']}: {_fmt_top(m['got'])}")
    if res["negative_claims"]:
        p("")
        p("confident claims on negatives:")
        for n in res["negative_claims"]:
            p(f"    {n['path']}: {_fmt_top(n['claims'])}")


def _isolate() -> None:
    """Measure only the shipped knowledge base: no user KB, no DNNFIX_KB_PATH."""
    os.environ["DNNFIX_USER_KB"] = os.path.join(tempfile.gettempdir(), "dnnfix-heldout-no-user-kb")
    os.environ.pop("DNNFIX_KB_PATH", None)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="machine-readable output")
    ap.add_argument("--root", "--dir", dest="root", default=str(DEFAULT_ROOT),
                    help="folder of pastes (default tests/heldout; e.g. --dir tests/heldout2)")
    ap.add_argument("--user-kb", action="store_true", help="also load the user KB and DNNFIX_KB_PATH")
    ap.add_argument("--cases", action="store_true", help="with --json, include every case's top 3")
    args = ap.parse_args(argv)
    if not args.user_kb:
        _isolate()
    res = evaluate(load_cases(Path(args.root)))
    if args.json:
        if not args.cases:
            res = {k: v for k, v in res.items() if k != "cases"}
        json.dump(res, sys.stdout, indent=2)
        print()
    else:
        report(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
