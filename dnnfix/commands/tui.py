"""`dnnfix tui [FILE] [--no-probe] [--env SNAPSHOT.json]`: the paste-a-traceback terminal app.

With standard input redirected (`dnnfix tui < log.txt`, `pbpaste | dnnfix tui`) the text is read first and the
keyboard is then taken from the terminal. Textual is imported only in run(), so the parser stays light.

`dnnfix tui --serve [--host H] [--port P]` serves the same app to a browser with textual-serve (each browser tab
runs its own `dnnfix tui` behind Textual's web driver, which talks over pipes: there is no terminal to ask for).
"""

from __future__ import annotations

import argparse
import os
import sys


def register(sub) -> None:
    p = sub.add_parser(
        "tui",
        help="the paste-a-traceback terminal app (needs dnnfix[tui])",
        description="Paste a traceback or log and see the ranked causes, the lines that fired and "
        "the fixes. FILE (or redirected standard input) is loaded at start.",
    )
    p.add_argument("file", nargs="?", metavar="FILE", help="a traceback or log to load ('-': standard input)")
    p.add_argument("--no-probe", action="store_true", help="use no facts about this machine")
    p.add_argument("--env", metavar="SNAPSHOT.json", help="facts from `dnnfix env --json` run on the failing machine")
    p.add_argument("--light", action="store_true", help="start in the light theme (ctrl+t switches)")
    p.add_argument(
        "--kb", action="append", default=argparse.SUPPRESS, metavar="DIR", help="an extra knowledge-base folder"
    )
    p.add_argument(
        "--serve",
        action="store_true",
        help="serve the app to a web browser (needs textual-serve: pip install 'dnnfix[serve]')",
    )
    p.add_argument("--host", default="localhost", help="with --serve: the address to listen on (default: localhost)")
    p.add_argument("--port", type=int, default=8000, help="with --serve: the port (default: 8000)")
    p.set_defaults(func=run)


def under_web_driver() -> bool:
    """Run by textual-serve: Textual's web driver speaks a packet protocol on stdin/stdout (no terminal)."""
    return "web_driver" in os.environ.get("TEXTUAL_DRIVER", "")


def serve(args) -> int:
    """`--serve`: the app in a browser, one `dnnfix tui` process per browser tab."""
    try:
        from textual_serve.server import Server
    except ImportError:
        print("dnnfix: serving the app to a browser needs textual-serve: pip install 'dnnfix[serve]'", file=sys.stderr)
        return 2
    import shlex

    if not 0 < args.port < 65536:
        print(f"dnnfix: --port {args.port}: not a port number", file=sys.stderr)
        return 2
    words = [sys.executable, "-m", "dnnfix"]
    for d in getattr(args, "kb", []) or []:
        words += ["--kb", os.path.abspath(d)]
    words.append("tui")
    if args.file and args.file != "-":
        if not os.path.isfile(args.file):
            print(f"dnnfix: {args.file}: no such file", file=sys.stderr)
            return 2
        words.append(os.path.abspath(args.file))
    if args.no_probe:
        words.append("--no-probe")
    if args.light:
        words.append("--light")
    if args.env:
        words += ["--env", os.path.abspath(args.env)]
    Server(shlex.join(words), host=args.host, port=args.port, title="dnnfix").serve()
    return 0


def _reattach_terminal() -> bool:
    """After reading redirected stdin, make fd 0 the terminal again so that the app gets the keyboard."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR)
    except OSError:
        return False
    os.dup2(fd, 0)
    os.close(fd)
    try:
        sys.stdin = open(0, "r", closefd=False)  # noqa: SIM115 - lives as long as the process
    except OSError:
        pass
    return True


def run(args) -> int:
    try:
        import textual  # noqa: F401
    except ImportError:
        print(
            "dnnfix: the terminal app needs Textual: pip install 'dnnfix[tui]' (or use `dnnfix match FILE`)",
            file=sys.stderr,
        )
        return 2
    if getattr(args, "serve", False):
        return serve(args)
    from ..readinput import InputError, read_input
    from .match import snapshot_arg

    web = under_web_driver()
    text, name = "", args.file
    if name is None and not web and not sys.stdin.isatty():
        name = "-"
    if web and name == "-":
        print("dnnfix: under textual-serve the app reads no standard input; name a FILE", file=sys.stderr)
        return 2
    if name is not None:
        try:
            t = read_input(name)
        except InputError as e:
            print(f"dnnfix: {e}", file=sys.stderr)
            return 2
        text = t.text
    if not web and (name == "-" or not sys.stdin.isatty()):
        if not _reattach_terminal():
            print(
                "dnnfix: the terminal app needs a terminal for the keyboard; for piped input use `dnnfix match -`",
                file=sys.stderr,
            )
            return 2
    if (
        not web
        and not (sys.__stdout__ and sys.__stdout__.isatty())
        and not (sys.__stderr__ and sys.__stderr__.isatty())
    ):
        print("dnnfix: the terminal app needs a terminal; use `dnnfix match` for files and pipes", file=sys.stderr)
        return 2
    env, env_name = None, ""
    if args.env:
        env, env_name = snapshot_arg(args.env), os.path.basename(args.env)
        if env is None:
            return 2
    from ..tui.app import make_app

    app = make_app(
        text,
        kb_paths=getattr(args, "kb", []) or [],
        probe=not args.no_probe,
        env=env,
        env_name=env_name,
        theme="textual-light" if args.light else None,
    )
    app.run()
    return 0
