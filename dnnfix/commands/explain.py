"""`dnnfix explain CAUSE-ID`: the full explanation and every fix of one cause."""
from __future__ import annotations

import argparse
import sys


def register(sub) -> None:
    p = sub.add_parser("explain", help="show a cause's explanation and fixes")
    p.add_argument("cause", metavar="CAUSE-ID")
    p.add_argument("--kb", action="append", default=argparse.SUPPRESS, metavar="DIR")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..kbload import load_kb
    from ..signature import _did_you_mean

    kb = load_kb(getattr(args, "kb", []) or [])
    ex = kb.explanations.get(args.cause)
    if ex is None:
        hint = _did_you_mean(args.cause, list(kb.explanations) + list(kb.causes))
        print(f"dnnfix: no explanation for cause '{args.cause}'" + (f"; {hint}" if hint else ""), file=sys.stderr)
        return 2
    print(f"# {ex.title}  ({ex.cause})\n")
    for name, body in ex.sections.items():
        print(f"## {name}\n{body}\n")
    return 0
