"""What the development set (tests/devset) holds: cases per cause, era, platform and year of the thread.

    python scripts/devset_composition.py [--dir tests/devset] > docs/measurements/devset-composition.txt

Reads only the records' fields (never runs dnnfix). The era is the release line a paste shows, grouped by its
major release (tf2.4 -> tf2, transformers4 -> transformers).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def era_group(era: str) -> str:
    m = re.match(r"([a-z_-]+)(\d*)", era.strip().lower())
    if not m or era.strip().lower() == "unknown":
        return "unknown"
    name, major = m.group(1), m.group(2)
    return name if name == "transformers" else name + major


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=str(ROOT / "tests" / "devset"))
    a = ap.parse_args()
    root = Path(a.dir)
    causes, eras, platforms, years = Counter(), Counter(), Counter(), Counter()
    total = negatives = 0
    for f in sorted(root.glob("*/*.yaml")):
        if f.name == "known-misses.yaml":
            continue
        d = yaml.safe_load(f.read_text(encoding="utf-8"))
        if not isinstance(d, dict) or "text" not in d:
            continue
        total += 1
        causes[f.parent.name] += 1
        negatives += f.parent.name == "negatives"
        eras[era_group(str(d.get("era", "unknown")))] += 1
        platforms[str(d.get("platform", "unknown"))] += 1
        years[int(d["year"]) if str(d.get("year", "")).isdigit() else 0] += 1
    pos_causes = len([c for c in causes if c != "negatives"])
    print(
        "# The development set (tests/devset): real pastes from public threads, labelled from each thread's resolution"
    )
    print(f"# {total} cases: {total - negatives} positives over {pos_causes} causes, {negatives} hard negatives")
    print("# (python scripts/devset_composition.py)\n\n## cases per cause")
    for c in sorted(causes):
        print(f"{c:<45} {causes[c]}")
    print("\n## era (framework release line the paste shows)")
    for e, n in eras.most_common():
        print(f"{e:<20} {n}")
    print("\n## platform")
    for p, n in platforms.most_common():
        print(f"{p:<20} {n}")
    print("\n## year of the thread")
    for y in sorted(years):
        print(f"{y or 'unknown'}  {years[y]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
