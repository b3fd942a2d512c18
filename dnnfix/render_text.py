"""Report -> the human report for terminals (compact, evidence first, the fix to run first).

`lines()` lays the report out once as indented lines of styled runs. `to_rich()` prints them with rich
(wrapping to the terminal width with hanging indents, colour per NO_COLOR/FORCE_COLOR, ASCII glyphs where the
output encoding has no block characters): that is what `dnnfix match` prints. `plain()` joins the same lines with
dnnfix.term's ANSI styles and imports nothing, for the hook, whose first diagnosis must stay fast (rich alone
takes longer to import than the whole diagnosis).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, List, Optional, Sequence, Tuple

from .report import Report, bar
from .term import Style, glyph

Run = Tuple[str, Tuple[str, ...]]  # text, style names of dnnfix.term


@dataclass
class Line:
    indent: int
    runs: List[Run]
    code: bool = False  # fix code: never wrapped (it is meant to be copied)
    hang: int = 0  # extra indent of wrapped continuation lines


def _r(text: str, *styles: str) -> Run:
    return (text, styles)


def lines(r: Report, *, header: bool = True, show_fix: bool = True) -> List[Line]:
    out: List[Line] = []
    add = out.append
    if header:
        add(Line(0, [_r(f"dnnfix: {r.input}", "bold"), _r(f"  ({r.elapsed_ms:.1f} ms)", "grey")]))
    for note in r.notes:
        add(Line(0, [_r(f"note: {note}", "grey")]))
    if not r.confident:
        add(Line(0, [_r("No known cause fits with confidence.", "yellow", "bold")]))
        add(
            Line(
                2,
                [
                    _r(
                        r.family,
                    )
                ],
            )
        )
        if r.entries:
            add(Line(2, [_r("Weaker candidates (not confident):", "grey")]))
    for e in r.entries:
        tag = _r("confident", "green") if e.confident else _r("possible", "yellow")
        add(Line(0, [_r(f"{e.rank}.", "bold"), _r(" "), _r(e.title, "bold")], hang=3))
        add(
            Line(
                3,
                [
                    _r(e.cause, "cyan"),
                    _r(f"  {bar(e.score)} {e.score:.2f} "),
                    tag,
                    _r("  "),
                    _r(f"[{e.signature}]", "grey"),
                ],
            )
        )
        for ev in e.evidence:
            mark = _r(glyph("−", "-"), "red") if ev.against else _r("+", "green")
            add(Line(3, [mark, _r(" " + ev.format())], hang=2))
        if e.also:
            add(Line(5, [_r("also: " + ", ".join(f"{a.signature} {a.score:.2f}" for a in e.also), "grey")]))
        if show_fix and e.strong and e.fixes:
            f = e.fixes[0]
            add(Line(3, [_r("fix first:", "bold"), _r(f" {f.title}")]))
            for ln in f.code.splitlines()[:12]:
                add(Line(5, [_r(ln, "blue")], code=True))
            if len(e.fixes) > 1:
                n = len(e.fixes) - 1
                add(Line(5, [_r(f"(+{n} more fix{'es' if n > 1 else ''}: dnnfix explain {e.cause})", "grey")]))
    if r.hidden:
        n = len(r.hidden)
        add(
            Line(
                0,
                [
                    _r(
                        f"({n} harmless log entr{'ies' if n > 1 else 'y'} hidden: "
                        f"{', '.join(h.cause for h in r.hidden[:3])}; --all shows them)",
                        "grey",
                    )
                ],
            )
        )
    # hints: beside a confident cause they are mostly noise (--all shows them)
    if r.similar and (not r.confident or r.show_all):
        add(Line(0, [_r("Similar known failures (they look alike; no signature fired for them):", "grey")]))
        for m in r.similar:
            add(Line(2, [_r(m.cause, "cyan"), _r(f"  {m.score:.2f}  "), _r(m.title, "grey")], hang=2))
            for ev in m.evidence:
                add(Line(4, [_r(ev.format(), "grey")], hang=2))
    if not r.confident:
        add(Line(2, [_r(f"fingerprint {r.fingerprint}", "grey")]))
        add(Line(2, [_r(f"teach dnnfix this one: {r.scaffold}", "grey")]))
    return out


def plain(ls: Sequence[Line], style: Style) -> str:
    """The lines as text, ANSI-styled when `style` is enabled; no wrapping, no imports."""
    return "\n".join(" " * ln.indent + "".join(style(t, *s) for t, s in ln.runs) for ln in ls)


_RICH_STYLE = {"grey": "bright_black"}


def to_rich(ls: Sequence[Line], *, color: bool, width: Optional[int] = None) -> str:
    """The lines through rich: wrapped to `width` (None: no wrapping) with hanging indents, ANSI when `color`."""
    import io

    from rich.console import Console
    from rich.text import Text

    buf = io.StringIO()
    con = Console(
        file=buf,
        width=width or 10_000,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,
        legacy_windows=False,
        force_jupyter=False,
    )
    for ln in ls:
        text = Text()
        for t, s in ln.runs:
            text.append(t, style=" ".join(_RICH_STYLE.get(x, x) for x in s) or None)
        pad = Text(" " * ln.indent)
        if ln.code or width is None:
            con.print(pad + text)
            continue
        for i, part in enumerate(text.wrap(con, max(20, width - ln.indent - ln.hang), overflow="fold")):
            part.rstrip()
            con.print((pad if i == 0 else Text(" " * (ln.indent + ln.hang))) + part)
    return buf.getvalue().rstrip("\n")


def terminal_width(stream: IO) -> Optional[int]:
    """Wrap to the terminal's width on a terminal (or to $COLUMNS when set); never in a pipe or a file."""
    import os
    import shutil

    cols = os.environ.get("COLUMNS", "")
    if cols.isdigit() and int(cols) >= 20:
        return int(cols)
    try:
        if stream.isatty():
            return max(40, shutil.get_terminal_size().columns)
    except (AttributeError, ValueError, OSError):
        pass
    return None


def render_report(r: Report, style: Style, *, header: bool = True, show_fix: bool = True) -> str:
    return plain(lines(r, header=header, show_fix=show_fix), style)


def render(
    d, kb, style: Style, *, top: int = 3, show_fix: bool = True, header: bool = True, show_all: bool = False
) -> str:
    """Diagnosis -> text (kept for callers that hold a Diagnosis): builds the Report, then `plain()`."""
    from .report import build

    return render_report(
        build(d, kb, top=top, show_all=show_all, explain=False), style, header=header, show_fix=show_fix
    )


def short(r: Report) -> str:
    """One line per shown cause, for logs: `INPUT: CAUSE SCORE confident|possible TITLE`."""
    if not r.entries:
        what = r.exception["type"].rsplit(".", 1)[-1] if r.exception else "no exception"
        return f"{r.input}: no known cause ({what}; fingerprint {r.fingerprint})"
    return "\n".join(
        f"{r.input}:{_first_line(e)}: {e.cause} {e.score:.2f} {'confident' if e.confident else 'possible'} {e.title}"
        for e in r.entries
    )


def _first_line(e) -> str:
    ls = [ev.line for ev in e.evidence if ev.line and not ev.against]
    return str(min(ls)) if ls else "0"


def _gh_escape(s: str, prop: bool = False) -> str:
    s = s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        s = s.replace(":", "%3A").replace(",", "%2C")
    return s


def github(r: Report) -> str:
    """GitHub Actions workflow commands: one annotation per shown cause, on the input's line that fired.

    A confident cause is an `error`, a possible one a `warning`; an input with no cause gets a `notice`."""
    out = []
    path = r.input if r.input not in ("-", "<exception>") else ""
    for e in r.entries:
        level = "error" if e.confident else "warning"
        props = []
        if path:
            props.append(f"file={_gh_escape(path, True)}")
            ls = [ev.line for ev in e.evidence if ev.line and not ev.against]
            if ls:
                props.append(f"line={min(ls)}")
        props.append(f"title={_gh_escape(f'dnnfix {e.cause} ({e.score:.2f})', True)}")
        body = e.title
        if e.fixes:
            body += f"\nfix: {e.fixes[0].title}\n" + e.fixes[0].code
        body += f"\nmore: dnnfix explain {e.cause}"
        out.append(f"::{level} {','.join(props)}::{_gh_escape(body)}")
    if not r.entries:
        props = [f"file={_gh_escape(path, True)}"] if path else []
        props.append("title=dnnfix")
        out.append(f"::notice {','.join(props)}::{_gh_escape('no known cause fits: ' + r.family)}")
    return "\n".join(out)
