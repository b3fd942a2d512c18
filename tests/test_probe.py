"""The environment probes, run for real on this (CPU-only) machine: clean answers, never a crash."""

import json
import os
import subprocess
import sys
import time

import pytest

from dnnfix import probe
from dnnfix.probe import envvars, packages, system

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORE = ("python", "os", "platform", "packages")


@pytest.fixture(scope="module")
def full():
    return probe.collect()


def test_full_snapshot_has_contract_core_keys(full):
    """collect() holds the CONTRACT core keys with their documented shapes."""
    for key in CORE:
        assert key in full
    assert full["python"]["version"].count(".") == 2
    assert full["os"]["system"] in ("Linux", "Darwin", "Windows")
    assert isinstance(full["os"]["machine"], str)
    assert set(full["platform"]) >= {"colab", "kaggle", "docker", "conda"}


def test_snapshot_is_plain_json(full):
    """The snapshot survives a JSON round trip unchanged (what `dnnfix env --json` prints)."""
    assert json.loads(json.dumps(full)) == full


def test_every_probe_reports_a_status(full):
    """Each probe says ok, unavailable: <reason>, or timeout."""
    assert full["probes"]
    for name, status in full["probes"].items():
        assert status == "ok" or status == "timeout" or status.startswith("unavailable: "), (name, status)


def test_nvml_absence_is_reported_cleanly(full):
    """Without an NVIDIA driver NVML is 'unavailable: <reason>' and no GPU list comes from it."""
    status = full["probes"]["nvml"]
    if status == "ok":
        pytest.skip("this machine has a working NVML")
    assert status.startswith("unavailable: ")
    assert len(status) > len("unavailable: ") + 5
    assert (full.get("nvidia") or {}).get("gpus_source") != "nvml"


def test_gpus_empty_only_from_a_reliable_source(full):
    """gpus is absent (unknown) unless NVML or the missing device nodes said how many there are."""
    if "gpus" in full:
        assert full["nvidia"]["gpus_source"] in ("nvml", "device-nodes")
    if full.get("nvidia", {}).get("gpus_source") == "device-nodes":
        assert full["gpus"] == []
        assert not os.path.exists("/dev/nvidiactl")


def test_packages_are_normalised_distribution_names(full):
    """Package names are lowercase with '-' (PEP 503) and include the frameworks installed here."""
    for name in full["packages"]:
        assert name == packages.normalize(name), name
    import importlib.util

    # the frameworks installed in this interpreter are found (the core suite also runs where none is installed)
    assert ("torch" in full["packages"]) == (importlib.util.find_spec("torch") is not None)
    assert any(n.startswith("tensorflow") for n in full["packages"]) == (
        importlib.util.find_spec("tensorflow") is not None
    )


def test_package_versions_agree_with_importlib_metadata(full):
    """The fast directory scan reports what importlib.metadata reports."""
    from importlib.metadata import version

    for name in ("torch", "numpy", "keras"):
        if name in full["packages"]:
            assert full["packages"][name] == version(name)


def test_cpu_flags_come_from_proc_cpuinfo(full):
    """AVX/AVX2 flags are read on Linux x86."""
    if sys.platform != "linux" or full["os"]["machine"] != "x86_64":
        pytest.skip("x86 Linux only")
    assert set(full["cpu"]["flags"]) >= {"avx", "avx2"}
    assert all(isinstance(v, bool) for v in full["cpu"]["flags"].values())


def test_memory_and_shm_are_reported(full):
    """Host RAM and /dev/shm sizes are in MiB."""
    if sys.platform != "linux":
        pytest.skip("Linux only")
    assert full["memory"]["total_mib"] > 100
    assert full["memory"]["shm_total_mib"] >= 0


def test_quick_mode_runs_no_subprocess(monkeypatch):
    """collect(quick=True) never starts a child process (the exception hook's budget)."""

    def boom(*a, **k):
        raise AssertionError("subprocess started in quick mode")

    monkeypatch.setattr(subprocess, "run", boom)
    monkeypatch.setattr(subprocess, "Popen", boom)
    snap = probe.collect(quick=True)
    assert snap["mode"] == "quick"
    assert "libraries.found" not in snap["probes"]
    for key in CORE:
        assert key in snap


def test_quick_mode_skips_nvml_unless_already_imported(monkeypatch):
    """Quick mode does not import pynvml on its own."""
    monkeypatch.delitem(sys.modules, "pynvml", raising=False)
    snap = probe.collect(quick=True)
    assert "nvml" not in snap["probes"]
    assert "pynvml" not in sys.modules


def test_quick_mode_is_fast():
    """The in-process subset stays under 30 ms (best of five, after a warm-up)."""
    probe.collect(quick=True)
    best = min(_timed(lambda: probe.collect(quick=True)) for _ in range(5))
    assert best < 30, f"quick probe took {best:.1f} ms"


def test_full_probe_is_fast_without_gpu(full):
    """The full probe stays under 300 ms on a machine without a GPU (best of three)."""
    if full.get("gpus"):
        pytest.skip("this machine has a GPU")
    best = min(_timed(probe.collect) for _ in range(3))
    assert best < 300, f"full probe took {best:.1f} ms"


def _timed(fn):
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def test_a_failing_probe_becomes_unavailable(monkeypatch):
    """An exception inside one probe is reported and the others still run."""

    def broken():
        raise OSError("disk on fire")

    monkeypatch.setattr(system, "cpu_info", broken)
    snap = probe.collect(quick=True)
    assert snap["probes"]["cpu"] == "unavailable: OSError: disk on fire"
    assert "cpu" not in snap
    assert "python" in snap


def test_importing_and_probing_imports_no_framework():
    """`import dnnfix.probe; collect()` imports no tensorflow, torch or jax (python -X importtime)."""
    code = "import dnnfix.probe; dnnfix.probe.collect()"
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines() if "|" in line}
    assert "dnnfix" in imported
    assert not imported & {"tensorflow", "torch", "jax", "jaxlib", "keras"}, imported & {"tensorflow", "torch", "jax"}


def test_import_of_probe_package_is_cheap():
    """`import dnnfix.probe` loads no pynvml, yaml or framework."""
    code = (
        "import sys, dnnfix.probe; bad = {'pynvml', 'yaml', 'tensorflow', 'torch', 'jax'} & set(sys.modules); "
        "print(sorted(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_env_vars_report_framework_knobs_not_terraform():
    """Framework variables are kept; Terraform's TF_* (and its tokens) are not."""
    env = {
        "CUDA_VISIBLE_DEVICES": "0",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "XLA_FLAGS": "--xla_gpu_autotune_level=0",
        "TF_TOKEN_app_terraform_io": "secret",
        "TF_VAR_region": "eu",
        "HOME": "/home/x",
        "TF_NEW_KNOB": "1",
    }
    out = envvars.relevant(env)
    assert out == {
        "CUDA_VISIBLE_DEVICES": "0",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TF_NEW_KNOB": "1",
        "XLA_FLAGS": "--xla_gpu_autotune_level=0",
    }


def test_package_scan_parses_dist_info_names(tmp_path):
    """dist-info and egg-info directory names give normalised names and versions; shadowed copies are noted."""
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        d.mkdir()
    (a / "tensorflow_cpu-2.15.0.dist-info").mkdir()
    (a / "nvidia_cudnn_cu12-8.9.2.26.dist-info").mkdir()
    (a / "Keras-2.15.0.dist-info").mkdir()
    (a / "requests-2.0.dist-info").mkdir()
    (b / "keras-3.0.0.dist-info").mkdir()
    (b / "protobuf-3.20.3-py3.10.egg-info").mkdir()
    out = packages.installed([str(a), str(b)])
    assert out["packages"] == {
        "keras": "2.15.0",
        "nvidia-cudnn-cu12": "8.9.2.26",
        "protobuf": "3.20.3",
        "tensorflow-cpu": "2.15.0",
    }
    assert out["duplicates"] == {"keras": ["2.15.0", "3.0.0"]}
