"""`dnnfix match [--json | --format FORMAT] [--no-probe] [--env SNAPSHOT.json] [--top N] [--all] [--fail-on confident]
[FILE ...]` (../shared/CONTRACT.md).

Formats: `text` (the report, wrapped to the terminal), `json` (JSON Lines, as `--json`), `short` (one line per
cause, for logs), `github` (GitHub Actions workflow annotations). `--fail-on confident` exits 1 when any input
has a confident cause (a CI gate); usage and input errors still exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys


FORMATS = ("text", "json", "short", "github")


def register(sub) -> None:
    p = sub.add_parser(
        "match",
        help="diagnose pasted tracebacks/logs (files or standard input)",
        description="Diagnose each FILE ('-' or nothing: standard input).",
    )
    p.add_argument("files", nargs="*", metavar="FILE")
    p.add_argument("--json", action="store_true", help="one JSON object per input (JSON Lines); same as --format json")
    p.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="text (default), json (JSON Lines), short (one line per cause), github (workflow annotations)",
    )
    p.add_argument(
        "--all",
        action="store_true",
        dest="show_all",
        help="also show harmless-log entries and causes scored 0.00 (hidden by default)",
    )
    p.add_argument(
        "--fail-on",
        choices=("confident", "never"),
        default="never",
        help="exit 1 when any input has a confident cause (for CI gates); default: never",
    )
    p.add_argument("--no-probe", action="store_true", help="use no facts about this machine")
    p.add_argument("--env", metavar="SNAPSHOT.json", help="facts from `dnnfix env --json` run on the failing machine")
    p.add_argument(
        "--top",
        type=int,
        default=None,
        metavar="N",
        help="show at most N causes (default: 3 in the report, all in JSON)",
    )
    p.add_argument(
        "--kb", action="append", default=argparse.SUPPRESS, metavar="DIR", help="an extra knowledge-base folder"
    )
    p.set_defaults(func=run)


def load_snapshot(path: str) -> dict:
    """Read a snapshot file; raise ValueError with one sentence on any problem."""
    try:
        with open(path, "rb") as fh:
            data = json.loads(fh.read().decode("utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: cannot read ({e})") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}:{e.lineno}:{e.colno}: not valid JSON: {e.msg}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a snapshot is a JSON object (from `dnnfix env --json`)")
    problem = snapshot_problem(data)
    if problem:
        raise ValueError(f"{path}: {problem} (a snapshot as written by `dnnfix env --json`)")
    return data


# the snapshot's core keys (../shared/CONTRACT.md) and the JSON type each must have when present
_SNAPSHOT_TYPES = {
    "python": dict,
    "os": dict,
    "platform": dict,
    "packages": dict,
    "gpus": list,
    "driver": dict,
    "cuda": dict,
    "env": dict,
}


def snapshot_problem(data: dict) -> str:
    """One sentence naming the first core field of the wrong type, or "" when the snapshot is usable."""
    names = {dict: "an object", list: "a list"}
    for key, typ in _SNAPSHOT_TYPES.items():
        if key in data and data[key] is not None and not isinstance(data[key], typ):
            return f"field '{key}' must be {names[typ]}, not {type(data[key]).__name__}"
    for name, ver in (data.get("packages") or {}).items():
        if not isinstance(ver, str):
            return f"packages.{name} must be a version string, not {type(ver).__name__}"
    for i, g in enumerate(data.get("gpus") or []):
        if not isinstance(g, dict):
            return f"gpus[{i}] must be an object, not {type(g).__name__}"
    for sect in ("python", "os", "driver", "cuda"):
        for k, v in (data.get(sect) or {}).items():
            if isinstance(v, (dict, list)) and k not in ("sources", "runtime_versions", "cudnn_versions"):
                return f"{sect}.{k} must be a plain value, not {type(v).__name__}"
    return ""


def snapshot_arg(path: str):
    """The snapshot named on the command line, or None after saying why it cannot be used (exit 2)."""
    try:
        return load_snapshot(path)
    except ValueError as e:
        print(f"dnnfix: {e}", file=sys.stderr)
        return None


def env_and_kb(args):
    """The --env snapshot (None without one) and the knowledge base, shared by match and scan; None after saying
    why when the snapshot cannot be used (exit 2)."""
    from ..knowledge.load import load_kb

    env = None
    if getattr(args, "env", None):
        env = snapshot_arg(args.env)
        if env is None:
            return None
    kb = load_kb(list(getattr(args, "kb", []) or []))
    warn_broken(kb)
    return env, kb


def warn_broken(kb) -> None:
    """One line on stderr when some knowledge-base files were skipped (dnnfix.report's one warning)."""
    from ..report import broken_kb_warning

    w = broken_kb_warning(kb)
    if w:
        print(f"dnnfix: {w}", file=sys.stderr)


def write(text: str) -> None:
    """Print, whatever standard output can encode (characters it cannot are replaced, never an exception)."""
    try:
        print(text, flush=True)
    except UnicodeEncodeError:
        enc = getattr(sys.stdout, "encoding", None) or "ascii"
        print(text.encode(enc, "replace").decode(enc, "replace"), flush=True)


def run(args) -> int:
    from ..api import diagnose_text
    from ..readinput import InputError, read_input
    from ..render_json import error_dict, report_dict
    from ..report import build
    from ..term import use_color

    fmt = args.format or ("json" if args.json else "text")
    if args.json and args.format not in (None, "json"):
        print(f"dnnfix: --json and --format {args.format} disagree: choose one", file=sys.stderr)
        return 2
    if args.top is not None and args.top < 1:
        print("dnnfix: --top must be at least 1", file=sys.stderr)
        return 2
    loaded = env_and_kb(args)
    if loaded is None:
        return 2
    env, kb = loaded
    files = args.files or ["-"]
    probe = not args.no_probe and env is None
    snapshot = None
    if probe:
        from ..api import probe_snapshot

        snapshot = probe_snapshot()
    color = use_color(sys.stdout) and fmt == "text"
    rc = 0
    found = False
    first = True
    for name in files:
        try:
            t = read_input(name)
        except InputError as e:
            print(f"dnnfix: {e}", file=sys.stderr)
            if fmt == "json":
                print(json.dumps(error_dict(name, str(e))), flush=True)
            rc = 2
            continue
        if not t.text.strip():
            print(f"dnnfix: {'standard input' if name == '-' else name} is empty: nothing to diagnose", file=sys.stderr)
        if t.replaced:
            print(f"dnnfix: {name}: {t.replaced} undecodable byte(s) replaced; the rest was analysed", file=sys.stderr)
        d = diagnose_text(
            t.text,
            env=env if env is not None else snapshot,
            kb=kb,
            name=name,
            truncated=t.truncated,
            env_is_probe=env is None,
            line_map=t.line_map,
        )
        found = found or bool(d.confident)
        if fmt == "json":
            if args.top:
                d.matches = d.matches[: args.top]
            r = build(d, kb, top=args.top or 3, show_all=args.show_all, explain=False)
            print(json.dumps(report_dict(r, kb), ensure_ascii=False), flush=True)
            continue
        r = build(d, kb, top=args.top or 3, show_all=args.show_all, explain=False)
        from .. import render_text

        if fmt == "short":
            write(render_text.short(r))
        elif fmt == "github":
            write(render_text.github(r))
        else:
            if not first:
                write("")
            first = False
            write(render_text.to_rich(render_text.lines(r), color=color, width=render_text.terminal_width(sys.stdout)))
    if rc == 0 and args.fail_on == "confident" and found:
        return 1
    return rc
