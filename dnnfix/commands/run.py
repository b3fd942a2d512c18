"""`dnnfix run [--capture] SCRIPT [ARGS ...]` / `dnnfix run -m MODULE [ARGS ...]`: run Python with the hook.

The script runs as `__main__` in this process (runpy), with sys.argv and sys.path[0] set as `python SCRIPT ARGS`
would set them. An uncaught exception prints the usual traceback (without dnnfix's own frames), then the report;
the exit status is the one Python would give (1, SystemExit's code, or 130 after Ctrl-C).
"""

from __future__ import annotations

import os
import sys


RUN_OPTIONS = {"--capture": 0, "--no-capture": 0, "--top": 1, "-h": 0, "--help": 0}


def register(sub) -> None:
    p = sub.add_parser(
        "run",
        help="run a Python script or module with the dnnfix exception hook installed",
        description="Run SCRIPT (or -m MODULE) like `python SCRIPT ARGS`, with a diagnosis under any uncaught "
        "exception. Everything from SCRIPT or -m MODULE on is passed to the program untouched.",
        usage="dnnfix run [--capture | --no-capture] [--top N] (SCRIPT | -m MODULE) [ARGS ...]",
    )
    p.add_argument(
        "--capture",
        dest="capture",
        action="store_true",
        default=None,
        help="tee native stderr (fd 2) so C++ log lines become evidence (default: off in terminals)",
    )
    p.add_argument("--no-capture", dest="capture", action="store_false", help="never tee native stderr")
    p.add_argument("--top", type=int, default=3, metavar="N", help="causes shown in the report (default: 3)")
    p.add_argument("target", nargs="*", metavar="SCRIPT | -m MODULE", help="what to run, then its arguments")
    p.set_defaults(func=run, target=[])


def split_argv(argv):
    """Split the words after `run` into dnnfix's own options and the program's command line.

    The program starts at the first word that is not one of run's options (SCRIPT, `-m`, or `--` before it), so
    `dnnfix run -m pytest -q` passes `-q` to pytest, as `python -m pytest -q` would.
    Returns (own options, program words or None when there are none).
    """
    own: "list[str]" = []
    i = 0
    while i < len(argv):
        word = argv[i]
        name = word.split("=", 1)[0]
        if word == "--":
            return own, argv[i + 1 :]
        if name in RUN_OPTIONS and word.startswith("--") and "=" in word:
            own.append(word)
            i += 1
        elif name in RUN_OPTIONS:
            n = RUN_OPTIONS[name]
            own.extend(argv[i : i + 1 + n])
            i += 1 + n
        else:
            return own, argv[i:]
    return own, None


def _trim(tb, files):
    """Drop the leading frames that belong to dnnfix and runpy, so the traceback starts in the user's code."""
    first = tb
    while tb is not None and (
        tb.tb_frame.f_code.co_filename.startswith("<frozen runpy")
        or os.path.abspath(tb.tb_frame.f_code.co_filename) in files
    ):
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
    main.__dict__["__cached__"] = None  # (ModuleType does not declare the attributes a run module has)
    main.__loader__ = SourceFileLoader("__main__", full)
    main.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = main  # stays, as in `python FILE` (atexit handlers, pickling, multiprocessing)
    exec(code, main.__dict__)


def run(args) -> int:
    import runpy

    from .. import hook

    target = list(args.target or [])
    if target and target[0] == "--":
        target = target[1:]
    module = None
    if target and target[0] == "-m" or (target and target[0].startswith("-m") and len(target[0]) > 2):
        module = target[0][2:] or (target[1] if len(target) > 1 else "")
        target = target[1:] if target[0] != "-m" else target[2:]
        if not module:
            print("dnnfix: run -m needs a MODULE (dnnfix run --help)", file=sys.stderr)
            return 2
    if module is None and not target:
        print("dnnfix: run needs a SCRIPT or -m MODULE (dnnfix run --help)", file=sys.stderr)
        return 2
    if args.top < 1:
        print("dnnfix: --top must be at least 1", file=sys.stderr)
        return 2
    if module is None:
        script = target[0]
        if not os.path.exists(script):
            print(f"dnnfix: {script}: no such file", file=sys.stderr)
            return 2
        sys.argv = target
        sys.path[0] = os.path.dirname(os.path.abspath(script))
    else:
        sys.argv = [module] + target
        sys.path[0] = os.getcwd()
    hook.install(capture=args.capture, top=args.top)
    ours = {os.path.abspath(runpy.__file__), os.path.abspath(__file__)}
    try:
        if module is None:
            run_script(sys.argv[0])
        else:
            runpy.run_module(module, run_name="__main__", alter_sys=True)
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
        sys.last_type, sys.last_value, sys.last_traceback = type(e), e, tb  # as Python sets them
        if sys.version_info >= (3, 12):
            sys.last_exc = e
        try:
            sys.excepthook(type(e), e, tb)  # the program's own hook, if it set one, or ours
        except BaseException:  # noqa: BLE001 - a broken hook of the program: Python's own printing
            sys.__excepthook__(type(e), e, tb)
        hook.report_missed(e)  # the program's hook did not call ours: the diagnosis still comes
        return 130 if isinstance(e, KeyboardInterrupt) else 1
    return 0
