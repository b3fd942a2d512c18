"""Plain-text helpers for the app, no Textual here: capping huge pastes, explanation Markdown, fix scripts,
environment summaries. Kept apart so that they are tested without a terminal."""

from __future__ import annotations

from typing import Any, List, Mapping, Optional, Tuple

MAX_LINES = 10_000  # what the paste area holds; a bigger paste keeps head, error-like middle lines and tail
HEAD_LINES = 1_000
MIDDLE_LINES = 1_000
MAX_LINE_CHARS = 4_000  # the normaliser reads no further either
# Words of the lines worth keeping from the middle of a huge paste (errors, native log lines at W/E/F, GPU
# stack words), as in dnnfix/readinput.py. Plain substrings: str.find over the whole block runs at C speed,
# where one regex with this many alternatives took over a second on 200,000 lines.
_SALIENT = (
    "Error",
    "Exception",
    "Traceback",
    "error:",
    "FATAL",
    "Fatal",
    "Killed",
    "Aborted",
    "Illegal instruction",
    "Segmentation fault",
    "CUDA",
    "CuDNN",
    "cuDNN",
    "cudnn",
    "CUDNN",
    "cuBLAS",
    "CUBLAS",
    "NCCL",
    "libcu",
    "dlopen",
    "driver",
    "Driver",
    "out of memory",
    "OOM",
    "] W ",
    "] E ",
    "] F ",
    ": W ",
    ": E ",
    ": F ",
    "\nW0",
    "\nW1",
    "\nE0",
    "\nE1",
    "\nF0",
    "\nF1",
)


def salient_lines(block: str) -> List[str]:
    """The lines of `block` that contain one of the salient words, in order."""
    starts = set()
    for word in _SALIENT:
        i = block.find(word)
        while i != -1:
            if word[0] == "\n":
                i += 1
            starts.add(block.rfind("\n", 0, i) + 1)
            end = block.find("\n", i + 1 if word[0] == "\n" else i)
            if end == -1:
                break
            i = block.find(word, end)
    out = []
    for st in sorted(starts):
        end = block.find("\n", st)
        out.append(block[st:] if end == -1 else block[st:end])
    return out


def cap_text(text: str, max_lines: int = MAX_LINES) -> Tuple[str, bool, str]:
    """(text for the paste area, truncated?, one-line note). Bounded whatever the paste size."""
    lines = text.split("\n")
    long_lines = max(map(len, lines), default=0) > MAX_LINE_CHARS
    if len(lines) <= max_lines and not long_lines:
        return text, False, ""
    if long_lines:
        lines = [ln if len(ln) <= MAX_LINE_CHARS else ln[:MAX_LINE_CHARS] + " [...]" for ln in lines]
    if len(lines) <= max_lines:
        return "\n".join(lines), False, f"lines longer than {MAX_LINE_CHARS:,} characters were cut"
    tail_n = max_lines - HEAD_LINES - MIDDLE_LINES - 1
    head, middle, tail = lines[:HEAD_LINES], lines[HEAD_LINES:-tail_n], lines[-tail_n:]
    kept = salient_lines("\n".join(middle))[-MIDDLE_LINES:]
    marker = f"[... dnnfix kept {len(kept):,} error-like lines of {len(middle):,} omitted here ...]"
    note = f"very large paste ({len(lines):,} lines): kept the head, the tail and {len(kept):,} error-like lines"
    return "\n".join(head + kept + [marker] + tail), True, note


def bar(score: float, width: int = 10) -> str:
    """The one confidence bar (dnnfix.report.bar), always with block glyphs: Textual draws them."""
    from ..report import bar as report_bar

    return report_bar(score, width, ascii=False)


def listed(d, kb) -> List[Any]:
    """The cause list of the app, as a function of the Report: each cause at its best rank, followed by the other
    signatures of the same cause (the app lets you inspect every signature that fired); nothing hidden. The
    hints (known failures that look alike, resemble.py) come last, their titles saying what they are."""
    from ..report import build

    r = build(d, kb, top=max(1, len(d.matches)), show_all=True, explain=False)
    return [m for e in r.entries for m in e.group] + list(r.similar)


def explanation_markdown(match, kb, facts: Optional[Mapping[str, Any]] = None) -> str:
    """The cause's explanation (every section but Fix, which the Fixes tab shows), facts filled in."""
    from ..knowledge.explain import fill

    facts = facts if facts is not None else match.facts
    ex = kb.explanations.get(match.cause)
    out: List[str] = []
    if ex is None:
        summary = (kb.causes.get(match.cause) or {}).get("summary", "")
        out.append(
            f"**{match.title}**\n\ncause `{match.cause}` · signature `{match.signature}` · score "
            f"{match.score:.2f}\n\n{summary or 'This cause has no explanation file yet.'}"
        )
        return "\n".join(out)
    out.append(
        f"**{fill(ex.title, facts) or match.title}**\n\n"
        f"cause `{match.cause}` · signature `{match.signature}` · score {match.score:.2f}"
    )
    for name, body in ex.sections.items():
        if name == "Fix":
            n = len(ex.fixes)
            out.append(f"## Fix\n\n{n} fix{'es' if n != 1 else ''}: see the *Fixes* tab (key **f**).")
            continue
        out.append(f"## {name}\n\n{fill(body, facts)}")
    return "\n\n".join(out)


_EXT = {
    "bash": ".sh",
    "sh": ".sh",
    "shell": ".sh",
    "console": ".sh",
    "zsh": ".sh",
    "python": ".py",
    "py": ".py",
    "ipython": ".py",
    "powershell": ".ps1",
    "ps1": ".ps1",
    "bat": ".bat",
    "cmd": ".bat",
}


def script_name(match, index: int, fix: Mapping[str, str]) -> str:
    ext = _EXT.get((fix.get("language") or "").lower(), ".txt")
    return f"dnnfix-fix-{match.cause.replace('.', '-')}-{index + 1}{ext}"


def script_text(match, fix: Mapping[str, str]) -> str:
    """A runnable script for one fix: a shebang where the language has one, and where it came from."""
    lang = (fix.get("language") or "").lower()
    code = fix["code"].rstrip("\n") + "\n"
    about = [
        f"dnnfix fix: {fix['title']}",
        f"cause: {match.cause} (signature {match.signature})",
        "read it before running it; `dnnfix explain " + match.cause + "` has the full story",
    ]
    if _EXT.get(lang) == ".sh":
        if lang == "console":
            code = "\n".join(ln[2:] if ln.startswith("$ ") else ln for ln in code.splitlines()) + "\n"
        return "#!/usr/bin/env bash\n" + "".join(f"# {a}\n" for a in about) + "set -e\n\n" + code
    if _EXT.get(lang) == ".py":
        return "#!/usr/bin/env python3\n" + "".join(f"# {a}\n" for a in about) + "\n" + code
    return code


def env_rows(snap: Optional[Mapping[str, Any]]) -> List[Tuple[str, str]]:
    """The facts that decide most diagnoses, one (label, value) row each; absent facts are left out."""
    if not snap:
        return []
    rows: List[Tuple[str, str]] = []

    def get(*path: str) -> Any:
        cur: Any = snap
        for p in path:
            cur = cur.get(p) if isinstance(cur, Mapping) else None
        return cur

    if get("python", "version"):
        rows.append(("Python", str(get("python", "version"))))
    if get("os", "system"):
        rows.append(
            ("OS", " ".join(str(x) for x in (get("os", "system"), get("os", "distro") or get("os", "release")) if x))
        )
    pl = get("platform") or {}
    marks = [k for k in ("colab", "kaggle", "docker", "conda", "jupyter") if isinstance(pl, Mapping) and pl.get(k)]
    if marks:
        rows.append(("Platform", ", ".join(marks)))
    pk = get("packages") or {}
    if isinstance(pk, Mapping):
        fw = [f"{n} {pk[n]}" for n in ("tensorflow", "torch", "jax", "keras", "numpy") if pk.get(n)]
        if fw:
            rows.append(("Packages", ", ".join(fw)))
    if get("driver", "version"):
        rows.append(("Driver", f"{get('driver', 'version')} (CUDA {get('driver', 'cuda_version') or '?'})"))
    cuda = [
        f"{k} {v}" for k, v in (("CUDA", get("cuda", "runtime_version")), ("cuDNN", get("cuda", "cudnn_version"))) if v
    ]
    if cuda:
        rows.append(("Libraries", ", ".join(cuda)))
    gpus = get("gpus")
    if isinstance(gpus, list):
        names = [str(g.get("name", "?")) for g in gpus if isinstance(g, Mapping)]
        rows.append(("GPUs", ", ".join(names) if names else "none"))
    return rows


def short_path(path: str) -> str:
    import os

    home = os.path.expanduser("~")
    return "~" + path[len(home) :] if home and home != "/" and path.startswith(home + os.sep) else path


def ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"
