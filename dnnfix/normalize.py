"""One shared normaliser: cleaning pasted text for parsing, and canonical forms for fingerprints.

`clean_lines` turns whatever people paste (ANSI colours, Colab link artefacts, CRLF, progress bars, CI and
pytest prefixes, curly quotes) into plain lines. `canonical` replaces the parts that differ between machines
and runs (paths, numbers, addresses, versions, timestamps) so that the same error gets the same fingerprint.
"""

from __future__ import annotations

import functools
import hashlib
import re
from typing import Any, Dict, List, Optional, Tuple


class LazyRe:
    """A regex compiled on first use. Most patterns here and in envreport.py are for forms that few pastes hold;
    compiling them all would cost the hook's first diagnosis milliseconds. The first use binds the compiled
    pattern's methods on the instance, so later calls cost what the compiled pattern's own do."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._args = (pattern, flags)

    def __getattr__(self, name: str) -> Any:  # called only for what the instance does not hold yet
        if name.startswith("__") or name == "_args":
            raise AttributeError(name)
        rx = re.compile(*self._args)
        for n in ("search", "match", "fullmatch", "finditer", "findall", "sub", "split", "pattern"):
            setattr(self, n, getattr(rx, n))
        return getattr(rx, name)


# CSI sequences (colours, cursor moves), OSC sequences (hyperlinks, titles), and lone ESC pairs.
_ANSI = LazyRe(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_ANSI_NO_ESC = LazyRe(r"\[(?:\d{1,3};)*\d{1,3}m")
# Colab/Jupyter pastes: [/usr/local/lib/python3.10/dist-packages/x.py](https://localhost:8080/#) in f()
_MD_LINK = LazyRe(r"\[([^\]\n]{1,400})\]\((?:https?://localhost[^)\s]*|https?://[^)\s]*#[^)\s]*|#[^)\s]*)\)")
_TRANSLATE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\u3000": " ",
        "\u200b": None,
        "\u200c": None,
        "\u200d": None,
        "\ufeff": None,
        "\x00": None,
    }
)
_TRANSLATE_ASCII = "".join(chr(k) for k in _TRANSLATE if k < 128)  # the few ASCII characters the table maps (NUL)
# Noise glued to the start of lines. Order matters: outer wrappers first.
_PREFIXES = [
    # ISO timestamps from CI systems and log stores: 2024-05-01T12:00:00.1234567Z, CloudWatch's +00:00 offset
    LazyRe(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?\s+"),
    # [1234], [12:00:01], [pod-name-0], [rank0]:, [default0]: (torchrun --tee, no space after the colon),
    # [pod/trainer-0/main] (kubectl logs --prefix) prefixes from CI, Kubernetes and torchrun
    LazyRe(
        r"^\[(?:\d{1,7}|\d\d:\d\d:\d\d(?:\.\d+)?|[A-Za-z][\w.@/-]{0,60}\d|rank\d+|pod/[\w.-]+/[\w.-]+)\](?::\s*|\s+)"
    ),
    # Cloud Build / docker step prefixes: "Step #5: ", "#12 3.456 "
    LazyRe(r"^(?:Step #\d+(?: - \"[^\"]*\")?:\s?|#\d+ \d+\.\d+ )"),
    # pytest failure lines: "E   ValueError: ..." / "E       ..."
    LazyRe(r"^E {3,}"),
    # Keras progress bars: " 12/100 [==>....] - ETA: 3s - loss: 0.69"
    LazyRe(
        r"^\s*\d+/\d+\s+\[[=>.\-━─ ]*\]\s*(?:-\s*(?:ETA:\s*\S+|\d+m?s(?:\s+\S+)?)\s*)?(?:-\s*[\w ]+:\s*[-\d.e+]+\s*)*"
    ),
    # tqdm bars: " 45%|####5     | 45/100 [00:01<00:02, 30.1it/s]"
    LazyRe(r"^\s*[^|\n]{0,40}\d+%\|[^|]*\|\s*[\d.]+[kM]?/[\d.?]+[kM]?\s*\[[^\]]*\]\s*"),
]
_MAX_LINE = 4000


_TS, _BRACKET, _STEP, _PYTEST, _KERAS_BAR, _TQDM = _PREFIXES

# Log viewers and collectors that put columns in front of each line (issue 10, family 4). Each is anchored at the
# line start and needs its own separator, so a framework's own line (TF's "2024-05-01 10:00:00.000001: I ...",
# absl's "E0412 10:21:07 ...", vLLM's "ERROR 11-18 18:07:28 ...") is never cut.
_VIEWERS = [
    # dmesg "[ 1843.308145] " and syslog/journalctl "Jun 30 11:07:05 gpu-0 kernel: "
    LazyRe(r"^\[\s*\d+\.\d+\]\s+"),
    LazyRe(
        r"^(?:[A-Z][a-z]{2}\s+\d{1,2}\s+\d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S*)\s+[\w.-]+\s+"
        r"(?:kernel|[\w.-]+\[\d+\]):\s+(?:\[\s*\d+\.\d+\]\s+)?"
    ),
    # web-UI log tables copied as text: "2024-05-01 12:00:00.123 | ERROR | module:func:12 - " (loguru), tab- or
    # bar-separated time / level columns (Cloud Logging, Grafana, Kaggle's "6.2s  14  " time and line columns)
    LazyRe(
        r"^\d{4}[-/]\d\d[-/]\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d|\s*UTC)?"
        r"(?:\s*[|\u2502\t]\s*|\s{2,})"
        r"(?:(?:INFO|WARN(?:ING)?|ERROR|DEBUG|CRITICAL|FATAL|TRACE|NOTICE|DEFAULT|stdout|stderr)\s*(?:[|\u2502\t]\s*|\s{2,}|\s+-\s+)"
        r"(?:[\w.<>-]+:[\w<>]+:\d+\s+-\s+)?)?"
    ),
    LazyRe(r"^\s*\d+(?:\.\d+)?s\s+\d+\s+(?=\S)"),
    # line-numbered viewers: "  123 | text", "123 \u2502 text", `cat -n`'s "   123<TAB>text"
    LazyRe(r"^\s*\d{1,6}(?:\s*[|\u2502]\s|\t)"),
    # docker compose "vllm-1  | " / "web_1     | " and Ray's "(RayWorkerWrapper pid=2345) ", "(raylet) "
    LazyRe(r"^[A-Za-z][\w.-]*[-_]\d+\s+\|\s?"),
    LazyRe(r"^\((?:[\w.-]+\s+)?pid=\d+(?:,\s*ip=[\d.]+)?\)\s+|^\(raylet(?:,\s*ip=[\d.]+)?\)\s+"),
]
_DMESG, _SYSLOG, _WEBUI, _KAGGLE, _LINENO, _COMPOSE, _RAY = _VIEWERS
# a Markdown fence ("```", "```text") or a block tag of an issue's raw text around the paste: no line of the log
_MARKUP = LazyRe(r"\s*(?:(?:`{3,}|~{3,})[\w+.-]*|</?(?:details|pre|code|summary)>(?:.*</summary>)?)\s*")
# a number or a bracketed number alone is a value a REPL printed ("0", "[0]"), not a line-number or rank prefix
_VALUE = LazyRe(r"\[?\d+\]?")
_BS = LazyRe("\x08+")


def _strip_viewer_prefix(line: str) -> str:
    c = line[0]
    if c == "[":
        m = _DMESG.match(line)
        if m:
            return line[m.end() :]
    elif c == "(":
        m = _RAY.match(line)
        if m:
            return line[m.end() :]
    elif c.isdigit() or c in " \t":
        if c.isdigit() and len(line) > 19 and line[4:5] in "-/":
            m = _WEBUI.match(line) or _SYSLOG.match(line)
            if m and m.end() > 0:
                return line[m.end() :]
        else:
            head = line[:12]
            if "|" in head or "\u2502" in head or "\t" in head:
                m = _LINENO.match(line)
                if m:
                    return line[m.end() :]
            if "s" in head:
                m = _KAGGLE.match(line)
                if m:
                    return line[m.end() :]
    elif c.isupper() and len(line) > 16 and line[3:4] == " ":
        m = _SYSLOG.match(line)
        if m:
            return line[m.end() :]
    if c.isalpha() and "|" in line[:64]:
        m = _COMPOSE.match(line)
        if m:
            return line[m.end() :]
    return line


def strip_noise_prefix(line: str) -> str:
    # cheap gates first: most lines carry no prefix at all
    if not line:
        return line
    line = _strip_viewer_prefix(line)
    if not line:
        return line
    c = line[0]
    if c.isdigit() and len(line) > 19 and line[10:11] == "T":
        m = _TS.match(line)
        if m:
            line = line[m.end() :]
            c = line[:1]
    if c == "[":
        m = _BRACKET.match(line)
        if m:
            line = line[m.end() :]
            c = line[:1]
    if c in ("S", "#"):
        m = _STEP.match(line)
        if m:
            line = line[m.end() :]
            c = line[:1]
    if c == "E" and line.startswith("E   "):
        m = _PYTEST.match(line)
        if m:
            line = line[m.end() :]
    if "/" in line and "[" in line:
        m = _KERAS_BAR.match(line)
        if m and m.end() > 0:
            line = line[m.end() :]
    if "%|" in line:
        m = _TQDM.match(line)
        if m and m.end() > 0:
            line = line[m.end() :]
    return line


_QUOTE = LazyRe(r"^> ?")


def _unblock(raws: List[str]) -> List[str]:
    """A paste that is all one block: every line quoted ("> ", a reply that quotes the error, up to three levels)
    or every line indented alike (a Markdown code block written with four spaces, a paste inside a list item).
    The block's wrapper comes off; a text with any line outside it is left as it is."""
    for _ in range(3):
        body = [r for r in raws if r.strip()]
        # every line quoted; a Python prompt (">>> x") is not a quote
        if not body or not all(r[:1] == ">" and r[:3] != ">>>" for r in body):
            break
        raws = [_QUOTE.sub("", r) for r in raws]
    body = [r for r in raws if r.strip()]
    pad = len(body[0]) - len(body[0].lstrip(" \t")) if body else 0
    # a right-aligned line number (`cat -n`, a viewer's gutter) is a prefix of its own, not a block's indent
    if pad and not body[0][pad : pad + 1].isdigit():
        common = body[0][:pad]
        for r in body[1:]:
            while common and not r.startswith(common):
                common = common[:-1]
            if not common:
                break
        if len(common.expandtabs(4)) >= 4:  # a block's indent, not a traceback's own two-space frames
            n = len(common)
            raws = [r[n:] if r.startswith(common) else r.lstrip(" \t") for r in raws]
    return raws


_BARE_START = frozenset("0123456789[( \t`~<")  # how a bare prefix, a fence or a block tag starts (or it holds "|")


def _bare(ln: str) -> bool:
    """What a collector's or viewer's prefix leaves of an empty line once the paste lost its trailing tab or space
    ("[pod/trainer-0/main]", "2024-05-01T12:00:00.1Z", "  12 |", "     12" from `cat -n`, "6.2s  14", "(raylet)"): the
    prefix rules themselves strip it whole when the separator is put back. Or a Markdown fence or block tag."""
    if _MARKUP.fullmatch(ln):
        return True
    return not _VALUE.fullmatch(ln) and strip_noise_prefix(ln.rstrip() + "\tx") == "x"


# a shell's prompt with nothing typed after it, pasted below the output it ended: bash/zsh "user@host:~/dir$ ",
# "root@host:/# ", Red Hat's "[user@host dir]$ " (each maybe after a conda/venv "(env) "), PowerShell "PS C:\dir> ",
# cmd "C:\dir>", a bare "$", "#", ">>>" (Python's REPL); also what follows a killed run's report in a flat paste
_PROMPT = (
    r"(?:\([\w.-]+\)\s*)?(?:[\w.-]+@[\w.-]+(?::[^\s$#]*|\s+[^\s$#]+)?\s?[$#%]|\[[\w.-]+@[\w.-]+(?:\s[^\]]*)?\][$#]"
    r"|(?:PS\s+)?[A-Za-z]:\\[^<>|]*>|[$#%]|>>>)"
)
_BARE_PROMPT = LazyRe(_PROMPT)


def last_line(lines: List[str]) -> str:
    """The last line with content: not blank, not a bare collector prefix, not a Markdown fence or block tag, not a
    shell prompt left empty below the output."""
    for ln in reversed(lines):
        if not ln.strip() or (len(ln) < 80 and (ln[0] in _BARE_START or "|" in ln) and _bare(ln)):
            continue
        if len(ln) < 160 and ln.rstrip()[-1] in "$#%>" and _BARE_PROMPT.fullmatch(ln.strip()):
            continue
        return ln
    return ""


_ESCAPED_NL = LazyRe(r"(?<!\\)(?:\\r)?\\n")


def _escaped_newlines(text: str) -> bool:
    """Whether the text's lines were joined with escaped newlines ("\\n" as two characters): at least two of those
    in a text of one line (or one that ends it), at least three in a text of at most three lines (a Windows path's
    "\\n" in a paste with real lines is left alone)."""
    real = text.count("\n", 0, len(text.rstrip()))
    escaped = text.count("\\n")
    if real == 0:  # one line: two escaped newlines, or one that ends it
        return escaped >= 2 or text.rstrip().endswith("\\n")
    return real <= 2 and escaped >= 3


_ENTITIES = ("&lt;", "&gt;", "&quot;", "&amp;", "&#")

# Where a line began in a paste that lost every newline (a one-line form field, a page's text without its <br>s),
# joined by spaces or by nothing: a traceback's header, chain notes and frames, the code line after a frame, the
# exception line, a timestamped or glog log record, pip's lines, and the shell's report that ends a killed run.
_FLAT_START = LazyRe(
    r"(?=Traceback \(most recent call last\))"
    r"|(?=During handling of the above exception, another exception occurred)"
    r"|(?=The above exception was the direct cause of the following exception)"
    r'|\s*(?=File "[^"\n]+", line \d+)'
    r'|(?<=", line )(?P<frame>\d+, in [\w<>.]+)\s*(?=\S)'
    r"|(?<![\w.])(?=(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Warning|Failure|Fault): )"
    r"|(?<=\s)(?=\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)"
    r"|(?<=\s)(?=[IWEF]\d{4} \d\d:\d\d:\d\d\.\d)"
    r"|(?<=\s)(?=(?:ERROR|WARNING): )"
    r"|(?<=\s)(?=[A-Za-z][\w.-]* \d[\w.]* requires \S+, but you have )"
    r"|(?<=\s)(?=\[\d+\] +\d+ (?:killed|segmentation fault|abort|bus error) )"
)
# a place that begins a line in any paste (one of them is enough to show that the newlines were lost)
_FLAT_STRONG = LazyRe(
    r"Traceback \(most|During handling of the above|The above exception was the direct|\d{4}-\d\d-\d\d[ T]\d"
    r"|\[\d+\] +\d+ [a-z]|[A-Za-z][\w.-]* \d[\w.]* requires \S+, but you have "
)
# the shell's report of a run a signal ended, as it ends a log (also envreport's log end glued to a progress bar)
SIGNAL_REPORT = r"Killed|(?:Segmentation fault|Aborted|Bus error|Illegal instruction)(?: \(core dumped\))?"
# (an empty shell prompt may follow it: the paste went on to the prompt the shell printed next)
_FLAT_END = LazyRe(r"(?<![A-Z])\s*(?:" + SIGNAL_REPORT + r")(?P<prompt>\s+" + _PROMPT + r")?\s*$")


@functools.lru_cache(maxsize=None)
def _flat_end_other() -> "re.Pattern[str]":
    """The shell's report of a killed or crashed run as a one-line paste ends it, in the forms _FLAT_END leaves out: a
    lower-case "killed" (a word of its own) and the C library's translations of "Killed" and "Segmentation fault"
    (localised.py's table: "已杀死", "Getötet" ...; a CJK form may follow any character, another only a non-letter).
    Built on first use (it reads localised.py, which imports this module)."""
    from .localised import signal_forms, wide

    forms = sorted(signal_forms(("Killed", "Segmentation fault")), key=len, reverse=True)
    cjk = "|".join(re.escape(f) for f in forms if wide(f))
    other = "|".join(re.escape(f) for f in forms if not wide(f))
    return re.compile(
        r"(?:(?<![^\W\d_])\s*(?:killed|" + other + r")|\s*(?:" + cjk + r"))"
        r"(?:\s*[(\uff08][^()\n\uff08\uff09]{1,40}[)\uff09])?"  # the C library's "(core dumped)", translated
        r"(?P<prompt>\s+" + _PROMPT + r")?\s*$"
    )


# a pasted report, not a log: a longer line is left as it is (the search tries every place of it)
_FLAT_MAX = 64 * 1024
# one of these is in every text where _FLAT_START can cut (a cheap test before the search)
_FLAT_CUES = ("Traceback (", 'File "', ":", "-", " requires ", "During handling", "The above exception")


def one_line(text: str) -> bool:
    """Whether the text is one line (a trailing newline and blanks aside), without copying a long text."""
    nl = text.find("\n")
    return nl < 0 or (len(text) - nl < 64 and not text[nl:].strip())


def _unflatten(text: str) -> str:
    """A long paste of one line whose records show where its lines began (two such places after its start, or one
    that begins a line in any paste, or the shell's report of a killed run at its end): its lines again. Any other
    text is left alone."""
    body = text.strip()
    if "\n" in body or len(body) > _FLAT_MAX:
        return text
    cuts = []
    if len(body) >= 150 and any(c in body for c in _FLAT_CUES):
        cuts = [m for m in _FLAT_START.finditer(body) if m.start() > 0 or m.group("frame")]
    end = _FLAT_END.search(body, max(0, len(body) - 160))
    if end is None:
        end = _flat_end_other().search(body, max(0, len(body) - 160))
    if len(cuts) < 2 and not end and not any(_FLAT_STRONG.match(body, m.end()) for m in cuts):
        return text
    out, prev = [], 0
    for m in cuts:
        if m.start() == prev and m.end() == prev and prev:
            continue  # the empty match just after the whitespace a cut took
        if m.group("frame"):  # "File "x.py", line 3, in <module>" then the frame's code line, indented as Python does
            out.append(body[prev : m.start("frame") + len(m.group("frame"))])
            out.append("\n    ")
        else:
            out.append(body[prev : m.start()])
            out.append("\n")
        prev = m.end()
    tail = body[prev:]
    if end:
        cut = end.start() - prev
        if end.group("prompt"):  # the prompt after the report is a line of its own
            k = end.start("prompt") - prev
            if k > 0:
                tail = tail[:k] + "\n" + tail[k:].strip()
        if cut > 0:
            tail = tail[:cut] + "\n" + tail[cut:].strip()
    out.append(tail)
    lines = "".join(out).split("\n")
    return "\n".join(ln if ln.startswith("    ") else ln.strip() for ln in lines)


def _unmark(raw: str) -> str:
    """Markdown from an issue's raw text around a line: bold ("**Killed**", "**RuntimeError**: ..."), one inline code
    span around the whole line, a trailing <br>."""
    t = raw.strip()
    if t.endswith(("<br>", "<br/>", "<br />")):
        t = t[: t.rindex("<br")].rstrip()
        raw = t
    if t.startswith("**"):
        k = 3 if t.startswith("***") else 2
        j = t.find("*" * k, k)
        if j > k:
            return t[k:j] + t[j + k :]
    elif len(t) > 2 and t[0] == "`" and t[-1] == "`" and "`" not in t[1:-1]:
        return t[1:-1]
    return raw


def clean_lines(text: str, prefixes: Optional[Dict[int, int]] = None) -> List[str]:
    """Split pasted text into cleaned lines (see module doc). Never raises on odd input. `prefixes`, when given,
    receives line index -> the length of the noise prefix taken off that line (strip_noise_prefix)."""
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "m" in text and "[" in text:
        text = _ANSI_NO_ESC.sub("", text)  # colour codes whose ESC byte was lost in the paste
    if "&" in text and any(e in text for e in _ENTITIES):
        import html

        text = html.unescape(text)  # a paste taken from a page's HTML or an API's escaped body (&lt;module&gt;)
    if not text.isascii() or any(ch in text for ch in _TRANSLATE_ASCII):  # an ASCII text the table leaves as it is
        text = text.translate(_TRANSLATE)
    if "](" in text:
        text = _MD_LINK.sub(r"\1", text)
    text = text.replace("\r\n", "\n")
    if "\\n" in text and _escaped_newlines(text):
        # newlines escaped twice (a JSON or repr() of the output): "Traceback ...:\n  File ..."
        # (an escaped tab is left alone: a Windows path's "\\torch" is no tab)
        # (nor a JSON-escaped path's "\\\\nvidia": only a "\\n" after no other backslash is a newline)
        text = _ESCAPED_NL.sub("\n", text)
    if len(text) >= 20 and one_line(text):
        text = _unflatten(text)  # a paste that may have lost its newlines
    out: List[str] = []
    raws = text.split("\n")
    head = text.lstrip("\n")[:1]
    if head in (">", " ", "\t"):
        raws = _unblock(raws)
    marks = "**" in text or "`" in text or "<br" in text
    for raw in raws:
        if marks and ("*" in raw or "`" in raw or "<br" in raw):
            raw = _unmark(raw)
        if "\r" in raw:
            # Progress bars redraw with carriage returns: the last non-empty segment is what stayed on screen.
            parts = [p for p in raw.split("\r") if p.strip()]
            raw = parts[-1] if parts else ""
        if "\x08" in raw:
            # old Keras bars erase themselves with backspaces: likewise, keep what was written last.
            parts = [p for p in _BS.split(raw) if p.strip()]
            raw = parts[-1] if parts else ""
        raw = raw.rstrip()
        line = strip_noise_prefix(raw)
        if line is not raw and prefixes is not None and len(line) != len(raw):
            prefixes[len(out)] = len(raw) - len(line)
        if len(line) > _MAX_LINE:
            line = line[:_MAX_LINE]
        out.append(line)
    return out


# ---------------------------------------------------------------- canonical form (fingerprints)
_CANON = [
    # (pattern, replacement, characters one of which every match holds: the pattern is skipped when none is there)
    # file paths (POSIX and Windows) -> their last component
    (
        re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.@+~-]+){2,}[\\/]?"),
        lambda m: "<path:" + re.sub(r"\d+", "#", re.split(r"[\\/]", m.group(0).rstrip("\\/"))[-1]) + ">",
        ("/", "\\"),
    ),
    (re.compile(r"\b\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?Z?"), lambda m: "<ts>", (":",)),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), lambda m: "<hex>", ("0x",)),
    (re.compile(r"\b[0-9a-f]{12,}\b"), lambda m: "<hex>", ()),
    (re.compile(r"\b\d+(?:\.\d+){1,3}(?:[-+.]?(?:post|dev|rc|cu|cpu|a|b)\w*)?\b"), lambda m: "<ver>", (".",)),
    (re.compile(r"\b\d+\b"), lambda m: "<n>", ()),
    (re.compile(r"[ \t]+"), lambda m: " ", (" ", "\t")),
]


def canonical(text: str) -> str:
    """Replace machine- and run-specific parts with placeholders. Used for fingerprints and drafts."""
    for rx, repl, needs in _CANON:
        if needs and not any(n in text for n in needs):
            continue
        text = rx.sub(repl, text)
    return text.strip()


def fingerprint(exc_type: str, message: str) -> str:
    """Stable id of an error: same canonical type and message, same id, on any machine."""
    first = message.strip().split("\n", 1)[0] if message else ""
    key = exc_type.rsplit(".", 1)[-1] + ":" + canonical(first)[:300]
    return "dnnfix-" + hashlib.sha1(key.encode("utf-8", "replace")).hexdigest()[:12]


WORD = re.compile(r"[a-z0-9_]+")
# every byte that is not [a-z0-9_] becomes a space: bytes.translate + split find WORD's matches at C speed (bytes of
# a non-ASCII character, all >= 0x80, separate words as the character does for WORD)
_NOT_WORD = bytes(c if (97 <= c <= 122 or 48 <= c <= 57 or c == 95) else 32 for c in range(256))


def words_in_order(lower_text: str) -> Dict[str, None]:
    """WORD's matches in a lowercase text, each once, in order of first appearance (dict.fromkeys of
    WORD.findall, without a regex step per character)."""
    return dict.fromkeys(lower_text.encode("utf-8", "surrogatepass").translate(_NOT_WORD).decode("ascii").split())


def lines_holding(text: str, low: str, key: str, with_next: bool = False) -> str:
    """The lines of `text` that hold `key` in `low` (a copy of `text` with the same offsets: lowercase ASCII, "_" as
    "-" ...), each with the line after it when `with_next` (a pip show's "Version:" under its "Name:"), in order and
    joined by newlines as in the text. A search bound to a line (or to a line and the next) that needs `key` finds the
    same first match there as in the whole text, and Python's re reads a few lines instead of the whole paste."""
    spans: List[Tuple[int, int]] = []
    i = low.find(key)
    while i >= 0:
        a = low.rfind("\n", 0, i) + 1
        end = low.find("\n", i)  # the end of this line
        if end < 0:
            end = len(low)
        b = end
        if with_next and end < len(low):
            b = low.find("\n", end + 1)  # and of the next one
            if b < 0:
                b = len(low)
        if spans and a <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(b, spans[-1][1]))
        else:
            spans.append((a, b))
        i = low.find(key, end)
    return "\n".join(text[a:b] for a, b in spans)
