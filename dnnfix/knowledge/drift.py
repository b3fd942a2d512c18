"""API drift: which release of a library removed or renamed the name a traceback says is missing.

A signature of cause py.package.api-mismatch captures the failing name with named groups:

    drift_import + drift_from       cannot import name 'X' from 'M'
    drift_module                    No module named 'A.B' (a submodule of an installed package)
    drift_attr + drift_mod          module 'M' has no attribute 'X'
    drift_attr + drift_cls          'C' object has no attribute 'X' / type object 'C' has no attribute 'X'
    drift_arg (+ drift_callee)      C.__init__() got an unexpected keyword argument 'x'
    drift_path (optional)           the file the import message names

`derive_facts` looks the name up in the tables kb/compat/api-drift.yaml (removals and renames) and
kb/compat/api-added.yaml (names exported only since a release), passed in from the loaded knowledge base, and
returns `drift.*` facts for the signature's `fact` clauses and the explanation:

    drift.package, drift.name, drift.old, drift.replacement, drift.removed_in, drift.last_with, drift.since,
    drift.installed, drift.side, drift.pin, drift.pin_exact, drift.summary, drift.source, drift.kind,
    drift.added_in, drift.last_without, drift.new (an api-added row: the install predates the name)
    drift.user_module (the name belongs to the user's own code: the cause does not apply)

`drift.removed_in` is set only when a row explains the failure (the installed release, when known, is on
the side of the change the row predicts); without a row only the package and its installed version are given.
"""

from __future__ import annotations

import re
import sys
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..facts import DIST_NAMES
from ..normalize import lines_holding

# import name -> distribution name, where they differ (the shared table), and `lightning`, whose releases the drift
# rows and the installed versions name as pytorch-lightning (_ALIASES)
_DIST = {**DIST_NAMES, "lightning": "pytorch-lightning"}
# distributions whose version may be reported under another name
_ALIASES = {
    "pytorch-lightning": ("pytorch-lightning", "lightning"),
    "pillow": ("pillow", "pil"),
    "huggingface-hub": ("huggingface-hub", "huggingface_hub"),
    "scikit-learn": ("scikit-learn", "sklearn"),
    "mmcv": ("mmcv", "mmcv-full"),
    "python": ("python",),
}
# packages owned by wave-1 causes: the drift lookup never names them (numpy aliases, TF1/Keras 2-3 names)
_OTHER_CAUSES = ("numpy", "tensorflow", "keras", "tf_keras")
_SITE = re.compile(r"(?:site|dist)-packages|[\\/]lib[\\/]python3\.\d+[\\/]|[\\/]Lib[\\/]|[\\/]envs?[\\/]|\.egg", re.I)


def _stdlib(top: str) -> bool:
    names = getattr(sys, "stdlib_module_names", None)
    if names is not None:
        return top in names
    return top in {
        "collections",
        "asyncio",
        "inspect",
        "typing",
        "os",
        "sys",
        "time",
        "platform",
        "base64",
        "re",
        "unittest",
        "configparser",
        "pkgutil",
        "ssl",
        "importlib",
        "locale",
        "gettext",
        "binascii",
        "fractions",
        "array",
        "xml",
        "threading",
        "html",
        "cgi",
        "tarfile",
    }


def _rows(tables: Optional[Mapping[str, Any]], name: str = "api-drift") -> List[Dict[str, Any]]:
    data = (tables or {}).get(name) or {}
    out: List[Dict[str, Any]] = []
    for table in data.values():
        if isinstance(table, dict):
            out.extend(r for r in table.get("rows") or [] if type(r) is dict)  # noqa: E721 - plain YAML mappings
    return out


def _vkey(v: Any) -> Optional[Tuple[int, ...]]:
    m = re.search(r"\d+(?:\.\d+)*", str(v)) if v is not None else None
    return tuple(int(x) for x in m.group(0).split(".")) if m else None


def _cmp(a: Any, b: Any) -> Optional[int]:
    ka, kb = _vkey(a), _vkey(b)
    if ka is None or kb is None:
        return None
    n = max(len(ka), len(kb))
    ka, kb = ka + (0,) * (n - len(ka)), kb + (0,) * (n - len(kb))
    return (ka > kb) - (ka < kb)


def distribution(module: str) -> str:
    top = module.split(".")[0]
    two = ".".join(module.split(".")[:2])
    return _DIST.get(two) or _DIST.get(top) or top.lower().replace("_", "-")


_RX: Dict[str, "re.Pattern[str]"] = {}


def _compiled(pattern: str) -> "re.Pattern[str]":
    r = _RX.get(pattern)
    if r is None:
        r = _RX[pattern] = re.compile(pattern)
    return r


def installed_version(dist: str, facts: Any, text: str) -> Optional[str]:
    """The release of `dist` the facts or the paste state (probe/snapshot, pasted versions, pip list/show)."""
    names = _ALIASES.get(dist, (dist, dist.replace("-", "_")))
    if dist == "python":
        for path in ("python.version", "text.python"):
            v = facts.get(path) if facts is not None else None
            if v:
                return str(v)
        m = re.search(r"\bPython\s+(3\.\d+(?:\.\d+)?)\b", text)
        return m.group(1) if m else None
    if facts is not None:
        for n in names:
            for path in (
                f"packages.{n.replace('_', '-')}",
                f"text.versions.{n}",
                f"text.versions.{n.replace('-', '_')}",
            ):
                v = facts.get(path)
                if v:
                    return str(v)
    folded = text.lower().replace("_", "-") if text.isascii() else None
    for n in names:
        where = text
        if folded is not None:
            key = n.lower().replace("_", "-")
            if key not in folded:
                continue  # every pattern below needs the name (any case, - or _): an ASCII text without it has none
            where = lines_holding(text, folded, key, with_next=True)
        pat = re.escape(n).replace(r"\-", "[-_]").replace("_", "[-_]")
        # line-bound ([ \t], never \s across lines) and without adjacent repeats of the same characters: these run
        # on Python's re over the whole paste, so they must stay linear on runs of blank lines or spaces
        for rx in (
            rf"(?im)^[ \t]*{pat}(?:[ \t]*==[ \t]*|[ \t]+)v?(\d+\.\d+(?:\.\d+)*(?:\.post\d+)?)[ \t]*$",  # pip list / freeze
            rf"(?i)\bName:[ \t]*{pat}[ \t]*\r?\n[ \t]*Version:[ \t]*(\d+\.\d+(?:\.\d+)*)",  # pip show
            rf"(?i)\b{pat}(?:==|[ \t]+version[ \t]*(?::[ \t]*)?|[ \t]+v|:?[ \t]+)(\d+\.\d+(?:\.\d+)*)\b",
            rf"(?i)\b{pat}-(\d+\.\d+(?:\.\d+)*)(?:\.dist-info|-py\d)",
        ):
            m = _compiled(rx).search(where)
            if m:
                return m.group(1)
    return None


def _last(name: str) -> str:
    return name.rstrip(".").split(".")[-1]


class _Index:
    """The drift tables by the name a message quotes (built once per loaded knowledge base)."""

    def __init__(self, tables: Optional[Mapping[str, Any]]):
        self.rows = _rows(tables)
        self.by_name: Dict[str, List[Tuple[str, Dict[str, Any]]]] = {}
        self.by_path: Dict[str, List[Dict[str, Any]]] = {}
        self.added: Dict[str, List[Dict[str, Any]]] = {}
        self.added_by_path: Dict[str, List[Dict[str, Any]]] = {}  # "torch.nn.attention": a submodule added in a release
        for r in self.rows:
            self.by_name.setdefault(str(r.get("old", "")), []).append(("old", r))
            if r.get("since"):
                for x in set(re.findall(r"[A-Za-z_][\w.]*", str(r.get("replacement", "")))):
                    self.by_name.setdefault(_last(x), []).append(("new", r))
            if r.get("kind") == "import":
                self.by_path.setdefault(f"{r.get('module')}.{r.get('old')}", []).append(r)
        for r in _rows(tables, "api-added"):
            self.added.setdefault(str(r.get("name", "")), []).append(r)
            if r.get("kind") == "import":
                self.added_by_path.setdefault(f"{r.get('module')}.{r.get('name')}", []).append(r)
        self.tops = {str(r.get("module", "")).split(".")[0] for r in self.rows}
        self.packages = {str(r.get("package")) for r in self.rows}


_MEMO: List[Any] = [None, None]  # (tables, index) of the last knowledge base seen; replaced when it changes


def _index(tables: Optional[Mapping[str, Any]]) -> _Index:
    if _MEMO[0] is not tables or _MEMO[1] is None:
        _MEMO[0], _MEMO[1] = tables, _Index(tables)
    return _MEMO[1]


def _candidates(cap: Mapping[str, Any], idx: _Index, text: str) -> List[Tuple[int, str, Mapping[str, Any]]]:
    """[(score, side, row)]: side 'old' (the name is the removed one), 'new' (the name is its replacement) or
    'added' (a row of api-added: the name exists only since a release)."""
    out: List[Tuple[int, str, Mapping[str, Any]]] = []
    full = str(cap.get("drift_module") or "")
    cls = str(cap.get("drift_cls") or "")
    callee = re.sub(r"\.__init__$", "", str(cap.get("drift_callee") or ""))
    callee = "" if callee in ("__init__", "__call__") else _last(callee) if callee else ""
    if cap.get("drift_import"):
        name, mod, kind = str(cap["drift_import"]), str(cap.get("drift_from") or ""), "import"
    elif full:
        name, mod, kind = _last(full), full.rsplit(".", 1)[0], "module"
    elif cap.get("drift_attr"):
        name, mod, kind = str(cap["drift_attr"]), str(cap.get("drift_mod") or ""), "attribute"
    elif cap.get("drift_arg"):
        name, mod, kind = str(cap["drift_arg"]), "", "argument"
    else:
        return out
    if kind == "module":
        parts = full.split(".")
        for i in range(2, len(parts) + 1):
            path = ".".join(parts[:i])
            # the removed submodule itself or a parent of the path imported; or one a later release added (code newer
            # than the install), which ranks after any removal
            out.extend((4, "old", r) for r in idx.by_path.get(path, ()))
            out.extend((3, "added", r) for r in idx.added_by_path.get(path, ()))
        out.sort(key=lambda t: -t[0])
        return out
    for side, r in idx.by_name.get(name, ()):
        rmod, rkind = str(r.get("module", "")), r.get("kind")
        if (kind == "argument") != (rkind == "argument"):
            continue
        score = 0
        if kind == "import" or (kind == "attribute" and mod):
            if mod == rmod:
                score = 4
            elif mod.startswith(rmod + ".") or rmod.startswith(mod + "."):
                score = 3
            elif mod.split(".")[0] == rmod.split(".")[0]:
                score = 2
        elif kind == "attribute" and cls:
            score = 3 if _last(rmod) == cls else 0
        elif kind == "argument":
            owner = _last(rmod)
            if callee and owner == callee:
                score = 4
            elif re.search(rf"\b{re.escape(owner)}\s*\(", text):
                # the call site quoted in the traceback names the callable; a named callee that differs is the
                # inner call the library made with the forwarded argument (BertModel.__init__ for from_pretrained)
                score = 1 if callee else 2
        if score:
            out.append((score - (side == "new"), side, r))
    if kind in ("import", "attribute") and mod:
        for r in idx.added.get(name, ()):  # a name the package exports only since a release
            rmod = str(r.get("module", ""))
            if mod == rmod or mod.split(".")[0] == rmod.split(".")[0]:
                out.append((4 if mod == rmod else 2, "added", r))
    out.sort(key=lambda t: -t[0])
    return out


def derive_facts(
    cap: Mapping[str, Any], facts: Any = None, tables: Optional[Mapping[str, Any]] = None, text: str = ""
) -> Dict[str, Any]:
    """drift.* facts for the captures of a fired API-drift clause (see the module docstring)."""
    try:
        return _derive(cap, facts, tables, text)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError):  # odd captures or tables: no drift facts
        return {}


def _module_of(cap: Mapping[str, Any]) -> str:
    if cap.get("drift_from"):
        return str(cap["drift_from"])
    if cap.get("drift_module"):
        return str(cap["drift_module"])
    if cap.get("drift_mod"):
        return str(cap["drift_mod"])
    return ""


def _no_replacement(use: str) -> Optional[str]:
    """None when a row names a replacement; else the row's reason in parentheses (" (downloads always resume)"),
    or "" for a bare "none"."""
    if use != "none" and not use.startswith("none ("):
        return None
    return use[4:].rstrip() if use != "none" else ""


_REQUIRED = re.compile(r"[A-Za-z0-9][\w.-]*")


def _version_check_facts(requirement: str, found: str) -> Dict[str, Any]:
    """drift.* facts for a library's own version check ("huggingface-hub>=0.34.0,<1.0 is required ..., but found
    huggingface-hub==1.0.1"): nothing was renamed, the installed release is outside the range the check names."""
    m = _REQUIRED.match(requirement)
    pk = m.group(0) if m else requirement
    inst = found.split("==", 1)[1].rstrip(".") if "==" in found else found
    return {
        "drift.package": pk,
        "drift.installed": inst,
        "drift.side": f"installed {pk} {inst} is outside the range {requirement} that the library checks for",
        "drift.pin": requirement,
        "drift.pin_exact": requirement,
        "drift.summary": f"{pk} {inst} is installed, but the library's own version check needs {requirement}",
        "drift.code_line": "in the code: nothing to change; install the release range the check names",
    }


def _derive(cap: Mapping[str, Any], facts: Any, tables: Optional[Mapping[str, Any]], text: str) -> Dict[str, Any]:
    if cap.get("drift_requirement") and cap.get("drift_found"):
        return _version_check_facts(str(cap["drift_requirement"]), str(cap["drift_found"]))
    out: Dict[str, Any] = {}
    module = _module_of(cap)
    top = module.split(".")[0]
    name = (
        cap.get("drift_import")
        or cap.get("drift_attr")
        or cap.get("drift_arg")
        or (_last(cap["drift_module"]) if cap.get("drift_module") else "")
    )
    out["drift.name"] = str(name)
    path = str(cap.get("drift_path") or "")
    if top in ("__main__", "") and not cap.get("drift_arg") and not cap.get("drift_cls"):
        out["drift.user_module"] = True
        return out
    idx = _index(tables)
    if top in _OTHER_CAUSES:
        out["drift.other_cause"] = top
        return out
    known_top = top in idx.tops
    if path and not _SITE.search(path) and not (top and _stdlib(top)):
        # a file of the user's project; a package folder of a known library outside site-packages is an editable
        # install, but a single `<name>.py` named like the library is the user's file shadowing it
        single = re.search(rf"[\\/]{re.escape(top)}\.py\s*$", path) is not None
        if single or not known_top:
            out["drift.user_module"] = True
            return out
    cands = _candidates(cap, idx, text)
    if cands:
        best_score = cands[0][0]
        best = [c for c in cands if c[0] == best_score]
        text_pk = set()
        if facts is not None:
            text_pk = {str(p).lower() for p in (facts.get("text.packages") or [])}

        inst_of: Dict[str, Optional[str]] = {}  # package -> installed release (many rows share a package)

        def rank(c: Tuple[int, str, Mapping[str, Any]]) -> Tuple[int, int]:
            r = c[2]
            pk = str(r.get("package"))
            seen = int(
                pk in text_pk
                or pk.replace("-", "_") in text_pk
                or any(str(r.get("module", "")).split(".")[0] == p for p in text_pk)
            )
            if pk not in inst_of:
                inst_of[pk] = installed_version(pk, facts, text)
            inst = inst_of[pk]
            fits = 0
            if inst is not None:
                if c[1] == "old":
                    fits = 1 if (_cmp(inst, r["removed_in"]) or 0) >= 0 else -1
                else:
                    fits = 1 if (_cmp(inst, r.get("since") or r.get("added_in")) or 0) < 0 else -1
            return (fits, seen)

        score, side, row = max(best, key=rank)
        return _row_facts(out, row, side, str(name), facts, text)
    # no row: name the package the failing name belongs to, and its installed release
    if top and _stdlib(top):
        out["drift.package"] = "python"
    elif top:
        dist = distribution(module)
        known = idx.packages
        text_pk = {str(p).lower() for p in ((facts.get("text.packages") if facts is not None else None) or [])}
        if dist in known or top.lower() in text_pk or (path and _SITE.search(path)):
            out["drift.package"] = dist
    if out.get("drift.package"):
        inst = installed_version(out["drift.package"], facts, text)
        if inst:
            out["drift.installed"] = inst
        out["drift.summary"] = (
            f"`{name}` is not in the installed {out['drift.package']}"
            + (f" {inst}" if inst else "")
            + ": the code was written for another release of it"
        )
    return out


def _added_facts(out: Dict[str, Any], row: Mapping[str, Any], facts: Any, text: str) -> Dict[str, Any]:
    pk, added = str(row["package"]), str(row["added_in"])
    new = f"{row['module']}.{row['name']}"
    out.update(
        {
            "drift.package": pk,
            "drift.kind": "import",
            "drift.new": new,
            "drift.last_without": str(row["last_without"]),
            "drift.source": str(row.get("source", "")),
        }
    )
    inst = installed_version(pk, facts, text)
    if inst:
        out["drift.installed"] = inst
        if (_cmp(inst, added) or 0) >= 0:
            out["drift.side"] = (
                f"installed {pk} {inst} already exports `{new}` (since {added}): the row does not explain this"
            )
            return out
    out["drift.added_in"] = added
    out["drift.side"] = "installed is too old for the code"
    out["drift.pin"] = out["drift.pin_exact"] = f"{pk}>={added}"
    out["drift.replacement"] = f"what the installed {pk} offers instead (or upgrade to {pk}>={added})"
    out["drift.old"] = new
    out["drift.code_line"] = f"in the code: use {out['drift.replacement']} instead of {new}"
    out["drift.summary"] = (
        f"`{new}` first appeared in {pk} {added} (the last release without it: {row['last_without']})"
        + (f"; the installed {inst} is too old for this code" if inst else "")
        + f". Upgrade to {pk}>={added}, or pin the code (or the library that imports it) to an older release"
    )
    return out


def _row_facts(
    out: Dict[str, Any], row: Mapping[str, Any], side: str, name: str, facts: Any, text: str
) -> Dict[str, Any]:
    if side == "added":
        return _added_facts(out, row, facts, text)
    pk = str(row["package"])
    old = str(row["old"]) if row.get("kind") == "argument" else f"{row['module']}.{row['old']}"
    out.update(
        {
            "drift.package": pk,
            "drift.kind": row.get("kind"),
            "drift.old": old,
            "drift.replacement": str(row.get("replacement", "none")),
            "drift.last_with": str(row["last_with"]),
            "drift.source": str(row.get("source", "")),
        }
    )
    if row.get("kind") == "argument":
        out["drift.callable"] = str(row["module"])
    if row.get("since"):
        out["drift.since"] = str(row["since"])
    inst = installed_version(pk, facts, text)
    if inst:
        out["drift.installed"] = inst
    removed = str(row["removed_in"])
    what = f"`{old}`" + (f" (argument of {row['module']})" if row.get("kind") == "argument" else "")
    if side == "old":
        if inst is not None and (_cmp(inst, removed) or 0) < 0:
            out["drift.side"] = (
                f"installed {pk} {inst} predates the removal in {removed}: the row does not explain this"
            )
            return out
        out["drift.removed_in"] = removed
        out["drift.side"] = "installed is too new for the code"
        out["drift.pin"] = f"{pk}<{removed}" if pk != "python" else f"Python {row['last_with']}"
        out["drift.pin_exact"] = f"{pk}=={row['last_with']}" if pk != "python" else f"Python {row['last_with']}"
        use = out["drift.replacement"]
        gone = _no_replacement(use)
        out["drift.summary"] = (
            f"{what} was removed in {pk} {removed} (last release with it: {row['last_with']})"
            + (f"; the installed {inst} is too new for this code" if inst else "")
            + (f". Pin {out['drift.pin']} or use {use}" if gone is None else f". Pin {out['drift.pin']}{gone}")
        )
        out["drift.code_line"] = (
            f"in the code: use {use} instead of {old}"
            if gone is None
            else f"in the code: {old} has no replacement{gone}: pin the release below"
        )
    else:
        since = str(row["since"])
        if inst is not None and (_cmp(inst, since) or 0) >= 0:
            out["drift.side"] = (
                f"installed {pk} {inst} already has `{name}` (since {since}): the row does not explain this"
            )
            return out
        out["drift.removed_in"] = removed
        out["drift.side"] = "installed is too old for the code"
        out["drift.pin"] = f"{pk}>={since}"
        out["drift.pin_exact"] = f"{pk}>={since}"
        out["drift.replacement"] = name
        out["drift.summary"] = (
            f"`{name}` appeared in {pk} {since} as the replacement of {what}"
            + (f"; the installed {inst} is too old for this code" if inst else "")
            + f". Upgrade to {pk}>={since}, or use the old name with the installed release"
        )
    return out
