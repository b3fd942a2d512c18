#!/usr/bin/env python3
"""Record what the regex analyses compute, for tests/test_reparse.py's equivalence check.

Writes tests/data/reparse_baseline.json: for every regex clause of the built-in knowledge base and for a fixed
fuzz set of patterns (grammar-generated and spliced from KB patterns), the prefilter words
(signature.literal_keys, signature.strict_words) and the backtracking verdict (backtrack.risk).

The committed file was generated once at commit 6af0aa5, when those analyses still read CPython's private parser
(re._parser / sre_parse); the test checks that dnnfix/knowledge/reparse.py's own parser gives identical results. Rerunning
this script with the current code only records the current results (useful after an intended change).

    PYTHONPATH=$PWD python scripts/reparse_baseline.py [--out PATH] [--seed N] [--count N]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORDS = ["cuda", "error", "out", "of", "memory", "tensor", "RuntimeError", "libcudnn", "so", "8", "x", "ab", "Dll"]
PUNCT = [" ", ":", ".", "'", "-", "/", "_", ",", "=", '"', "!", "<", ">", "@", "%", "é"]
ESCAPES = [
    r"\d",
    r"\D",
    r"\w",
    r"\W",
    r"\s",
    r"\S",
    r"\.",
    r"\(",
    r"\)",
    r"\[",
    r"\]",
    r"\n",
    r"\t",
    r"\x41",
    r"\u00e9",
    r"\N{EM DASH}",
    r"\0",
    r"\101",
    r"\\",
    r"\-",
    r"\ ",
    r"\'",
    r"\:",
    r"\{",
    r"\$",
    r"\^",
    r"\|",
    r"\*",
    r"\+",
    r"\?",
    r"\/",
    r"\#",
]
ANCHORS = ["^", "$", r"\b", r"\B", r"\A", r"\Z"]
CLASSES = [
    "[a-z]",
    "[A-Za-z0-9_]",
    r"[^\n]",
    r"[\s:]",
    r"[ '\"]",
    "[.]",
    "[^a]",
    "[-a]",
    "[a-]",
    r"[\d.]",
    r"[\w-]",
    "[]a]",
    "[^]a]",
    "[Cc]",
    r"[\W]",
    r"[^\s]",
    "[ ]",
    "[_]",
    r"[\b]",
    "[a-cx-z]",
    r"[\x00-\x1f]",
    "[é]",
    "[^,]",
]


def _atom(r: random.Random, depth: int) -> str:
    k = r.random()
    if k < 0.30 or depth > 2:
        return r.choice(WORDS)
    if k < 0.42:
        return r.choice(PUNCT)
    if k < 0.54:
        return r.choice(ESCAPES)
    if k < 0.64:
        return r.choice(CLASSES)
    if k < 0.68:
        return "."
    if k < 0.72:
        return r.choice(ANCHORS)
    body = _alt(r, depth + 1)
    opener = r.choice(
        [
            "(",
            "(?:",
            "(?:",
            "(?P<g%d>" % r.randrange(3),
            "(?=",
            "(?!",
            "(?<=",
            "(?<!",
            "(?i:",
            "(?-i:",
            "(?x:",
            "(?>",
            "(?s:",
            "(?#",
        ]
    )
    if opener == "(?#":
        return "(?#" + body.replace(")", "") + ")"
    return opener + body + ")"


def _quant(r: random.Random) -> str:
    q = r.choice(
        [
            "",
            "",
            "",
            "",
            "?",
            "*",
            "+",
            "{2}",
            "{1,}",
            "{,3}",
            "{0,2}",
            "{12}",
            "{2,200}",
            "{}",
            "{a}",
            "{1,2,3}",
            "{3,1}",
        ]
    )
    if q and r.random() < 0.25:
        q += r.choice(["?", "+"])
    return q


def _seq(r: random.Random, depth: int) -> str:
    return "".join(_atom(r, depth) + _quant(r) for _ in range(r.randint(0 if depth else 1, 4 - depth)))


def _alt(r: random.Random, depth: int) -> str:
    n = 1 if r.random() < 0.6 else r.randint(2, 4)
    return "|".join(_seq(r, depth) for _ in range(n))


def fuzz_patterns(kb: list, seed: int, count: int) -> list:
    r = random.Random(seed)
    out = []
    while len(out) < count:
        k = r.random()
        if k < 0.55:
            p = _alt(r, 0)
        elif k < 0.75 and kb:  # a KB pattern cut and spliced: realistic but often broken syntax
            a, b = r.choice(kb), r.choice(kb)
            i, j = r.randrange(len(a) + 1), r.randrange(len(b) + 1)
            p = a[:i] + b[j:]
        elif k < 0.85 and kb:  # a KB pattern with a group reference, flag or verbose prefix
            p = r.choice(["(?x)", "(?i)", "(?s)", "(?a)", "(?u)", "(?L)", ""]) + r.choice(kb)
        else:
            prefix = r.choice(["(?x)", "(?x) ", "(?xi)", "(?i)(?x)", "(?a)", "(?#note)(?x)"])
            p = (
                prefix
                + _alt(r, 0).replace(" ", r.choice([" ", "  # comment\n", "\t"]))
                + r.choice(["", r"(?P=g0)", r"\1", "(?(1)a|b)", "(?(g0)x)", "(?(2)a)", "(?!)", "(?<!)"])
            )
        out.append(p)
    return out


def kb_patterns() -> list:
    from dnnfix.knowledge.load import kb_dirs, load_kb

    kb = load_kb(use_cache=False)
    assert kb.dirs and kb_dirs()
    seen = {}
    for s in kb.signatures:
        for c in list(s.match) + list(s.against):
            if c.kind == "regex" and c.pattern:
                seen.setdefault(c.pattern, None)
    return list(seen)


def analyse(pattern: str) -> dict:
    from dnnfix.knowledge.backtrack import risk
    from dnnfix.knowledge.signature import literal_keys, strict_words

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            re.compile(pattern, re.I)
            ok = True
        except Exception:
            ok = False
        return {
            "pattern": pattern,
            "compiles": ok,
            "literal_keys": literal_keys(pattern),
            "strict_words": [list(a) for a in strict_words(pattern)],
            "risk": risk(pattern),
        }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "tests" / "data" / "reparse_baseline.json"))
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--count", type=int, default=3000)
    a = ap.parse_args(argv)
    kb = kb_patterns()
    fuzz = [p for p in dict.fromkeys(fuzz_patterns(kb, a.seed, a.count)) if p not in set(kb)]
    data = {
        "python": "%d.%d" % sys.version_info[:2],
        "kb": [analyse(p) for p in kb],
        "fuzz": [analyse(p) for p in fuzz],
    }
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    lines = [f'{{"python": "{data["python"]}",']
    for part in ("kb", "fuzz"):
        rows = [json.dumps(d, ensure_ascii=False) for d in data[part]]
        lines.append(f'"{part}": [\n' + ",\n".join(rows) + "\n]" + ("," if part == "kb" else "}"))
    Path(a.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    n_ok = sum(1 for d in data["fuzz"] if d["compiles"])
    print(f"{a.out}: {len(kb)} KB patterns, {len(fuzz)} fuzz patterns ({n_ok} valid)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
