"""`dnnfix` command line: argument parsing and dispatch to dnnfix/commands/<name>.py.

Each command module exposes register(subparsers) and keeps its heavy imports inside run().
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import List, Optional

COMMANDS = ("match", "scan", "env", "doctor", "explain", "kb", "tui", "run", "report", "completion")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    p = argparse.ArgumentParser(
        prog="dnnfix",
        description="Why did my deep-learning run fail? Ranked causes, evidence and fixes, offline.",
        epilog="With no command on a terminal, dnnfix opens the paste-a-traceback app (dnnfix tui).",
    )
    p.add_argument("-V", "--version", action="version", version=f"dnnfix {__version__}")
    p.add_argument(
        "--kb",
        action="append",
        default=[],
        metavar="DIR",
        help="an extra knowledge-base folder (repeatable; also DNNFIX_KB_PATH)",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            mod = importlib.import_module(f"dnnfix.commands.{name}")
        except Exception as e:  # a broken install: the command says so instead of vanishing
            _register_broken(sub, name, e)
            continue
        mod.register(sub)
    return p


def _register_broken(sub, name: str, error: BaseException) -> None:
    why = f"{type(error).__name__}: {error}"

    def run(_args) -> int:
        print(
            f"dnnfix: the '{name}' command cannot load ({why}); reinstall dnnfix (pip install --force-reinstall "
            "dnnfix) or report this",
            file=sys.stderr,
        )
        return 2

    p = sub.add_parser(name, help=f"(unavailable: {why})", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=run)


def _command_index(argv: List[str]) -> Optional[int]:
    """Where the command word is, after the global options (--kb DIR)."""
    i = 0
    while i < len(argv):
        if argv[i] == "--kb":
            i += 2
        elif argv[i].startswith("--kb="):
            i += 1
        else:
            return i if argv[i] in COMMANDS else None
    return None


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (dnnfix completion SHELL)
        from .commands.completion import complete

        complete(parser)
    if not argv or argv == ["--kb"]:
        import importlib.util

        if sys.stdin.isatty() and sys.stdout.isatty() and importlib.util.find_spec("textual") is not None:
            argv = ["tui"]
        else:
            argv = ["match"]
    from .term import make_stdout_safe

    make_stdout_safe()
    program = None
    at = _command_index(argv)
    if at is not None and argv[at] == "run":  # the program's own words never reach our parser
        from .commands.run import split_argv

        own, program = split_argv(argv[at + 1 :])
        argv = argv[: at + 1] + own
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    if program is not None:
        args.target = program
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
