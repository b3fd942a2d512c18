"""GPUs and driver through NVML (the nvidia-ml-py package, `import pynvml`).

Every failure becomes a reason string: no nvidia-ml-py, no libnvidia-ml (no driver), driver not
loaded, kernel module / user-space library mismatch. None of them raises.
"""

from __future__ import annotations

import glob
import os
import re
import sys
from typing import Any, Dict, List, Optional, Tuple

from ._util import cuda_int_version, read_text

# NVML return codes (nvml.h) that explain *why* NVML is unusable.
_REASONS = {
    9: "NVIDIA driver is not loaded",  # NVML_ERROR_DRIVER_NOT_LOADED
    12: "NVML library (libnvidia-ml) not found: no NVIDIA driver installed or visible",  # LIBRARY_NOT_FOUND
    18: "driver/library version mismatch: the loaded kernel module and the user-space driver differ",
    4: "no permission to access the NVIDIA devices",  # NO_PERMISSION
    15: "GPU is lost (fallen off the bus)",  # GPU_IS_LOST
}
RM_VERSION_MISMATCH = 18


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def kernel_module_version() -> Optional[str]:
    """The loaded kernel driver's version from /proc/driver/nvidia/version (Linux only)."""
    text = read_text("/proc/driver/nvidia/version", 4096)
    if not text:
        return None
    m = re.search(r"Kernel Module(?:\s+for\s+\S+)?\s+(\d+\.\d+(?:\.\d+)?)", text)
    return m.group(1) if m else None


def device_nodes() -> Dict[str, Any]:
    """What /dev and /proc say about NVIDIA GPUs, without loading any library."""
    nodes = sorted(os.path.basename(p) for p in glob.glob("/dev/nvidia[0-9]*"))
    info: Dict[str, Any] = {"device_nodes": nodes, "nvidiactl": os.path.exists("/dev/nvidiactl")}
    if os.path.isdir("/proc/driver/nvidia/gpus"):
        try:
            info["proc_gpus"] = len(os.listdir("/proc/driver/nvidia/gpus"))
        except OSError:
            pass
    return info


def no_gpu_by_device_nodes(wsl: Optional[bool]) -> bool:
    """True when a Linux (not WSL) host plainly has no NVIDIA GPU for this process.

    CUDA opens /dev/nvidiactl and /dev/nvidiaN; with none of them and no /proc/driver/nvidia, no CUDA
    program here can see a device (a container started without --gpus, a CPU-only VM). WSL2 reaches
    the GPU through /dev/dxg instead, so it is never judged this way.
    """
    if not sys.platform.startswith("linux") or wsl is not False:
        return False
    if os.path.exists("/dev/dxg"):
        return False
    info = device_nodes()
    return not info["device_nodes"] and not info["nvidiactl"] and not os.path.exists("/proc/driver/nvidia")


def _mib(n: int) -> int:
    return int(n) // (1 << 20)


def _proc_name(pid: int) -> Optional[str]:
    text = read_text(f"/proc/{pid}/comm", 256)
    return text.strip() if text else None


def _device(nv: Any, index: int) -> Dict[str, Any]:
    h = nv.nvmlDeviceGetHandleByIndex(index)
    gpu: Dict[str, Any] = {"index": index, "name": _text(nv.nvmlDeviceGetName(h))}

    def attempt(key: str, fn) -> None:
        try:
            value = fn()
        except Exception:  # noqa: BLE001 - NOT_SUPPORTED on some boards, keep the rest
            return
        if value is not None:
            gpu[key] = value

    attempt("compute_capability", lambda: "%d.%d" % tuple(nv.nvmlDeviceGetCudaComputeCapability(h)))
    try:
        mem = nv.nvmlDeviceGetMemoryInfo(h)
        gpu["memory_total_mib"] = _mib(mem.total)
        gpu["memory_used_mib"] = _mib(mem.used)
        gpu["memory_free_mib"] = _mib(mem.free)
    except Exception:  # noqa: BLE001
        pass
    attempt("uuid", lambda: _text(nv.nvmlDeviceGetUUID(h)))
    attempt("pci_bus_id", lambda: _text(nv.nvmlDeviceGetPciInfo(h).busId))

    def mig() -> Optional[str]:
        current, _pending = nv.nvmlDeviceGetMigMode(h)
        return "enabled" if current else "disabled"

    attempt("mig_mode", mig)
    attempt("utilization_gpu_pct", lambda: int(nv.nvmlDeviceGetUtilizationRates(h).gpu))

    def processes() -> List[Dict[str, Any]]:
        out = []
        for p in nv.nvmlDeviceGetComputeRunningProcesses(h):
            used = getattr(p, "usedGpuMemory", None)
            entry: Dict[str, Any] = {"pid": int(p.pid)}
            if isinstance(used, int) and used >= 0:
                entry["used_memory_mib"] = _mib(used)
            name = _proc_name(int(p.pid))
            if name:
                entry["name"] = name
            out.append(entry)
        return out

    attempt("processes", processes)
    return gpu


def query(quick: bool = False) -> Tuple[str, Dict[str, Any]]:
    """(status, facts): status "ok" or "unavailable: <reason>"; facts hold driver/gpus when known."""
    if quick and "pynvml" not in sys.modules:
        return "skipped: quick mode loads NVML only when the process already did", {}
    try:
        import pynvml as nv  # nvidia-ml-py
    except ImportError:
        return "unavailable: nvidia-ml-py is not installed (pip install nvidia-ml-py)", {}
    except Exception as exc:  # noqa: BLE001 - a broken install must not break the probe
        return f"unavailable: importing pynvml failed: {exc}", {}
    try:
        nv.nvmlInit()
    except Exception as exc:  # noqa: BLE001
        code = getattr(exc, "value", None)
        facts: Dict[str, Any] = {"nvidia": {"nvml_error": str(exc) or type(exc).__name__}}
        if code == RM_VERSION_MISMATCH:
            facts["driver"] = {"mismatch": True}
        why = (_REASONS.get(code) if isinstance(code, int) else None) or str(exc) or type(exc).__name__
        return f"unavailable: {why}", facts
    try:
        driver: Dict[str, Any] = {"version": _text(nv.nvmlSystemGetDriverVersion())}
        try:
            get = getattr(nv, "nvmlSystemGetCudaDriverVersion_v2", None) or nv.nvmlSystemGetCudaDriverVersion
            driver["cuda_version"] = cuda_int_version(get())
        except Exception:  # noqa: BLE001
            pass
        try:
            driver["nvml_version"] = _text(nv.nvmlSystemGetNVMLVersion())
        except Exception:  # noqa: BLE001
            pass
        count = nv.nvmlDeviceGetCount()
        gpus = []
        for i in range(count):
            try:
                gpus.append(_device(nv, i))
            except Exception as exc:  # noqa: BLE001 - one bad GPU must not hide the others
                gpus.append({"index": i, "error": str(exc) or type(exc).__name__})
        return "ok", {"driver": driver, "gpus": gpus}
    finally:
        try:
            nv.nvmlShutdown()
        except Exception:  # noqa: BLE001
            pass
