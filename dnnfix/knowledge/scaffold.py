"""From a pasted failure to a signature draft and its cases file (`dnnfix kb new`).

Anchors come from the text itself: the most specific line of the final exception's message (not a framework's
generic wrapper such as TensorFlow's "Graph execution error:" or Keras' "Exception encountered when calling"),
with the variable parts (numbers, paths, quoted names, shapes, versions, addresses) generalised, the decisive
native log lines (warnings and errors) and the exception's type.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..model import Incident

# Variable parts of a message, most specific first, each replaced by a regex that accepts any value.
_VARIABLE = [
    (re.compile(r"'[^']{1,200}'"), "'[^']*'"),
    (re.compile(r'"[^"]{1,200}"'), '"[^"]*"'),
    (re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.@+~-]+){2,}[\\/]?"), r"\S+"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "0x[0-9a-fA-F]+"),
    (re.compile(r"\([^()]{0,80}\)"), r"\([^)]*\)"),
    (re.compile(r"\[[^\[\]]{0,80}\]"), r"\[[^\]]*\]"),
    (re.compile(r"\b\d+(?:\.\d+)+\b"), r"\d+(?:\.\d+)*"),
    (re.compile(r"\b\d+\b"), r"\d+"),
]
_SPLIT = "\x00"

# Lines that wrap the real error rather than state it: a frameworks' header, a location, a graph node, a frame.
_WRAPPER = re.compile(
    r"^(?:Graph execution error:?|Detected at node\b.*|.*defined at \(most recent call last\):?|Node: .*|"
    r"Exception encountered when calling\b.*|Call arguments received by\b.*|in user code:?|"
    r"Traceback \(most recent call last\):?|During handling of the above exception.*|"
    r"The above exception was the direct cause.*|File \".*|\[\[\{\{node .*|\{\{function_node .*|"
    r"Stack trace for .*|Error while .*:|Errors may have originated from an input operation\.?|"
    r"Input Source operations connected to node .*|.*\bhas no attribute\b.*:|.*:)$",
    re.I,
)


def specificity(line: str) -> float:
    """How much a line says about this failure: distinct uncommon words, less what is a path, number or quote."""
    from .signature import COMMON_IN_PASTES

    text = line.strip()
    if not text or _WRAPPER.match(text):
        return 0.0
    stripped = re.sub(r"'[^']*'|\"[^\"]*\"|(?:[\\/][\w.@+~-]+){2,}|\b0x[0-9a-fA-F]+\b|\d+", " ", text)
    words = {w for w in re.findall(r"[a-z][a-z]+", stripped.lower()) if len(w) > 2 and w not in COMMON_IN_PASTES}
    return len(words) + 0.1 * min(len(text), 160) / 160


def specific_line(message: str, after: Sequence[str] = ()) -> str:
    """The line to anchor on: the most specific line of the exception's message or of the lines printed right
    after it (TensorFlow writes the real error below "Graph execution error:" and a node's stack), the first on
    ties. Source lines quoted under a `File "..."` frame line are code, not the error, and are skipped."""
    best, best_score = "", 0.0
    prev = ""
    for ln in list(message.splitlines()) + list(after):
        sc = 0.0 if _FRAME_LINE.match(prev) else specificity(ln)
        prev = ln
        if sc > best_score:
            best, best_score = ln.strip(), sc
    return best or (message.strip().splitlines() or [""])[0]


_FRAME_LINE = re.compile(r'^\s*File "[^"]*", line \d+')


def generalise(message: str, limit: int = 160) -> str:
    """A regex for `message` with its variable parts generalised and whitespace made flexible."""
    msg = message.strip().split("\n", 1)[0][:limit] if message.strip() else ""
    parts: List[Tuple[bool, str]] = [(False, msg)]  # (is_regex, text)
    for rx, repl in _VARIABLE:
        out: List[Tuple[bool, str]] = []
        for is_rx, text in parts:
            if is_rx:
                out.append((is_rx, text))
                continue
            pos = 0
            for m in rx.finditer(text):
                if m.start() > pos:
                    out.append((False, text[pos : m.start()]))
                out.append((True, repl))
                pos = m.end()
            if pos < len(text):
                out.append((False, text[pos:]))
        parts = out
    rx_text = ""
    for is_rx, text in parts:
        if is_rx:
            rx_text += text
        else:
            rx_text += r"\s+".join(re.escape(w) for w in text.split(" ")) if text.strip() else (r"\s+" if text else "")
    rx_text = re.sub(r"(?:\\s\+){2,}", r"\\s+", rx_text)
    # drop a trailing generalisation: it adds nothing but cost
    rx_text = re.sub(r"(?:\\s\+)?(?:\\d\+(?:\(\?:\\\.\\d\+\)\*)?|\\S\+)$", "", rx_text)
    return rx_text.strip()


def slug(words: str, n: int = 5) -> str:
    from .signature import GENERIC_WORDS

    ws = [w for w in re.findall(r"[a-z][a-z0-9]+", words.lower()) if w not in GENERIC_WORDS and len(w) > 2]
    return "-".join(ws[:n]) or "unnamed"


def failed_run_clauses(kb: Any, cause: str) -> List[str]:
    """The shared `failed.*` clauses (kb/clauses.yaml: the signs that a run really failed) that at least half of the
    cause's signatures count against themselves, most used first: what a harmless notice's signatures do (a notice is
    the cause only when nothing failed after it). Other causes' signatures use none, so their drafts get none."""
    sigs = [sig for sig in kb.signatures if sig.cause == cause]
    used: Dict[str, int] = {}
    for sig in sigs:
        for name in {c.shared for c in sig.against if c.shared.startswith("failed.")}:
            used[name] = used.get(name, 0) + 1
    return sorted((n for n, k in used.items() if 2 * k >= len(sigs)), key=lambda n: (-used[n], n))


def draft(
    inc: Incident,
    text: str,
    cause: str,
    sig_id: Optional[str] = None,
    title: Optional[str] = None,
    shared: Optional[Sequence[str]] = None,
) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """Signature and cases documents (plain data) for the pasted `text`. `shared`: the shared clauses the draft counts
    against itself (`- use: NAME`); None: failed_run_clauses of the built-in knowledge base for this cause."""
    final = inc.final
    match: List[Dict[str, Any]] = []
    after: List[str] = []
    if final is not None and final.lineno_in_text:
        n_msg = len(final.message.splitlines())
        after = inc.lines[final.lineno_in_text - 1 + n_msg :][:40]
    anchor = specific_line(final.message, after) if final is not None and final.message.strip() else ""
    if anchor:
        match.append({"regex": generalise(anchor), "weight": "strong"})
    logs = [lg for lg in inc.logs if lg.level in ("W", "E", "F", "WARNING", "ERROR", "FATAL", "CRITICAL")]
    logs.sort(key=lambda lg: -specificity(lg.message))  # the most specific native lines first
    for lg in logs[:2]:
        if specificity(lg.message) < 2:
            continue
        rx = generalise(lg.message)
        if rx and all(rx != c.get("regex") for c in match):
            match.append({"regex": rx, "weight": "moderate" if match else "strong"})
    if not match:
        # no exception and no log line: anchor on the last non-empty line
        last = next((ln for ln in reversed(inc.lines) if ln.strip()), "")
        if last:
            match.append({"regex": generalise(last), "weight": "solid"})
    if final is not None:
        match.append({"exception": [final.name], "weight": "hint"})
    libs = [p for p in inc.packages if p not in ("user", "stdlib")]
    if libs:
        match.append({"frames": {"package": libs[-1]}, "weight": "trace"})
    base = anchor or (final.message if final is not None else (inc.lines[-1] if inc.lines else ""))
    sid = sig_id or f"local-{slug(base)}"
    sig = {
        "id": sid,
        "cause": cause,
        "title": title or (f"{final.name}: {anchor[:70]}" if final is not None and anchor else sid),
        "status": "experimental",
        "match": match,
    }
    if shared is None:
        from .load import load_kb

        shared = failed_run_clauses(load_kb(), cause)
    if shared:
        sig["against"] = [{"use": name} for name in shared]
    near = (
        f"{final.name}: an unrelated {final.name} with other words"
        if final is not None
        else "an unrelated line of output"
    )
    cases = {
        "signature": sid,
        "cases": [
            {"name": "pasted", "expect": "match", "form": "plain", "text": text.rstrip("\n") + "\n"},
            {"name": "same-exception-other-message", "expect": "no-match", "text": near + "\n"},
        ],
    }
    return sig, cases


def dump_yaml(doc: Dict[str, Any], header: str = "") -> str:
    """YAML for a draft: multi-line strings (case texts) as literal `|` blocks, exactly as pasted, tabs included.

    PyYAML will not write a block scalar that holds a tab or a trailing space (it falls back to an escaped
    double-quoted string), so those blocks are written here and the result is read back: any string that would
    not survive a round trip unchanged (control characters, ...) keeps PyYAML's own quoting.
    """
    import yaml

    blocks: Dict[str, str] = {}

    class _Dumper(yaml.SafeDumper):
        pass

    def _str(dumper, data):
        if ("\n" in data.rstrip("\n") or (data.endswith("\n") and len(data) > 1)) and _block_safe(data):
            key = f"__dnnfix_block_{len(blocks)}__"
            blocks[key] = data
            return dumper.represent_scalar("tag:yaml.org,2002:str", key, style="")
        if "\\" in data or ": " in data or data.startswith(("'", '"', "[", "{", "*", "&", "!", "%", "@", "`")):
            return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="'")
        return dumper.represent_scalar("tag:yaml.org,2002:str", data)

    _Dumper.add_representer(str, _str)
    text = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
    out = []
    for line in text.splitlines(keepends=True):
        m = re.match(r"^(\s*(?:- )?)([^:\n]*: |- )?(__dnnfix_block_\d+__)\s*$", line)
        if m and m.group(3) in blocks:
            lead, key = m.group(1) + (m.group(2) or ""), m.group(3)
            out.append(lead + literal_block(blocks[key], len(m.group(1).replace("- ", "  ")) + 2) + "\n")
        else:
            out.append(line)
    result = header + "".join(out)
    try:
        if yaml.safe_load(result) == doc:
            return result
    except yaml.YAMLError:
        pass
    plain = yaml.dump(doc, Dumper=yaml.SafeDumper, sort_keys=False, allow_unicode=True, width=120)
    return header + plain


def _block_safe(data: str) -> bool:
    """Whether `data` reads back unchanged from a literal block (no control characters other than tab)."""
    import yaml

    if any((ord(c) < 32 and c not in "\t\n") or c in "\x7f\x85\u2028\u2029\ufeff" for c in data):
        return False
    try:
        return yaml.safe_load("k: " + literal_block(data, 2) + "\n") == {"k": data}
    except yaml.YAMLError:
        return False


def literal_block(data: str, indent: int) -> str:
    """`|` (with an indentation indicator when the text starts with a space, chomping as the text ends) and the
    lines, each indented by `indent` spaces; empty lines stay empty."""
    body = data.rstrip("\n")
    tail = len(data) - len(body)
    chomp = "-" if tail == 0 else ("" if tail == 1 else "+")
    lines = body.split("\n")
    # a first line that starts with white space needs an indentation indicator (counted from the parent's
    # indentation, which is always 2 less than `indent` here)
    ind = "2" if lines and lines[0][:1] in (" ", "\t") else ""
    pad = " " * indent
    rendered = "\n".join((pad + ln) if ln else "" for ln in lines)
    if tail > 1:
        rendered += "\n" * (tail - 1)
    return f"|{ind}{chomp}\n{rendered}"


def claims(sig_id: str, res, limit: int = 0) -> List[Tuple[str, str]]:
    """Texts the draft `sig_id` is confident on although they belong elsewhere: every negative, and every case
    of the knowledge base whose expected cause is another one. Returns (case key, what it is) pairs.

    `res` is the check.CheckResult that holds the draft (compiled in res.kb). Only the draft is scored, so this
    costs one parse per case, not a full diagnosis.
    """
    from ..facts import Facts
    from ..matcher import _Corpus, score_signature
    from ..parse import parse_text

    sig = res.kb.by_id(sig_id)
    if sig is None:
        return []
    by_id = {s.id: s for s in res.kb.signatures}
    todo: List[Tuple[Any, str]] = [(c, "a negative (an ordinary failure)") for c in res.negatives]
    for c in list(res.cases) + list(res.cause_cases):
        if c.signature == sig_id:
            continue
        if c.kind == "cause":
            cause = c.cause if c.confident is not False else ""
        elif c.expect == "match":
            cause = getattr(by_id.get(c.signature), "cause", "")
        else:
            cause = c.cause  # a near miss that names the cause that must win instead
        if cause and cause != sig.cause:
            todo.append((c, f"a case of {cause}"))
    out: List[Tuple[str, str]] = []
    for case, what in todo:
        inc = parse_text(case.text)
        m = score_signature(sig, _Corpus(inc), inc, Facts(text=inc.facts))
        if m is not None and m.confident:
            out.append((case.key, what))
            if limit and len(out) >= limit:
                break
    return out
