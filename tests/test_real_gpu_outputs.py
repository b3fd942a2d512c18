"""Failures produced for real on an NVIDIA H200 (torch 2.11.0+cu130, jax 0.11.2, driver 580.159): the outputs are kept as printed in tests/fixtures/real-gpu/, and dnnfix must name their cause
first and confidently from the text alone. They guard the GPU wording that CPU-only CI cannot produce."""

from pathlib import Path

import pytest

from dnnfix.api import diagnose_text

HERE = Path(__file__).resolve().parent / "fixtures" / "real-gpu"
EXPECTED = {
    "h200-oom.txt": "torch.cuda.oom",
    "h200-device.txt": "torch.device-mismatch",
    "h200-assert.txt": "torch.cuda.device-side-assert",
    "h200-dtype.txt": "torch.dtype-mismatch",
    "h200-jaxoom.txt": "jax.gpu.oom",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_gpu_failure_is_named(name):
    d = diagnose_text((HERE / name).read_text(encoding="utf-8"), probe=False)
    assert d.matches, "nothing matched"
    top = d.matches[0]
    assert top.cause == EXPECTED[name] and top.confident, [(m.cause, m.score) for m in d.matches[:3]]
