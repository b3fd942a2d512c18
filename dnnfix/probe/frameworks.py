"""Framework build facts: TensorFlow's build info, torch.version.cuda and cuDNN, JAX's backends.

In-process this module only *reads* frameworks the process has already imported: it never imports
one and never initialises CUDA. With `subprocess=True` each installed framework is imported in its
own child process (in parallel, with a timeout), which may also list devices and keep the native
log lines the import printed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

from ._util import reason

FRAMEWORKS = ("tensorflow", "torch", "jax")
LOG_TAIL = 40


def _tf_in_process(tf: Any, quick: bool) -> Dict[str, Any]:
    info: Dict[str, Any] = {"version": getattr(tf, "__version__", None)}
    build = tf.sysconfig.get_build_info()
    for key in ("cuda_version", "cudnn_version", "is_cuda_build", "is_rocm_build", "is_tensorrt_build"):
        if key in build:
            info[key] = build[key]
    caps = build.get("cuda_compute_capabilities")
    if caps:
        info["cuda_compute_capabilities"] = list(caps)
    return info


def _torch_in_process(torch: Any, quick: bool) -> Dict[str, Any]:
    info: Dict[str, Any] = {"version": str(getattr(torch, "__version__", "")) or None}
    version = getattr(torch, "version", None)
    info["cuda_version"] = getattr(version, "cuda", None)
    info["is_cuda_build"] = bool(info["cuda_version"])  # False is a fact: a CPU (or ROCm) wheel
    hip = getattr(version, "hip", None)
    if hip:
        info["hip_version"] = hip
    cuda = getattr(torch, "cuda", None)
    flags = getattr(getattr(torch, "_C", None), "_cuda_getArchFlags", None)
    if callable(flags):
        try:
            arch = flags()
            if arch:
                info["arch_list"] = arch.split() if isinstance(arch, str) else list(arch)
        except Exception:  # noqa: BLE001
            pass
    initialized = bool(cuda is not None and getattr(cuda, "is_initialized", lambda: False)())
    if initialized and cuda is not None:
        # CUDA is already up, so these are cheap and cannot change the process's state.
        info["cuda_available"] = bool(cuda.is_available())
        info["device_count"] = int(cuda.device_count())
    # torch.backends.cudnn.version() dlopens cuDNN when it is not loaded yet; the hook's quick mode
    # asks only when the process already initialised CUDA.
    if info.get("cuda_version") and (initialized or not quick):
        try:
            info["cudnn_version"] = torch.backends.cudnn.version()
        except Exception as exc:  # noqa: BLE001 - the message is itself the diagnosis
            info["cudnn_error"] = reason(exc)
    return info


def _jax_in_process(jax: Any, quick: bool) -> Dict[str, Any]:
    info: Dict[str, Any] = {"version": getattr(jax, "__version__", None)}
    jaxlib = sys.modules.get("jaxlib")
    if jaxlib is not None:
        ver = getattr(getattr(jaxlib, "version", None), "__version__", None)
        if ver:
            info["jaxlib_version"] = ver
    bridge = sys.modules.get("jax._src.xla_bridge")
    backends = getattr(bridge, "_backends", None) if bridge is not None else None
    if backends:  # already initialised: listing devices costs nothing more
        info["backends"] = sorted(backends)
        try:
            info["default_backend"] = jax.default_backend()
        except Exception:  # noqa: BLE001
            pass
    return info


_IN_PROCESS: Dict[str, Callable[[Any, bool], Dict[str, Any]]] = {
    "tensorflow": _tf_in_process,
    "torch": _torch_in_process,
    "jax": _jax_in_process,
}


def in_process(quick: bool = False) -> Tuple[Dict[str, str], Dict[str, Any]]:
    """(statuses, facts) for the frameworks already in sys.modules."""
    statuses: Dict[str, str] = {}
    facts: Dict[str, Any] = {}
    for name in FRAMEWORKS:
        module = sys.modules.get(name)
        if module is None:
            continue
        try:
            info = {k: v for k, v in _IN_PROCESS[name](module, quick).items() if v is not None}
            info["source"] = "in-process"
            facts[name] = info
            statuses[f"frameworks.{name}"] = "ok"
        except Exception as exc:  # noqa: BLE001 - a half-imported framework is common after a crash
            statuses[f"frameworks.{name}"] = f"unavailable: {reason(exc)}"
    return statuses, facts


_CHILD = {
    "tensorflow": r"""
import json
out = {}
import tensorflow as tf
out["version"] = tf.__version__
b = tf.sysconfig.get_build_info()
for k in ("cuda_version", "cudnn_version", "is_cuda_build", "is_rocm_build", "is_tensorrt_build"):
    if k in b: out[k] = b[k]
if b.get("cuda_compute_capabilities"): out["cuda_compute_capabilities"] = list(b["cuda_compute_capabilities"])
gpus = tf.config.list_physical_devices("GPU")
out["gpus"] = [g.name for g in gpus]
for g in gpus:
    try:
        d = tf.config.experimental.get_device_details(g)
        out.setdefault("gpu_details", []).append({k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()})
    except Exception:
        pass
print("\n@@DNNFIX@@" + json.dumps(out))
""",
    "torch": r"""
import json
out = {}
import torch
out["version"] = str(torch.__version__)
out["cuda_version"] = torch.version.cuda
out["is_cuda_build"] = bool(torch.version.cuda)
if getattr(torch.version, "hip", None): out["hip_version"] = torch.version.hip
try:
    out["cudnn_version"] = torch.backends.cudnn.version()
except Exception as e:
    out["cudnn_error"] = "%s: %s" % (type(e).__name__, e)
out["cuda_available"] = torch.cuda.is_available()
out["device_count"] = torch.cuda.device_count()
try:
    out["arch_list"] = torch.cuda.get_arch_list()
except Exception:
    pass
devs = []
for i in range(out["device_count"]):
    try:
        devs.append({"index": i, "name": torch.cuda.get_device_name(i),
                     "capability": "%d.%d" % torch.cuda.get_device_capability(i)})
    except Exception as e:
        devs.append({"index": i, "error": "%s: %s" % (type(e).__name__, e)})
out["devices"] = devs
print("\n@@DNNFIX@@" + json.dumps(out))
""",
    "jax": r"""
import json
out = {}
import jax
out["version"] = jax.__version__
try:
    import jaxlib
    out["jaxlib_version"] = jaxlib.__version__
except Exception:
    pass
try:
    out["default_backend"] = jax.default_backend()
    out["devices"] = [{"platform": d.platform, "kind": getattr(d, "device_kind", "")} for d in jax.devices()]
except Exception as e:
    out["backend_error"] = "%s: %s" % (type(e).__name__, e)
print("\n@@DNNFIX@@" + json.dumps(out))
""",
}


def _run_child(name: str, timeout: float) -> Tuple[str, Dict[str, Any]]:
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD[name]],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return "timeout", {}
    except OSError as exc:
        return f"unavailable: {exc}", {}
    out = proc.stdout or ""
    err_lines = [line for line in (proc.stderr or "").splitlines() if line.strip()]
    info: Dict[str, Any] = {"source": "subprocess"}
    marker = out.rfind("@@DNNFIX@@")
    if marker >= 0:
        try:
            info.update({k: v for k, v in json.loads(out[marker + 10 :].splitlines()[0]).items() if v is not None})
        except (ValueError, IndexError):
            pass
    if err_lines:
        # The native log lines (cuDNN/CUDA dlopen failures, "Loaded runtime CuDNN library ...")
        # are often the real diagnosis; keep the tail.
        info["stderr_tail"] = err_lines[-LOG_TAIL:]
    if proc.returncode != 0:
        last = err_lines[-1] if err_lines else f"exit status {proc.returncode}"
        info["import_error"] = last
        return f"unavailable: importing {name} failed ({last[:200]})", info
    return "ok", info


def in_subprocess(installed: List[str], timeout: float) -> Tuple[Dict[str, str], Dict[str, Any]]:
    """Import each installed framework in its own child process, all at once."""
    results: Dict[str, Tuple[str, Dict[str, Any]]] = {}

    def work(name: str) -> None:
        results[name] = _run_child(name, timeout)

    threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in installed if n in _CHILD]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 5)
    statuses: Dict[str, str] = {}
    facts: Dict[str, Any] = {}
    for name in installed:
        status, info = results.get(name, ("timeout", {}))
        statuses[f"frameworks.{name}"] = status
        if info:
            facts[name] = info
    return statuses, facts


def installed_frameworks(packages: Dict[str, str]) -> List[str]:
    names = []
    if any(
        p == "tensorflow"
        or p.startswith(("tensorflow-cpu", "tensorflow-gpu", "tensorflow-intel", "tensorflow-macos", "tf-nightly"))
        for p in packages
    ):
        names.append("tensorflow")
    if "torch" in packages:
        names.append("torch")
    if "jax" in packages:
        names.append("jax")
    return names


def merge(base: Optional[Dict[str, Any]], extra: Dict[str, Any]) -> Dict[str, Any]:
    out = dict(base or {})
    for name, info in extra.items():
        out[name] = {**out.get(name, {}), **info}
    return out
