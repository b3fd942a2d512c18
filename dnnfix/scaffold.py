"""From a pasted failure to a signature draft and its cases file (`dnnfix kb new`).

Anchors come from the text itself: the final exception's type, the stable part of its message with the
variable parts (numbers, paths, quoted names, shapes, versions, addresses) generalised, and the decisive
native log lines (warnings and errors).
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

from .model import Incident

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


def generalise(message: str, limit: int = 160) -> str:
    """A regex for `message` with its variable parts generalised and whitespace made flexible."""
    msg = message.strip().split("\n", 1)[0][:limit]
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
                    out.append((False, text[pos:m.start()]))
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


def draft(inc: Incident, text: str, cause: str, sig_id: Optional[str] = None, title: Optional[str] = None
          ) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """Signature and cases documents (plain data) for the pasted `text`."""
    final = inc.final
    match: List[Dict[str, Any]] = []
    if final is not None and final.message.strip():
        match.append({"regex": generalise(final.message), "weight": 0.8})
    logs = [lg for lg in inc.logs if lg.level in ("W", "E", "F", "WARNING", "ERROR", "FATAL", "CRITICAL")]
    for lg in logs[:2]:
        rx = generalise(lg.message)
        if rx and all(rx != c.get("regex") for c in match):
            match.append({"regex": rx, "weight": 0.5 if match else 0.8})
    if not match:
        # no exception and no log line: anchor on the last non-empty line
        last = next((ln for ln in reversed(inc.lines) if ln.strip()), "")
        if last:
            match.append({"regex": generalise(last), "weight": 0.7})
    if final is not None:
        match.append({"exception": [final.name], "weight": 0.2})
    libs = [p for p in inc.packages if p not in ("user", "stdlib")]
    if libs:
        match.append({"frames": {"package": libs[-1]}, "weight": 0.1})
    base = final.message if final is not None else (inc.lines[-1] if inc.lines else "")
    sid = sig_id or f"local-{slug(base)}"
    sig = {
        "id": sid,
        "cause": cause,
        "title": title or (f"{final.name}: {final.message.splitlines()[0][:70]}" if final is not None and final.message else sid),
        "status": "experimental",
        "match": match,
    }
    near = f"{final.name}: an unrelated {final.name} with other words" if final is not None else "an unrelated line of output"
    cases = {
        "signature": sid,
        "cases": [
            {"name": "pasted", "expect": "match", "form": "plain", "text": text.rstrip("\n") + "\n"},
            {"name": "same-exception-other-message", "expect": "no-match", "text": near + "\n"},
        ],
    }
    return sig, cases


def dump_yaml(doc: Dict[str, Any], header: str = "") -> str:
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def _str(dumper, data):
        if "\n" in data:
            return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
        if "\\" in data or ": " in data or data.startswith(("'", '"', "[", "{", "*", "&", "!", "%", "@", "`")):
            return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="'")
        return dumper.represent_scalar("tag:yaml.org,2002:str", data)

    _Dumper.add_representer(str, _str)
    return header + yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
