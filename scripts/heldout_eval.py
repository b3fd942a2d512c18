"""Held-out evaluation: run dnnfix on a folder of pastes and report how often the right cause ranks first / in
the top 3, how often it is first *and confident*, how often dnnfix makes a confident claim on ordinary failures
(negatives), and a reliability table (confident claims binned by score: how many were right).

    python scripts/heldout_eval.py [--json] [--root DIR | --dir DIR] [--user-kb] [--part dev|sealed|all] [--no-similar]
                                   [--baseline FILE | --write-baseline FILE]

<DIR>/<cause-id>/*.txt    one paste per file, expected cause = the folder name
<DIR>/<cause-id>/*.yaml   the same as a record with `text:` and its `source:` (the development set, tests/devset)
<DIR>/negatives/*         ordinary failures: no confident claim allowed

The development set keeps a sealed quarter that no tuning may look at: the cases whose sha1 of
"<folder>/<file name>" starts with 0-3 (hex). `--part dev` measures the rest, `--part sealed` the sealed quarter.
A baseline (`--write-baseline`) stores the known misses; `--baseline` fails (exit 1) on any new miss.

The pastes were written without looking at kb/signatures or kb/negatives (see tests/heldout/README.md), so
these numbers estimate how the knowledge base generalises. By default the user KB and DNNFIX_KB_PATH are
ignored so that only the shipped knowledge base is measured; --user-kb keeps them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Set

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DEFAULT_ROOT = REPO / "tests" / "heldout"
NEGATIVES = "negatives"


def sealed(path: str) -> bool:
    """Whether a case (path "<folder>/<file name>") belongs to the sealed quarter."""
    return hashlib.sha1(path.encode("utf-8")).hexdigest()[0] in "0123"


def load_cases(root: Path = DEFAULT_ROOT, part: str = "all") -> List[Dict[str, Any]]:
    """Every paste under root: {"path", "expected" (None for negatives), "text", "meta"}, sorted by path.

    part: "all", "dev" (not sealed) or "sealed" (see sealed()).
    """
    import yaml

    cases = []
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        expected = None if d.name == NEGATIVES else d.name
        for f in sorted(list(d.glob("*.txt")) + list(d.glob("*.yaml"))):
            path = f"{d.name}/{f.name}"
            if part != "all" and sealed(path) != (part == "sealed"):
                continue
            with open(f, encoding="utf-8", newline="") as fh:
                raw = fh.read()
            meta: Dict[str, Any] = {}
            if f.suffix == ".yaml":
                try:
                    meta = yaml.safe_load(raw) or {}
                except yaml.YAMLError as e:
                    raise SystemExit(f"{f}: not valid YAML: {e}") from None
                if not isinstance(meta, dict) or not isinstance(meta.get("text"), str):
                    raise ValueError(f"{f}: a case record needs a `text:` string")
                raw = meta.pop("text")
            cases.append({"path": path, "expected": expected, "text": raw, "meta": meta})
    return cases


# score bins of the reliability table: [lo, hi)
BINS = [(0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 1.01)]


def reliability(rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Top claims binned by score: for each bin, how many top-ranked causes were right.

    A negative's top claim is always wrong (any cause named for an ordinary failure is a false claim).
    """
    out = []
    for lo, hi in BINS:
        n = right = 0
        for r in rows:
            if not r["top3"]:
                continue
            s = r["top3"][0]["score"]
            if lo <= s < hi:
                n += 1
                right += bool(r.get("top1"))
        out.append(
            {
                "bin": f"{lo:.2f}-{min(hi, 1.0):.2f}",
                "claims": n,
                "right": right,
                "precision": round(right / n, 4) if n else None,
            }
        )
    return out


def miss_keys(res: Dict[str, Any]) -> Dict[str, str]:
    """What a baseline stores: every case that is not fully right, with how it fails."""
    keys: Dict[str, str] = {}
    for r in res["cases"]:
        if r["expected"] is None:
            if r.get("confident_claim"):
                keys[r["path"]] = "confident claim on a negative"
        elif not r.get("top3_hit"):
            keys[r["path"]] = "not in top 3"
        elif not r.get("top1"):
            keys[r["path"]] = "not first"
        elif not r.get("top1_confident"):
            keys[r["path"]] = "first, not confident"
    return keys


_ORDER = {"first, not confident": 1, "not first": 2, "not in top 3": 3, "confident claim on a negative": 3}


def compare_baseline(
    res: Dict[str, Any], baseline: Dict[str, str], evaluated: Optional[Set[str]] = None
) -> Dict[str, List[str]]:
    """New misses (or worse ones) and fixed ones, against a stored baseline of known misses. `evaluated`: the paths
    this run looked at (a --part run leaves the other part's baseline entries out: they are not fixed, only unseen)."""
    now = miss_keys(res)
    new = [f"{p}: {k}" for p, k in sorted(now.items()) if _ORDER[k] > _ORDER.get(baseline.get(p, ""), 0)]
    fixed = [p for p in sorted(baseline) if p not in now and (evaluated is None or p in evaluated)]
    return {"new": new, "fixed": fixed}


def ranked(matches) -> List[Dict[str, Any]]:
    """Matches collapsed to distinct causes, best first (a cause keeps its best-scoring signature)."""
    out: List[Dict[str, Any]] = []
    seen = set()
    for m in matches:
        if m.cause in seen:
            continue
        seen.add(m.cause)
        out.append(
            {
                "cause": m.cause,
                "score": round(float(m.score), 3),
                "confident": bool(m.confident),
                "signature": m.signature,
            }
        )
    return out


def _sealed_case(c: Dict[str, Any]) -> bool:
    """A real paste (it names its thread) of the sealed quarter: reports give its numbers, never its name or answer."""
    return bool(c["meta"].get("source")) and sealed(c["path"])


def evaluate(cases: List[Dict[str, Any]], kb=None, similar: bool = True) -> Dict[str, Any]:
    """Run dnnfix on every case and aggregate top-1/top-3 per cause and confident claims on negatives."""
    from dnnfix.api import diagnose_text
    from dnnfix.knowledge.load import load_kb
    from dnnfix.resemble import devset_id

    kb = kb or load_kb()
    per: Dict[str, Dict[str, int]] = defaultdict(lambda: {"n": 0, "top1": 0, "top3": 0})
    misses: List[Dict[str, Any]] = []
    neg_claims: List[Dict[str, Any]] = []
    rows: List[Dict[str, Any]] = []
    n_neg = 0
    confident_wrong = 0
    for c in cases:
        # a development-set case is one of the known failures that resemble.py compares with: never itself
        own = [devset_id(c["path"])] if c["meta"].get("source") else []
        d = diagnose_text(c["text"], probe=False, kb=kb, name=c["path"], similar=similar, exclude_similar=own)
        top = ranked(d.matches)
        top3 = top[:3]
        row = {"path": c["path"], "expected": c["expected"], "top3": top3}
        rows.append(row)
        if c["expected"] is None:
            n_neg += 1
            claims = [t for t in top if t["confident"]]
            row["confident_claim"] = bool(claims)
            if claims:
                neg_claims.append({"path": c["path"], "claims": claims[:3], "sealed": _sealed_case(c)})
            continue
        exp = c["expected"]
        causes = [t["cause"] for t in top3]
        hit1 = bool(causes) and causes[0] == exp
        hit3 = exp in causes
        row.update(top1=hit1, top3_hit=hit3, top1_confident=hit1 and bool(top3[0]["confident"]))
        per[exp]["n"] += 1
        per[exp]["top1"] += hit1
        per[exp]["top3"] += hit3
        if top3 and top3[0]["confident"] and not hit1:
            confident_wrong += 1
        if not hit1:
            misses.append({"path": c["path"], "expected": exp, "in_top3": hit3, "got": top3, "sealed": _sealed_case(c)})
    n_pos = sum(v["n"] for v in per.values())
    top1_conf = sum(1 for r in rows if r.get("top1_confident"))
    top1 = sum(v["top1"] for v in per.values())
    top3 = sum(v["top3"] for v in per.values())
    return {
        "positives": n_pos,
        "top1": top1,
        "top3": top3,
        "top1_rate": round(top1 / n_pos, 4) if n_pos else 0.0,
        "top3_rate": round(top3 / n_pos, 4) if n_pos else 0.0,
        "top1_confident": top1_conf,
        "top1_confident_rate": round(top1_conf / n_pos, 4) if n_pos else 0.0,
        "reliability": reliability(rows),
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


def report(res: Dict[str, Any], out=sys.stdout, show_sealed: bool = False) -> None:
    """The text report. The misses and claims of sealed cases are counted, not named (show_sealed names them): a
    session that tunes reads this list, and the sealed quarter must stay unseen."""
    p = lambda *a: print(*a, file=out)  # noqa: E731
    p(f"{'cause':45s} {'n':>3s} {'top1':>5s} {'top3':>5s}")
    for cause, v in res["per_cause"].items():
        flag = "" if v["top1"] == v["n"] else "  <"
        p(f"{cause:45s} {v['n']:3d} {v['top1']:5d} {v['top3']:5d}{flag}")
    p("")
    p(
        f"positives: {res['positives']}   top-1: {res['top1']} ({res['top1_rate']:.1%})   "
        f"top-3: {res['top3']} ({res['top3_rate']:.1%})   first and confident: {res['top1_confident']} "
        f"({res['top1_confident_rate']:.1%})   confident but wrong at top-1: {res['confident_wrong_top1']}"
    )
    p(
        f"negatives: {res['negatives']}   confident claims: {res['negative_confident_claims']} "
        f"({res['negative_claim_rate']:.1%})"
    )
    p("")
    p("reliability (top claim of every case, binned by score; a negative's claim is never right):")
    for b in res["reliability"]:
        prec = "" if b["precision"] is None else f"{b['precision']:.1%}"
        p(f"  {b['bin']}  claims {b['claims']:4d}  right {b['right']:4d}  {prec}")
    conf = [b for b in res["reliability"] if float(b["bin"].split("-")[0]) >= 0.6]
    n_c, r_c = sum(b["claims"] for b in conf), sum(b["right"] for b in conf)
    if n_c:
        p(f"  confident claims (>= 0.60): {n_c}, right {r_c} ({r_c / n_c:.1%})")
    if res["misses"]:
        p("")
        p("misses (expected not ranked first; * = confident):")
        by: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
        for m in res["misses"]:
            by[m["expected"]].append(m)
        hidden = 0
        for cause in sorted(by):
            shown = [m for m in by[cause] if show_sealed or not m.get("sealed")]
            hidden += len(by[cause]) - len(shown)
            if not shown:
                continue
            p(f"  {cause}")
            for m in shown:
                where = "top-3" if m["in_top3"] else "MISS "
                p(f"    [{where}] {m['path']}: {_fmt_top(m['got'])}")
        if hidden:
            p(f"  (and {hidden} in the sealed quarter, not named: --show-sealed names them)")
    if res["negative_claims"]:
        p("")
        p("confident claims on negatives:")
        hidden = 0
        for n in res["negative_claims"]:
            if n.get("sealed") and not show_sealed:
                hidden += 1
                continue
            p(f"    {n['path']}: {_fmt_top(n['claims'])}")
        if hidden:
            p(f"    (and {hidden} in the sealed quarter, not named: --show-sealed names them)")


def _isolate() -> None:
    """Measure only the shipped knowledge base: no user KB, no DNNFIX_KB_PATH."""
    os.environ["DNNFIX_USER_KB"] = os.path.join(tempfile.gettempdir(), "dnnfix-heldout-no-user-kb")
    os.environ.pop("DNNFIX_KB_PATH", None)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="machine-readable output")
    ap.add_argument(
        "--root",
        "--dir",
        dest="root",
        default=str(DEFAULT_ROOT),
        help="folder of pastes (default tests/heldout; e.g. --dir tests/heldout2)",
    )
    ap.add_argument("--user-kb", action="store_true", help="also load the user KB and DNNFIX_KB_PATH")
    ap.add_argument("--cases", action="store_true", help="with --json, include every case's top 3")
    ap.add_argument(
        "--no-similar", action="store_true", help="signatures only: no hints from known failures that look alike"
    )
    ap.add_argument(
        "--part",
        choices=["all", "dev", "sealed"],
        default="all",
        help="the development part, the sealed quarter, or both (default)",
    )
    ap.add_argument(
        "--show-sealed",
        action="store_true",
        help="name the sealed quarter's misses too (only for final checks: tuning must not see them)",
    )
    ap.add_argument("--baseline", metavar="FILE", help="fail (exit 1) on any miss not in this stored baseline")
    ap.add_argument("--write-baseline", metavar="FILE", help="store the current misses as the baseline")
    args = ap.parse_args(argv)
    if not args.user_kb:
        _isolate()
    cases = load_cases(Path(args.root), args.part)
    res = evaluate(cases, similar=not args.no_similar)
    sealed_names = set() if args.show_sealed else {c["path"] for c in cases if _sealed_case(c)}
    if args.write_baseline:
        write_baseline(Path(args.write_baseline), res)
    if args.json:
        if not args.cases:
            res = {k: v for k, v in res.items() if k != "cases"}
        json.dump(res, sys.stdout, indent=2)
        print()
    else:
        report(res, show_sealed=args.show_sealed)
    if args.baseline:
        diff = compare_baseline(res, read_baseline(Path(args.baseline)), {c["path"] for c in cases})

        def named(entry: str) -> bool:
            # a sealed case stays unnamed whether or not this run loaded it
            path = entry.split(":", 1)[0]
            return args.show_sealed or (path not in sealed_names and not sealed(path))

        for f in diff["fixed"]:
            print(f"fixed since the baseline: {f if named(f) else '(a sealed case)'}", file=sys.stderr)
        for n in diff["new"]:
            print(f"NEW MISS: {n if named(n) else '(a sealed case)'}", file=sys.stderr)
        return 1 if diff["new"] else 0
    return 0


def read_baseline(path: Path) -> Dict[str, str]:
    import yaml

    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return dict(data.get("known_misses") or {})


def write_baseline(path: Path, res: Dict[str, Any]) -> None:
    import yaml

    keys = miss_keys(res)
    head = (
        "# Known misses: cases dnnfix does not get fully right today (scripts/heldout_eval.py --write-baseline).\n"
        "# tests fail on any miss not listed here, or one that got worse; fixed ones are reported.\n"
    )
    path.write_text(head + yaml.safe_dump({"known_misses": keys}, sort_keys=True, width=120), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
