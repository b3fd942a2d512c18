"""Real extension failures on the CPU build of torch: torchvision's operators missing from torch's dispatcher, a
compiled extension whose C++ symbols this libtorch does not export, and Triton absent for torch.compile.

The extension is a real shared object built here with the system C compiler: it references a c10 symbol the
way a flash-attn wheel built for another torch does, so the dynamic loader prints its own "undefined symbol"
error when Python or torch.ops.load_library opens it. bitsandbytes, onnxruntime, transformers and llama.cpp are
not installed in the test environment; their causes are covered by the knowledge-base cases.
"""

import shutil
import subprocess
import sysconfig

import pytest

from dnnfix.testing import assert_matches

from ._harness import CASE_PRELUDE, split_cases

pytestmark = pytest.mark.framework

PRELUDE = (
    CASE_PRELUDE
    + """
import torch
"""
)

# A symbol from c10 (torch's core) with a signature that no torch release exports: the loader must fail on it.
_EXT_C = r"""
extern void dnnfix_missing_c10(void) __asm__("_ZN3c104cuda9SetDeviceEiPKcDnnfixGone");
void flash_fwd_stub(void) { dnnfix_missing_c10(); }
"""


def _check(segments: dict, name: str, cause: str, **kw):
    text = segments[name]
    assert "Traceback (most recent call last)" in text, text
    return assert_matches(text, cause, **kw)


def test_real_torchvision_ops_missing(run_python):
    """torchvision's meta registrations and op lookups against a torch that never loaded torchvision's _C."""
    out = run_python(
        PRELUDE
        + """
def register_like_torchvision():
    # torchvision/_meta_registrations.py does exactly this at import; it fails when torchvision/_C.so did not load.
    @torch.library.register_fake("torchvision::nms")
    def meta_nms(dets, scores, iou_threshold):
        return dets.new_empty(0, dtype=torch.long)

case("register_fake_nms", register_like_torchvision)
case("ops_lookup_roi_align", lambda: torch.ops.torchvision.roi_align)
""",
        require=("torch",),
    )
    s = split_cases(out)
    assert "operator torchvision::nms does not exist" in s["register_fake_nms"]
    _check(s, "register_fake_nms", "torch.vision.version-mismatch")
    _check(s, "ops_lookup_roi_align", "torch.vision.version-mismatch")


def test_real_extension_undefined_torch_symbol(run_python, tmp_path):
    """Importing (and torch.ops.load_library-ing) a compiled extension that needs a c10 symbol torch lacks."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build the test extension")
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    if not suffix.endswith(".so"):
        pytest.skip("the loader message checked here is the ELF (Linux) one")
    src = tmp_path / "ext.c"
    src.write_text(_EXT_C)
    so = tmp_path / ("flash_attn_2_cuda" + suffix)
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(so), str(src)], check=True, capture_output=True)
    out = run_python(
        PRELUDE
        + """
import sys
sys.path.insert(0, %r)
def import_ext():
    import flash_attn_2_cuda  # noqa: F401
case("import_extension", import_ext)
case("load_library", lambda: torch.ops.load_library(%r))
"""
        % (str(tmp_path), str(so)),
        require=("torch",),
    )
    s = split_cases(out)
    assert "undefined symbol: _ZN3c10" in s["import_extension"], s["import_extension"]
    m = _check(s, "import_extension", "ext.abi-mismatch")
    assert m.facts.get("extension") == "flash_attn_2_cuda", m.facts
    assert m.facts.get("symbol", "").startswith("_ZN3c10"), m.facts
    _check(s, "load_library", "ext.abi-mismatch")


def test_real_triton_absent(run_python):
    """No triton on this machine: the import itself, and torch's own TritonMissing as Inductor raises it."""
    out = run_python(
        PRELUDE
        + """
import torch.utils._triton as tt
print("HAS_TRITON", tt.has_triton_package())
def import_triton():
    import triton  # noqa: F401
def inductor_without_triton():
    # torch/_inductor/scheduler.py create_backend raises this for a GPU device when has_triton() is False.
    import inspect
    from torch._inductor.exc import TritonMissing
    raise TritonMissing(inspect.currentframe())
case("import_triton", import_triton)
case("triton_missing", inductor_without_triton)
""",
        require=("torch",),
    )
    if "HAS_TRITON True" in out:
        pytest.skip("triton is installed here; its absence cannot be shown")
    s = split_cases(out)
    _check(s, "import_triton", "triton.unavailable-or-mismatch")
    assert "Cannot find a working triton installation" in s["triton_missing"]
    _check(s, "triton_missing", "triton.unavailable-or-mismatch")
