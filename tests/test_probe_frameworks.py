"""Framework build facts: read in-process only from frameworks already imported; imported in a child on request."""

import importlib
import sys
import types

import pytest

from dnnfix import probe
from dnnfix.probe import frameworks

redact = importlib.import_module("dnnfix.probe.redact")  # the package re-exports the function under this name


def fake_tf():
    tf = types.ModuleType("tensorflow")
    tf.__version__ = "2.15.0"
    tf.sysconfig = types.SimpleNamespace(
        get_build_info=lambda: {
            "cuda_version": "12.2",
            "cudnn_version": "8",
            "is_cuda_build": True,
            "is_rocm_build": False,
            "cuda_compute_capabilities": ["sm_50", "sm_60", "sm_70", "sm_80", "compute_90"],
        }
    )
    return tf


def test_frameworks_not_imported_are_not_read(monkeypatch):
    """Nothing is reported for a framework the process has not imported."""
    for name in ("tensorflow", "torch", "jax"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    statuses, facts = frameworks.in_process()
    assert statuses == {} and facts == {}


def test_imported_tensorflow_build_info(monkeypatch):
    """An imported TensorFlow's build info is read without importing anything else."""
    monkeypatch.setitem(sys.modules, "tensorflow", fake_tf())
    for other in ("torch", "jax", "jaxlib"):  # another test in this process may have imported one for real
        monkeypatch.delitem(sys.modules, other, raising=False)
    statuses, facts = frameworks.in_process(quick=True)
    assert statuses == {"frameworks.tensorflow": "ok"}
    assert facts["tensorflow"] == {
        "version": "2.15.0",
        "cuda_version": "12.2",
        "cudnn_version": "8",
        "is_cuda_build": True,
        "is_rocm_build": False,
        "cuda_compute_capabilities": ["sm_50", "sm_60", "sm_70", "sm_80", "compute_90"],
        "source": "in-process",
    }


def test_half_imported_framework_is_unavailable(monkeypatch):
    """A framework module broken by a failed import is reported, not raised."""
    monkeypatch.setitem(sys.modules, "tensorflow", types.ModuleType("tensorflow"))
    statuses, facts = frameworks.in_process()
    assert statuses["frameworks.tensorflow"].startswith("unavailable: AttributeError")
    assert "tensorflow" not in facts


def test_collect_includes_imported_frameworks(monkeypatch):
    """collect(quick=True) carries the in-process framework facts (the hook's view)."""
    monkeypatch.setitem(sys.modules, "tensorflow", fake_tf())
    snap = probe.collect(quick=True)
    assert snap["frameworks"]["tensorflow"]["cuda_version"] == "12.2"


def test_imported_torch_is_read_in_process():
    """The real torch (CPU build): version, no CUDA, no cuDNN call needed."""
    torch = pytest.importorskip("torch")
    statuses, facts = frameworks.in_process(quick=True)
    assert statuses["frameworks.torch"] == "ok"
    assert facts["torch"]["version"] == str(torch.__version__)
    assert "cuda_version" not in facts["torch"] or facts["torch"]["cuda_version"] is None


def test_installed_frameworks_from_packages():
    """tensorflow-cpu, torch and jax count as installed frameworks."""
    assert frameworks.installed_frameworks({"tensorflow-cpu": "2.21.0", "torch": "2.1.0", "numpy": "1"}) == [
        "tensorflow",
        "torch",
    ]
    assert frameworks.installed_frameworks({"jax": "0.4.30", "jaxlib": "0.4.30"}) == ["jax"]


@pytest.mark.framework
def test_frameworks_in_child_processes():
    """--frameworks imports each installed framework in its own child and returns its build facts."""
    pytest.importorskip("torch")
    statuses, facts = frameworks.in_subprocess(["torch"], timeout=180)
    assert statuses["frameworks.torch"] == "ok", statuses
    assert facts["torch"]["source"] == "subprocess"
    assert facts["torch"]["cuda_available"] is False
    assert facts["torch"]["device_count"] == 0


@pytest.mark.framework
def test_tensorflow_in_a_child_process_keeps_its_log_tail():
    """TensorFlow's build info and GPU list come back from the child; its native log lines are kept."""
    statuses, facts = frameworks.in_subprocess(["tensorflow"], timeout=300)
    assert statuses["frameworks.tensorflow"] == "ok", statuses
    tf = facts["tensorflow"]
    assert tf["gpus"] == []
    assert tf.get("is_cuda_build") is False
    assert isinstance(tf.get("stderr_tail", []), list)


# ---------------------------------------------------------------- redaction
def test_redact_removes_home_users_hosts_and_secrets(monkeypatch):
    """Home paths become ~, other users' homes <user>, host names <host>, secret values <redacted>."""
    monkeypatch.setattr(
        redact, "_identities", lambda: (["/home/alice"], ["alice-workstation.lab.example.com", "alice-workstation"])
    )
    snap = {
        "python": {"version": "3.10.12", "executable": "/home/alice/venvs/tf/bin/python"},
        "env": {
            "LD_LIBRARY_PATH": "/home/alice/cuda/lib64:/home/bob/lib",
            "HF_TOKEN": "hf_abcdefghijklmnopqrstuvwxyz",
            "XLA_FLAGS": "--xla_dump_to=/home/alice/dump",
            "PIP_INDEX_URL": "https://user:pa55@pypi.example.com/simple",
        },
        "frameworks": {
            "tensorflow": {"stderr_tail": ["I0000 alice-workstation cuda_dnn.cc:1] key=ghp_0123456789abcdefghijklmnop"]}
        },
        "gpus": [{"index": 0, "name": "Tesla T4", "uuid": "GPU-5b6c", "pci_bus_id": "00000000:00:04.0"}],
        "packages": {"tensorflow": "2.15.0"},
    }
    out = redact.redact(snap)
    assert out["python"]["executable"] == "~/venvs/tf/bin/python"
    assert out["env"]["LD_LIBRARY_PATH"] == "~/cuda/lib64:/home/<user>/lib"
    assert out["env"]["HF_TOKEN"] == "<redacted>"
    assert out["env"]["XLA_FLAGS"] == "--xla_dump_to=~/dump"
    assert out["env"]["PIP_INDEX_URL"] == "https://<redacted>@pypi.example.com/simple"
    assert out["frameworks"]["tensorflow"]["stderr_tail"] == ["I0000 <host> cuda_dnn.cc:1] key=<redacted>"]
    assert out["gpus"] == [{"index": 0, "name": "Tesla T4"}]
    assert out["packages"] == {"tensorflow": "2.15.0"}
    assert out["redacted"] is True
    assert snap["gpus"][0]["uuid"] == "GPU-5b6c"  # the input is left alone


def test_redact_windows_paths(monkeypatch):
    """Windows user folders are redacted too."""
    monkeypatch.setattr(redact, "_identities", lambda: ([], []))
    out = redact.redact({"env": {"CUDA_PATH": "C:\\Users\\Alice\\cuda", "X": "D:/Users/bob/x"}})
    assert out["env"] == {"CUDA_PATH": "C:\\Users\\<user>\\cuda", "X": "D:/Users/<user>/x"}
