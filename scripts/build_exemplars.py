"""Write kb/similar/exemplars.json: the known failures that dnnfix.resemble compares an input with.

    python scripts/build_exemplars.py [--check]

The exemplars are the knowledge base's own cases that expect a match (their signature's cause), its cause-level
cases that name a cause (kb/cases), its negatives
(no cause), and the development set's dev part (tests/devset: real pastes, labelled from their threads; the
sealed quarter is never included, so that it stays a fair measure). Each is kept as its sorted word list
(resemble.words_of of its cleaned lines), with its cause, an id and its thread's address; no text is kept.
`--check` exits 1 when the file is not what this script would write (tests/test_resemble.py runs it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))


def exemplars():
    """[(cause or None, id, source, words)] sorted by id."""
    import heldout_eval

    from dnnfix.knowledge.check import check
    from dnnfix.knowledge.load import load_kb
    from dnnfix.parse import parse_text
    from dnnfix.resemble import devset_id, words_of

    def words(text: str):
        return words_of("\n".join(parse_text(text).lines))

    heldout_eval._isolate()  # the user's own knowledge base never goes into the shipped file
    kb = load_kb([])
    cause_of = {s.id: s.cause for s in kb.signatures}
    res = check()
    out = []
    for c in res.cases:
        if c.expect != "match" or c.env is not None or not c.text.strip() or c.signature not in cause_of:
            continue
        out.append((cause_of[c.signature], f"kb:{c.signature}/{c.name}", "", words(c.text)))
    for c in res.cause_cases:  # kb/cases: "this text -> that cause"
        if c.cause and c.env is None and c.text.strip():
            out.append((c.cause, f"kb-cause:{c.name}", "", words(c.text)))
    for c in res.negatives:
        if c.text.strip():
            out.append((None, f"kb-negative:{c.name}", "", words(c.text)))
    for c in heldout_eval.load_cases(REPO / "tests" / "devset", "dev"):
        out.append((c["expected"], devset_id(c["path"]), str(c["meta"].get("source") or ""), words(c["text"])))
    out.sort(key=lambda r: r[1])
    return out


def render(rows) -> str:
    """The file: resemble.index(rows) as JSON, an exemplar or a word per line (readable diffs)."""
    from dnnfix.resemble import index

    doc = index(rows)
    dump = lambda v: json.dumps(v, ensure_ascii=False)  # noqa: E731
    lines = ["{", f'"format": {doc["format"]},', f'"min_idf": {dump(doc["min_idf"])},']
    lines.append(
        '"about": "written by scripts/build_exemplars.py: known failures and their rare words (dnnfix.resemble)",'
    )
    lines.append('"exemplars": [\n' + ",\n".join(dump(r) for r in doc["exemplars"]) + "],")
    lines.append('"inv_norms": ' + dump(doc["inv_norms"]) + ",")
    lines.append('"postings": {\n' + ",\n".join(f"{dump(w)}: {dump(ids)}" for w, ids in doc["postings"].items()) + "}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when the file is out of date")
    a = ap.parse_args()
    from dnnfix.resemble import exemplar_path

    path = exemplar_path(REPO / "kb")
    text = render(exemplars())
    if a.check:
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        if old != text:
            print(f"{path} is out of date: run python scripts/build_exemplars.py", file=sys.stderr)
            return 1
        print(f"{path}: up to date")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path} ({len(text) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
