"""CUDA / cuDNN libraries: those on the search paths, those loaded in this process, and what they
report about themselves (asked in a subprocess, so a crashing library cannot take the caller down).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any, Dict, Iterable, List, Optional, Tuple

from ._util import cuda_int_version, cudnn_int_version, read_text, version_key

# lib<name>[-<hash>].so[.<version>]  (torch wheels bundle hashed copies: libcudart-d0da41ae.so.11.0)
_SO = re.compile(
    r"^lib(cudart|cudnn|cublas|cublasLt|cufft|curand|cusolver|cusparse|nvrtc|nccl|cupti|nvJitLink|"
    r"cuda|nvidia-ml|nvinfer)(?:-[0-9a-f]{8})?\.so(?:\.(\d+(?:\.\d+)*))?$"
)
# <name>64_<digits>.dll: cudart64_110.dll (CUDA 11.0), cudart64_12.dll, cudnn64_8.dll
_DLL = re.compile(r"^(cudart|cudnn|cublas|cublasLt|cufft|curand|cusolver|cusparse|nvrtc)64_(\d+)(?:_\d+)?\.dll$", re.I)
_NAMES = {"nvidia-ml": "nvml", "cuda": "libcuda"}


def _parse(basename: str) -> Optional[Tuple[str, Optional[str]]]:
    m = _SO.match(basename)
    if m:
        name = _NAMES.get(m.group(1), m.group(1).lower())
        return name, m.group(2)
    m = _DLL.match(basename)
    if m:
        name, digits = m.group(1).lower(), m.group(2)
        if name == "cudart" and len(digits) == 3:  # 110 -> 11.0, 101 -> 10.1
            return name, f"{digits[:2]}.{digits[2]}"
        return name, digits
    return None


# pip wheel directory -> distribution name stems (the -cuXX suffix is tried for 13, 12, 11)
_PIP_DIRS = {
    "cudnn": "nvidia-cudnn",
    "cuda_runtime": "nvidia-cuda-runtime",
    "cublas": "nvidia-cublas",
    "cufft": "nvidia-cufft",
    "curand": "nvidia-curand",
    "cusolver": "nvidia-cusolver",
    "cusparse": "nvidia-cusparse",
    "cuda_nvrtc": "nvidia-cuda-nvrtc",
    "nccl": "nvidia-nccl",
    "cuda_cupti": "nvidia-cuda-cupti",
    "nvjitlink": "nvidia-nvjitlink",
}


def _pip_version(path: str, packages: Dict[str, str]) -> Optional[str]:
    """Version of the nvidia-* wheel that installed `path`, when the file name holds only a major."""
    parts = path.replace("\\", "/").split("/")
    if "nvidia" not in parts:
        return None
    i = len(parts) - 1 - parts[::-1].index("nvidia")
    if i + 1 >= len(parts):
        return None
    sub = parts[i + 1]
    stem = _PIP_DIRS.get(sub)
    if stem is None:
        return None
    for suffix in ("-cu13", "-cu12", "-cu11", ""):
        version = packages.get(stem + suffix)
        if version:
            return version
    return None


def _site_dirs() -> List[str]:
    return [p for p in dict.fromkeys(sys.path) if p and os.path.isdir(p)]


def search_dirs() -> List[Tuple[str, str]]:
    """(directory, origin) in roughly the order a dynamic loader or a framework would look."""
    out: List[Tuple[str, str]] = []
    for d in os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep):
        if d:
            out.append((d, "LD_LIBRARY_PATH"))
    for site in _site_dirs():
        nvidia = os.path.join(site, "nvidia")
        if os.path.isdir(nvidia):
            try:
                subs = sorted(os.listdir(nvidia))
            except OSError:
                subs = []
            for sub in subs:
                for leaf in ("lib", "bin"):
                    d = os.path.join(nvidia, sub, leaf)
                    if os.path.isdir(d):
                        out.append((d, "pip"))
        for rel in ("tensorrt_libs", "jaxlib/cuda"):
            d = os.path.join(site, rel)
            if os.path.isdir(d):
                out.append((d, "pip"))
        # Libraries bundled inside the torch wheel serve torch only (no other framework looks there).
        d = os.path.join(site, "torch", "lib")
        if os.path.isdir(d):
            out.append((d, "torch"))
    conda = os.environ.get("CONDA_PREFIX")
    if conda:
        out.append((os.path.join(conda, "Library", "bin" if sys.platform == "win32" else "lib"), "conda"))
        if sys.platform != "win32":
            out.append((os.path.join(conda, "lib"), "conda"))
    homes = [os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"]
    for home in dict.fromkeys(h for h in homes if h):
        for leaf in ("lib64", "lib", "bin", os.path.join("extras", "CUPTI", "lib64")):
            out.append((os.path.join(home, leaf), "cuda_home"))
    if sys.platform.startswith("linux"):
        out.append(("/usr/lib/wsl/lib", "wsl"))
    if sys.platform == "win32":
        for d in os.environ.get("PATH", "").split(os.pathsep):
            if d:
                out.append((d, "PATH"))
    seen = set()
    unique = []
    for d, origin in out:
        key = os.path.normcase(os.path.abspath(d))
        if key not in seen and os.path.isdir(d):
            seen.add(key)
            unique.append((d, origin))
    return unique


_CACHE_PATH = re.compile(
    rb"/[\x21-\x7e]*?/lib(?:cudart|cudnn|cublas|cublasLt|cufft|curand|cusolver|cusparse|nvrtc|nccl|"
    rb"cupti|nvJitLink|cuda|nvidia-ml|nvinfer)\.so[\x21-\x7e]*"
)


def ldconfig_paths(cache: str = "/etc/ld.so.cache") -> List[str]:
    """Library paths from the dynamic loader's cache, read directly (no `ldconfig -p` subprocess).

    The cache's string table holds NUL-terminated absolute paths; the ones naming CUDA libraries
    are all we need.
    """
    try:
        with open(cache, "rb") as fh:
            data = fh.read(16 << 20)
    except OSError:
        return []
    return sorted({m.group(0).decode("ascii", "replace") for m in _CACHE_PATH.finditer(data)})


def _entry(path: str, origin: str, packages: Dict[str, str]) -> Optional[Dict[str, Any]]:
    parsed = _parse(os.path.basename(path))
    if parsed is None:
        return None
    name, version = parsed
    real = os.path.realpath(path)
    if real != path:
        again = _parse(os.path.basename(real))
        if again and again[0] == name and len(version_key(again[1])) > len(version_key(version)):
            version = again[1]
    entry: Dict[str, Any] = {"name": name, "path": path, "origin": origin}
    if version:
        entry["version"] = version
    pip_version = _pip_version(path, packages)
    if pip_version and len(version_key(pip_version)) > len(version_key(version)):
        entry["version"] = pip_version
        entry["package_version"] = True
    return entry


def found(packages: Optional[Dict[str, str]] = None) -> List[Dict[str, Any]]:
    """Every CUDA library file on the search paths, one entry per real file."""
    packages = packages or {}
    out: List[Dict[str, Any]] = []
    seen = set()

    def add(path: str, origin: str) -> None:
        real = os.path.realpath(path)
        if real in seen:
            return
        entry = _entry(path, origin, packages)
        if entry is not None:
            seen.add(real)
            out.append(entry)

    for d, origin in search_dirs():
        try:
            # Longest name first, so the versioned file (libcudnn.so.8.9.2) names the entry rather
            # than the bare development symlink (libcudnn.so) pointing at it.
            names = sorted(os.listdir(d), key=lambda n: (-len(n), n))
        except OSError:
            continue
        for base in names:
            if _parse(base) is not None:
                add(os.path.join(d, base), origin)
    if sys.platform.startswith("linux"):
        for path in ldconfig_paths():
            if os.path.exists(path):
                add(path, "ldconfig")
    return out


def loaded(
    packages: Optional[Dict[str, str]] = None, maps: str = "/proc/self/maps"
) -> Tuple[str, List[Dict[str, Any]]]:
    """CUDA libraries mapped into this process right now (Linux /proc/self/maps)."""
    text = read_text(maps, 64 << 20)
    if text is None:
        return "unavailable: no /proc/self/maps on this platform", []
    packages = packages or {}
    paths = []
    seen = set()
    for line in text.splitlines():
        i = line.find("/")
        if i < 0:
            continue
        path = line[i:].strip()
        if path.endswith(" (deleted)"):
            path = path[: -len(" (deleted)")]
        if path in seen:
            continue
        seen.add(path)
        if _SO.match(os.path.basename(path)):
            paths.append(path)
    out = [e for e in (_entry(p, "loaded", packages) for p in paths) if e is not None]
    return "ok", out


_QUERY = r"""
import ctypes, json, sys
want = json.loads(sys.argv[1])
out = {}
def load(cands):
    errors = []
    for c in cands:
        try:
            return c, ctypes.CDLL(c), errors
        except OSError as e:
            errors.append(str(e))
    return None, None, errors
def where(name):
    try:
        for line in open('/proc/self/maps'):
            i = line.find('/')
            base = line[i:].strip().rsplit('/', 1)[-1]
            if i >= 0 and base.split('.so')[0].split('-')[0] == name:
                return line[i:].strip()
    except OSError:
        pass
    return None
for key, cands in want.items():
    c, lib, errors = load(cands)
    if lib is None:
        out[key] = {"error": errors[-1] if errors else "not found"}
        continue
    try:
        if key == "cudnn":
            f = lib.cudnnGetVersion; f.restype = ctypes.c_size_t
            out[key] = {"value": int(f())}
        else:
            fn = {"cudart": "cudaRuntimeGetVersion", "libcuda": "cuDriverGetVersion"}[key]
            v = ctypes.c_int(0)
            rc = getattr(lib, fn)(ctypes.byref(v))
            out[key] = {"value": v.value, "rc": rc}
    except Exception as e:
        out[key] = {"error": repr(e)}
    out[key]["opened"] = c
    out[key]["path"] = where({"cudnn": "libcudnn", "cudart": "libcudart", "libcuda": "libcuda"}[key]) or c
print(json.dumps(out))
"""


def _candidates(name: str, loaded_libs: List[Dict[str, Any]], found_libs: List[Dict[str, Any]]) -> List[str]:
    """What to dlopen, in the order a framework would get it: the copy already loaded here; else
    each file found, in search order (LD_LIBRARY_PATH, pip wheels, conda, CUDA home, loader cache);
    the driver library by its soname, like every CUDA program."""
    cands = [e["path"] for e in loaded_libs if e["name"] == name]
    if cands:
        return cands[:1]
    own = [e for e in found_libs if e["name"] == name]
    paths = [e["path"] for e in own if e.get("origin") != "torch"] + [
        e["path"] for e in own if e.get("origin") == "torch"
    ]
    if name == "libcuda" and sys.platform != "win32":
        return ["libcuda.so.1"] + paths
    return paths


def query_versions(
    loaded_libs: List[Dict[str, Any]], found_libs: List[Dict[str, Any]], timeout: float
) -> Tuple[str, Dict[str, Any]]:
    """Ask cuDNN / cudart / libcuda their versions in a child process with a timeout."""
    want = {}
    for name in ("cudnn", "cudart", "libcuda"):
        if name == "libcuda" and not any(
            e["name"] in ("libcuda", "nvml") for e in list(loaded_libs) + list(found_libs)
        ):
            continue  # no driver library anywhere: nothing to ask
        cands = _candidates(name, loaded_libs, found_libs)
        if cands:
            want[name] = cands
    if not want:
        return "skipped: no CUDA library found to ask", {}
    try:
        proc = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _QUERY, json.dumps(want)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return "timeout", {}
    except OSError as exc:
        return f"unavailable: {exc}", {}
    if proc.returncode != 0:
        tail = (proc.stderr or "").strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        return f"unavailable: version query crashed ({tail[0]})", {}
    try:
        raw = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return "unavailable: version query printed no answer", {}
    result: Dict[str, Any] = {}
    for key, ans in raw.items():
        value = ans.get("value")
        if not value:
            result[key] = {"error": ans.get("error") or f"returned {value} (rc {ans.get('rc')})"}
            continue
        text = cudnn_int_version(value) if key == "cudnn" else cuda_int_version(value)
        result[key] = {"version": text, "path": ans.get("path")}
    return "ok", result


def pick(
    name: str, loaded_libs: Iterable[Dict[str, Any]], query: Dict[str, Any], found_libs: Iterable[Dict[str, Any]]
) -> Tuple[Optional[str], Optional[str]]:
    """(version, source) for one library: loaded > queried (the first loadable copy in search
    order) > found (first in search order)."""
    loaded_libs, found_libs = list(loaded_libs), list(found_libs)
    for e in loaded_libs:
        if e["name"] == name and len(version_key(e.get("version"))) >= 2:
            return e["version"], "loaded"
    q = query.get(name) or {}
    if q.get("version"):
        return q["version"], "query"
    for e in loaded_libs:
        if e["name"] == name and e.get("version"):
            return e["version"], "loaded"
    best = [e for e in found_libs if e["name"] == name and e.get("version") and e.get("origin") != "torch"]
    if best:
        return best[0]["version"], "found"
    return None, None


def versions(name: str, libs: Iterable[Dict[str, Any]]) -> List[str]:
    """Distinct versions of one library among `libs` (torch's private copies left out), newest first."""
    out = {e["version"] for e in libs if e["name"] == name and e.get("version") and e.get("origin") != "torch"}
    return sorted(out, key=version_key, reverse=True)
