"""Shared by the real-framework tests: run several failures in one subprocess, then split its output.

Each failure runs inside `case(name, fn)` (alias `part`), which prints a marker line and then the traceback
exactly as an uncaught exception would print it. `split_cases` cuts the combined output at the markers.
"""

import re

CASE_PRELUDE = """
import sys, traceback
def case(name, fn):
    print("===== %s =====" % name, flush=True)
    try:
        fn()
    except BaseException:
        traceback.print_exc(file=sys.stdout)
    sys.stdout.flush()
    sys.stderr.flush()
part = case
"""

_MARK = re.compile(r"^===== (\S+) =====$", re.M)


def split_cases(out: str, with_head: bool = False) -> dict:
    """{name: text} for every case; with_head puts the output before the first marker (start-up logs) in each."""
    pieces = _MARK.split(out)
    head, rest = pieces[0], pieces[1:]
    got = {rest[i]: (head if with_head else "") + rest[i + 1] for i in range(0, len(rest) - 1, 2)}
    assert got, out[-3000:]
    return got
