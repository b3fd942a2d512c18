"""Compatibility tables (kb/compat/*.yaml) and the checks `dnnfix doctor` runs over them.

    derive(snapshot) -> {"expected": {...}}   facts that follow from the tables for this machine
    check(snapshot)  -> [finding, ...]        what will break, why, and the fix (kb/compat/checks.yaml)

Every number comes from a table with its `source:` and `retrieved:`; the code here only selects the
row that applies (by installed version, OS, CUDA build) and evaluates the conditions of the checks.

Derived facts (all optional: absent means unknown):
  expected.tf.{version, package, python, cuda, cudnn, cudnn_package, keras, keras_major, numpy,
               numpy_cause, gpu_build, gpu_on_native_windows, min_compute_capability, needs_avx}
  expected.torch.{version, cuda, cudnn, builds, python, archs, cpu_only}
  expected.jax.{version, jaxlib, cuda_major, cuda, cudnn, cudnn_below, min_compute_capability,
                gpu_build, driver_linux}
  expected.driver.{for_cuda, min, min_linux, min_windows, recommended, recommended_linux,
                   recommended_windows}
"""
from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

SEVERITIES = ("error", "warning", "info")

_TF_PACKAGES = ("tensorflow", "tensorflow-gpu", "tf-nightly", "tensorflow-cpu", "tensorflow-intel",
                "tensorflow-macos", "tensorflow-aarch64", "tensorflow-rocm")


# ---------------------------------------------------------------- loading
def compat_dirs() -> List[Path]:
    """Every KB folder's compat/ (built-in first; a later folder's table of the same name wins)."""
    try:
        from .kbload import kb_dirs

        dirs = list(kb_dirs())
    except Exception:  # noqa: BLE001 - before the KB loader exists, or without platformdirs
        import dnnfix

        here = Path(dnnfix.__file__).resolve().parent
        dirs = [here / "_kb" if (here / "_kb").is_dir() else here.parent / "kb"]
    return [d / "compat" for d in dirs if (d / "compat").is_dir()]


def read_tables(dirs: Iterable[Path]) -> Tuple[Dict[str, Dict[str, Any]], List[Dict[str, Any]]]:
    """Parse the compat/ folders (a later folder's table of the same name wins)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster when present
    tables: Dict[str, Dict[str, Any]] = {}
    checks: Dict[str, Dict[str, Any]] = {}
    for d in dirs:
        for path in sorted(d.glob("*.yaml")):
            with open(path, encoding="utf-8") as fh:
                data = yaml.load(fh, Loader=loader) or {}
            if path.stem == "checks":
                for c in data.get("checks") or []:
                    checks[c["id"]] = c
            else:
                tables[path.stem] = data
    return tables, list(checks.values())


@functools.lru_cache(maxsize=None)
def _load_all() -> Tuple[Dict[str, Dict[str, Any]], List[Dict[str, Any]]]:
    # the knowledge-base cache holds the parsed tables: no YAML parsing on the hot path
    try:
        from .kbload import load_kb

        kb = load_kb()
        if getattr(kb, "compat", None) is not None:
            return kb.compat
    except Exception:  # noqa: BLE001 - fall back to reading the files
        pass
    return read_tables(compat_dirs())


def tables() -> Dict[str, Dict[str, Any]]:
    return _load_all()[0]


def checks_table() -> List[Dict[str, Any]]:
    return _load_all()[1]


def rows(table: str, name: str) -> List[Dict[str, Any]]:
    return list(((tables().get(table) or {}).get(name) or {}).get("rows") or [])


# ---------------------------------------------------------------- versions
_NUM = re.compile(r"\d+(?:\.\d+)*")


def vkey(value: Any) -> Tuple[int, ...]:
    m = _NUM.search(str(value)) if value is not None else None
    return tuple(int(x) for x in m.group(0).split(".")) if m else ()


def mm(value: Any) -> Optional[str]:
    k = vkey(value)
    return ".".join(map(str, k[:2])) if len(k) >= 2 else (str(k[0]) if k else None)


def satisfies(version: Any, spec: str) -> Optional[bool]:
    """PEP 440 test on the release part of `version` (local tags and junk ignored)."""
    k = vkey(version)
    if not k:
        return None
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import Version

    try:
        return SpecifierSet(str(spec)).contains(Version(".".join(map(str, k))), prereleases=True)
    except (InvalidSpecifier, ValueError):
        return None


def _row_for(rows_: Iterable[Dict[str, Any]], key: str, version: Any) -> Optional[Dict[str, Any]]:
    """The row whose `key` is the version's minor ("2.15") or a specifier it satisfies."""
    minor = mm(version)
    for r in rows_:
        want = str(r.get(key, ""))
        if want and want[0].isdigit():
            if want == minor:
                return r
        elif want and satisfies(version, want):
            return r
    return None


# ---------------------------------------------------------------- derive
def _os(snapshot: Mapping[str, Any]) -> Tuple[Optional[str], bool]:
    osinfo = snapshot.get("os") or {}
    return osinfo.get("system"), bool(osinfo.get("wsl"))


def _derive_tf(snapshot: Mapping[str, Any], pk: Mapping[str, str]) -> Dict[str, Any]:
    package = next((p for p in _TF_PACKAGES if pk.get(p)), None)
    fw = (snapshot.get("frameworks") or {}).get("tensorflow") or {}
    version = pk.get(package) if package else fw.get("version")
    if not version:
        return {}
    system, wsl = _os(snapshot)
    out: Dict[str, Any] = {"version": str(version)}
    if package:
        out["package"] = package
    linux = _row_for(rows("tensorflow", "linux_gpu"), "tensorflow", version)
    windows = _row_for(rows("tensorflow", "windows_gpu"), "tensorflow", version)
    if linux:
        out["python"] = linux["python"]
    native_windows = system == "Windows"
    gpu_row = windows if native_windows else linux
    if system is not None:
        if native_windows:
            gpu_build = windows is not None and package in ("tensorflow", "tensorflow-gpu")
        elif system == "Linux":
            # Before 2.1 the `tensorflow` package was CPU-only and the GPU build was tensorflow-gpu.
            gpu_build = package == "tensorflow-gpu" or (
                package in ("tensorflow", "tf-nightly", None) and vkey(version)[:2] >= (2, 1))
        else:
            gpu_build = False
        if fw.get("is_cuda_build") is not None:
            gpu_build = bool(fw["is_cuda_build"])
        out["gpu_build"] = gpu_build
    out["gpu_on_native_windows"] = windows is not None
    if gpu_row:
        out["cuda"] = str(gpu_row["cuda"])
        out["cudnn"] = str(gpu_row["cudnn"])
        major = vkey(gpu_row["cuda"])[:1]
        if major and major[0] >= 11 and not native_windows:
            out["cudnn_package"] = f"nvidia-cudnn-cu{major[0]}"
    keras = _row_for(rows("tensorflow", "keras"), "tensorflow", version)
    if keras:
        out["keras_major"] = str(keras["keras_major"])
        out["keras"] = mm(version) if keras["keras"] == "same-minor" else str(keras["keras_major"])
    numpy = _row_for(rows("tensorflow", "numpy"), "tensorflow", version)
    if numpy:
        out["numpy"] = numpy["numpy"]
        out["numpy_cause"] = numpy.get("cause")
    cc = _row_for(rows("tensorflow", "compute_capability"), "tensorflow", version)
    if cc:
        out["min_compute_capability"] = str(cc["min"])
    cpu = _row_for(rows("tensorflow", "cpu"), "tensorflow", version)
    if cpu:
        out["needs_avx"] = cpu.get("requires") == "avx"
    return out


def _torch_cuda(version: str, snapshot: Mapping[str, Any], pk: Mapping[str, str]) -> Tuple[Optional[str], bool]:
    """(CUDA build of the installed torch, cpu_only)."""
    fw = (snapshot.get("frameworks") or {}).get("torch") or {}
    if fw.get("cuda_version"):
        return str(fw["cuda_version"]), False
    if fw.get("is_cuda_build") is False:
        return None, not fw.get("hip_version")
    m = re.search(r"\+(cu(\d+)|cpu|rocm[\d.]+)", version)
    if m:
        if m.group(1) == "cpu":
            return None, True
        if m.group(2):
            digits = m.group(2)
            return f"{digits[:-1]}.{digits[-1]}", False
        return None, False
    system, _ = _os(snapshot)
    if system == "Linux":
        # PyPI's Linux wheels carry no local tag; their CUDA is the runtime wheel they depend on.
        for name in ("nvidia-cuda-runtime-cu12", "nvidia-cuda-runtime-cu11", "nvidia-cuda-runtime"):
            if pk.get(name):
                return mm(pk[name]), False
    elif system in ("Windows", "Darwin") and system is not None:
        return None, True  # PyPI's Windows and macOS wheels of torch are CPU builds
    return None, False


def _derive_torch(snapshot: Mapping[str, Any], pk: Mapping[str, str]) -> Dict[str, Any]:
    version = pk.get("torch") or ((snapshot.get("frameworks") or {}).get("torch") or {}).get("version")
    if not version:
        return {}
    out: Dict[str, Any] = {"version": str(version)}
    cuda, cpu_only = _torch_cuda(str(version), snapshot, pk)
    out["cpu_only"] = cpu_only
    release = _row_for(rows("pytorch", "releases"), "torch", version)
    if release:
        out["python"] = release["python"]
        out["builds"] = list(release["cuda"])
    if cuda:
        out["cuda"] = cuda
        if release and (release.get("cudnn") or {}).get(cuda):
            out["cudnn"] = str(release["cudnn"][cuda])
        for r in rows("pytorch", "wheel_archs"):
            if str(r["cuda"]) == cuda and satisfies(version, r["torch"]):
                out["archs"] = [str(a) for a in r["archs"]]
                break
    return out


def _derive_jax(snapshot: Mapping[str, Any], pk: Mapping[str, str]) -> Dict[str, Any]:
    version = pk.get("jax")
    jaxlib = pk.get("jaxlib")
    if not (version or jaxlib):
        return {}
    out: Dict[str, Any] = {}
    if version:
        out["version"] = version
    if jaxlib:
        out["jaxlib"] = jaxlib
    major = None
    for n in ("13", "12", "11"):
        if pk.get(f"jax-cuda{n}-plugin") or pk.get(f"jax-cuda{n}-pjrt"):
            major = n
            break
    m = re.search(r"\+cuda(\d+)", str(jaxlib or ""))
    if major is None and m:
        major = m.group(1)[:2]
    if "packages" in snapshot:
        out["gpu_build"] = major is not None
    if major:
        out["cuda_major"] = major
        for r in rows("jax", "cuda"):
            if str(r["cuda_major"]) == major and jaxlib and satisfies(jaxlib, r["jaxlib"]):
                out["cuda"] = str(r["cuda"])
                out["cudnn"] = str(r["cudnn"])
                out["cudnn_below"] = str(r["cudnn_below"])
                out["min_compute_capability"] = str(r["min_compute_capability"])
                out["driver_linux"] = str(r["driver_linux"])
                break
    return out


def _derive_driver(snapshot: Mapping[str, Any], expected: Mapping[str, Any]) -> Dict[str, Any]:
    """Driver minimums for the most demanding CUDA this machine's frameworks will use."""
    wanted: List[str] = []
    torch = expected.get("torch") or {}
    tf = expected.get("tf") or {}
    jax = expected.get("jax") or {}
    if torch.get("cuda"):
        wanted.append(torch["cuda"])
    fw_tf = (snapshot.get("frameworks") or {}).get("tensorflow") or {}
    if fw_tf.get("cuda_version"):
        wanted.append(str(fw_tf["cuda_version"]))
    elif tf.get("cuda") and tf.get("gpu_build"):
        wanted.append(tf["cuda"])
    if jax.get("cuda"):
        wanted.append(jax["cuda"])
    cuda = snapshot.get("cuda") or {}
    if cuda.get("runtime_version") and (cuda.get("sources") or {}).get("runtime_version") == "loaded":
        wanted.append(str(cuda["runtime_version"]))
    wanted = [w for w in wanted if len(vkey(w)) >= 1]
    if not wanted:
        return {}
    target = max(wanted, key=vkey)
    out: Dict[str, Any] = {"for_cuda": mm(target)}
    major = str(vkey(target)[0])
    compat_row = next((r for r in rows("cuda-driver", "minor_version_compatibility") if str(r["cuda_major"]) == major), None)
    ga = [r for r in rows("cuda-driver", "toolkit_drivers") if str(r["cuda"]) == mm(target)]
    ga_row = min(ga, key=lambda r: int(r.get("update", 0))) if ga else None
    if compat_row:
        out["min_linux"] = str(compat_row["linux"])
        out["min_windows"] = str(compat_row["windows"])
    elif ga_row:  # CUDA 10 and older: no minor version compatibility
        out["min_linux"] = str(ga_row["linux"])
        if ga_row.get("windows"):
            out["min_windows"] = str(ga_row["windows"])
    if ga_row:
        out["recommended_linux"] = str(ga_row["linux"])
        if ga_row.get("windows"):
            out["recommended_windows"] = str(ga_row["windows"])
    system, wsl = _os(snapshot)
    if system is not None:
        side = "windows" if (system == "Windows" or wsl) else "linux"
        for key in ("min", "recommended"):
            if f"{key}_{side}" in out:
                out[key] = out[f"{key}_{side}"]
    return out


def derive(snapshot: Mapping[str, Any]) -> Dict[str, Any]:
    """{"expected": {...}}: the facts the compatibility tables give for this snapshot."""
    snapshot = snapshot or {}
    pk = snapshot.get("packages") or {}
    expected: Dict[str, Any] = {}
    for key, fn in (("tf", _derive_tf), ("torch", _derive_torch), ("jax", _derive_jax)):
        try:
            value = fn(snapshot, pk)
        except Exception:  # noqa: BLE001 - a malformed snapshot must not break matching
            value = {}
        if value:
            expected[key] = {k: v for k, v in value.items() if v is not None}
    try:
        driver = _derive_driver(snapshot, expected)
    except Exception:  # noqa: BLE001
        driver = {}
    if driver:
        expected["driver"] = driver
    return {"expected": expected} if expected else {}


# ---------------------------------------------------------------- checks
_MISSING = object()


class _View:
    """Dotted-path lookup over snapshot + derived facts, with `*` over list items."""

    def __init__(self, snapshot: Mapping[str, Any], derived: Mapping[str, Any]):
        self.root = {**dict(snapshot), **dict(derived)}

    def values(self, path: str) -> List[Tuple[str, Any]]:
        """[(concrete path, value)]; a missing leaf gives (path, None) only when its parent exists
        (the section was probed, so absent means absent); an unknown parent gives []."""
        out: List[Tuple[str, Any]] = []

        def walk(node: Any, parts: List[str], done: List[str]) -> None:
            if not parts:
                out.append((".".join(done), node))
                return
            head, rest = parts[0], parts[1:]
            if head == "*":
                if isinstance(node, list):
                    for i, item in enumerate(node):
                        walk(item, rest, done + [str(i)])
                return
            if isinstance(node, Mapping):
                if head in node:
                    walk(node[head], rest, done + [head])
                elif not rest:
                    out.append((".".join(done + [head]), None))
            elif isinstance(node, list) and head.isdigit() and int(head) < len(node):
                walk(node[int(head)], rest, done + [head])

        walk(self.root, path.split("."), [])
        return out

    def get(self, path: str) -> Any:
        vals = self.values(path)
        return vals[0][1] if vals else None


def _cc_covered(cc: Any, archs: List[str]) -> bool:
    """Whether a GPU of compute capability `cc` runs code built for `archs` ("8.6", "9.0+PTX")."""
    k = vkey(cc)[:2]
    for a in archs:
        ak = vkey(a)[:2]
        if ak == k or ("+PTX" in str(a).upper() and ak <= k):
            return True
    return False


def _cmp(a: Any, b: Any) -> Optional[int]:
    ka, kb = vkey(a), vkey(b)
    if not ka or not kb:
        return None
    n = min(len(ka), len(kb))
    return (ka[:n] > kb[:n]) - (ka[:n] < kb[:n])


def _test_one(path: str, value: Any, cond: Mapping[str, Any], view: _View) -> Optional[bool]:
    """True / False, or None when unknown. `value` None means "known to be absent"."""
    if "present" in cond:
        return (value is not None) == bool(cond["present"])
    if "in" in cond:
        opts = [str(x).lower() for x in cond["in"] or []]
        return value is not None and str(value).lower() in opts
    if value is None:
        return None
    if "equals" in cond:
        return str(value).lower() == str(cond["equals"]).lower()
    if "version" in cond:
        return satisfies(value, cond["version"])
    if "empty" in cond:
        if not isinstance(value, (list, tuple, dict)):
            return None
        return (len(value) == 0) == bool(cond["empty"])
    for key in ("min", "max"):
        if key in cond:
            try:
                num = float(len(value) if isinstance(value, (list, tuple)) else value)
            except (TypeError, ValueError):
                return None
            return num >= float(cond[key]) if key == "min" else num <= float(cond[key])
    for key, fn in (
        ("lt_fact", lambda a, b: _cmp(a, b) == -1 if _cmp(a, b) is not None else None),
        ("gt_fact", lambda a, b: _cmp(a, b) == 1 if _cmp(a, b) is not None else None),
        ("ne_fact", lambda a, b: vkey(a) != vkey(b) if vkey(a) and vkey(b) else str(a) != str(b)),
        ("ne_major_fact", lambda a, b: vkey(a)[:1] != vkey(b)[:1] if vkey(a) and vkey(b) else None),
        ("ne_minor_fact", lambda a, b: vkey(a)[:2] != vkey(b)[:2] if len(vkey(a)) > 1 and len(vkey(b)) > 1 else None),
        ("spec_fact", lambda a, b: satisfies(a, b)),
        ("not_spec_fact", lambda a, b: None if satisfies(a, b) is None else not satisfies(a, b)),
        ("cc_not_in", lambda a, b: not _cc_covered(a, list(b)) if isinstance(b, list) and vkey(a) else None),
        ("none_major_eq_fact", lambda a, b: (all(vkey(x)[:1] != vkey(b)[:1] for x in a)
                                              if isinstance(a, list) and vkey(b) else None)),
    ):
        if key in cond:
            other = view.get(str(cond[key]))
            if other is None:
                return None
            return fn(value, other)
    return None


def _test(cond: Mapping[str, Any], view: _View, evidence: List[str]) -> Optional[bool]:
    if "any" in cond:
        results = [_test(c, view, evidence) for c in cond["any"]]
        if any(r is True for r in results):
            return True
        return None if any(r is None for r in results) else False
    if "not" in cond:
        inner = _test(cond["not"], view, [])
        return None if inner is None else not inner
    path = str(cond["path"])
    vals = view.values(path)
    if not vals:
        return None
    unknown = False
    for concrete, value in vals:
        r = _test_one(concrete, value, cond, view)
        if r is True:
            evidence.append(_describe(concrete, value, cond, view))
            return True
        unknown = unknown or r is None
    return None if unknown else False


def _short(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        if v and all(isinstance(x, Mapping) for x in v):
            names = [str(x.get("name")) for x in v if x.get("name")]
            return f"{len(v)} item{'s' if len(v) != 1 else ''}" + (f" ({', '.join(names)})" if names else "")
        return "[" + ", ".join(map(str, v)) + "]" if len(v) <= 8 else f"[{len(v)} items]"
    s = str(v)
    return s if len(s) <= 80 else s[:77] + "..."


_WORDS = {"lt_fact": "<", "gt_fact": ">", "ne_fact": "!=", "ne_major_fact": "major !=", "ne_minor_fact": "minor !=",
          "spec_fact": "satisfies", "not_spec_fact": "does not satisfy", "cc_not_in": "not in",
          "none_major_eq_fact": "no major of"}


def _describe(path: str, value: Any, cond: Mapping[str, Any], view: _View) -> str:
    """One evidence line: what held, with the other side of a comparison."""
    shown = "absent" if value is None else _short(value)
    line = f"{path} = {shown}"
    for key, word in _WORDS.items():
        if key in cond:
            return f"{line} ({word} {cond[key]} = {_short(view.get(str(cond[key])))})"
    if "version" in cond:
        return f"{line} ({cond['version']})"
    for key in ("min", "max"):
        if key in cond:
            return f"{line} ({key} {cond[key]})"
    return line


_TEMPLATE = re.compile(r"\{\{\s*([A-Za-z_][\w.\-*]*)\s*(?:\|([^}]*))?\}\}")


def fill(text: str, view: _View) -> str:
    def sub(m: "re.Match[str]") -> str:
        value = view.get(m.group(1))
        if value is None or value == []:
            return m.group(2) if m.group(2) is not None else "?"
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)

    return _TEMPLATE.sub(sub, str(text))


def check(snapshot: Mapping[str, Any], derived: Optional[Mapping[str, Any]] = None) -> List[Dict[str, Any]]:
    """Every check of kb/compat/checks.yaml that holds on `snapshot`, errors first."""
    derived = derive(snapshot) if derived is None else derived
    view = _View(snapshot, derived)
    found: List[Dict[str, Any]] = []
    for c in checks_table():
        evidence: List[str] = []
        if not all(_test(cond, view, evidence) is True for cond in c.get("when") or []):
            continue
        found.append({
            "id": c["id"],
            "cause": fill(c["cause"], view),
            "severity": c.get("severity", "error"),
            "title": fill(c["title"], view),
            "message": fill(c.get("message", ""), view).strip(),
            "evidence": evidence,
            "fixes": [{"title": fill(f["title"], view), "language": f.get("language", "bash"),
                       "code": fill(f["code"], view).rstrip()} for f in c.get("fixes") or []],
            "source": "compat",
        })
    found.sort(key=lambda f: SEVERITIES.index(f["severity"]) if f["severity"] in SEVERITIES else 9)
    return found
