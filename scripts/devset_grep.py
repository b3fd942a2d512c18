#!/usr/bin/env python
"""Search the development set's pastes for a wording, in the part tuning may look at only.

    python scripts/devset_grep.py 'Protobuf parsing failed'        # dev-part cases whose text holds it (a regex)
    python scripts/devset_grep.py -i 'newer than toolkit' --lines  # ... and the lines that hold it

A plain `grep -r` over tests/devset also lists the sealed quarter's cases, which no tuning may see
(scripts/heldout_eval.py names them only with --show-sealed). This search reads each case's `text:` and
skips every sealed case; it prints how many sealed cases it skipped, never which.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from pathlib import Path
from typing import List, Tuple

REPO = Path(__file__).resolve().parent.parent


def _heldout():
    spec = importlib.util.spec_from_file_location("heldout_eval", REPO / "scripts" / "heldout_eval.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def search(rx: "re.Pattern[str]", root: Path) -> Tuple[List[Tuple[str, List[str]]], int]:
    """(dev-part cases whose text matches: (path under root, matching lines)), and how many sealed cases were skipped.
    The cases are heldout_eval's own reading of the set (load_cases), so both agree on what is sealed."""
    ev = _heldout()
    found: List[Tuple[str, List[str]]] = []
    skipped = 0
    for case in ev.load_cases(root):
        if ev.sealed(case["path"]):
            skipped += 1
            continue
        lines = [ln for ln in case["text"].splitlines() if rx.search(ln)]
        if lines:
            found.append((case["path"], lines))
    return found, skipped


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pattern", help="a Python regular expression, searched line by line in each case's text")
    ap.add_argument("-i", "--ignore-case", action="store_true")
    ap.add_argument("--lines", action="store_true", help="also print the matching lines")
    ap.add_argument("--dir", default=str(REPO / "tests" / "devset"), help="the set's folder (default tests/devset)")
    a = ap.parse_args(argv)
    try:
        rx = re.compile(a.pattern, re.I if a.ignore_case else 0)
    except re.error as e:
        print(f"devset_grep: not a regular expression: {e}", file=sys.stderr)
        return 2
    root = Path(a.dir)
    if not root.is_dir():
        print(f"devset_grep: no folder {root}", file=sys.stderr)
        return 2
    found, skipped = search(rx, root)
    for rel, lines in found:
        print(rel)
        if a.lines:
            for ln in lines:
                print(f"    {ln[:240]}")
    print(f"# {len(found)} dev-part case(s); {skipped} sealed case(s) not searched", file=sys.stderr)
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main())
