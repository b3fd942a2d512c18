"""`dnnfix kb new [FILE|-] --cause ID`: scaffold a signature and its cases from a pasted failure."""

from __future__ import annotations

import sys
from pathlib import Path


def register(ks, common) -> None:
    n = ks.add_parser(
        "new",
        parents=[common],
        help="turn a pasted failure into a signature draft and its cases file",
        description="Writes signatures/local/<id>.yaml and <id>.cases.yaml into the first user "
        "knowledge-base folder (--kb, else the first DNNFIX_KB_PATH entry, else the "
        "per-user folder), then checks and tests them.",
    )
    n.add_argument("file", nargs="?", default="-", metavar="FILE", help="the pasted failure ('-': standard input)")
    n.add_argument("--cause", required=True, metavar="ID", help="the cause id (see kb/causes.yaml)")
    n.add_argument("--id", dest="sig_id", metavar="SIGNATURE-ID", help="the new signature's id (default: derived)")
    n.add_argument("--title", help="one-line title")
    n.add_argument("--out", metavar="DIR", help="knowledge-base folder to write into (overrides the default)")
    n.add_argument("--force", action="store_true", help="overwrite existing files")
    n.set_defaults(func=run)


def schema_comment(folder: Path, name: str) -> str:
    """The yaml-language-server line, with the schema's path relative to the written file (no absolute path of
    this machine in a file meant to be shared); a URI only where no relative path exists (another drive)."""
    import os

    from ..knowledge.load import builtin_dir

    target = builtin_dir() / "schema" / name
    try:
        ref = Path(os.path.relpath(target, folder)).as_posix()
    except ValueError:
        ref = target.as_uri()
    return f"# yaml-language-server: $schema={ref}\n"


def run(args) -> int:
    from ..knowledge.check import check
    from ..knowledge.load import first_user_dir, load_kb
    from ..knowledge.runner import run_case
    from ..parse import parse_text
    from ..readinput import InputError, read_input
    from ..knowledge.scaffold import draft, dump_yaml, failed_run_clauses
    from ..knowledge.signature import ID_RE, _did_you_mean

    extra = getattr(args, "kb", []) or []
    kb = load_kb(extra)
    if args.cause not in kb.causes:
        hint = _did_you_mean(args.cause, kb.causes)
        print(
            f"dnnfix: unknown cause id '{args.cause}'"
            + (f"; {hint}" if hint else "")
            + " (list: dnnfix kb stats; new causes go in causes.yaml of your knowledge-base folder)",
            file=sys.stderr,
        )
        return 2
    if args.sig_id and not ID_RE.match(args.sig_id):
        print(f"dnnfix: --id '{args.sig_id}' is not kebab-case (lowercase words joined by '-')", file=sys.stderr)
        return 2
    try:
        t = read_input(args.file)
    except InputError as e:
        print(f"dnnfix: {e}", file=sys.stderr)
        return 2
    if not t.text.strip():
        print(
            f"dnnfix: {'standard input' if args.file == '-' else args.file} is empty: paste the failure first",
            file=sys.stderr,
        )
        return 2
    inc = parse_text(t.text)
    sig, cases = draft(inc, t.text, args.cause, args.sig_id, args.title, shared=failed_run_clauses(kb, args.cause))
    base = sig["id"]
    n = 2
    while kb.by_id(sig["id"]) is not None and not args.sig_id:
        sig["id"] = cases["signature"] = f"{base}-{n}"
        n += 1
    root = Path(args.out) if args.out else first_user_dir(extra)
    folder = root / "signatures" / "local"
    sig_path = folder / f"{sig['id']}.yaml"
    cases_path = folder / f"{sig['id']}.cases.yaml"
    if sig_path.exists() and not args.force:
        print(f"dnnfix: {sig_path} exists; choose another --id or pass --force", file=sys.stderr)
        return 2
    folder.mkdir(parents=True, exist_ok=True)
    sig_path.write_text(dump_yaml(sig, schema_comment(folder, "signature.schema.json")), encoding="utf-8")
    cases_path.write_text(dump_yaml(cases, schema_comment(folder, "cases.schema.json")), encoding="utf-8")
    print(f"wrote {sig_path}")
    print(f"wrote {cases_path}")
    # check and test what was written, with the folder in the search path
    paths = list(extra) + ([str(root)] if str(root) not in extra else [])
    res = check(paths)
    mine = [d for d in res.diagnostics if d.path in (str(sig_path), str(cases_path))]
    for d in mine:
        print(d.format())
    ok = not any(d.severity == "error" for d in mine)
    if ok:
        sigs = {s.id: s for s in res.kb.signatures}
        for case in [c for c in res.cases if c.signature == sig["id"]]:
            o = run_case(case, res.kb, sigs, res.allow)
            print(f"{'ok  ' if o.ok else 'FAIL'} case {case.name} ({case.expect})" + ("" if o.ok else f": {o.message}"))
            ok = ok and o.ok
    if ok:
        # a draft that passes its own cases may still claim what belongs elsewhere: score it on the negatives and
        # on every other cause's cases before calling it ok
        from ..knowledge.scaffold import claims

        wrong = claims(sig["id"], res)
        for key, what in wrong[:5]:
            print(f"FAIL also confident on {key}, {what}")
        if len(wrong) > 5:
            print(f"FAIL ... and {len(wrong) - 5} more")
        if wrong:
            print("the anchor is too broad: make the regex name what only this failure says")
            ok = False
        else:
            n = len(res.negatives) + sum(1 for c in list(res.cases) + list(res.cause_cases) if c.signature != sig["id"])
            print(f"ok   confident on none of the {n} negatives and other causes' cases")
    if str(root) not in extra and str(root) != str(first_user_dir(())):
        print(f"note: {root} is not in your search path; add it with --kb {root} or DNNFIX_KB_PATH")
    print(
        "next: edit the regex to keep only what is stable, add 2 more match cases and a near miss, then "
        "`dnnfix kb check` and `dnnfix kb test --only " + sig["id"] + "`"
    )
    return 0 if ok else 1
