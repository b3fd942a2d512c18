"""`dnnfix scan PATH...`: diagnose many logs on all cores; JSON Lines / CSV / Parquet and a summary."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any, Optional, TextIO


def register(sub) -> None:
    p = sub.add_parser(
        "scan",
        help="diagnose many logs (files, folders, globs, .gz/.bz2/.xz/.zst) on all cores and summarise",
        description="Diagnose every log under PATH (files, folders recursively, globs; gzip, bzip2, xz and, with "
        "zstandard installed, zstd) with one worker per core. Each log gets the object of "
        "`dnnfix match --json --no-probe` plus its path; a summary groups them by cause and clusters "
        "unknown errors by fingerprint. Exit status 2 when some input could not be read.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("-j", "--jobs", type=int, default=0, metavar="N", help="worker processes (default: all cores)")
    p.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="GLOB",
        help="in folders, only file names matching GLOB (repeatable), e.g. --include '*.log*'",
    )
    p.add_argument("--json", action="store_true", help="JSON Lines on standard output (the summary goes to stderr)")
    p.add_argument("--jsonl", metavar="FILE", help="write JSON Lines to FILE ('-': standard output)")
    p.add_argument("--csv", metavar="FILE", help="write one CSV row per log to FILE")
    p.add_argument("--parquet", metavar="FILE", help="write one Parquet row per log to FILE (needs pyarrow)")
    p.add_argument(
        "--summary-only", action="store_true", help="print only the summary (as one JSON object with --json)"
    )
    p.add_argument("--state", metavar="FILE", help="remember results by path, size and mtime; skip unchanged logs")
    p.add_argument("--top", type=int, default=None, metavar="N", help="keep at most N causes per log")
    p.add_argument(
        "--env", metavar="SNAPSHOT.json", help="facts from `dnnfix env --json` of the machine the jobs ran on"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--kb", action="append", default=argparse.SUPPRESS, metavar="DIR", help="an extra knowledge-base folder"
    )
    p.set_defaults(func=run)


class _Progress:
    """A rich progress bar on stderr when it is a terminal; nothing otherwise (or without rich)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar = None
        if not enabled or total < 2:
            return
        try:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("dnnfix scan"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.task = self.bar.add_task("scan", total=total)
            self.bar.start()
        except Exception:
            self.bar = None

    def advance(self) -> None:
        if self.bar is not None:
            self.bar.advance(self.task)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def run(args) -> int:
    from ..scan import COLUMNS, State, Summary, expand, run_scan, state_key
    from .match import env_and_kb

    if args.top is not None and args.top < 1:
        print("dnnfix: --top must be at least 1", file=sys.stderr)
        return 2
    if args.jobs < 0:
        print("dnnfix: -j must be 0 (all cores) or more", file=sys.stderr)
        return 2
    pa: Any = None
    if args.parquet:
        try:
            import pyarrow
            import pyarrow.parquet  # noqa: F401
        except ImportError:
            print("dnnfix: --parquet needs pyarrow: pip install 'dnnfix[parquet]'", file=sys.stderr)
            return 2
        pa = pyarrow
    loaded = env_and_kb(args)
    if loaded is None:
        return 2
    env, kb = loaded
    kb_paths = list(getattr(args, "kb", []) or [])
    paths = expand(args.paths, args.include)
    if not paths:
        print(
            f"dnnfix: no files under {', '.join(args.paths)}"
            + (f" match {', '.join(args.include)}" if args.include else ""),
            file=sys.stderr,
        )
        return 2
    state = State(args.state, state_key(kb, env, args.top)) if args.state else None
    jsonl = args.jsonl or ("-" if args.json and not args.summary_only else None)
    summary_to = sys.stderr if jsonl == "-" else sys.stdout

    out: Optional[TextIO] = None
    csv_fh = csv_w = None
    try:
        if jsonl and jsonl != "-":
            out = open(jsonl, "w", encoding="utf-8")
        elif jsonl == "-":
            out = sys.stdout
        if args.csv:
            import csv

            csv_fh = open(args.csv, "w", encoding="utf-8", newline="")
            csv_w = csv.DictWriter(csv_fh, fieldnames=COLUMNS, extrasaction="ignore")
            csv_w.writeheader()
    except OSError as e:
        print(f"dnnfix: cannot write {e.filename}: {e.strerror}", file=sys.stderr)
        return 2

    jobs = args.jobs or (os.cpu_count() or 1)
    summary = Summary(jobs=min(jobs, max(1, len(paths))))
    rows: "list[dict] | None" = [] if pa is not None else None
    bar = _Progress(len(paths), not args.quiet and sys.stderr.isatty())
    t0 = time.perf_counter()
    try:
        for line, row, reused in run_scan(
            paths, jobs=jobs, kb_paths=kb_paths, env=env, top=args.top, state=state, lines=out is not None
        ):
            summary.add(row, reused)
            if out is not None:
                out.write(line + "\n")
                if out is sys.stdout:
                    out.flush()
            if csv_w is not None:
                csv_w.writerow(row)
            if rows is not None:
                rows.append(row)
            bar.advance()
    finally:
        bar.close()
        summary.seconds = time.perf_counter() - t0
        for fh in (out, csv_fh):
            if fh is not None and fh is not sys.stdout:
                fh.close()
        if state is not None:
            try:
                state.save()
            except OSError as e:
                print(f"dnnfix: cannot write the state file {args.state}: {e.strerror or e}", file=sys.stderr)
    if rows is not None:
        import pyarrow.parquet as pq

        cols = {c: [r.get(c) for r in rows] for c in COLUMNS}
        types = {"score": pa.float64(), "confident": pa.bool_(), "elapsed_ms": pa.float64()}
        table = pa.table({c: pa.array(v, type=types.get(c, pa.string())) for c, v in cols.items()})
        pq.write_table(table, args.parquet)
    if args.summary_only and args.json:
        print(json.dumps(summary.to_dict(), ensure_ascii=False), flush=True)
    else:
        print(summary.render(), file=summary_to, flush=True)
    return 2 if summary.errors else 0
