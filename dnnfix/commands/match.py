"""`dnnfix match [--json] [--no-probe] [--env SNAPSHOT.json] [--top N] [FILE ...]` (../shared/CONTRACT.md)."""
from __future__ import annotations

import argparse
import json
import sys


def register(sub) -> None:
    p = sub.add_parser("match", help="diagnose pasted tracebacks/logs (files or standard input)",
                       description="Diagnose each FILE ('-' or nothing: standard input).")
    p.add_argument("files", nargs="*", metavar="FILE")
    p.add_argument("--json", action="store_true", help="one JSON object per input (JSON Lines)")
    p.add_argument("--no-probe", action="store_true", help="use no facts about this machine")
    p.add_argument("--env", metavar="SNAPSHOT.json", help="facts from `dnnfix env --json` run on the failing machine")
    p.add_argument("--top", type=int, default=None, metavar="N", help="show at most N causes (default: 3 in the report, all in JSON)")
    p.add_argument("--kb", action="append", default=argparse.SUPPRESS, metavar="DIR", help="an extra knowledge-base folder")
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
_SNAPSHOT_TYPES = {"python": dict, "os": dict, "platform": dict, "packages": dict, "gpus": list, "driver": dict,
                   "cuda": dict, "env": dict}


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


def warn_broken(kb) -> None:
    """One line on stderr when some knowledge-base files were skipped (user folders first)."""
    from ..kbload import builtin_dir

    broken = [d for d in kb.diagnostics if d.severity == "error"]
    if not broken:
        return
    home = str(builtin_dir())
    broken.sort(key=lambda d: d.path.startswith(home))
    more = f" (+{len(broken) - 1} more; run `dnnfix kb check`)" if len(broken) > 1 else ""
    print(f"dnnfix: skipped a broken knowledge-base entry: {broken[0].format()}{more}", file=sys.stderr)


def run(args) -> int:
    from ..api import diagnose_text
    from ..kbload import load_kb
    from ..readinput import InputError, read_input
    from ..render_json import error_dict, to_dict
    from ..term import Style, use_color

    if args.top is not None and args.top < 1:
        print("dnnfix: --top must be at least 1", file=sys.stderr)
        return 2
    env = None
    if args.env:
        env = snapshot_arg(args.env)
        if env is None:
            return 2
    kb = load_kb(getattr(args, "kb", []) or [])
    warn_broken(kb)
    files = args.files or ["-"]
    probe = not args.no_probe and env is None
    snapshot = None
    if probe:
        from ..api import probe_snapshot

        snapshot = probe_snapshot()
    style = Style(use_color(sys.stdout))
    rc = 0
    first = True
    for name in files:
        try:
            t = read_input(name)
        except InputError as e:
            print(f"dnnfix: {e}", file=sys.stderr)
            if args.json:
                print(json.dumps(error_dict(name, str(e))), flush=True)
            rc = 2
            continue
        if not t.text.strip():
            print(f"dnnfix: {'standard input' if name == '-' else name} is empty: nothing to diagnose", file=sys.stderr)
        if t.replaced:
            print(f"dnnfix: {name}: {t.replaced} undecodable byte(s) replaced; the rest was analysed", file=sys.stderr)
        d = diagnose_text(t.text, env=env if env is not None else snapshot, kb=kb, name=name,
                          truncated=t.truncated, env_is_probe=env is None, line_map=t.line_map)
        if args.json:
            if args.top:
                d.matches = d.matches[: args.top]
            print(json.dumps(to_dict(d, kb), ensure_ascii=False), flush=True)
        else:
            from ..render_text import render

            if not first:
                print()
            first = False
            print(render(d, kb, style, top=args.top or 3))
    return rc
