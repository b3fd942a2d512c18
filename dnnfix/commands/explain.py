"""`dnnfix explain CAUSE-ID [FILE]`: the full explanation and every fix of one cause, rendered for the terminal.

With FILE (a paste, `-` for standard input) the cause's facts come from diagnosing it (the GPU's memory, the
versions involved); without, each field shows its readable default. `--markdown` prints the filled Markdown.
"""

from __future__ import annotations

import argparse
import sys


def register(sub) -> None:
    p = sub.add_parser(
        "explain",
        help="show a cause's explanation and fixes",
        description="Show a cause's explanation and fixes (facts filled in from FILE when given).",
    )
    p.add_argument("cause", metavar="CAUSE-ID")
    p.add_argument("file", nargs="?", metavar="FILE", help="a paste whose facts fill the explanation ('-': stdin)")
    p.add_argument("--markdown", action="store_true", help="print the filled Markdown instead of rendering it")
    p.add_argument("--env", metavar="SNAPSHOT.json", help="facts from `dnnfix env --json` (with FILE)")
    p.add_argument("--kb", action="append", default=argparse.SUPPRESS, metavar="DIR")
    p.set_defaults(func=run)


def document(ex, facts) -> str:
    """The cause's explanation as one Markdown document, facts filled in (readable defaults where unknown)."""
    from ..knowledge.explain import fill_markdown

    parts = [f"# {fill_markdown(ex.title, facts)}", f"`{ex.cause}`"]
    for name, body in ex.sections.items():
        parts.append(f"## {name}\n\n{fill_markdown(body, facts)}")
    return "\n\n".join(parts) + "\n"


def _facts_from(args, kb) -> "dict | None":
    """The facts of the first match for the cause in FILE ({} when it does not fire); None after an error."""
    from ..api import diagnose_text
    from ..readinput import InputError, read_input
    from .match import snapshot_arg

    env = None
    if args.env:
        env = snapshot_arg(args.env)
        if env is None:
            return None
    try:
        t = read_input(args.file)
    except InputError as e:
        print(f"dnnfix: {e}", file=sys.stderr)
        return None
    d = diagnose_text(t.text, env=env, kb=kb, name=args.file)
    m = next((m for m in d.matches if m.cause == args.cause), None)
    if m is None:
        print(
            f"dnnfix: {args.file}: cause '{args.cause}' does not fire on it; fields show their defaults",
            file=sys.stderr,
        )
        return {}
    return dict(m.facts)


def run(args) -> int:
    from ..knowledge.load import load_kb
    from ..knowledge.signature import _did_you_mean

    kb = load_kb(getattr(args, "kb", []) or [])
    ex = kb.explanations.get(args.cause)
    if ex is None:
        hint = _did_you_mean(args.cause, list(kb.explanations) + list(kb.causes))
        print(f"dnnfix: no explanation for cause '{args.cause}'" + (f"; {hint}" if hint else ""), file=sys.stderr)
        return 2
    facts: "dict | None" = {}
    if args.file:
        facts = _facts_from(args, kb)
        if facts is None:
            return 2
    doc = document(ex, facts)
    if args.markdown:
        from .match import write

        write(doc.rstrip("\n"))
        return 0
    from rich.console import Console
    from rich.markdown import Markdown

    from ..render_text import terminal_width
    from ..term import use_color

    color = use_color(sys.stdout)
    con = Console(
        file=sys.stdout,
        width=terminal_width(sys.stdout) or 100,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
        emoji=False,
        legacy_windows=False,
        force_jupyter=False,
    )
    with con.capture() as cap:
        con.print(Markdown(doc, code_theme="ansi_dark" if color else "default", hyperlinks=False))
    from .match import write

    # rich pads every line to the width: drop the padding (before a closing colour code too)
    out = "\n".join(_TRAILING.sub(r"\1", ln) for ln in cap.get().rstrip("\n").split("\n"))
    from .. import term

    if term.ASCII:  # an output encoding without rich's bullets and rules
        out = out.translate(_ASCII)
    write(out)
    return 0


_ASCII = str.maketrans(
    {"•": "*", "━": "=", "─": "-", "│": "|", "▌": "|", "…": "...", "“": '"', "”": '"', "‘": "'", "’": "'", "−": "-"}
)
_TRAILING = __import__("re").compile(r"[ \t]+((?:\x1b\[[0-9;]*m)*)$")
