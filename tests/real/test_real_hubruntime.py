"""Real failures of the hub/runtime family on CPU: files that are not checkpoints, distributed runs started without
a launcher, and a harmless library warning, produced by torch, h5py and safetensors in a subprocess.

A full disk and the Hugging Face Hub (network, tokens) cannot be produced here without root or network; their cases
live in kb/signatures/hub-runtime/*.cases.yaml.
"""

import pytest

from dnnfix.testing import assert_matches, assert_silent, diagnose

from ._harness import CASE_PRELUDE, split_cases

pytestmark = pytest.mark.framework

NOT_A_CKPT = "model.file.not-a-checkpoint"
LAUNCH = "dist.launch.misconfigured"

# What `git clone` without git-lfs and a Google Drive virus-scan page leave in place of the weights.
FILES = (
    CASE_PRELUDE
    + r"""
POINTER = ("version https://git-lfs.github.com/spec/v1\n"
           "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 2568434\n")
PAGE = "<!DOCTYPE html><html><head><title>Google Drive - Virus scan warning</title></head><body></body></html>\n"
def write(name, text):
    with open(name, "w") as f:
        f.write(text)
def truncate(src, dst):
    data = open(src, "rb").read()
    with open(dst, "wb") as f:
        f.write(data[: len(data) // 2])
"""
)


def test_real_torch_load_pointer_page_and_truncated_file(run_python):
    """torch.load on an LFS pointer / HTML page (both unpicklers), a cut-off zip checkpoint and an empty file."""
    out = run_python(
        FILES
        + """
import torch
write("ptr.pth", POINTER); write("page.pth", PAGE)
torch.save({"w": torch.randn(100000)}, "good.pt"); truncate("good.pt", "half.pt")
torch.save({"w": torch.randn(2000)}, "tiny.pt"); truncate("tiny.pt", "tiny_half.pt")
open("empty.pt", "wb").close()
case("pointer_default", lambda: torch.load("ptr.pth"))
case("pointer_pickle", lambda: torch.load("ptr.pth", weights_only=False))
case("page_default", lambda: torch.load("page.pth"))
case("page_pickle", lambda: torch.load("page.pth", weights_only=False))
case("truncated", lambda: torch.load("half.pt"))
case("tiny_truncated", lambda: torch.load("tiny_half.pt"))
case("empty", lambda: torch.load("empty.pt", weights_only=False))
""",
        require=("torch",),
    )
    s = split_cases(out)
    # a small file cut short makes the zip reader fail with EINVAL instead of the central-directory message
    # the weights-only unpickler's "Unsupported operand 118" (a pointer's 'v') leads to the broken file but is not
    # confident: real threads show the same text for old checkpoints that load with weights_only=False
    assert "Traceback (most recent call last)" in s["pointer_default"], s["pointer_default"]
    assert not assert_matches(s["pointer_default"], NOT_A_CKPT, confident=False).confident
    for name in (
        "pointer_pickle",
        "page_default",
        "page_pickle",
        "truncated",
        "tiny_truncated",
        "empty",
    ):
        assert "Traceback (most recent call last)" in s[name], s[name]
        assert_matches(s[name], NOT_A_CKPT)
    assert "Unsupported operand 118" in s["pointer_default"] or "invalid load key" in s["pointer_default"]
    assert "failed finding central directory" in s["truncated"]
    # the weights-only refusal of a pointer must not read as a weights_only class problem
    causes = [m.cause for m in diagnose(s["pointer_default"])]
    assert causes[0] == NOT_A_CKPT, causes


def test_real_h5py_truncated_and_pointer_file(run_python):
    """h5py on a half-copied HDF5 file, and on an LFS pointer the user then prints."""
    out = run_python(
        FILES
        + """
import h5py, numpy as np
with h5py.File("full.h5", "w") as f:
    f["x"] = np.arange(200000)
truncate("full.h5", "half.h5"); write("ptr.h5", POINTER)
case("truncated", lambda: h5py.File("half.h5", "r"))
def pointer():
    try:
        h5py.File("ptr.h5", "r")
    finally:
        print("$ head -3 ptr.h5"); print(open("ptr.h5").read())
case("pointer", pointer)
""",
        require=("h5py",),
    )
    s = split_cases(out)
    assert "truncated file" in s["truncated"], s["truncated"]
    assert_matches(s["truncated"], NOT_A_CKPT)
    assert "file signature not found" in s["pointer"], s["pointer"]
    assert_matches(s["pointer"], NOT_A_CKPT)


def test_real_safetensors_pointer_and_truncated_file(run_python):
    """safetensors on an LFS pointer, an HTML page and a cut-off file."""
    out = run_python(
        FILES
        + """
import numpy as np
from safetensors.numpy import save_file, load_file
save_file({"w": np.zeros(4096, dtype=np.float32)}, "good.safetensors"); truncate("good.safetensors", "half.safetensors")
write("ptr.safetensors", POINTER); write("page.safetensors", PAGE)
case("pointer", lambda: load_file("ptr.safetensors"))
case("page", lambda: load_file("page.safetensors"))
case("truncated", lambda: load_file("half.safetensors"))
""",
        require=("safetensors", "numpy"),
    )
    s = split_cases(out)
    for name in ("pointer", "page", "truncated"):
        assert "Error while deserializing header" in s[name], s[name]
        assert_matches(s[name], NOT_A_CKPT)


def test_real_distributed_without_launcher(run_python):
    """init_process_group with no RANK / MASTER_PORT, a collective without a process group, a port in use."""
    out = run_python(
        CASE_PRELUDE
        + """
import os, socket
import torch, torch.distributed as dist
for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK"):
    os.environ.pop(k, None)
case("no_rank", lambda: dist.init_process_group("gloo"))
case("no_group", lambda: dist.all_reduce(torch.ones(1)))
case("local_rank", lambda: int(os.environ["LOCAL_RANK"]))
os.environ.update(RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1")
case("no_port", lambda: dist.init_process_group("gloo"))
busy = socket.socket(); busy.bind(("127.0.0.1", 0)); busy.listen(); port = busy.getsockname()[1]
case("port_in_use", lambda: dist.TCPStore("127.0.0.1", port, 1, True))
""",
        require=("torch",),
    )
    s = split_cases(out)
    assert "RANK expected, but not set" in s["no_rank"], s["no_rank"]
    for name in ("no_rank", "no_group", "local_rank", "no_port", "port_in_use"):
        assert "Traceback (most recent call last)" in s[name], s[name]
        assert_matches(s[name], LAUNCH)


def test_real_library_warning_alone_and_before_an_error(run_python):
    """DataLoader's worker-count warning is benign on its own, and silent when a real error follows it."""
    out = run_python(
        CASE_PRELUDE
        + """
import os, sys, warnings
sys.stderr = sys.stdout          # a terminal shows both streams, in order
warnings.simplefilter("always")
from torch.utils.data import DataLoader
loader = DataLoader(list(range(8)), num_workers=4 * (os.cpu_count() or 1) + 8)
def warn_only():
    loader.check_worker_number_rationality()      # what iterating the loader calls first
def warn_then_error():
    loader.check_worker_number_rationality()
    return {"epochs": 3}["lr"]
case("warn_only", warn_only)
case("warn_then_error", warn_then_error)
""",
        require=("torch",),
    )
    s = split_cases(out)
    assert "Our suggested max number of worker" in s["warn_only"], s["warn_only"]
    assert "Traceback" not in s["warn_only"], s["warn_only"]
    assert_matches(s["warn_only"], "py.log.benign-warning")
    assert "Our suggested max number of worker" in s["warn_then_error"] and "KeyError: 'lr'" in s["warn_then_error"]
    assert_silent(s["warn_then_error"])
