"""`dnnfix kb check | test | stats | new | path`: tools for knowledge-base contributors."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub) -> None:
    p = sub.add_parser("kb", help="check, test, scaffold and count knowledge-base signatures")
    ks = p.add_subparsers(dest="kb_command", metavar="KB_COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--kb", action="append", default=argparse.SUPPRESS, metavar="DIR", help="an extra knowledge-base folder"
    )
    c = ks.add_parser("check", parents=[common], help="lint every file: path:line:col diagnostics, exit 1 on errors")
    c.add_argument("--warnings", action="store_true", help="show warnings too")
    c.set_defaults(func=run_check)
    t = ks.add_parser("test", parents=[common], help="run every case and the negative corpus")
    t.add_argument("--only", metavar="TEXT", help="only cases whose signature id, cause or file contains TEXT")
    t.add_argument("-v", "--verbose", action="store_true", help="list passing cases and todo gaps too")
    t.add_argument("--json", action="store_true")
    t.set_defaults(func=run_test)
    s = ks.add_parser("stats", parents=[common], help="causes, signatures, cases and coverage gaps")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=run_stats)
    pth = ks.add_parser("path", parents=[common], help="print the knowledge-base folders in use, lowest priority first")
    pth.set_defaults(func=run_path)
    try:
        from . import kbnew

        kbnew.register(ks, common)
    except ImportError:
        pass
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])


def _extra(args):
    return getattr(args, "kb", []) or []


def run_check(args) -> int:
    from ..knowledge.check import check

    res = check(_extra(args))
    shown = res.diagnostics if args.warnings else res.errors
    for d in shown:
        print(d.format())
    n_err, n_warn = len(res.errors), len(res.diagnostics) - len(res.errors)
    kb = res.kb
    summary = (
        f"{len(kb.signatures)} signatures, {len(res.cases)} cases, {len(res.cause_cases)} cause-level cases, "
        f"{len(res.negatives)} negatives, "
        f"{len(kb.explanations)} explanations: {n_err} error(s), {n_warn} warning(s)"
    )
    print(
        ("dnnfix kb check: " + summary) + ("" if args.warnings or not n_warn else " (--warnings to list them)"),
        file=sys.stderr if n_err else sys.stdout,
    )
    _engine_note(kb, args.warnings)
    return 1 if n_err else 0


def _engine_note(kb, listed: bool) -> None:
    """Which patterns run on RE2 (linear time) and which need Python's re (look-arounds, back-references)."""
    from ..rx import compiled, re2_module

    places = [(s, cl) for s in kb.signatures for cl in list(s.match) + list(s.against) if cl.kind == "regex"]
    on_re = [(s, cl) for s, cl in places if compiled(cl.pattern).engine == "re"]
    if re2_module() is None:
        print(
            "dnnfix kb check: google-re2 is not installed: every pattern runs on Python's re, one line at a time "
            "(pip install google-re2 for linear-time matching)"
        )
        return
    print(
        f"dnnfix kb check: {len(places) - len(on_re)} of {len(places)} patterns run on RE2 (linear time); "
        f"{len(on_re)} need Python's re (look-arounds or back-references), each checked for backtracking (DNX119)"
        + ("" if listed or not on_re else " (--warnings to list them)")
    )
    if listed:
        for s, cl in on_re:
            print(f"{s.path}:{cl.line}:1: note: runs on Python's re: /{cl.pattern[:80]}/")


def run_test(args) -> int:
    from ..knowledge.check import check
    from ..knowledge.runner import run_all

    res = check(_extra(args))
    if res.errors:
        for d in res.errors:
            print(d.format())
        print(f"dnnfix kb test: fix the {len(res.errors)} check error(s) first (dnnfix kb check)")
    rep = run_all(res, args.only)
    if args.json:
        for o in rep.outcomes:
            print(
                json.dumps(
                    {
                        "file": o.case.path,
                        "line": o.case.line,
                        "case": o.case.name,
                        "signature": o.case.signature,
                        "cause": o.case.cause,
                        "expect": o.case.expect,
                        "ok": o.ok,
                        "message": o.message,
                        "got": o.top,
                        "allowed": o.allowed,
                    }
                )
            )
    else:
        for o in rep.outcomes:
            c = o.case
            if not o.ok and c.expect != "todo":
                print(
                    f"FAIL {c.path}:{c.line}: [{c.expect}] {c.signature or c.cause or 'negatives'}#{c.name}: {o.message}"
                )
            elif args.verbose and c.expect == "todo":
                print(f"TODO {c.path}:{c.line}: {c.signature}#{c.name}: {'now passes' if o.ok else o.message}")
            elif args.verbose:
                print(
                    f"ok   {c.path}:{c.line}: [{c.expect}] {c.signature or 'negatives'}#{c.name}"
                    + (f" (allowed: {o.allowed})" if o.allowed else "")
                )
        n_match = sum(1 for o in rep.outcomes if o.case.expect == "match")
        n_neg = sum(1 for o in rep.outcomes if o.case.expect == "negative")
        n_cause = sum(1 for o in rep.outcomes if o.case.expect == "cause")
        print(
            f"dnnfix kb test: {n_match} match, {len(rep.outcomes) - n_match - n_neg - n_cause - len(rep.todos)} "
            f"no-match, {n_cause} cause-level, {n_neg} negative cases; {len(rep.todos)} todo"
        )
        print(f"{len(rep.passed)} passed, {len(rep.failed)} failed")
    return 1 if rep.failed or res.errors else 0


def stats_data(res):
    kb = res.kb
    per = {
        cid: {
            "signatures": 0,
            "match": 0,
            "no-match": 0,
            "todo": 0,
            "explanation": cid in kb.explanations,
            "category": (meta or {}).get("category", ""),
        }
        for cid, meta in kb.causes.items()
    }
    sig_cause = {s.id: s.cause for s in kb.signatures}
    per_sig = {s.id: {"match": 0, "no-match": 0, "todo": 0} for s in kb.signatures}
    status: "dict[str, int]" = {}
    for s in kb.signatures:
        per.setdefault(
            s.cause, {"signatures": 0, "match": 0, "no-match": 0, "todo": 0, "explanation": False, "category": "?"}
        )
        per[s.cause]["signatures"] += 1
        status[s.status] = status.get(s.status, 0) + 1
    for c in res.cases:
        cid = sig_cause.get(c.signature)
        if cid:
            per[cid][c.expect] += 1
            per_sig[c.signature][c.expect] += 1
    gaps = {
        "causes_without_signature": sorted(c for c, v in per.items() if v["signatures"] == 0),
        "causes_without_explanation": sorted(c for c, v in per.items() if not v["explanation"]),
        "signatures_with_few_cases": sorted(s for s, v in per_sig.items() if v["match"] < 3 or v["no-match"] < 1),
    }
    return {
        "causes": per,
        "signatures": len(kb.signatures),
        "cases": len(res.cases),
        "negatives": len(res.negatives),
        "status": status,
        "gaps": gaps,
    }


def run_stats(args) -> int:
    from ..knowledge.check import check

    res = check(_extra(args))
    data = stats_data(res)
    if args.json:
        print(json.dumps(data, indent=2, sort_keys=True))
        return 0
    w = max(len(c) for c in data["causes"]) if data["causes"] else 10
    print(f"{'cause':<{w}}  sigs  match  no-match  todo  doc")
    for cid, v in sorted(data["causes"].items()):
        print(
            f"{cid:<{w}}  {v['signatures']:>4}  {v['match']:>5}  {v['no-match']:>8}  {v['todo']:>4}  {'yes' if v['explanation'] else 'NO'}"
        )
    print(
        f"\n{len(data['causes'])} causes, {data['signatures']} signatures, {data['cases']} cases, "
        f"{data['negatives']} negatives; status: " + ", ".join(f"{k} {v}" for k, v in sorted(data["status"].items()))
    )
    for k, v in data["gaps"].items():
        print(
            f"{k.replace('_', ' ')}: {len(v)}" + (f" ({', '.join(v[:8])}{' ...' if len(v) > 8 else ''})" if v else "")
        )
    return 0


def run_path(args) -> int:
    from ..knowledge.load import first_user_dir, kb_dirs

    for d in kb_dirs(_extra(args)):
        print(d)
    print(f"new signatures go to: {first_user_dir(_extra(args))}", file=sys.stderr)
    return 0
