"""Real accelerator failures that a CPU-only machine can produce: the MPS backend asked of a torch build that has
none (what Linux, Docker and an x86 Python under Rosetta print), a TensorFlow TPU initialisation with no TPU, and
the capability checks of torch's own bf16 autocast and Inductor run against a pretend pre-Ampere / pre-Volta GPU.

One subprocess per framework; each failure is printed with traceback.print_exc() between markers, which is
byte-for-byte what an uncaught exception prints. Apple silicon, ROCm, real TPUs and vLLM are covered by the
knowledge-base cases only.
"""

import pytest

from dnnfix.testing import assert_matches

from ._harness import CASE_PRELUDE, split_cases

pytestmark = pytest.mark.framework


def test_real_torch_without_mps_and_capability_gates(run_python):
    """device='mps' on a build without MPS is mps.unavailable; bf16 autocast on an old GPU is
    gpu.feature.unsupported, Triton refusing an old GPU triton.unavailable-or-mismatch."""
    out = run_python(
        CASE_PRELUDE
        + """
import types
import torch
import torch.nn as nn
if torch.backends.mps.is_built():
    print("MPS_BUILT")

case("module_to_mps", lambda: nn.Linear(8, 2).to("mps"))
case("zeros_on_mps", lambda: torch.zeros(4, device="mps"))
case("mps_synchronize", lambda: torch.mps.synchronize())

# torch's own autocast check, as a T4/V100 answers it: CUDA present, bfloat16 not supported.
torch.cuda.is_available = lambda: True
torch.cuda.is_bf16_supported = lambda *a, **k: False
case("autocast_bf16", lambda: torch.autocast("cuda", dtype=torch.bfloat16))

# Inductor's own exception for a GPU Triton cannot compile for (a P100: compute capability 6.0).
from torch._inductor.exc import GPUTooOldForTriton
p100 = types.SimpleNamespace(name="Tesla P100-PCIE-16GB", major=6, minor=0)
def compile_on_p100():
    raise GPUTooOldForTriton(p100, None)
case("triton_gpu_too_old", compile_on_p100)
""",
        require=("torch",),
    )
    if "MPS_BUILT" in out:
        pytest.skip("this torch has the MPS backend: the no-MPS failures need a Linux/Windows build")
    seg = split_cases(out)
    assert "PyTorch is not linked with support for mps devices" in seg["module_to_mps"], seg["module_to_mps"]
    assert "'MPS' backend" in seg["zeros_on_mps"], seg["zeros_on_mps"][-2000:]
    assert "without MPS backend" in seg["mps_synchronize"], seg["mps_synchronize"]
    for name in ("module_to_mps", "zeros_on_mps", "mps_synchronize"):
        assert_matches(seg[name], "mps.unavailable")
    assert "does not support bfloat16" in seg["autocast_bf16"], seg["autocast_bf16"]
    assert_matches(seg["autocast_bf16"], "gpu.feature.unsupported")
    assert "too old to be supported by the triton GPU compiler" in seg["triton_gpu_too_old"], seg["triton_gpu_too_old"]
    assert_matches(seg["triton_gpu_too_old"], "triton.unavailable-or-mismatch")


def test_real_tensorflow_tpu_without_tpu(run_python):
    """A TPU initialised where there is none: 'TPUs not found in the cluster' is tpu.runtime.unavailable; the
    resolver without a TPU name is a candidate behind the notebook runtime cause."""
    out = run_python(
        CASE_PRELUDE
        + """
import tensorflow as tf
local = tf.distribute.cluster_resolver.TPUClusterResolver(tpu="local")
case("init_local_tpu", lambda: tf.tpu.experimental.initialize_tpu_system(local))
case("resolver_no_name", lambda: tf.distribute.cluster_resolver.TPUClusterResolver())
""",
        require=("tensorflow",),
        timeout=300,
    )
    seg = split_cases(out)
    assert "TPUs not found in the cluster" in seg["init_local_tpu"], seg["init_local_tpu"][-2000:]
    assert_matches(seg["init_local_tpu"], "tpu.runtime.unavailable")
    assert "Please provide a TPU Name" in seg["resolver_no_name"], seg["resolver_no_name"][-2000:]
    assert_matches(seg["resolver_no_name"], "tpu.runtime.unavailable", top=3, confident=False)
