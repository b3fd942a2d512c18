"""`dnnfix report [FILE|-] [-o OUT]`: a redacted bundle (text, fingerprint, diagnosis, environment) for an issue."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub) -> None:
    p = sub.add_parser("report", help="write a redacted bundle of an unknown error to attach to an issue")
    p.add_argument("file", nargs="?", default="-", metavar="FILE")
    p.add_argument("-o", "--output", metavar="OUT", help="where to write (default: dnnfix-report-<fingerprint>.json)")
    p.add_argument("--no-probe", action="store_true", help="leave this machine's environment out")
    p.add_argument("--kb", action="append", default=argparse.SUPPRESS, metavar="DIR")
    p.set_defaults(func=run)


def redact_text(text: str) -> str:
    """Credentials, home folders, user and host names out of pasted text (dnnfix/redact.py)."""
    from ..redact import redact_text as redact

    return redact(text)


def run(args) -> int:
    from .. import __version__
    from ..api import diagnose_text
    from ..knowledge.load import load_kb
    from ..readinput import InputError, read_input
    from ..render_json import to_dict

    try:
        t = read_input(args.file)
    except InputError as e:
        print(f"dnnfix: {e}", file=sys.stderr)
        return 2
    text = redact_text(t.text)
    kb = load_kb(getattr(args, "kb", []) or [])
    d = diagnose_text(text, kb=kb, name=args.file)
    env = None
    if not args.no_probe:
        try:
            from ..probe import collect, redact

            env = redact(collect())
        except Exception as e:  # the report is still useful without it
            env = {"unavailable": f"{type(e).__name__}: {e}"}
    bundle = {
        "dnnfix": __version__,
        "fingerprint": d.fingerprint,
        "diagnosis": to_dict(d, kb),
        "environment": env,
        "text": text,
    }
    out = args.output or f"dnnfix-report-{d.fingerprint.replace('dnnfix-', '')}.json"
    if out == "-":
        print(json.dumps(bundle, indent=2, ensure_ascii=False))
    else:
        try:
            with open(out, "w", encoding="utf-8") as fh:
                json.dump(bundle, fh, indent=2, ensure_ascii=False)
        except OSError as e:
            print(f"dnnfix: cannot write {out}: {e.strerror or e}", file=sys.stderr)
            return 2
        print(
            f"wrote {out} (fingerprint {d.fingerprint}); read it before attaching it: it holds your traceback, redacted"
        )
    return 0
