"""One registry of diagnostic codes (dnnfix/knowledge/diagcodes.py): the checker, CONTRIBUTING.md and the JSON Schemas agree."""

import json
import re
from pathlib import Path

from dnnfix.knowledge import diagcodes, signature

REPO = Path(__file__).resolve().parent.parent


def _used_codes():
    used = set()
    for p in (REPO / "dnnfix").rglob("*.py"):
        if p.name == "diagcodes.py":
            continue
        used |= set(re.findall(r'"(DNX\d{3})"', p.read_text(encoding="utf-8")))
    return used


def test_every_code_used_is_registered_and_every_registered_code_is_used():
    used = _used_codes()
    assert used - set(diagcodes.CODES) == set(), "codes missing from dnnfix/knowledge/diagcodes.py"
    assert set(diagcodes.CODES) - used == set(), "registered codes that nothing reports"


def test_contributing_table_is_the_generated_one():
    text = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- codes:[^\n]*-->\n(.*?)\n<!-- /codes -->", text, re.S)
    assert m, "CONTRIBUTING.md has no generated codes table"
    assert m.group(1) == diagcodes.table(), "run: python -m dnnfix.knowledge.diagcodes and paste the table"


def test_signature_schema_knows_the_compilers_keys():
    """Editors validate with kb/schema/signature.schema.json: it must allow exactly what the compiler accepts."""
    schema = json.loads((REPO / "kb" / "schema" / "signature.schema.json").read_text(encoding="utf-8"))
    props = set(schema.get("properties", {}))
    assert set(signature.TOP_KEYS) <= props | {"description", "references", "author", "specificity"}, sorted(
        set(signature.TOP_KEYS) - props
    )
    text = json.dumps(schema)
    for kind in signature.CLAUSE_KINDS:
        assert f'"{kind}"' in text, kind
    for test in signature.FACT_TESTS:
        assert f'"{test}"' in text, test
