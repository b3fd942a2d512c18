"""PyTorch look-alikes must land on the right cause: a device-side assert vs cuBLAS errors (half memory, half a
bad index), device vs dtype mismatch in the same "Input type (...) and weight type (...)" template, and
checkpoint vs computation shape errors."""
import pytest

from dnnfix.testing import assert_matches, assert_silent, diagnose
from dnnfix.testing import ranked_causes as _causes

DEVICE = "torch.device-mismatch"
DTYPE = "torch.dtype-mismatch"
SHAPE = "torch.shape-mismatch"
ASSERT = "torch.cuda.device-side-assert"
CKPT = "torch.checkpoint.mismatch"
OOM = "torch.cuda.oom"
INIT_MEM = "gpu.memory.exhausted-at-init"

BOILER = ("CUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below "
          "might be incorrect.\nFor debugging consider passing CUDA_LAUNCH_BLOCKING=1\n"
          "Compile with `TORCH_USE_CUDA_DSA` to enable device-side assertions.\n")

TB = ('Traceback (most recent call last):\n'
      '  File "train.py", line 88, in <module>\n'
      '    out = model(x)\n'
      '  File "/usr/local/lib/python3.10/dist-packages/torch/nn/modules/module.py", line 1501, in _call_impl\n'
      '    return forward_call(*args, **kwargs)\n'
      '  File "/usr/local/lib/python3.10/dist-packages/torch/nn/modules/conv.py", line 463, in forward\n'
      '    return self._conv_forward(input, self.weight, self.bias)\n')


# ---------------------------------------------------------------- device vs dtype: read the type names
CONV_TYPES = [
    ("cuda-float-vs-cpu-float", "torch.cuda.FloatTensor", "weight", "torch.FloatTensor", DEVICE),
    ("cpu-float-vs-cuda-float", "torch.FloatTensor", "weight", "torch.cuda.FloatTensor", DEVICE),
    ("cuda-half-vs-cpu-half", "torch.cuda.HalfTensor", "weight", "torch.HalfTensor", DEVICE),
    ("mps-vs-cpu", "MPSFloatType", "weight", "torch.FloatTensor", DEVICE),
    ("cuda-half-vs-cuda-float", "torch.cuda.HalfTensor", "weight", "torch.cuda.FloatTensor", DTYPE),
    ("cuda-bf16-vs-cuda-float", "CUDABFloat16Type", "weight", "torch.cuda.FloatTensor", DTYPE),
    ("cpu-half-vs-cpu-float", "torch.HalfTensor", "weight", "torch.FloatTensor", DTYPE),
    ("cpu-double-vs-float-bias", "double", "bias", "float", DTYPE),
    ("cpu-float-vs-half-bias", "float", "bias", "c10::Half", DTYPE),
]


@pytest.mark.parametrize("name,inp,param,ptype,cause", CONV_TYPES, ids=[c[0] for c in CONV_TYPES])
def test_conv_input_weight_types_split_device_from_dtype(name, inp, param, ptype, cause):
    """The same template is a device mismatch when the device parts differ and a dtype mismatch otherwise."""
    text = TB + f"RuntimeError: Input type ({inp}) and {param} type ({ptype}) should be the same\n"
    assert_matches(text, cause)


def test_conv_types_differing_in_device_and_precision_rank_device_then_dtype():
    """cuda.HalfTensor vs FloatTensor differs in both: device first, dtype still in the top 3."""
    text = TB + "RuntimeError: Input type (torch.cuda.HalfTensor) and weight type (torch.FloatTensor) should be the same\n"
    assert_matches(text, DEVICE)
    assert_matches(text, DTYPE, top=3, confident=False)


def test_mkldnn_suffix_keeps_the_device_reading():
    """Older releases append 'or input should be a MKLDNN tensor ...'; the type names still decide."""
    text = ("RuntimeError: Input type (torch.FloatTensor) and weight type (torch.cuda.FloatTensor) should be the "
            "same or input should be a MKLDNN tensor and weight is a dense tensor\n")
    assert_matches(text, DEVICE)


def test_embedding_indices_on_cuda_with_float_dtype_is_dtype():
    """'torch.cuda.FloatTensor' inside an indices-dtype message is about the dtype, not the device."""
    text = ("RuntimeError: Expected tensor for argument #1 'indices' to have scalar type Long; but got "
            "torch.cuda.FloatTensor instead (while checking arguments for embedding)\n")
    assert_matches(text, DTYPE)
    assert DEVICE not in _causes(text)[:1]


def test_same_device_words_in_dtype_message_do_not_make_it_a_device_mismatch():
    text = "RuntimeError: expected mat1 and mat2 to have the same dtype, but got: float != c10::Half\n"
    assert_matches(text, DTYPE)


# ---------------------------------------------------------------- device-side assert vs cuBLAS errors
def test_cublas_not_initialized_in_torch_shows_assert_and_memory_without_confidence():
    """CUBLAS_STATUS_NOT_INITIALIZED from torch: half a bad index, half a full GPU -> both in the top 3."""
    text = (TB.replace("conv.py\", line 463", "linear.py\", line 114").replace(
        "return self._conv_forward(input, self.weight, self.bias)", "return F.linear(input, self.weight, self.bias)")
        + "RuntimeError: CUDA error: CUBLAS_STATUS_NOT_INITIALIZED when calling `cublasCreate(handle)`\n")
    m = assert_matches(text, ASSERT, top=3, confident=False)
    assert not m.confident
    assert_matches(text, INIT_MEM, top=3, confident=False)
    assert_silent(text)


def test_kernel_assertion_lines_make_a_later_cublas_error_a_device_side_assert():
    """The printed kernel assertion proves the index bug even when the exception is a cuBLAS error."""
    text = ("../aten/src/ATen/native/cuda/Indexing.cu:1146: indexSelectLargeIndex: block: [267,0,0], thread: "
            "[64,0,0] Assertion `srcIndex < srcSelectDimSize` failed.\n"
            + TB + "RuntimeError: CUDA error: CUBLAS_STATUS_NOT_INITIALIZED when calling `cublasCreate(handle)`\n")
    assert_matches(text, ASSERT)


def test_cublas_execution_failed_after_device_side_assert():
    text = (TB + "RuntimeError: CUDA error: device-side assert triggered\n" + BOILER
            + "\nDuring handling of the above exception, another exception occurred:\n\n"
            + "RuntimeError: CUDA error: CUBLAS_STATUS_EXECUTION_FAILED when calling `cublasSgemm( handle, opa, "
              "opb, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc)`\n")
    assert_matches(text, ASSERT)


def test_cublas_error_next_to_an_oom_is_memory():
    text = (TB + "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.50 GiB (GPU 0; 11.76 GiB "
            "total capacity; 9.80 GiB already allocated; 612.50 MiB free; 10.10 GiB reserved in total by PyTorch)\n"
            "RuntimeError: CUDA error: CUBLAS_STATUS_NOT_INITIALIZED when calling `cublasCreate(handle)`\n")
    assert_matches(text, OOM)


@pytest.mark.parametrize("error", [
    "CUDA error: an illegal memory access was encountered",
    "CUDA error: uncorrectable ECC error encountered",
    "CUDA error: unspecified launch failure",
])
def test_async_cuda_boilerplate_alone_is_not_a_device_side_assert(error):
    """'Compile with TORCH_USE_CUDA_DSA to enable device-side assertions' follows every CUDA error."""
    text = TB + f"RuntimeError: {error}\n" + BOILER
    for m in diagnose(text):
        if m.cause == ASSERT:
            assert not m.confident, f"{m.signature} {m.score:.2f}"


def test_cpu_index_error_points_at_the_assert_cause_without_confidence():
    text = TB + "IndexError: index out of range in self\n"
    m = assert_matches(text, ASSERT, confident=False)
    assert not m.confident


# ---------------------------------------------------------------- checkpoint vs computation shapes
def test_state_dict_size_mismatch_is_checkpoint_not_shape():
    text = ("RuntimeError: Error(s) in loading state_dict for ResNet:\n"
            "\tsize mismatch for fc.weight: copying a param with shape torch.Size([1000, 2048]) from checkpoint, "
            "the shape in current model is torch.Size([10, 2048]).\n")
    assert_matches(text, CKPT)
    assert SHAPE not in _causes(text)[:1]


def test_module_prefix_keys_are_a_checkpoint_mismatch():
    text = ('RuntimeError: Error(s) in loading state_dict for Net:\n'
            '\tMissing key(s) in state_dict: "conv1.weight", "conv1.bias".\n'
            '\tUnexpected key(s) in state_dict: "module.conv1.weight", "module.conv1.bias".\n')
    m = assert_matches(text, CKPT)
    assert m.signature == "torch-checkpoint-dataparallel-module-prefix" or any(
        x.signature == "torch-checkpoint-dataparallel-module-prefix" for x in diagnose(text))


def test_legacy_m1_m2_size_mismatch_is_shape():
    text = "RuntimeError: size mismatch, m1: [64 x 512], m2: [256 x 10] at /pytorch/aten/src/TH/generic/THTensorMath.cpp:41\n"
    assert_matches(text, SHAPE)
