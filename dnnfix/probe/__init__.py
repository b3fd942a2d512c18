"""Environment probes: the facts about this machine that decide deep-learning failures.

    from dnnfix import probe
    snap = probe.collect()            # full snapshot (what `dnnfix env --json` prints)
    snap = probe.collect(quick=True)  # in-process subset for the exception hook (< 30 ms)
    safe = probe.redact(snap)         # for pasting into a public issue

The snapshot holds the core keys of shared/CONTRACT.md (python, os, platform, packages, gpus,
driver, cuda) and more (cpu, memory, libraries, frameworks, env, nvidia, probes). A key that is
absent is unknown, never "false": `gpus` is written only when NVML, or the plain absence of every
NVIDIA device node on Linux, says how many GPUs there are. `probes` maps each probe to "ok",
"unavailable: <reason>" or "timeout"; probes that did not run (quick mode) are not listed.

Importing this package is cheap: NVML, YAML and the frameworks are imported only inside probes.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Callable, Dict, Optional

from ._util import major_minor, reason, run_boxed, version_key
from .redact import redact

__all__ = ["collect", "redact", "SNAPSHOT_VERSION"]

SNAPSHOT_VERSION = 1


def _step(probes: Dict[str, str], name: str, fn: Callable[[], Any]) -> Any:
    try:
        value = fn()
    except Exception as exc:  # noqa: BLE001 - a probe never raises
        probes[name] = f"unavailable: {reason(exc)}"
        return None
    probes[name] = "ok"
    return value


def _short_cudnn(version: Optional[str]) -> Optional[str]:
    key = version_key(version)
    return ".".join(str(p) for p in key[:3]) if key else None


def _driver_facts(snap: Dict[str, Any], nvml_facts: Dict[str, Any], lib_query: Dict[str, Any]) -> None:
    from . import nvml

    driver: Dict[str, Any] = dict(nvml_facts.get("driver") or {})
    kernel = nvml.kernel_module_version()
    if kernel:
        driver["kernel_module_version"] = kernel
    user = None
    for group in ("loaded", "found"):
        for e in (snap.get("libraries") or {}).get(group, []):
            if e["name"] in ("libcuda", "nvml") and len(version_key(e.get("version"))) >= 2:
                user = e["version"]
                break
        if user:
            break
    if user:
        driver["userspace_version"] = user
    if "version" not in driver and (user or kernel):
        driver["version"] = kernel or user
    if "cuda_version" not in driver and (lib_query.get("libcuda") or {}).get("version"):
        driver["cuda_version"] = lib_query["libcuda"]["version"]
    if kernel and user and kernel != user:
        driver["mismatch"] = True
    if driver:
        snap["driver"] = driver


def _cuda_facts(snap: Dict[str, Any], lib_query: Dict[str, Any]) -> None:
    from . import libs

    libraries = snap.get("libraries") or {}
    loaded = libraries.get("loaded") or []
    found = libraries.get("found") or []
    # A queried version is more precise than a file name holding only the major (libcudart.so.13).
    for q in lib_query.values():
        qpath = q.get("path")
        if not q.get("version") or not qpath:
            continue
        real = os.path.realpath(qpath)
        for e in loaded + found:
            if os.path.realpath(e["path"]) == real and len(version_key(e.get("version"))) < len(
                version_key(q["version"])
            ):
                e["version"] = q["version"]
                e["version_from"] = "query"
    cuda: Dict[str, Any] = {}
    sources: Dict[str, str] = {}
    runtime, src = libs.pick("cudart", loaded, lib_query, found)
    if runtime and src:
        cuda["runtime_version"] = major_minor(runtime) if len(version_key(runtime)) >= 2 else runtime
        sources["runtime_version"] = src
    cudnn, src = libs.pick("cudnn", loaded, lib_query, found)
    if cudnn and src:
        cuda["cudnn_version"] = _short_cudnn(cudnn)
        sources["cudnn_version"] = src
    if "found" in libraries:
        # Every version on the search paths: a framework asks for its own major version, so one
        # matching copy anywhere is enough (and none means the libraries are missing).
        every = loaded + found
        cuda["runtime_versions"] = list(dict.fromkeys(major_minor(v) or v for v in libs.versions("cudart", every)))
        cuda["cudnn_versions"] = list(dict.fromkeys(_short_cudnn(v) for v in libs.versions("cudnn", every)))
    if cuda:
        if sources:
            cuda["sources"] = sources
        snap["cuda"] = cuda


def collect(*, quick: bool = False, frameworks: bool = False, timeout: float = 2.0) -> Dict[str, Any]:
    """Probe this machine and return the snapshot dict. Never raises.

    quick:      in-process only (no subprocess; NVML only if pynvml is already imported; no
                library search): the exception hook's budget, < 30 ms.
    frameworks: also import each installed framework in a child process (TensorFlow build info and
                visible GPUs, torch CUDA/cuDNN and devices, JAX backends), each with a time limit of
                max(30 * timeout, 60) seconds.
    timeout:    seconds allowed to each blocking probe (NVML, the library version query).
    """
    from . import envvars, libs, nvml, packages, system
    from . import frameworks as fw
    from . import platform as plat

    start = time.perf_counter()
    probes: Dict[str, str] = {}
    snap: Dict[str, Any] = {"snapshot_version": SNAPSHOT_VERSION, "mode": "quick" if quick else "full"}
    for key, fn in (
        ("python", system.python_info),
        ("os", system.os_info),
        ("platform", plat.platform_info),
        ("cpu", system.cpu_info),
        ("memory", system.memory_info),
        ("env", envvars.relevant),
    ):
        value = _step(probes, key, fn)
        if value is not None:
            snap[key] = value

    pk = _step(probes, "packages", packages.installed) or {}
    pkgs: Dict[str, str] = pk.get("packages") or {}
    if "packages" in pk:
        snap["packages"] = pkgs
    if pk.get("duplicates"):
        snap["packages_duplicates"] = pk["duplicates"]

    libraries: Dict[str, Any] = {}
    status, loaded = libs.loaded(pkgs)
    probes["libraries.loaded"] = status
    if status == "ok":
        libraries["loaded"] = loaded
    if not quick:
        found = _step(probes, "libraries.found", lambda: libs.found(pkgs))
        if found is not None:
            libraries["found"] = found
    if libraries:
        snap["libraries"] = libraries

    lib_query: Dict[str, Any] = {}
    if not quick:
        qstatus, lib_query = libs.query_versions(libraries.get("loaded", []), libraries.get("found", []), timeout)
        if not qstatus.startswith("skipped"):
            probes["libraries.query"] = qstatus
        if lib_query:
            libraries["query"] = lib_query

    nvml_facts: Dict[str, Any] = {}
    if not quick or "pynvml" in sys.modules:
        outcome, value = run_boxed(lambda: nvml.query(quick), timeout)
        if outcome == "ok":
            nstatus, nvml_facts = value
            probes["nvml"] = nstatus
        elif outcome == "timeout":
            probes["nvml"] = "timeout"
        else:
            probes["nvml"] = f"unavailable: {reason(value)}"
    nvidia: Dict[str, Any] = dict(nvml_facts.get("nvidia") or {})
    if "gpus" in nvml_facts:
        snap["gpus"] = nvml_facts["gpus"]
        nvidia["gpus_source"] = "nvml"
    else:
        wsl = (snap.get("os") or {}).get("wsl")
        if _step(probes, "nvidia.device_nodes", lambda: nvml.no_gpu_by_device_nodes(wsl)):
            snap["gpus"] = []
            nvidia["gpus_source"] = "device-nodes"
            nvidia["note"] = "no /dev/nvidia* device nodes and no /proc/driver/nvidia: CUDA can see no GPU"
    if nvidia:
        snap["nvidia"] = nvidia
    _step(probes, "driver", lambda: _driver_facts(snap, nvml_facts, lib_query))
    _step(probes, "cuda", lambda: _cuda_facts(snap, lib_query))

    fstatus, ffacts = fw.in_process(quick)
    probes.update(fstatus)
    if frameworks and not quick:
        installed = fw.installed_frameworks(pkgs)
        sstatus, sfacts = fw.in_subprocess([n for n in installed if n not in ffacts], max(30 * timeout, 60.0))
        probes.update(sstatus)
        ffacts = fw.merge(ffacts, sfacts)
    if ffacts:
        snap["frameworks"] = ffacts

    snap["probes"] = probes
    snap["elapsed_ms"] = round((time.perf_counter() - start) * 1000, 1)
    return snap
