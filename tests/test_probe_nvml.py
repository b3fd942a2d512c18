"""NVML probe against a stand-in pynvml module: GPUs, driver, MIG, processes, and every failure mode."""

import sys
import types
from collections import namedtuple

import pytest

from dnnfix import probe
from dnnfix.probe import nvml

Mem = namedtuple("Mem", "total used free")
Proc = namedtuple("Proc", "pid usedGpuMemory")
Pci = namedtuple("Pci", "busId")
Util = namedtuple("Util", "gpu memory")


class NVMLError(Exception):
    def __init__(self, value):
        super().__init__(f"NVML error {value}")
        self.value = value


def fake_pynvml(init_error=None, count=1, hang=False):
    m = types.ModuleType("pynvml")
    m.NVMLError = NVMLError
    state = {"shutdown": 0}

    def init():
        if hang:
            import time

            time.sleep(5)
        if init_error is not None:
            raise NVMLError(init_error)

    m.nvmlInit = init
    m.nvmlShutdown = lambda: state.__setitem__("shutdown", state["shutdown"] + 1)
    m.nvmlSystemGetDriverVersion = lambda: "535.104.05"
    m.nvmlSystemGetCudaDriverVersion_v2 = lambda: 12020
    m.nvmlSystemGetNVMLVersion = lambda: "12.535.104.05"
    m.nvmlDeviceGetCount = lambda: count
    m.nvmlDeviceGetHandleByIndex = lambda i: i
    m.nvmlDeviceGetName = lambda h: b"Tesla T4"
    m.nvmlDeviceGetCudaComputeCapability = lambda h: (7, 5)
    m.nvmlDeviceGetMemoryInfo = lambda h: Mem(15 * 1024**3, 1024**3, 14 * 1024**3)
    m.nvmlDeviceGetUUID = lambda h: "GPU-1234"
    m.nvmlDeviceGetPciInfo = lambda h: Pci("00000000:00:04.0")
    m.nvmlDeviceGetMigMode = lambda h: (0, 0)
    m.nvmlDeviceGetUtilizationRates = lambda h: Util(3, 1)
    m.nvmlDeviceGetComputeRunningProcesses = lambda h: [Proc(4242, 512 * 1024**2)]
    m.state = state
    return m


@pytest.fixture
def with_pynvml(monkeypatch):
    def install(**kw):
        mod = fake_pynvml(**kw)
        monkeypatch.setitem(sys.modules, "pynvml", mod)
        return mod

    return install


def test_gpus_and_driver_from_nvml(with_pynvml):
    """NVML gives the driver, CUDA driver version and each GPU in the CONTRACT shape."""
    mod = with_pynvml()
    status, facts = nvml.query()
    assert status == "ok"
    assert facts["driver"] == {"version": "535.104.05", "cuda_version": "12.2", "nvml_version": "12.535.104.05"}
    gpu = facts["gpus"][0]
    assert {k: gpu[k] for k in ("index", "name", "compute_capability", "memory_total_mib", "memory_used_mib")} == {
        "index": 0,
        "name": "Tesla T4",
        "compute_capability": "7.5",
        "memory_total_mib": 15360,
        "memory_used_mib": 1024,
    }
    assert gpu["memory_free_mib"] == 14336
    assert gpu["mig_mode"] == "disabled"
    assert gpu["processes"][0]["pid"] == 4242 and gpu["processes"][0]["used_memory_mib"] == 512
    assert mod.state["shutdown"] == 1


def test_zero_gpus_is_an_empty_list(with_pynvml):
    """NVML saying zero devices is the one case for gpus: [] from NVML."""
    with_pynvml(count=0)
    status, facts = nvml.query()
    assert status == "ok" and facts["gpus"] == []


@pytest.mark.parametrize("code,words", [(12, "not found"), (9, "not loaded"), (999, "NVML error 999")])
def test_nvml_failures_are_reasons(with_pynvml, code, words):
    """NVML errors become 'unavailable: <reason>' with no GPU list."""
    with_pynvml(init_error=code)
    status, facts = nvml.query()
    assert status.startswith("unavailable: ") and words in status
    assert "gpus" not in facts


def test_an_nvml_error_with_an_odd_value_is_a_reason(with_pynvml):
    """An error whose .value is not an int (here unhashable) used to raise TypeError out of the probe."""
    with_pynvml(init_error=[])
    status, facts = nvml.query()
    assert status == "unavailable: NVML error []" and "gpus" not in facts


def test_driver_library_mismatch_is_a_fact(with_pynvml):
    """NVML_ERROR_LIB_RM_VERSION_MISMATCH sets driver.mismatch."""
    with_pynvml(init_error=18)
    status, facts = nvml.query()
    assert "mismatch" in status
    assert facts["driver"] == {"mismatch": True}


def test_missing_nvidia_ml_py(monkeypatch):
    """Without nvidia-ml-py the probe says how to get it."""
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml -> ImportError
    status, facts = nvml.query()
    assert status.startswith("unavailable: nvidia-ml-py is not installed")
    assert facts == {}


def test_collect_uses_nvml_gpus(with_pynvml):
    """collect() puts NVML's GPUs and driver into the snapshot."""
    with_pynvml()
    snap = probe.collect()
    assert snap["gpus"][0]["name"] == "Tesla T4"
    assert snap["nvidia"]["gpus_source"] == "nvml"
    assert snap["driver"]["version"] == "535.104.05"
    assert snap["driver"]["cuda_version"] == "12.2"
    assert snap["probes"]["nvml"] == "ok"


def test_quick_mode_uses_nvml_when_already_imported(with_pynvml):
    """The hook's quick probe asks NVML only because the process already imported pynvml."""
    with_pynvml()
    snap = probe.collect(quick=True)
    assert snap["probes"]["nvml"] == "ok" and snap["gpus"][0]["compute_capability"] == "7.5"


def test_a_hanging_nvml_times_out(with_pynvml):
    """A wedged driver cannot block collect() past its timeout."""
    with_pynvml(hang=True)
    snap = probe.collect(timeout=0.2)
    assert snap["probes"]["nvml"] == "timeout"
    assert snap["elapsed_ms"] < 3000


def test_kernel_and_userspace_versions_mark_a_mismatch(monkeypatch):
    """Kernel module and libcuda file versions that differ set driver.mismatch."""
    monkeypatch.setattr(nvml, "kernel_module_version", lambda: "535.104.05")
    snap = {"libraries": {"found": [{"name": "libcuda", "version": "535.129.03", "path": "/x", "origin": "ldconfig"}]}}
    probe._driver_facts(snap, {}, {})
    assert snap["driver"] == {
        "kernel_module_version": "535.104.05",
        "userspace_version": "535.129.03",
        "version": "535.104.05",
        "mismatch": True,
    }


def test_kernel_module_version_parsing(monkeypatch):
    """/proc/driver/nvidia/version's first line gives the kernel module version."""
    text = (
        "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023\n"
        "GCC version:  gcc version 12.3.0 (Ubuntu 12.3.0-1ubuntu1~22.04)\n"
    )
    monkeypatch.setattr(nvml, "read_text", lambda path, limit=0: text)
    assert nvml.kernel_module_version() == "535.104.05"
    open_text = "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.54.14  Release Build\n"
    monkeypatch.setattr(nvml, "read_text", lambda path, limit=0: open_text)
    assert nvml.kernel_module_version() == "550.54.14"
