"""Make a snapshot safe to paste into a public issue: home paths, user and host names, secrets.

Versions, GPU names and library names stay: they are the point of the snapshot.
"""
from __future__ import annotations

import copy
import getpass
import os
import re
import socket
from typing import Any, Dict, List, Optional, Tuple

SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|API_?KEY|ACCESS_?KEY|PRIVATE|AUTH)", re.I)
# Values that look like credentials wherever they appear (HF, GitHub, OpenAI, AWS, Slack, JWT).
SECRET_VALUE = re.compile(
    r"\b(hf_[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|sk-[A-Za-z0-9_-]{20,}|"
    r"AKIA[0-9A-Z]{16}|xox[abpr]-[A-Za-z0-9-]{10,}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})\b"
)
# URL credentials: scheme://user:password@host
URL_AUTH = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@", re.I)
# Home directories of any user, not only the current one (paths inside logs from other accounts).
HOME_PATH = re.compile(r"(?:/home/|/Users/|[A-Za-z]:\\Users\\|[A-Za-z]:/Users/)(?P<user>[^/\\\s'\"]+)")
# User and host names too common to be identifying, and that would mangle ordinary words if replaced.
_COMMON = {"root", "user", "admin", "jovyan", "localhost", "ubuntu", "debian", "fedora", "centos", "desktop",
           "laptop", "server", "colab", "kaggle", "docker", "container", "workstation", "jupyter", "notebook",
           "runner", "ec2-user", "cuda", "nvidia", "python", "train", "gpu0", "gpu1"}
# Keys whose values identify the machine rather than describe it.
DROP_KEYS = {"uuid", "pci_bus_id", "executable_owner"}


def _identities() -> Tuple[List[str], List[str]]:
    homes = []
    home = os.path.expanduser("~")
    if home and home not in ("/", "~") and len(home) > 3:
        homes.append(home)
    names = []
    for get in (getpass.getuser, socket.gethostname):
        try:
            value = get()
        except Exception:  # noqa: BLE001 - no user database in some containers
            continue
        if value and len(value) >= 4 and value.lower() not in _COMMON:
            names.append(value)
    try:
        fqdn = socket.getfqdn()
        if fqdn and "." in fqdn and fqdn not in names and not fqdn.startswith("localhost"):
            names.append(fqdn)
    except Exception:  # noqa: BLE001
        pass
    return homes, sorted(set(names), key=len, reverse=True)


def redact_text(text: str, homes: Optional[List[str]] = None, names: Optional[List[str]] = None) -> str:
    if homes is None or names is None:
        homes, names = _identities()
    for home in homes:
        text = text.replace(home, "~")
    text = HOME_PATH.sub(lambda m: m.group(0)[: m.start("user") - m.start(0)] + "<user>", text)
    text = URL_AUTH.sub(lambda m: m.group("scheme") + "<redacted>@", text)
    text = SECRET_VALUE.sub("<redacted>", text)
    for name in names:
        text = re.sub(r"(?<![A-Za-z0-9])" + re.escape(name) + r"(?![A-Za-z0-9])", "<host>", text)
    return text


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
