"""Cause explanations: one Markdown file per cause, fixed sections, fixes as fenced code blocks.

Parsed with markdown-it-py at knowledge-base build time (then cached), so matching never imports it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from .signature import Diagnostic

SECTIONS = ("What happened", "Why", "Fix", "How to check", "Fix safety", "References")
_PLACEHOLDER = re.compile(r"\{\{\s*([\w.-]+)\s*(?:\|\s*([^}]*?)\s*)?\}\}")


def parse_explanation(text: str, path: str, diags: List[Diagnostic]):
    from markdown_it import MarkdownIt

    from .load import Explanation

    md = MarkdownIt("commonmark")
    tokens = md.parse(text)
    lines = text.splitlines()
    title = ""
    sections: Dict[str, str] = {}
    section_start: Dict[str, int] = {}
    fixes: List[Dict[str, str]] = []
    order: List[str] = []
    current = None
    fix_title = None
    fix_line = 0
    heading_lines: List[int] = []
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            inline = tokens[i + 1].content.strip()
            start = tok.map[0] if tok.map else 0
            if tok.tag == "h1":
                title = inline
            elif tok.tag == "h2":
                current = inline
                order.append(inline)
                section_start[inline] = start
                heading_lines.append(start)
                fix_title = None
            elif tok.tag == "h3" and current == "Fix":
                fix_title = inline
                fix_line = start + 1
                fixes.append({"title": inline, "language": "", "code": "", "line": str(fix_line)})
            if tok.tag in ("h1", "h2"):
                heading_lines.append(start)
        elif tok.type == "fence" and current == "Fix":
            if fixes and fix_title is not None and not fixes[-1]["code"]:
                fixes[-1]["language"] = (tok.info or "").strip().split(" ")[0]
                fixes[-1]["code"] = tok.content.rstrip("\n")
    # section bodies as raw Markdown slices
    starts = sorted(section_start.items(), key=lambda kv: kv[1])
    for k, (name, start) in enumerate(starts):
        end = starts[k + 1][1] if k + 1 < len(starts) else len(lines)
        sections[name] = "\n".join(lines[start + 1 : end]).strip()
    missing = [s for s in SECTIONS if s not in sections]
    if missing:
        diags.append(
            Diagnostic(
                path,
                1,
                1,
                "DNX150",
                "missing section(s): " + ", ".join(f"'## {m}'" for m in missing),
                "sections, in order: " + ", ".join(SECTIONS),
            )
        )
    else:
        present = [s for s in order if s in SECTIONS]
        if present != list(SECTIONS):
            diags.append(
                Diagnostic(
                    path,
                    1,
                    1,
                    "DNX151",
                    "sections out of order: " + ", ".join(present),
                    "order: " + ", ".join(SECTIONS),
                )
            )
    unknown = [s for s in order if s not in SECTIONS]
    for s in unknown:
        diags.append(
            Diagnostic(
                path, section_start[s] + 1, 1, "DNX152", f"unknown section '## {s}'", _near(s), severity="warning"
            )
        )
    if "Fix" in sections and not fixes:
        diags.append(
            Diagnostic(
                path, section_start["Fix"] + 1, 1, "DNX153", "'## Fix' has no '### Title' fix with a fenced code block"
            )
        )
    for f in fixes:
        if not f["code"]:
            diags.append(
                Diagnostic(
                    path,
                    int(f["line"]),
                    1,
                    "DNX154",
                    f"fix '{f['title']}' has no fenced code block",
                    "put the runnable snippet in ```bash or ```python",
                )
            )
        elif not f["language"]:
            diags.append(
                Diagnostic(
                    path,
                    int(f["line"]),
                    1,
                    "DNX155",
                    f"fix '{f['title']}' code block has no language",
                    "write ```bash or ```python",
                )
            )
    if not title:
        diags.append(Diagnostic(path, 1, 1, "DNX156", "no '# Title' line", severity="warning"))
    cause = Path(path).stem
    return Explanation(
        cause=cause,
        title=title,
        sections=sections,
        fixes=[{k: v for k, v in f.items() if k != "line"} for f in fixes if f["code"]],
        path=path,
    )


def _near(name: str) -> str:
    import difflib

    m = difflib.get_close_matches(name, SECTIONS, n=1)
    return f"did you mean '## {m[0]}'?" if m else ""


def load_explanations(dirs: Sequence[Path], causes: Mapping[str, Any], diags: List[Diagnostic]):
    out = {}
    for d in dirs:
        cd = d / "causes"
        if not cd.is_dir():
            continue
        for p in sorted(cd.glob("*.md")):
            try:
                text = p.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as e:
                diags.append(Diagnostic(str(p), 1, 1, "DNX002", f"cannot read: {e}"))
                continue
            if p.stem not in causes:
                diags.append(
                    Diagnostic(
                        str(p),
                        1,
                        1,
                        "DNX157",
                        f"explanation for unknown cause '{p.stem}'",
                        "the file name must be a cause id from kb/causes.yaml",
                    )
                )
            out[p.stem] = parse_explanation(text, str(p), diags)
    return out


def fill(text: str, facts: Mapping[str, Any], missing: Optional[Callable[[str], str]] = None) -> str:
    """Replace {{name}} / {{name|fallback}} with facts; unknown facts take the fallback, or `missing(name)`
    (default `<name>`), so that an unfilled field stays readable."""
    if "{{" not in text:  # most fix lines and titles hold no placeholder
        return text

    def rep(m: "re.Match[str]") -> str:
        key, fallback = m.group(1), m.group(2)
        val = facts.get(key)
        if val is None and "." in key:
            cur: Any = facts
            for part in key.split("."):
                cur = cur.get(part) if isinstance(cur, Mapping) else None
            val = cur
        if val is None or val == "":
            if fallback is not None:
                return fallback
            return missing(key) if missing is not None else f"<{key}>"
        return str(val)

    return _PLACEHOLDER.sub(rep, text)


def fill_markdown(text: str, facts: Mapping[str, Any]) -> str:
    """fill() for a Markdown document: an unknown fact reads `*name*` in prose (where `<name>` would vanish as an
    HTML tag) and `<name>` inside code, where it is the usual "put yours here" mark."""
    out: List[str] = []
    block: List[str] = []
    fenced = False
    prose = lambda k: f"*{k.replace('_', ' ')}*"  # noqa: E731

    def flush():
        if block:
            out.append(fill("\n".join(block), facts, None if fenced else prose))
            block.clear()

    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            flush()
            out.append(line)
            fenced = not fenced
            continue
        if "`" in line and not fenced:  # inline code: keep <name> there, italics elsewhere
            parts = line.split("`")
            out_line = "`".join(fill(p, facts, None if i % 2 else prose) for i, p in enumerate(parts))
            flush()
            out.append(out_line)
            continue
        block.append(line)
    flush()
    return "\n".join(out)
