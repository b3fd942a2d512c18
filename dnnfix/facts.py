"""Facts: what is known about the failing machine, from a snapshot, the compatibility tables and the text.

Absent means unknown. A test on an unknown fact neither fires nor counts against.
"""
from __future__ import annotations

import re
from typing import Any, Dict, Mapping, Optional

_MISSING = object()


def dig(data: Any, path: str) -> Any:
    cur = data
    for part in path.split("."):
        if isinstance(cur, Mapping) and part in cur:
            cur = cur[part]
        else:
            return _MISSING
    return cur


class Facts:
    """Layered lookup: captures (bare names) -> text.* -> expected.* -> snapshot paths."""

    def __init__(self, snapshot: Optional[Mapping[str, Any]] = None, text: Optional[Mapping[str, Any]] = None,
                 derived: Optional[Mapping[str, Any]] = None):
        self.snapshot = normalise_snapshot(snapshot or {})
        self.text = dict(text or {})
        self.derived = dict(derived or {})

    def get(self, path: str, captures: Optional[Mapping[str, Any]] = None) -> Any:
        if captures and path in captures:
            return captures[path]
        if path.startswith("text."):
            v = dig(self.text, path[5:])
        elif path.startswith("expected."):
            v = dig(self.derived, path)
        else:
            v = dig(self.snapshot, path)
        return None if v is _MISSING else v

    def parent_known(self, path: str) -> bool:
        """Whether the section holding `path` was probed (so a missing leaf really is absent)."""
        if "." not in path:
            return False
        parent = path.rsplit(".", 1)[0]
        src = self.text if parent.startswith("text") else self.snapshot
        p = parent[5:] if parent.startswith("text.") else parent
        if parent == "text":
            return True
        return dig(src, p) is not _MISSING

    def aliases(self) -> Dict[str, Any]:
        """Handy names for explanations: {{tf_version}}, {{cudnn_version}}, {{expected_cudnn}} ..."""
        pk = self.snapshot.get("packages") or {}
        out: Dict[str, Any] = {}
        for name, key in (("tf_version", "tensorflow"), ("torch_version", "torch"), ("keras_version", "keras"),
                          ("numpy_version", "numpy"), ("jax_version", "jax"), ("jaxlib_version", "jaxlib"),
                          ("protobuf_version", "protobuf")):
            if pk.get(key):
                out[name] = pk[key]
        if "tf_version" not in out and pk.get("tensorflow-cpu"):
            out["tf_version"] = pk["tensorflow-cpu"]
        for name, path in (("python_version", "python.version"), ("cudnn_version", "cuda.cudnn_version"),
                           ("cuda_version", "cuda.runtime_version"), ("driver_version", "driver.version"),
                           ("driver_cuda_version", "driver.cuda_version"),
                           ("expected_cudnn", "expected.tf.cudnn"), ("expected_cuda", "expected.tf.cuda"),
                           ("expected_cudnn_package", "expected.tf.cudnn_package"),
                           ("expected_keras", "expected.tf.keras"), ("expected_python", "expected.tf.python"),
                           ("expected_torch_cuda", "expected.torch.cuda"), ("expected_driver", "expected.driver.min")):
            v = self.get(path)
            if v is not None:
                out[name] = v
        return out


# TensorFlow ships under several distribution names; signatures ask for packages.tensorflow.
_TF_VARIANTS = ("tensorflow-cpu", "tensorflow-gpu", "tensorflow-macos", "tensorflow-intel", "tensorflow-aarch64",
                "tf-nightly", "tf-nightly-gpu", "tf-nightly-cpu")


def normalise_snapshot(snapshot: Mapping[str, Any]) -> Dict[str, Any]:
    """A shallow copy with package names normalised (lowercase, '-') and TensorFlow variants aliased."""
    snap = dict(snapshot)
    pk = snap.get("packages")
    if isinstance(pk, Mapping):
        norm = {str(k).lower().replace("_", "-").replace(".", "-"): v for k, v in pk.items()}
        if "tensorflow" not in norm:
            for alt in _TF_VARIANTS:
                if norm.get(alt):
                    norm["tensorflow"] = norm[alt]
                    break
        snap["packages"] = norm
    return snap


# ---------------------------------------------------------------- versions
_VER = re.compile(r"\d+(?:\.\d+)*")


def release(value: Any) -> Optional[tuple]:
    """(major, minor, ...) of a version-ish value: '8.9.2.26', '2.1.0+cu121', 8902 (cuDNN int), '12.2'."""
    if value is None:
        return None
    if isinstance(value, int) and value >= 1000:  # cudnnGetVersion(): 8902 -> 8.9.2
        return (value // 1000, (value % 1000) // 100, value % 100)
    m = _VER.search(str(value))
    if not m:
        return None
    return tuple(int(x) for x in m.group(0).split("."))


def compare(a: Any, b: Any) -> Optional[int]:
    """-1/0/1 comparing on the common prefix ('8.9.2' == '8.9'); None when either is unknown."""
    ra, rb = release(a), release(b)
    if ra is None or rb is None:
        return None
    n = min(len(ra), len(rb))
    x, y = ra[:n], rb[:n]
    return (x > y) - (x < y)


def test_fact(facts: Facts, cond: Mapping[str, Any], captures: Optional[Mapping[str, Any]] = None) -> Optional[str]:
    """Evaluate one fact condition. Returns a human sentence when it holds, None otherwise (or unknown)."""
    path = cond["path"]
    val = facts.get(path, captures)
    if "present" in cond:
        want = bool(cond["present"])
        if val is not None:
            return f"{path} = {_short(val)}" if want else None
        if want:
            return None
        return f"{path} is absent" if facts.parent_known(path) else None
    if val is None:
        return None
    if "equals" in cond:
        ok = str(val).lower() == str(cond["equals"]).lower()
        return f"{path} = {_short(val)}" if ok else None
    if "matches" in cond:
        ok = re.search(str(cond["matches"]), str(val), re.I) is not None
        return f"{path} = {_short(val)}" if ok else None
    if "in" in cond:
        opts = [str(x).lower() for x in (cond["in"] or [])]
        return f"{path} = {_short(val)}" if str(val).lower() in opts else None
    if "version" in cond:
        try:
            from packaging.specifiers import SpecifierSet
            from packaging.version import InvalidVersion, Version

            r = release(val)
            if r is None:
                return None
            v = Version(".".join(str(x) for x in r))
            return f"{path} = {val} ({cond['version']})" if v in SpecifierSet(str(cond["version"])) else None
        except (InvalidVersion, ValueError):
            return None
    for key, want, word in (("lt_fact", -1, "<"), ("gt_fact", 1, ">")):
        if key in cond:
            other = facts.get(str(cond[key]), captures)
            c = compare(val, other)
            return f"{path} = {val} {word} {cond[key]} = {other}" if c == want else None
    if "ne_minor_fact" in cond:
        other = facts.get(str(cond["ne_minor_fact"]), captures)
        ra, rb = release(val), release(other)
        if ra is None or rb is None or len(ra) < 2 or len(rb) < 2:
            return None
        return (f"{path} = {val}, {cond['ne_minor_fact']} = {other}: major.minor differ"
                if ra[:2] != rb[:2] else None)
    if "ne_major_fact" in cond:
        other = facts.get(str(cond["ne_major_fact"]), captures)
        ra, rb = release(val), release(other)
        if ra is None or rb is None:
            return None
        return f"{path} = {val}, {cond['ne_major_fact']} = {other}: major versions differ" if ra[0] != rb[0] else None
    if "empty" in cond:
        if not isinstance(val, (list, tuple, dict)):
            return None
        ok = (len(val) == 0) == bool(cond["empty"])
        return (f"{path} is empty" if cond["empty"] else f"{path} has {len(val)} entr{'y' if len(val) == 1 else 'ies'}") if ok else None
    for key in ("min", "max"):
        if key in cond:
            num = len(val) if isinstance(val, (list, tuple)) else val
            try:
                num = float(num)
            except (TypeError, ValueError):
                return None
            ok = num >= float(cond[key]) if key == "min" else num <= float(cond[key])
            return f"{path} = {_short(val)}" if ok else None
    return None


def _short(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return f"[{len(v)} item{'s' if len(v) != 1 else ''}]"
    s = str(v)
    return s if len(s) <= 60 else s[:57] + "..."
