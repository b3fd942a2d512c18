"""`dnnfix` command line: argument parsing and dispatch to dnnfix/commands/<name>.py.

Each command module exposes register(subparsers) and keeps its heavy imports inside run().
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import List, Optional

COMMANDS = ("match", "scan", "env", "doctor", "explain", "kb", "tui", "run", "report")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    p = argparse.ArgumentParser(
        prog="dnnfix",
        description="Why did my deep-learning run fail? Ranked causes, evidence and fixes, offline.",
        epilog="With no command on a terminal, dnnfix opens the paste-a-traceback app (dnnfix tui).")
    p.add_argument("--version", action="version", version=f"dnnfix {__version__}")
    p.add_argument("--kb", action="append", default=[], metavar="DIR",
                   help="an extra knowledge-base folder (repeatable; also DNNFIX_KB_PATH)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            mod = importlib.import_module(f"dnnfix.commands.{name}")
        except ImportError:
            continue  # an optional command whose module is not present
        mod.register(sub)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or argv == ["--kb"]:
        import importlib.util

        if sys.stdin.isatty() and sys.stdout.isatty() and importlib.util.find_spec("textual") is not None:
            argv = ["tui"]
        else:
            argv = ["match"]
    from .term import make_stdout_safe

    make_stdout_safe()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")
        except Exception:
            pass
        return 0
    except Exception as e:  # never a traceback from dnnfix itself
        if os.environ.get("DNNFIX_DEBUG"):
            raise
        print(f"dnnfix: internal error: {type(e).__name__}: {e} (set DNNFIX_DEBUG=1 for details)", file=sys.stderr)
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
