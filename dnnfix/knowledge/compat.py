"""Compatibility tables (kb/compat/*.yaml): the versions a machine's installed builds expect.

    derive(snapshot, tables) -> {"expected": {...}}   facts that follow from the tables for this machine

Every number comes from a table with its `source:` and `retrieved:`; the code here only selects the row
that applies (by installed version, OS, CUDA build). What is known to break is not decided here: the
`env_only` signatures of the knowledge base compare these expected.* facts with the machine's facts
(dnnfix/facts.py, one rule language for `match`, `doctor`, the hook and the TUI). The tables come from the
knowledge base passed in (`kb.compat[0]`), so `--kb` folders and user knowledge bases are honoured.

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

import re
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

_TF_PACKAGES = (
    "tensorflow",
    "tensorflow-gpu",
    "tf-nightly",
    "tensorflow-cpu",
    "tensorflow-intel",
    "tensorflow-macos",
    "tensorflow-aarch64",
    "tensorflow-rocm",
)


# what a snapshot or table of the wrong shape raises in the lookups below (an odd value where a mapping, a list
# or a version string was expected)
_DATA_ERRORS = (TypeError, ValueError, KeyError, IndexError, AttributeError)


# ---------------------------------------------------------------- loading
def compat_dirs() -> List[Path]:
    """Every KB folder's compat/ (built-in first; a later folder's table of the same name wins)."""
    try:
        from .load import kb_dirs

        dirs = list(kb_dirs())
    except (ImportError, OSError):  # before the KB loader exists, or without platformdirs
        import dnnfix

        here = Path(dnnfix.__file__).resolve().parent
        dirs = [here / "_kb" if (here / "_kb").is_dir() else here.parent / "kb"]
    return [d / "compat" for d in dirs if (d / "compat").is_dir()]


def read_tables(dirs: Iterable[Path]) -> Tuple[Dict[str, Dict[str, Any]], List[Dict[str, Any]]]:
    """Parse the compat/ folders (a later folder's table of the same name wins) -> (tables, []).

    (The second element once held kb/compat/checks.yaml; those rules are env_only signatures now.)"""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster when present
    tables: Dict[str, Dict[str, Any]] = {}
    for d in dirs:
        for path in sorted(d.glob("*.yaml")):
            with open(path, encoding="utf-8") as fh:
                data = yaml.load(fh, Loader=loader) or {}
            if isinstance(data, dict) and not (path.stem == "checks" and "checks" in data):
                tables[path.stem] = data
    return tables, []


def kb_tables(kb: Any = None) -> Dict[str, Dict[str, Any]]:
    """The tables of a knowledge base (the default one when None: loaded, not cached here)."""
    if kb is None:
        try:
            from .load import load_kb

            kb = load_kb()
        except (ImportError, OSError, ValueError):  # without the KB loader's dependencies: read the folders
            return read_tables(compat_dirs())[0]
    comp = getattr(kb, "compat", None)
    return dict(comp[0]) if comp else {}


def tables(kb: Any = None) -> Dict[str, Dict[str, Any]]:
    return kb_tables(kb)


def rows(table: str, name: str, tabs: Optional[Mapping[str, Any]] = None) -> List[Dict[str, Any]]:
    """Rows of one table section; `tabs` from kb_tables(kb) (the default KB's when None)."""
    tabs = kb_tables() if tabs is None else tabs
    return list(((tabs.get(table) or {}).get(name) or {}).get("rows") or [])


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
    from ..facts import simple_satisfies

    quick = simple_satisfies(k, str(spec))
    if quick is not None:
        return quick
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


def _derive_tf(snapshot: Mapping[str, Any], pk: Mapping[str, str], tabs: Mapping[str, Any]) -> Dict[str, Any]:
    package = next((p for p in _TF_PACKAGES if pk.get(p)), None)
    fw = (snapshot.get("frameworks") or {}).get("tensorflow") or {}
    version = pk.get(package) if package else fw.get("version")
    if not version:
        return {}
    system, wsl = _os(snapshot)
    out: Dict[str, Any] = {"version": str(version)}
    if package:
        out["package"] = package
    linux = _row_for(rows("tensorflow", "linux_gpu", tabs), "tensorflow", version)
    windows = _row_for(rows("tensorflow", "windows_gpu", tabs), "tensorflow", version)
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
                package in ("tensorflow", "tf-nightly", None) and vkey(version)[:2] >= (2, 1)
            )
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
    keras = _row_for(rows("tensorflow", "keras", tabs), "tensorflow", version)
    if keras:
        out["keras_major"] = str(keras["keras_major"])
        out["keras"] = mm(version) if keras["keras"] == "same-minor" else str(keras["keras_major"])
    numpy = _row_for(rows("tensorflow", "numpy", tabs), "tensorflow", version)
    if numpy:
        out["numpy"] = numpy["numpy"]
        out["numpy_cause"] = numpy.get("cause")
    cc = _row_for(rows("tensorflow", "compute_capability", tabs), "tensorflow", version)
    if cc:
        out["min_compute_capability"] = str(cc["min"])
    cpu = _row_for(rows("tensorflow", "cpu", tabs), "tensorflow", version)
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


def _derive_torch(snapshot: Mapping[str, Any], pk: Mapping[str, str], tabs: Mapping[str, Any]) -> Dict[str, Any]:
    version = pk.get("torch") or ((snapshot.get("frameworks") or {}).get("torch") or {}).get("version")
    if not version:
        return {}
    out: Dict[str, Any] = {"version": str(version)}
    cuda, cpu_only = _torch_cuda(str(version), snapshot, pk)
    out["cpu_only"] = cpu_only
    release = _row_for(rows("pytorch", "releases", tabs), "torch", version)
    if release:
        out["python"] = release["python"]
        out["builds"] = list(release["cuda"])
    if cuda:
        out["cuda"] = cuda
        if release and (release.get("cudnn") or {}).get(cuda):
            out["cudnn"] = str(release["cudnn"][cuda])
        for r in rows("pytorch", "wheel_archs", tabs):
            if str(r["cuda"]) == cuda and satisfies(version, r["torch"]):
                out["archs"] = [str(a) for a in r["archs"]]
                break
    return out


def _derive_jax(snapshot: Mapping[str, Any], pk: Mapping[str, str], tabs: Mapping[str, Any]) -> Dict[str, Any]:
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
        for r in rows("jax", "cuda", tabs):
            if str(r["cuda_major"]) == major and jaxlib and satisfies(jaxlib, r["jaxlib"]):
                out["cuda"] = str(r["cuda"])
                out["cudnn"] = str(r["cudnn"])
                out["cudnn_below"] = str(r["cudnn_below"])
                out["min_compute_capability"] = str(r["min_compute_capability"])
                out["driver_linux"] = str(r["driver_linux"])
                break
    return out


def _derive_driver(snapshot: Mapping[str, Any], expected: Mapping[str, Any], tabs: Mapping[str, Any]) -> Dict[str, Any]:
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
    compat_row = next(
        (r for r in rows("cuda-driver", "minor_version_compatibility", tabs) if str(r["cuda_major"]) == major), None
    )
    ga = [r for r in rows("cuda-driver", "toolkit_drivers", tabs) if str(r["cuda"]) == mm(target)]
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
    else:  # OS unknown (a pasted nvidia-smi): only a driver below both minimums is surely too old
        for key in ("min", "recommended"):
            both = [out[k] for k in (f"{key}_linux", f"{key}_windows") if k in out]
            if both:
                out[key] = min(both, key=vkey)
    return out


def derive(snapshot: Mapping[str, Any], tabs: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """{"expected": {...}}: the facts the compatibility tables `tabs` (kb_tables(kb)) give for this snapshot."""
    snapshot = snapshot or {}
    tabs = kb_tables() if tabs is None else tabs
    pk = snapshot.get("packages") or {}
    expected: Dict[str, Any] = {}
    for key, fn in (("tf", _derive_tf), ("torch", _derive_torch), ("jax", _derive_jax)):
        try:
            value = fn(snapshot, pk, tabs)
        except _DATA_ERRORS:  # a malformed snapshot must not break matching
            value = {}
        if value:
            expected[key] = {k: v for k, v in value.items() if v is not None}
    try:
        driver = _derive_driver(snapshot, expected, tabs)
    except _DATA_ERRORS:
        driver = {}
    if driver:
        expected["driver"] = driver
    return {"expected": expected} if expected else {}


def capability_for(name: str, tabs: Mapping[str, Any]) -> Optional[str]:
    """The compute capability of a GPU named as nvidia-smi or collect_env print it ("NVIDIA GeForce RTX 3090",
    "Tesla T4"), from the example cards of kb/compat/gpu-features.yaml; None when no example matches."""

    def key(s: str) -> str:
        s = re.sub(r"\b(nvidia|geforce|tesla|quadro)\b", " ", s.lower())
        return " ".join(s.replace("-", " ").split())

    want = key(name)
    if not want:
        return None
    best = None
    for r in rows("gpu-features", "architectures", tabs):
        for ex in r.get("examples") or []:
            k = key(str(ex))
            if k and re.search(r"(?<![\w])" + re.escape(k) + r"(?![\w])", want):
                if best is None or len(k) > best[0]:
                    best = (len(k), str(r["compute_capability"]))
    return best[1] if best else None
