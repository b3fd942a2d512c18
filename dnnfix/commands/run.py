"""`dnnfix run [--capture] SCRIPT [ARGS ...]` / `dnnfix run -m MODULE [ARGS ...]`: run Python with the hook.

The script runs as `__main__` in this process (runpy), with sys.argv and sys.path[0] set as `python SCRIPT ARGS`
would set them. An uncaught exception prints the usual traceback (without dnnfix's own frames), then the report;
the exit status is the one Python would give (1, SystemExit's code, or 130 after Ctrl-C).
"""
from __future__ import annotations

import argparse
import os
import sys


def register(sub) -> None:
    p = sub.add_parser(
        "run", help="run a Python script or module with the dnnfix exception hook installed",
        description="Run SCRIPT (or -m MODULE) like `python SCRIPT ARGS`, with a diagnosis under any uncaught "
                    "exception.", usage="dnnfix run [--capture | --no-capture] [--top N] (SCRIPT | -m MODULE) [ARGS ...]")
    p.add_argument("--capture", dest="capture", action="store_true", default=None,
                   help="tee native stderr (fd 2) so C++ log lines become evidence (default: off in terminals)")
    p.add_argument("--no-capture", dest="capture", action="store_false", help="never tee native stderr")
    p.add_argument("--top", type=int, default=3, metavar="N", help="causes shown in the report (default: 3)")
    p.add_argument("-m", dest="module", metavar="MODULE", help="run a library module as a script, like python -m")
    p.add_argument("target", nargs=argparse.REMAINDER, metavar="SCRIPT [ARGS ...]")
    p.set_defaults(func=run)


def _trim(tb, files):
    """Drop the leading frames that belong to dnnfix and runpy, so the traceback starts in the user's code."""
    first = tb
    while tb is not None and (tb.tb_frame.f_code.co_filename.startswith("<frozen runpy")
                              or os.path.abspath(tb.tb_frame.f_code.co_filename) in files):
        tb = tb.tb_next
    return tb if tb is not None else first


def run_script(path: str) -> None:
    """Run a file as `python FILE` does: __main__ is the script, __file__ and code paths absolute, argv as given."""
    import runpy

    full = os.path.abspath(path)
    if not os.path.isfile(full):  # a directory or zip with __main__.py
        runpy.run_path(full, run_name="__main__")
        return
    import builtins
    import io
    import types
    from importlib.machinery import SourceFileLoader

    with io.open_code(full) as fh:
        code = compile(fh.read(), full, "exec", dont_inherit=True)
    main = types.ModuleType("__main__")
    main.__file__ = full
    main.__cached__ = None
    main.__loader__ = SourceFileLoader("__main__", full)
    main.__builtins__ = builtins
    sys.modules["__main__"] = main  # stays, as in `python FILE` (atexit handlers, pickling, multiprocessing)
    exec(code, main.__dict__)


def run(args) -> int:
    import runpy

    from .. import hook

    target = list(args.target or [])
    if target and target[0] == "--":
        target = target[1:]
    if args.module is None and not target:
        print("dnnfix: run needs a SCRIPT or -m MODULE (dnnfix run --help)", file=sys.stderr)
        return 2
    if args.top < 1:
        print("dnnfix: --top must be at least 1", file=sys.stderr)
        return 2
    if args.module is None:
        script = target[0]
        if not os.path.exists(script):
            print(f"dnnfix: {script}: no such file", file=sys.stderr)
            return 2
        sys.argv = target
        sys.path[0] = os.path.dirname(os.path.abspath(script))
    else:
        sys.argv = [args.module] + target
        sys.path[0] = os.getcwd()
    hook.install(capture=args.capture, top=args.top)
    ours = {os.path.abspath(runpy.__file__), os.path.abspath(__file__)}
    try:
        if args.module is None:
            run_script(sys.argv[0])
        else:
            runpy.run_module(args.module, run_name="__main__", alter_sys=True)
    except SystemExit as e:
        code = e.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    except BaseException as e:  # noqa: BLE001 - reported exactly like an uncaught exception
        tb = _trim(e.__traceback__, ours)
        e.__traceback__ = tb
        sys.excepthook(type(e), e, tb)
        return 130 if isinstance(e, KeyboardInterrupt) else 1
    return 0
