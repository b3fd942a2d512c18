#!/usr/bin/env python
"""The top claim's reliability on wording the knowledge base had not seen: the reliability tables of every wave's own
untuned measurement (docs/measurements/devset-wave*-untuned.txt, each wave measured before any change for it), added up.

    python scripts/untuned_calibration.py [--json] [FILES...]

A file measured in batches ("## batch 1", "## batch 2": each batch on the code of the moment it arrived) counts every
batch; a file measured as "all", then "dev" and "sealed" (the same cases again), counts its "all" table only; a file
with a --no-similar table counts the first (with the hints, as dnnfix answers). A wave of negatives with no confident
claim has no table and adds nothing.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import sys
from typing import Dict, List, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_ROW = re.compile(r"^\s+(?P<bin>\d\.\d\d-\d\.\d\d)\s+claims\s+(?P<claims>\d+)\s+right\s+(?P<right>\d+)")
_BIN_START = re.compile(r"^\s+\d\.\d\d-")
CONFIDENT = 0.60

Table = Dict[str, Tuple[int, int]]


def tables(text: str) -> List[Table]:
    """Every reliability table in a text, in order: bin -> (claims, right)."""
    out: List[Table] = []
    cur: Dict[str, Tuple[int, int]] = {}
    for line in text.splitlines():
        m = _ROW.match(line)
        if m:
            if not cur or m.group("bin") in cur:  # a table starts (or a new one starts right after another)
                cur = {}
                out.append(cur)
            cur[m.group("bin")] = (int(m.group("claims")), int(m.group("right")))
        elif not _BIN_START.match(line):
            cur = {}
    return out


def counted(text: str) -> List[Table]:
    """The tables of one file that count once each (see the module doc)."""
    sections = re.split(r"^## ", text, flags=re.M)
    if len(sections) == 1:
        return tables(text)[:1]
    used: List[Table] = []
    for sec in sections[1:]:
        head = sec.split("\n", 1)[0].strip()
        if head.startswith("batch") or re.fullmatch(r"(?:--)?part all|all", head):
            used += tables(sec)[:1]
    return used


def pool(paths: List[str]) -> Tuple[Dict[str, List[int]], int]:
    bins: Dict[str, List[int]] = {}
    files = 0
    for p in paths:
        with open(p, encoding="utf-8") as f:
            got = counted(f.read())
        files += bool(got)
        for t in got:
            for b, (claims, right) in t.items():
                acc = bins.setdefault(b, [0, 0])
                acc[0] += claims
                acc[1] += right
    return dict(sorted(bins.items())), files


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", help="untuned measurements (default: every devset-wave*-untuned.txt)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    paths = a.files or sorted(glob.glob(os.path.join(ROOT, "docs", "measurements", "devset-wave*-untuned.txt")))
    if not paths:
        print("untuned_calibration: no measurement files", file=sys.stderr)
        return 2
    bins, files = pool(paths)
    conf = [sum(v[i] for b, v in bins.items() if float(b[:4]) >= CONFIDENT) for i in (0, 1)]
    if a.json:
        print(json.dumps({"files": files, "bins": bins, "confident": {"claims": conf[0], "right": conf[1]}}))
        return 0
    print(f"{len(paths)} measurement files, {files} with a reliability table")
    for b, (claims, right) in bins.items():
        share = f"{right / claims:.1%}" if claims else ""
        print(f"  {b}  claims {claims:5d}  right {right:5d}  {share}")
    if conf[0]:
        print(f"  confident claims (>= {CONFIDENT:.2f}): {conf[0]}, right {conf[1]} ({conf[1] / conf[0]:.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
