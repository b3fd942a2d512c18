"""Real PyTorch (CPU build) environment failures: a CPU-only wheel asked for CUDA (a tensor, a module, a device
context), a GPU checkpoint loaded on it, NCCL missing from the build, and DataLoader workers killed by SIGBUS (shared
memory) or SIGKILL (host RAM).

Two subprocesses in all; each failure is printed with traceback.print_exc() between markers, which is
byte-for-byte what an uncaught exception prints. JAX is not installed here, so its causes are covered by the
knowledge-base cases only.
"""

import re

import pytest

from dnnfix.testing import assert_matches, diagnose

from ._harness import CASE_PRELUDE, split_cases

pytestmark = pytest.mark.framework

PRELUDE = (
    CASE_PRELUDE
    + """
import os
import torch
"""
)


_split = split_cases


def _cpu_build_or_skip(out: str) -> str:
    m = re.search(r"^TORCH_VERSION (\S+)$", out, flags=re.M)
    assert m, out[-3000:]
    if "+cpu" not in m.group(1) and "CUDA_BUILD None" not in out:
        pytest.skip(f"torch {m.group(1)} is a CUDA build: these failures need the CPU wheel")
    return m.group(1)


def test_real_cpu_wheel_cuda_calls_and_nccl(run_python, tmp_path):
    """A CPU-only torch asked for CUDA, fed a GPU checkpoint, and asked for the NCCL backend."""
    out = run_python(
        PRELUDE
        + """
import torch.nn as nn
import torch.serialization as ser
import torch.distributed as dist
print("TORCH_VERSION", torch.__version__)
print("CUDA_BUILD", torch.version.cuda)

case("tensor_cuda", lambda: torch.zeros(1).cuda())
case("module_to_cuda", lambda: nn.Linear(16, 4).to(torch.device("cuda:0")))
case("cuda_device_context", lambda: torch.cuda.device(0).__enter__())

# A checkpoint as a GPU machine writes it: storages tagged 'cuda:0'.
real_tag = ser.location_tag
ser.location_tag = lambda storage: "cuda:0"
torch.save({"w": torch.zeros(3)}, "gpu_ckpt.pt")
ser.location_tag = real_tag
print("===== load_gpu_ckpt =====", flush=True)
print(torch.__version__)
try:
    torch.load("gpu_ckpt.pt")
except BaseException:
    traceback.print_exc(file=sys.stdout)
sys.stdout.flush()

os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT="29531")
case("nccl_backend", lambda: dist.init_process_group("nccl", rank=0, world_size=1))
""",
        require=("torch",),
    )
    _cpu_build_or_skip(out)
    seg = _split(out)
    for name in ("tensor_cuda", "module_to_cuda"):
        assert "Torch not compiled with CUDA enabled" in seg[name], seg[name]
        assert_matches(seg[name], "torch.build.cpu-only")
    # `with torch.cuda.device(0):` on the CPU wheel fails in torch/cuda/__init__.py with its own wording
    assert "PyTorch was compiled without CUDA support" in seg["cuda_device_context"], seg["cuda_device_context"]
    assert_matches(seg["cuda_device_context"], "torch.build.cpu-only")
    assert "Attempting to deserialize object on a CUDA device" in seg["load_gpu_ckpt"], seg["load_gpu_ckpt"]
    assert_matches(seg["load_gpu_ckpt"], "torch.build.cpu-only")
    # Without the version line the same error is only a candidate: hidden GPUs give it too.
    bare = "\n".join(ln for ln in seg["load_gpu_ckpt"].splitlines() if "+cpu" not in ln)
    assert "torch.build.cpu-only" in [m.cause for m in diagnose(bare)[:3]]
    assert "NCCL" in seg["nccl_backend"], seg["nccl_backend"]
    assert_matches(seg["nccl_backend"], "torch.nccl.failure", top=3)


def test_real_dataloader_worker_bus_error_vs_killed(run_python):
    """A worker dying of SIGBUS is shared memory; the same worker dying of SIGKILL is host RAM."""
    out = run_python(
        PRELUDE
        + """
import signal
from torch.utils.data import DataLoader, Dataset

class Dies(Dataset):
    def __init__(self, sig): self.sig = sig
    def __len__(self): return 64
    def __getitem__(self, i):
        if i == 5:
            os.kill(os.getpid(), self.sig)
        return torch.zeros(3, 8, 8)

def drain(sig):
    # one worker: with two, torch's shutdown of the surviving worker may report it as "killed by signal: Killed"
    # inside the SIGBUS case's output (a race seen once in CI), which is the other case's evidence
    for _ in DataLoader(Dies(sig), batch_size=4, num_workers=1):
        pass

case("sigbus", lambda: drain(signal.SIGBUS))
case("sigkill", lambda: drain(signal.SIGKILL))
""",
        require=("torch",),
        timeout=240,
    )
    seg = _split(out)
    assert "Bus error" in seg["sigbus"], seg["sigbus"]
    assert_matches(seg["sigbus"], "torch.dataloader.shm-exhausted")
    assert "killed by signal: Killed" in seg["sigkill"], seg["sigkill"]
    shm = [m for m in diagnose(seg["sigkill"]) if m.cause == "torch.dataloader.shm-exhausted"]
    assert not any(m.confident for m in shm), shm
