"""Make a snapshot safe to paste into a public issue: home paths, user and host names, secrets.

Versions, GPU names and library names stay: they are the point of the snapshot. The text rules live in
dnnfix/redact.py (shared with `dnnfix report` and the notebook panel), imported when a snapshot is redacted.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Dict

SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|API_?KEY|ACCESS_?KEY|PRIVATE|AUTH)", re.I)
# Keys whose values identify the machine rather than describe it.
DROP_KEYS = {"uuid", "pci_bus_id", "executable_owner"}
__all__ = ["redact", "redact_text", "SECRET_NAME", "DROP_KEYS"]


def redact_text(*args: Any, **kwargs: Any) -> str:
    """dnnfix.redact.redact_text, imported on first use: its patterns are compiled only when something is
    redacted (the exception hook imports the probes, not the redaction)."""
    from ..redact import redact_text as text

    return text(*args, **kwargs)


def _identities():
    from ..redact import identities

    return identities()


def redact(snapshot: Dict[str, Any]) -> Dict[str, Any]:
    """A deep copy of `snapshot` with home paths -> ~, user/host names and secrets removed."""
    homes, names = _identities()

    def walk(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if k in DROP_KEYS:
                    continue
                if isinstance(v, str) and SECRET_NAME.search(str(k)):
                    out[k] = "<redacted>"
                else:
                    out[k] = walk(v, str(k))
            return out
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        if isinstance(value, str):
            return redact_text(value, homes, names)
        return copy.deepcopy(value)

    result = walk(snapshot)
    result["redacted"] = True
    return result
