"""`dnnfix completion bash|zsh|fish`: print the shell code that completes dnnfix's commands and options.

    eval "$(dnnfix completion bash)"                          # ~/.bashrc
    eval "$(dnnfix completion zsh)"                           # ~/.zshrc
    dnnfix completion fish > ~/.config/fish/completions/dnnfix.fish

The code comes from argcomplete: the shell runs `dnnfix` with _ARGCOMPLETE set, and cli.main() answers from the
same argparse parser that parses the command line, so completion never drifts from the real options.
"""

from __future__ import annotations

import sys

SHELLS = ("bash", "zsh", "fish")


def register(sub) -> None:
    p = sub.add_parser(
        "completion",
        help="print shell completion code (bash, zsh, fish)",
        description="Print the code that makes your shell complete dnnfix's commands and options.",
        epilog='bash: eval "$(dnnfix completion bash)" in ~/.bashrc; zsh: the same with zsh in '
        "~/.zshrc; fish: dnnfix completion fish > ~/.config/fish/completions/dnnfix.fish",
    )
    p.add_argument("shell", choices=SHELLS, help="the shell")
    p.set_defaults(func=run)


def run(args) -> int:
    try:
        from argcomplete import shellcode
    except ImportError:
        print("dnnfix: shell completion needs argcomplete: pip install argcomplete", file=sys.stderr)
        return 2
    sys.stdout.write(shellcode(["dnnfix"], shell=args.shell))
    if not sys.stdout.isatty():
        sys.stdout.flush()
    return 0


def complete(parser) -> None:
    """Called first thing by cli.main(): answers the shell and exits when it is asking (_ARGCOMPLETE set)."""
    try:
        import argcomplete
    except ImportError:
        return
    argcomplete.autocomplete(parser)
