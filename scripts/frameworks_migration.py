"""Remove the hand-written `against: - frames: {package: X}` clauses that the matcher's `frameworks:` rule now
covers (dnnfix.matcher.FRAMEWORK_AGAINST: a signature bound to TensorFlow, PyTorch or JAX is weighed down when
the paste's frames belong to another of them only).

    python scripts/frameworks_migration.py            # list the redundant clauses
    python scripts/frameworks_migration.py --check    # also measure: the KB with them removed vs as it is
    python scripts/frameworks_migration.py --write    # measure, then remove them (only if nothing regresses)

A clause is redundant when its package belongs to a framework family (dnnfix.matcher.FRAMEWORK_FAMILY) that is
not among the signature's own `frameworks:` families, and the signature's list is bound (every name in a
family). --check copies the knowledge base to a temporary folder, removes the clauses there, and compares
`dnnfix kb test` (signature cases, cause-level cases, negatives) and the held-out sets (tests/heldout*, and the
dev part of tests/devset) with the current KB; a case that passes now and fails without the clauses, or a
held-out paste that loses its right first answer or gains a wrong confident one, is a regression. --write
refuses to edit when there is one (--force overrides). Run it when nobody else is editing kb/signatures.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Tuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

_CLAUSE = re.compile(r"^(?P<indent>\s*)-\s+frames:\s*\{\s*package:\s*(?P<pkg>[\w.-]+)\s*\}\s*(?:#.*)?$")
_KEY = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z_]+):")


def redundant(kb) -> List[Dict[str, Any]]:
    """[{signature, path, package, weight, families}] for every hand-written clause the rule covers."""
    from dnnfix.matcher import FRAMEWORK_FAMILY, signature_families

    out = []
    for s in kb.signatures:
        fams = signature_families(s.frameworks)
        if not fams:
            continue
        for cl in s.against:
            fam = FRAMEWORK_FAMILY.get((cl.package or "").lower()) if cl.kind == "frames" else None
            if fam and fam not in fams:
                out.append(
                    {
                        "signature": s.id,
                        "path": s.path,
                        "package": cl.package,
                        "weight": cl.weight,
                        "families": sorted(fams),
                    }
                )
    return out


def remove_clauses(text: str, packages: List[str]) -> Tuple[str, int]:
    """Drop `- frames: {package: P}` items (with their indented weight/comment lines) from the `against:` list;
    an `against:` left empty goes too. Text-level, so that comments and layout elsewhere stay as they are."""
    lines = text.split("\n")
    out: List[str] = []
    section = ""
    removed = 0
    i = 0
    while i < len(lines):
        ln = lines[i]
        k = _KEY.match(ln)
        if k and not k.group("indent"):
            section = k.group("key")
        m = _CLAUSE.match(ln)
        if section == "against" and m and m.group("pkg") in packages:
            ind = len(m.group("indent"))
            i += 1
            while (
                i < len(lines)
                and lines[i].strip()
                and len(lines[i]) - len(lines[i].lstrip()) > ind
                and not lines[i].lstrip().startswith("- ")
            ):
                i += 1
            removed += 1
            continue
        out.append(ln)
        i += 1
    text = "\n".join(out)
    # an against: whose list is now empty (next line is a top-level key or the end)
    text = re.sub(r"^against:\s*\n(?=(?:[A-Za-z_]+:|\Z))", "", text, flags=re.M)
    return text, removed


def _measure(kb_root: Path) -> Dict[str, Any]:
    """kb test failures and held-out outcomes for a built-in KB folder at kb_root."""
    from dnnfix.knowledge import load as kbload
    from dnnfix.knowledge.check import check
    from dnnfix.knowledge.runner import run_all

    saved = kbload.builtin_dir
    kbload.builtin_dir = lambda: kb_root  # noqa: E731
    try:
        res = check()
    finally:
        kbload.builtin_dir = saved
    errors = [d.format() for d in res.errors]
    rep = run_all(res)
    spec = importlib.util.spec_from_file_location("heldout_eval", REPO / "scripts" / "heldout_eval.py")
    he = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(he)
    rows: Dict[str, Any] = {}
    for d in sorted(p for p in (REPO / "tests").glob("heldout*") if p.is_dir()) + [REPO / "tests" / "devset"]:
        cases = he.load_cases(d, part="dev" if d.name == "devset" else "all")
        for r in he.evaluate(cases, kb=res.kb)["cases"]:
            rows[f"{d.name}/{r['path']}"] = (
                bool(r.get("top1")),
                bool(r.get("confident_claim")) or bool(r["top3"] and r["top3"][0]["confident"] and not r.get("top1")),
            )
    return {"errors": errors, "failed": {o.case.key for o in rep.failed}, "passed": len(rep.passed), "rows": rows}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="measure the KB without the clauses against the KB as is")
    ap.add_argument("--write", action="store_true", help="measure, then remove the clauses from kb/signatures")
    ap.add_argument("--force", action="store_true", help="with --write: edit even when something regresses")
    args = ap.parse_args(argv)
    os.environ["DNNFIX_USER_KB"] = os.path.join(tempfile.gettempdir(), "dnnfix-fwmig-no-user-kb")
    os.environ.pop("DNNFIX_KB_PATH", None)
    from dnnfix.knowledge.load import builtin_dir, load_kb

    kb_dir = builtin_dir()
    kb = load_kb()
    found = redundant(kb)
    by_file: Dict[str, List[str]] = {}
    for r in found:
        print(
            f"{os.path.relpath(r['path'], REPO)}: against frames {{package: {r['package']}}} weight {r['weight']} "
            f"(signature for {', '.join(r['families'])})"
        )
        by_file.setdefault(r["path"], []).append(r["package"])
    print(f"{len(found)} redundant clause(s) in {len(by_file)} signature(s)")
    if not (args.check or args.write) or not found:
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "kb"
        shutil.copytree(kb_dir, copy)
        n = 0
        for path, pkgs in by_file.items():
            p = copy / Path(path).relative_to(kb_dir)
            text, k = remove_clauses(p.read_text(encoding="utf-8"), pkgs)
            p.write_text(text, encoding="utf-8")
            n += k
        before, after = _measure(kb_dir), _measure(copy)
        if after["errors"]:
            print("the edited KB does not check:", *after["errors"][:10], sep="\n  ")
            return 1
        new_fail = sorted(after["failed"] - before["failed"])
        lost = sorted(k for k, (t1, _) in before["rows"].items() if t1 and not after["rows"].get(k, (False,))[0])
        wrong = sorted(k for k, (_, w) in after["rows"].items() if w and not before["rows"].get(k, (0, False))[1])
        print(
            f"removed {n} clause(s) in a copy: kb test {before['passed']} -> {after['passed']} passed; "
            f"{len(new_fail)} case(s) newly failing, {len(lost)} held-out paste(s) losing the right first answer, "
            f"{len(wrong)} gaining a wrong confident claim"
        )
        for line in new_fail + lost + wrong:
            print(f"  {line}")
        regress = bool(new_fail or lost or wrong)
        if args.write:
            if regress and not args.force:
                print("not written: fix the regressions first (or --force)")
                return 1
            for path, pkgs in by_file.items():
                p = Path(path)
                p.write_text(remove_clauses(p.read_text(encoding="utf-8"), pkgs)[0], encoding="utf-8")
            print(f"written: {len(by_file)} signature file(s)")
        return 1 if regress else 0


if __name__ == "__main__":
    sys.exit(main())
