"""One redaction for everything dnnfix shows or writes beyond the user's own screen.

Used by `dnnfix report` (the pasted text), `dnnfix env --redact` / snapshots (dnnfix/probe/redact.py), and the
notebook panel's captured native stderr. Versions, GPU names, library names and error wording stay: they are
the point. Removed: credentials of every common kind, private key blocks, passwords in URLs, Authorization
headers, home folders, user and host names.
"""

from __future__ import annotations

import getpass
import os
import re
import socket
from typing import List, Optional, Tuple

R = "<redacted>"

# whole blocks first: a private key spans lines
PRIVATE_KEY = re.compile(
    r"-----BEGIN (?P<kind>[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----.*?(?:-----END (?P=kind)-----|\Z)", re.S
)
# a private key inside JSON (GCP service-account files): "private_key": "-----BEGIN ...\n..."
JSON_PRIVATE_KEY = re.compile(r'("private_key"\s*:\s*")[^"]*(")')

# tokens recognisable by their shape, wherever they appear
TOKEN = re.compile(
    r"(?<![A-Za-z0-9_])(?:"
    r"hf_[A-Za-z0-9]{20,}"  # Hugging Face
    r"|api_org_[A-Za-z0-9]{20,}"  # Hugging Face org
    r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"  # GitHub
    r"|glpat-[A-Za-z0-9_-]{20,}"  # GitLab
    r"|sk-(?:proj-|ant-(?:api\d+-)?|svcacct-)?[A-Za-z0-9_-]{20,}"  # OpenAI / Anthropic style
    r"|(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}"  # AWS access key ids
    r"|AIza[0-9A-Za-z_-]{35}"  # Google API keys
    r"|ya29\.[0-9A-Za-z_-]{20,}"  # Google OAuth access tokens
    r"|xox[abposr]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,}"  # Slack
    r"|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"  # JWT
    r"|npm_[A-Za-z0-9]{30,}|pypi-[A-Za-z0-9_-]{40,}"  # package registries
    r"|wandb_v1_[A-Za-z0-9_-]{20,}"
    r")"
)
SLACK_WEBHOOK = re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+")
# name = value, name: value, --name value, NAME="value" for names that hold secrets
SECRET_ASSIGN = re.compile(
    r"(?i)(?P<name>\b[\w.-]*(?:token|secret|password|passwd|pwd|api[_-]?key|access[_-]?key|private[_-]?key|"
    r"credential|auth[_-]?key|account[_-]?key|sas[_-]?token|client[_-]?secret|secret[_-]?access[_-]?key)\b"
    r"[\"']?\s*(?:=|:|\s)\s*)(?P<q>[\"']?)(?P<value>[^\s\"',;&]{6,})"
)
# Azure connection strings and SAS query strings
AZURE = re.compile(r"(?i)((?:AccountKey|SharedAccessKey|SharedAccessSignature)=)[^;\s\"']+|([?&]sig=)[^&\s\"']+")
AUTH_HEADER = re.compile(r"(?i)(\bauthorization\s*[:=]\s*(?:bearer|basic|token|bot)?\s*)[^\s\"',]+")
BEARER = re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{12,}")
URL_AUTH = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@", re.I)
URL_USER_TOKEN = re.compile(r"(?P<scheme>\bhttps?://)(?:oauth2|x-access-token|__token__|token):[^/\s@]+@", re.I)
# AWS secret access keys (40 characters) next to the words that name them
AWS_SECRET = re.compile(r"(?i)(aws_?secret_?access_?key\W{0,4})[A-Za-z0-9/+=]{40}")
# home folders of any user (paths inside logs from other accounts)
HOME_PATH = re.compile(r"(?:/home/|/Users/|[A-Za-z]:\\Users\\|[A-Za-z]:/Users/)(?P<user>[^/\\\s'\"]+)")
# user and host names too common to identify anyone, that would mangle ordinary words if replaced
_COMMON = {
    "root",
    "user",
    "admin",
    "jovyan",
    "localhost",
    "ubuntu",
    "debian",
    "fedora",
    "centos",
    "desktop",
    "laptop",
    "server",
    "colab",
    "kaggle",
    "docker",
    "container",
    "workstation",
    "jupyter",
    "notebook",
    "runner",
    "ec2-user",
    "cuda",
    "nvidia",
    "python",
    "train",
    "gpu0",
    "gpu1",
}


def identities() -> Tuple[List[str], List[str]]:
    """This machine's home folder, and its user and host names worth hiding (longest first)."""
    homes = []
    home = os.path.expanduser("~")
    if home and home not in ("/", "~") and len(home) > 3:
        homes.append(home)
    names = []
    for get in (getpass.getuser, socket.gethostname):
        try:
            value = get()
        except (OSError, KeyError, ImportError):  # no user database in some containers
            continue
        if value and len(value) >= 4 and value.lower() not in _COMMON:
            names.append(value)
    try:
        fqdn = socket.getfqdn()
        if fqdn and "." in fqdn and fqdn not in names and not fqdn.startswith("localhost"):
            names.append(fqdn)
    except (OSError, UnicodeError):
        pass
    return homes, sorted(set(names), key=len, reverse=True)


def secrets(text: str) -> str:
    """Credentials out, everything else as it was."""
    text = PRIVATE_KEY.sub(lambda m: f"-----BEGIN {m.group('kind')}-----\n{R}\n-----END {m.group('kind')}-----", text)
    text = JSON_PRIVATE_KEY.sub(lambda m: m.group(1) + R + m.group(2), text)
    text = URL_USER_TOKEN.sub(lambda m: m.group("scheme") + R + "@", text)
    text = URL_AUTH.sub(lambda m: m.group("scheme") + R + "@", text)
    text = SLACK_WEBHOOK.sub("https://hooks.slack.com/services/" + R, text)
    text = AUTH_HEADER.sub(lambda m: m.group(1) + R, text)
    text = BEARER.sub(lambda m: m.group(1) + R, text)
    text = AWS_SECRET.sub(lambda m: m.group(1) + R, text)
    text = AZURE.sub(lambda m: (m.group(1) or m.group(2)) + R, text)
    text = TOKEN.sub(R, text)
    text = SECRET_ASSIGN.sub(_assign, text)
    return text


# names that hold tokenizer tokens, not credentials, and values that are code, not secrets
_NOT_SECRET_NAME = re.compile(r"(?i)(?:pad|eos|bos|unk|sep|cls|mask|special|start|end|new)_tokens?$")
_CODE_VALUE = re.compile(r"^(?:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\(\)?)+|True|False|None|<redacted>)$")


def _assign(m: "re.Match[str]") -> str:
    name = m.group("name").rstrip("\"': =\t")
    value = m.group("value")
    if _NOT_SECRET_NAME.search(name) or _CODE_VALUE.match(value):
        return m.group(0)
    return m.group("name") + m.group("q") + R


def redact_text(text: str, homes: Optional[List[str]] = None, names: Optional[List[str]] = None) -> str:
    """Secrets, home folders, user and host names out of any text."""
    if homes is None or names is None:
        homes, names = identities()
    text = secrets(text)
    for home in homes:
        text = text.replace(home, "~")
    text = HOME_PATH.sub(lambda m: m.group(0)[: m.start("user") - m.start(0)] + "<user>", text)
    for name in names:
        text = re.sub(r"(?<![A-Za-z0-9])" + re.escape(name) + r"(?![A-Za-z0-9])", "<host>", text)
    return text


def redact_log(text: str) -> str:
    """Credentials and this user's home folder out of captured output (no name look-ups: this runs in the hook,
    where a slow host-name query must not delay the panel)."""
    text = secrets(text)
    home = os.path.expanduser("~")
    if home and home not in ("/", "~") and len(home) > 3:
        text = text.replace(home, "~")
    return text
