"""Real platform failures on a CPU machine: host memory exhaustion from torch, NumPy, Python and TensorFlow, pip
finding no TensorFlow wheel, and a GPU checkpoint loaded by the CPU-only torch wheel. Each runs the framework in a
subprocess and diagnoses exactly what it printed (uncaught, so the traceback is Python's own)."""

import pytest

from dnnfix.testing import assert_matches, assert_silent, diagnose

pytestmark = pytest.mark.framework

HOST_RAM = "host.ram.exhausted"
NO_WHEEL = "tf.install.no-matching-wheel"


def _causes(text):
    return [(m.cause, round(m.score, 2), m.signature) for m in diagnose(text)[:4]]


def test_torch_cpu_allocator_refuses_huge_tensor(run_python):
    """torch.empty of 128 TiB on the CPU: DefaultCPUAllocator's error is host RAM."""
    out = run_python("import torch\nx = torch.empty(2 ** 45)\n", require=("torch",))
    assert "DefaultCPUAllocator" in out, out[-2000:]
    assert_matches(out, HOST_RAM)


def test_numpy_unable_to_allocate(run_python):
    """np.zeros of 8 TiB: _ArrayMemoryError 'Unable to allocate' is host RAM."""
    out = run_python("import numpy as np\nx = np.zeros((2 ** 20, 2 ** 20))\n", require=("numpy",))
    assert "Unable to allocate" in out, out[-2000:]
    assert_matches(out, HOST_RAM)


def test_python_memoryerror_under_address_space_limit(run_python):
    """A bare MemoryError (address space capped at 1 GiB) is host RAM."""
    code = """
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    buf = bytearray(4 << 30)
    """
    out = run_python(code)
    assert "MemoryError" in out, out[-2000:]
    assert_matches(out, HOST_RAM)


def test_tensorflow_oom_on_cpu_allocator(run_python):
    """tf.zeros of 64 TiB on the CPU: 'OOM ... device:CPU:0 by allocator (mkl)cpu' is host RAM, not GPU memory."""
    out = run_python("import tensorflow as tf\nx = tf.zeros([2 ** 22, 2 ** 22])\n", require=("tensorflow",))
    assert "device:CPU:0" in out, out[-2000:]
    m = assert_matches(out, HOST_RAM)
    gpu = [x for x in diagnose(out) if x.cause in ("tf.gpu.oom", "gpu.memory.exhausted-at-init") and x.confident]
    assert not gpu, _causes(out)
    assert m.score >= 0.9


def test_pip_finds_no_tensorflow_gpu_wheel(run_python):
    """pip, offline, for the removed tensorflow-gpu: 'from versions: none' is TensorFlow's missing wheel."""
    code = """
    import subprocess, sys
    p = subprocess.run([sys.executable, "-m", "pip", "install", "--no-index", "--disable-pip-version-check",
                        "tensorflow-gpu==2.10.0"], capture_output=True, text=True)
    print(p.stdout + p.stderr)
    """
    out = run_python(code, timeout=240)
    assert "No matching distribution found for tensorflow-gpu" in out, out[-2000:]
    m = assert_matches(out, NO_WHEEL)
    assert m.facts.get("requirement", "").startswith("tensorflow-gpu")


def test_pip_finds_no_other_package_is_silent(run_python):
    """The same pip failure for a package that is not TensorFlow is an ordinary failure."""
    code = """
    import subprocess, sys
    p = subprocess.run([sys.executable, "-m", "pip", "install", "--no-index", "--disable-pip-version-check",
                        "dnnfix-no-such-package==1.0"], capture_output=True, text=True)
    print(p.stdout + p.stderr)
    """
    out = run_python(code, timeout=240)
    assert "No matching distribution found" in out, out[-2000:]
    assert all(m.cause != NO_WHEEL for m in diagnose(out)), _causes(out)
    assert_silent(out)


def test_cuda_checkpoint_on_cpu_wheel_is_the_wheel_not_a_hidden_gpu(run_python):
    """A checkpoint whose storages say cuda:0, loaded by the +cpu wheel that printed its version: the wheel wins."""
    code = """
    import io, zipfile, torch
    print("torch", torch.__version__)
    buf = io.BytesIO()
    torch.save({"w": torch.ones(2)}, buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith("data.pkl"):
                data = data.replace(b"X\\x03\\x00\\x00\\x00cpu", b"X\\x06\\x00\\x00\\x00cuda:0")
            dst.writestr(info, data)
    torch.load(io.BytesIO(out.getvalue()), weights_only=True)
    """
    out = run_python(code, require=("torch",))
    assert "Attempting to deserialize object on a CUDA device" in out, out[-2000:]
    ms = diagnose(out)
    assert ms and ms[0].cause == "torch.build.cpu-only", _causes(out)
    assert all(not m.confident for m in ms if m.cause == "gpu.device.not-visible"), _causes(out)
