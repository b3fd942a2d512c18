"""Real PyTorch (CPU build) failures: run torch in a subprocess, diagnose exactly what it printed.

Several failures share one subprocess (torch import costs ~2 s); each is printed with traceback.print_exc()
between markers, which is byte-for-byte what an uncaught exception prints.
"""

import pytest

from dnnfix.testing import assert_matches, assert_silent, diagnose

from ._harness import CASE_PRELUDE, split_cases

pytestmark = pytest.mark.framework

PRELUDE = (
    CASE_PRELUDE
    + """
import torch
import torch.nn as nn
import torch.nn.functional as F
"""
)

OWN = (
    "torch.device-mismatch",
    "torch.shape-mismatch",
    "torch.dtype-mismatch",
    "torch.cuda.device-side-assert",
    "torch.autograd.inplace-modified",
    "torch.checkpoint.mismatch",
    "torch.load.weights-only",
    "torch.autograd.backward-twice",
    "torch.cuda.oom",
)


_split = split_cases


def _check(segments: dict, name: str, cause: str, **kw):
    text = segments[name]
    assert "Traceback (most recent call last)" in text, text
    return assert_matches(text, cause, **kw)


def test_real_shape_and_dtype_errors(run_python):
    """Linear/broadcast shape errors and Double/Long dtype errors from torch's own kernels."""
    out = run_python(
        PRELUDE
        + """
case("linear", lambda: nn.Linear(256, 10)(torch.randn(64, 512)))
case("broadcast", lambda: torch.randn(2, 3) + torch.randn(2, 4))
case("conv_channels", lambda: nn.Conv2d(3, 8, 3)(torch.randn(1, 1, 8, 8)))
case("view", lambda: torch.ones(10).view(3, -1))
case("linear_double", lambda: nn.Linear(4, 2)(torch.randn(3, 4, dtype=torch.float64)))
case("mm_double", lambda: torch.randn(3, 4).mm(torch.randn(4, 2, dtype=torch.float64)))
case("bce_long", lambda: F.binary_cross_entropy(torch.rand(3), torch.tensor([1, 0, 1])))
case("conv_double", lambda: nn.Conv2d(3, 4, 3)(torch.randn(1, 3, 8, 8, dtype=torch.float64)))
case("conv_half_bias", lambda: nn.Conv2d(3, 4, 3).half()(torch.randn(1, 3, 8, 8)))
case("embedding_float", lambda: nn.Embedding(10, 3)(torch.randn(4)))
""",
        require=("torch",),
    )
    s = _split(out)
    m = _check(s, "linear", "torch.shape-mismatch")
    assert "mat1 and mat2 shapes cannot be multiplied" in s["linear"]
    for name in ("broadcast", "conv_channels", "view"):
        _check(s, name, "torch.shape-mismatch")
    for name in ("linear_double", "mm_double", "bce_long", "conv_double", "conv_half_bias", "embedding_float"):
        _check(s, name, "torch.dtype-mismatch")
    assert m.confident


def test_real_autograd_errors(run_python):
    """In-place modification of a saved tensor, a second backward, and an in-place op on an unbind view."""
    out = run_python(
        PRELUDE
        + """
def inplace():
    a = torch.randn(3, requires_grad=True)
    b = a.sigmoid(); b.mul_(2); b.sum().backward()
def twice():
    a = torch.randn(3, requires_grad=True)
    b = (a * a).sum(); b.backward(); b.backward()
def view():
    for t in torch.ones(2, 3, requires_grad=True).clone().unbind(0):
        t.mul_(2)
case("inplace", inplace)
case("twice", twice)
case("view", view)
""",
        require=("torch",),
    )
    s = _split(out)
    _check(s, "inplace", "torch.autograd.inplace-modified")
    _check(s, "twice", "torch.autograd.backward-twice")
    _check(s, "view", "torch.autograd.inplace-modified")


def test_real_checkpoint_mismatches(run_python):
    """Another head size, and keys saved from a DataParallel wrapper."""
    out = run_python(
        PRELUDE
        + """
def head():
    src = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 3))
    dst = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 5))
    dst.load_state_dict(src.state_dict())
def prefix():
    m = nn.Linear(4, 3)
    m.load_state_dict({"module." + k: v for k, v in m.state_dict().items()})
case("head", head)
case("prefix", prefix)
""",
        require=("torch",),
    )
    s = _split(out)
    _check(s, "head", "torch.checkpoint.mismatch")
    assert "torch.shape-mismatch" not in [m.cause for m in diagnose(s["head"])][:1]
    _check(s, "prefix", "torch.checkpoint.mismatch")
    assert any(x.signature == "torch-checkpoint-dataparallel-module-prefix" for x in diagnose(s["prefix"]))


def test_real_weights_only_refuses_custom_class(run_python, tmp_path):
    """An uncaught torch.load of a checkpoint holding a pickled config object (PyTorch >= 2.6 default)."""
    ck = tmp_path / "run42.pt"
    out = run_python(
        f"""
import torch
class TrainConfig:
    lr = 0.1
torch.save({{"cfg": TrainConfig(), "w": torch.ones(2)}}, {str(ck)!r})
torch.load({str(ck)!r})
""",
        require=("torch",),
    )
    from importlib.metadata import version

    from packaging.version import Version

    if Version(version("torch").split("+")[0]) < Version("2.6"):
        pytest.skip("torch < 2.6 loads with weights_only=False by default")
    m = assert_matches(out, "torch.load.weights-only")
    assert m.facts.get("global_name", "").endswith("TrainConfig"), m.facts


def test_real_device_and_index_errors(run_python):
    """Meta vs CPU tensors (the CPU-build stand-in for cuda:0 vs cpu) and a CPU embedding index out of range."""
    out = run_python(
        PRELUDE
        + """
case("meta_add", lambda: torch.ones(2, device="meta") + torch.ones(2))
case("meta_linear", lambda: nn.Linear(2, 2).to("meta")(torch.ones(1, 2)))
case("meta_lstm", lambda: nn.LSTM(4, 5).to("meta")(torch.randn(2, 3, 4)))
case("embedding_index", lambda: nn.Embedding(10, 3)(torch.tensor([12])))
""",
        require=("torch",),
    )
    s = _split(out)
    for name in ("meta_add", "meta_linear", "meta_lstm"):
        _check(s, name, "torch.device-mismatch")
    m = _check(s, "embedding_index", "torch.cuda.device-side-assert", confident=False)
    assert not m.confident


def test_real_ordinary_failures_stay_silent(run_python, tmp_path):
    """A Git-LFS pointer saved as .pt (both torch.load defaults) and a truncated checkpoint are weights files that
    are not checkpoints (wave 2's model.file.not-a-checkpoint, never the weights-only cause); a missing file is an
    ordinary failure: torch frames everywhere, nothing confident."""
    lfs = tmp_path / "model.pt"
    lfs.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:4d7a2146\nsize 102400\n")
    trunc = tmp_path / "half.pt"
    out = run_python(
        PRELUDE
        + f"""
def truncated():
    torch.save(torch.ones(1000), {str(trunc)!r})
    data = open({str(trunc)!r}, "rb").read()
    open({str(trunc)!r}, "wb").write(data[: len(data) // 2])
    torch.load({str(trunc)!r})
case("lfs_default", lambda: torch.load({str(lfs)!r}))
case("lfs_unsafe", lambda: torch.load({str(lfs)!r}, weights_only=False))
case("truncated", truncated)
case("missing", lambda: torch.load("checkpoints/best_cuda0.pt", map_location="cpu"))
""",
        require=("torch",),
    )
    s = _split(out)
    for name in ("lfs_default", "lfs_unsafe", "truncated", "missing"):
        text = s[name]
        assert "Traceback (most recent call last)" in text, text
        if name == "missing":
            assert_silent(text)
        else:
            ms = diagnose(text)
            assert ms and ms[0].cause == "model.file.not-a-checkpoint", (name, [(m.cause, m.score) for m in ms[:3]])
        for m in diagnose(text):
            assert not (m.cause in OWN and m.score >= 0.5), f"{name}: {m.cause} {m.score:.2f} [{m.signature}]"
