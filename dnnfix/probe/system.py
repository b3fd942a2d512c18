"""Python, OS, CPU and host-memory facts, all read without subprocesses."""

from __future__ import annotations

import os
import platform as _platform
import sys
from typing import Any, Dict, Optional

from ._util import read_text

# CPU flags that explain real failures: TensorFlow wheels need AVX (>= 1.6) and, for newer builds,
# AVX2/FMA; "Illegal instruction" on import is the symptom when they are missing.
CPU_FLAGS = ("avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "sse4_2", "f16c")


def python_info() -> Dict[str, Any]:
    info = {
        "version": _platform.python_version(),
        "implementation": _platform.python_implementation(),
        "executable": sys.executable,
        "bits": 64 if sys.maxsize > 2**32 else 32,
    }
    if hasattr(sys, "_is_gil_enabled"):
        info["free_threaded"] = not sys._is_gil_enabled()
    return info


def _wsl(release: str) -> Optional[bool]:
    if sys.platform != "linux":
        return False
    if "microsoft" in release.lower() or "wsl" in release.lower():
        return True
    text = read_text("/proc/version", 4096)
    if text is None:
        return None
    return "microsoft" in text.lower()


def os_info() -> Dict[str, Any]:
    release = _platform.release()
    info: Dict[str, Any] = {
        "system": _platform.system(),
        "release": release,
        "machine": _platform.machine(),
    }
    wsl = _wsl(release)
    if wsl is not None:
        info["wsl"] = wsl
    if wsl:
        info["wsl_version"] = 2 if "wsl2" in release.lower() or "microsoft-standard" in release.lower() else 1
    if sys.platform == "linux":
        text = read_text("/etc/os-release", 16384) or ""
        fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))
        pretty = fields.get("PRETTY_NAME", "").strip().strip('"')
        if pretty:
            info["distro"] = pretty
        libc, ver = _platform.libc_ver()
        if libc == "glibc" and ver:
            info["glibc"] = ver
    elif sys.platform == "win32":
        info["version"] = _platform.version()
    elif sys.platform == "darwin":
        info["mac_ver"] = _platform.mac_ver()[0]
    return info


def cpu_info() -> Dict[str, Any]:
    info: Dict[str, Any] = {"count": os.cpu_count()}
    try:
        info["usable"] = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        pass
    if sys.platform != "linux":
        info["model"] = _platform.processor() or None
        return info
    text = read_text("/proc/cpuinfo", 65536)  # the first block is enough; big hosts make a huge file
    if not text:
        return info
    # One block is enough: flags are the same on every core of an x86 host.
    block = text.split("\n\n", 1)[0]
    fields: Dict[str, str] = {}
    for line in block.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    model = fields.get("model name") or fields.get("Model") or fields.get("cpu model")
    if model:
        info["model"] = model
    flags = fields.get("flags") or fields.get("Features")
    if flags is not None:
        present = set(flags.split())
        info["flags"] = {flag: flag in present for flag in CPU_FLAGS}
        if "Features" in fields and "flags" not in fields:  # ARM: report NEON/asimd instead
            info["flags"] = {"asimd": "asimd" in present, "sve": "sve" in present}
    return info


def _cgroup_limit_mib() -> Optional[int]:
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        text = read_text(path, 64)
        if text is None:
            continue
        text = text.strip()
        if text.isdigit() and int(text) < (1 << 60):  # "max" or a huge number means unlimited
            return int(text) // (1 << 20)
    return None


def memory_info() -> Dict[str, Any]:
    info: Dict[str, Any] = {}
    text = read_text("/proc/meminfo", 65536) if sys.platform == "linux" else None
    if text:
        values = {}
        for line in text.splitlines():
            key, _, rest = line.partition(":")
            parts = rest.split()
            if parts and parts[0].isdigit():
                values[key] = int(parts[0]) // 1024  # kB -> MiB
        if "MemTotal" in values:
            info["total_mib"] = values["MemTotal"]
        if "MemAvailable" in values:
            info["available_mib"] = values["MemAvailable"]
        if "SwapTotal" in values:
            info["swap_total_mib"] = values["SwapTotal"]
    limit = _cgroup_limit_mib() if sys.platform == "linux" else None
    if limit is not None:
        info["cgroup_limit_mib"] = limit
    if sys.platform == "linux" and os.path.isdir("/dev/shm"):
        try:
            st = os.statvfs("/dev/shm")
            info["shm_total_mib"] = st.f_blocks * st.f_frsize // (1 << 20)
            info["shm_free_mib"] = st.f_bavail * st.f_frsize // (1 << 20)
        except OSError:
            pass
    return info
