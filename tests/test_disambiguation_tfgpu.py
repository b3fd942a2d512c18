"""TensorFlow GPU look-alikes land on the right cause: a missing cuDNN vs a too-old one (from text, and from the
environment snapshot), GPU memory taken at start-up vs a tensor that does not fit vs a version problem, a missing
CUDA toolkit vs one of the wrong version, and harmless start-up logs vs the real error printed below them."""
import pytest

from dnnfix.testing import assert_matches, assert_silent, diagnose

CUDNN_OLD = "tf.cudnn.version-mismatch"
CUDNN_MISSING = "tf.cudnn.not-found"
CUDA_LIBS = "tf.cuda.libs-not-found"
CUDA_VERSION = "tf.cuda.version-mismatch"
AT_INIT = "gpu.memory.exhausted-at-init"
TF_OOM = "tf.gpu.oom"
NOISE = "tf.log.benign-noise"

TS = "2023-06-01 10:00:00.000000"
DNN_NOT_FOUND = ("tensorflow.python.framework.errors_impl.UnimplementedError: Graph execution error:\n\n"
                 "DNN library is not found.\n\t [[{{node sequential/conv2d/Conv2D}}]] [Op:__inference_train_function_911]\n")
LSTM_NO_DNN = ("tensorflow.python.framework.errors_impl.UnknownError: Graph execution error:\n\n"
               "Fail to find the dnn implementation.\n\t [[{{node CudnnRNN}}]] [Op:__inference_train_function_5930]\n")
CUDNN_DLOPEN = (f"{TS}: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library "
                "'libcudnn.so.8'; dlerror: libcudnn.so.8: cannot open shared object file: No such file or directory\n")
LOADED_OLDER = (f"{TS}: E tensorflow/stream_executor/cuda/cuda_dnn.cc:361] Loaded runtime CuDNN library: 8.0.5 but "
                "source was compiled with: 8.1.0.  CuDNN library needs to have matching major version and equal or "
                "higher minor version. If using a binary install, upgrade your CuDNN library.\n")
HANDLE_INTERNAL = f"{TS}: E tensorflow/stream_executor/cuda/cuda_dnn.cc:328] Could not create cudnn handle: CUDNN_STATUS_INTERNAL_ERROR\n"
CONV_ALGO = ("tensorflow.python.framework.errors_impl.UnknownError:  Failed to get convolution algorithm. This is "
             "probably because cuDNN failed to initialize, so try looking to see if a warning log message was "
             "printed above.\n\t [[node model/conv2d/Conv2D (defined at train.py:40) ]] [Op:__inference_train_function_1097]\n")
GPU_OOM = ("tensorflow.python.framework.errors_impl.ResourceExhaustedError: Graph execution error:\n\n"
           "OOM when allocating tensor with shape[64,256,112,112] and type float on "
           "/job:localhost/replica:0/task:0/device:GPU:0 by allocator GPU_0_bfc\n\t [[{{node model/conv2d_3/Conv2D}}]]\n")


def _causes(text, env=None):
    return [(m.cause, round(m.score, 2), m.signature) for m in diagnose(text, env=env)[:4]]


def _confident(text, cause, env=None):
    return [m for m in diagnose(text, env=env) if m.cause == cause and m.confident]


def _has_compat():
    try:
        from dnnfix import compat

        return compat.derive({"packages": {"tensorflow": "2.15.0"}}).get("expected", {}).get("tf", {}).get("cudnn")
    except Exception:  # noqa: BLE001 - tables not shipped in this checkout
        return None


needs_compat = pytest.mark.skipif(not _has_compat(), reason="compat tables (kb/compat) not available")


# ---------------------------------------------------------------- cuDNN: missing vs too old, text only
@pytest.mark.parametrize("text", [DNN_NOT_FOUND, LSTM_NO_DNN,
                                  "InvalidArgumentError: Graph execution error:\n\nNo DNN in stream executor.\n"])
def test_dnn_unavailable_from_text_alone_is_version_mismatch(text):
    """Without proof of absence, 'DNN library is not found' and friends rank the version mismatch first."""
    assert_matches(text, CUDNN_OLD)
    assert not _confident(text, CUDNN_MISSING), _causes(text)


@pytest.mark.parametrize("absent", [
    CUDNN_DLOPEN,
    "I tensorflow/stream_executor/cuda/cuda_dnn.cc:3517] Unable to load cuDNN DSO\n",
    "ImportError: libcudnn.so.7: cannot open shared object file: No such file or directory\n",
    f"{TS}: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library "
    "'cudnn64_8.dll'; dlerror: cudnn64_8.dll not found\n",
])
def test_text_showing_cudnn_absent_is_not_found(absent):
    """A cuDNN that cannot be loaded at all beats the version-mismatch prior."""
    text = absent + DNN_NOT_FOUND
    assert_matches(text, CUDNN_MISSING)
    assert not _confident(text, CUDNN_OLD), _causes(text)


def test_loaded_older_line_captures_both_versions():
    """The loaded and compiled versions are captured for the explanation."""
    m = assert_matches(LOADED_OLDER + DNN_NOT_FOUND, CUDNN_OLD)
    assert m.facts.get("loaded") == "8.0.5" and m.facts.get("compiled") == "8.1.0", m.facts


def test_tf1_compatibility_version_wording():
    """TF 1.x's '7003 (compatibility version 7000) but source was compiled with 6021' is the same cause."""
    text = (f"{TS}: E tensorflow/stream_executor/cuda/cuda_dnn.cc:378] Loaded runtime CuDNN library: 7003 "
            "(compatibility version 7000) but source was compiled with 6021 (compatibility version 6000).  If using "
            "a binary install, upgrade your CuDNN library to match.\n")
    m = assert_matches(text, CUDNN_OLD)
    assert m.facts.get("loaded") == "7003" and m.facts.get("compiled") == "6021"


def test_same_line_under_jax_is_not_tensorflow():
    """JAX prints the same cuda_dnn.cc line; jaxlib frames keep it away from the TensorFlow cause."""
    text = ("E0508 03:34:06.237713 14701 cuda_dnn.cc:522] Loaded runtime CuDNN library: 9.0.0 but source was "
            "compiled with: 9.1.1. CuDNN library needs to have matching major version and equal or higher minor "
            "version.\nTraceback (most recent call last):\n"
            '  File "/home/li/.venvs/jx/lib/python3.11/site-packages/jax/_src/numpy/lax_numpy.py", line 3511, in dot\n'
            "    return lax.dot_general(a, b)\n"
            "jaxlib.xla_extension.XlaRuntimeError: FAILED_PRECONDITION: DNN library initialization failed.\n")
    assert not _confident(text, CUDNN_OLD), _causes(text)


# ---------------------------------------------------------------- cuDNN: with environment facts
GPU_ENV = {"gpus": [{"name": "NVIDIA GeForce RTX 3090", "memory_total_mb": 24576}]}


def test_probe_without_cudnn_and_gpu_present_is_not_found():
    """The probe looked (cuda section present) and found no cuDNN while a GPU exists: not found."""
    env = dict(GPU_ENV, cuda={"runtime_version": "12.2"}, packages={"tensorflow": "2.15.0"})
    assert_matches(DNN_NOT_FOUND, CUDNN_MISSING, env=env)
    assert not _confident(DNN_NOT_FOUND, CUDNN_OLD, env=env), _causes(DNN_NOT_FOUND, env)


def test_no_probe_section_means_unknown_not_absent():
    """Without a cuda section the cuDNN version is unknown, so the text-only ranking stays."""
    assert_matches(DNN_NOT_FOUND, CUDNN_OLD, env=dict(GPU_ENV, packages={"tensorflow": "2.15.0"}))


@needs_compat
@pytest.mark.parametrize("text", [DNN_NOT_FOUND, CONV_ALGO, HANDLE_INTERNAL])
def test_probe_cudnn_older_than_expected_is_version_mismatch(text):
    """cuDNN 8.6 under TF 2.15 (built with 8.9): version mismatch, even for the memory-looking messages."""
    env = dict(GPU_ENV, cuda={"cudnn_version": "8.6", "runtime_version": "12.2"}, packages={"tensorflow": "2.15.0"})
    assert_matches(text, CUDNN_OLD, env=env)
    assert not _confident(text, AT_INIT, env=env), _causes(text, env)


@needs_compat
def test_probe_cudnn_new_enough_keeps_memory_cause():
    """With the expected cuDNN present, a failed handle is memory again."""
    env = dict(GPU_ENV, cuda={"cudnn_version": "8.9", "runtime_version": "12.2"}, packages={"tensorflow": "2.15.0"})
    assert_matches(HANDLE_INTERNAL + CONV_ALGO, AT_INIT, env=env)


# ---------------------------------------------------------------- memory at start-up vs tensor OOM vs versions
@pytest.mark.parametrize("text", [
    HANDLE_INTERNAL + CONV_ALGO,
    f"{TS}: E tensorflow/stream_executor/cuda/cuda_dnn.cc:334] Could not create cudnn handle: CUDNN_STATUS_ALLOC_FAILED\n" + CONV_ALGO,
    f"{TS}: E tensorflow/stream_executor/cuda/cuda_blas.cc:464] failed to create cublas handle: CUBLAS_STATUS_NOT_INITIALIZED\n"
    "tensorflow.python.framework.errors_impl.InternalError: Blas GEMM launch failed : a.shape=(32, 1000), "
    "b.shape=(1000, 512), m=32, n=512, k=1000\n",
    "tensorflow.python.framework.errors_impl.InternalError: CUDA runtime implicit initialization on GPU:0 failed. "
    "Status: out of memory\n",
    f"{TS}: E tensorflow/stream_executor/cuda/cuda_dnn.cc:389] Could not create cudnn handle: CUDNN_STATUS_NOT_INITIALIZED\n"
    f"{TS}: E tensorflow/stream_executor/cuda/cuda_dnn.cc:393] Memory usage: 3145728 bytes free, 11554717696 bytes total.\n",
])
def test_handle_failures_are_memory_taken_at_init(text):
    """cuDNN/cuBLAS handles or the context could not be created: memory was taken before the model ran."""
    assert_matches(text, AT_INIT)
    assert not _confident(text, TF_OOM), _causes(text)


def test_handle_failure_with_memory_all_free_is_a_version_problem():
    """'Memory usage: almost all free' next to the handle failure rules memory out."""
    text = (f"{TS}: E tensorflow/compiler/xla/stream_executor/cuda/cuda_dnn.cc:439] Could not create cudnn handle: "
            "CUDNN_STATUS_NOT_INITIALIZED\n"
            f"{TS}: E tensorflow/compiler/xla/stream_executor/cuda/cuda_dnn.cc:443] Memory usage: 15642132480 bytes "
            "free, 15843721216 bytes total.\n" + DNN_NOT_FOUND)
    assert_matches(text, CUDNN_OLD)
    assert not _confident(text, AT_INIT), _causes(text)


def test_loaded_older_beats_handle_failure():
    """The explicit version line outranks the memory reading of the same failure."""
    text = LOADED_OLDER + HANDLE_INTERNAL + CONV_ALGO
    assert_matches(text, CUDNN_OLD)
    assert not _confident(text, AT_INIT), _causes(text)


@pytest.mark.parametrize("text", [
    GPU_OOM,
    "tensorflow.python.framework.errors_impl.InternalError: Dst tensor is not initialized.\n",
    "tensorflow.python.framework.errors_impl.ResourceExhaustedError: failed to allocate memory [Op:AddV2]\n",
    f"{TS}: I tensorflow/stream_executor/cuda/cuda_driver.cc:801] failed to allocate 1.12G (1202716672 bytes) from "
    "device: CUDA_ERROR_OUT_OF_MEMORY: out of memory\n" + GPU_OOM,
])
def test_tensor_allocation_failures_are_gpu_oom(text):
    """A tensor that does not fit during the run is tf.gpu.oom, not start-up exhaustion."""
    assert_matches(text, TF_OOM)
    assert not _confident(text, AT_INIT), _causes(text)


def test_cpu_allocator_oom_is_not_gpu():
    """'on device:CPU:0 by allocator cpu' is host RAM."""
    text = GPU_OOM.replace("device:GPU:0 by allocator GPU_0_bfc", "device:CPU:0 by allocator cpu")
    assert not _confident(text, TF_OOM), _causes(text)
    assert_matches(text, "host.ram.exhausted")


def test_torch_cublas_not_initialized_stays_weak_here():
    """PyTorch's CUBLAS_STATUS_NOT_INITIALIZED 'when calling cublasCreate(handle)' is not claimed by the TF signature."""
    text = ("Traceback (most recent call last):\n"
            '  File "/home/a/.venv/lib/python3.10/site-packages/torch/nn/modules/linear.py", line 114, in forward\n'
            "    return F.linear(input, self.weight, self.bias)\n"
            "RuntimeError: CUDA error: CUBLAS_STATUS_NOT_INITIALIZED when calling `cublasCreate(handle)`\n")
    assert not _confident(text, AT_INIT), _causes(text)


def test_kernel_image_invalid_is_not_memory():
    """'implicit initialization ... device kernel image is invalid' is an architecture problem, not memory."""
    text = ("tensorflow.python.framework.errors_impl.InternalError: CUDA runtime implicit initialization on GPU:0 "
            "failed. Status: device kernel image is invalid\n")
    assert not _confident(text, AT_INIT), _causes(text)


# ---------------------------------------------------------------- CUDA libraries: missing vs wrong version
ALL_MISSING = "".join(
    f"{TS}: W tensorflow/stream_executor/platform/default/dso_loader.cc:60] Could not load dynamic library '{lib}'; "
    f"dlerror: {lib}: cannot open shared object file: No such file or directory\n"
    for lib in ("libcudart.so.11.0", "libcublas.so.11", "libcufft.so.10", "libcusolver.so.11", "libcudnn.so.8"))
CANNOT_DLOPEN = (f"{TS}: W tensorflow/core/common_runtime/gpu/gpu_device.cc:1850] Cannot dlopen some GPU libraries. "
                 "Please make sure the missing libraries mentioned above are installed properly if you would like to "
                 "use GPU.\nSkipping registering GPU devices...\n")


def test_every_library_missing_is_libs_not_found():
    """No toolkit at all: libs-not-found, neither the version nor the cuDNN cause."""
    text = ALL_MISSING + CANNOT_DLOPEN
    assert_matches(text, CUDA_LIBS)
    assert not _confident(text, CUDA_VERSION), _causes(text)
    assert not _confident(text, CUDNN_MISSING), _causes(text)


def test_other_cuda_major_on_ld_library_path_is_version_mismatch():
    """TF asks for libcudart.so.11.0 while LD_LIBRARY_PATH holds CUDA 12: version mismatch."""
    text = (f"{TS}: W tensorflow/compiler/xla/stream_executor/platform/default/dso_loader.cc:64] Could not load "
            "dynamic library 'libcudart.so.11.0'; dlerror: libcudart.so.11.0: cannot open shared object file: No such "
            "file or directory; LD_LIBRARY_PATH: /usr/local/cuda-12.2/lib64\n" + CANNOT_DLOPEN)
    m = assert_matches(text, CUDA_VERSION)
    assert m.facts.get("cuda_on_path") == "12.2", m.facts
    assert not _confident(text, CUDA_LIBS), _causes(text)


def test_same_major_on_ld_library_path_stays_libs_not_found():
    """CUDA 11.2 on the path while libcudart.so.11.0 fails: same major, the libraries are just not there."""
    text = (f"{TS}: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library "
            "'libcudart.so.11.0'; dlerror: libcudart.so.11.0: cannot open shared object file: No such file or "
            "directory; LD_LIBRARY_PATH: /usr/local/cuda-11.2/lib64\n" + CANNOT_DLOPEN)
    assert_matches(text, CUDA_LIBS)


def test_single_foreign_soname_while_runtime_loaded_is_version_mismatch():
    """TF 2.4 wants libcusolver.so.10 while CUDA 11.1's libcudart loaded: version skew."""
    text = (f"{TS}: I tensorflow/stream_executor/platform/default/dso_loader.cc:49] Successfully opened dynamic "
            "library libcudart.so.11.0\n"
            f"{TS}: W tensorflow/stream_executor/platform/default/dso_loader.cc:60] Could not load dynamic library "
            "'libcusolver.so.10'; dlerror: libcusolver.so.10: cannot open shared object file: No such file or directory\n"
            + CANNOT_DLOPEN)
    assert_matches(text, CUDA_VERSION)


@needs_compat
def test_probe_cuda_major_differs_from_build_is_version_mismatch():
    """The probe's CUDA 12.2 under TF 2.11 (built for CUDA 11.2) turns a plain dlopen log into a version mismatch."""
    env = dict(GPU_ENV, cuda={"runtime_version": "12.2", "cudnn_version": "8.9"}, packages={"tensorflow": "2.11.0"})
    text = ALL_MISSING + CANNOT_DLOPEN
    assert_matches(text, CUDA_VERSION, env=env)


def test_cpu_only_machine_cudart_note_is_not_libs_not_found():
    """A CPU-only machine prints the libcudart dlerror with 'Ignore above'; an ordinary error after it is the problem."""
    text = (f"{TS}: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library "
            "'libcudart.so.11.0'; dlerror: libcudart.so.11.0: cannot open shared object file: No such file or directory\n"
            f"{TS}: I tensorflow/stream_executor/cuda/cudart_stub.cc:29] Ignore above cudart dlerror if you do not "
            "have a GPU set up on your machine.\n"
            "FileNotFoundError: [Errno 2] No such file or directory: 'data/test.csv'\n")
    assert_silent(text)


# ---------------------------------------------------------------- harmless start-up logs vs the real error
NOISE_LINES = {
    "factory": (f"{TS}: E external/local_xla/xla/stream_executor/cuda/cuda_dnn.cc:9261] Unable to register cuDNN "
                "factory: Attempting to register factory for plugin cuDNN when one has already been registered\n"),
    "numa": (f"{TS}: I tensorflow/compiler/xla/stream_executor/cuda/cuda_gpu_executor.cc:894] successful NUMA node "
             "read from SysFS had negative value (-1), but there must be at least one NUMA node, so returning NUMA "
             "node zero\n"),
    "cpu": (f"{TS}: I tensorflow/core/platform/cpu_feature_guard.cc:182] This TensorFlow binary is optimized to use "
            "available CPU instructions in performance-critical operations.\nTo enable the following instructions: "
            "AVX2 FMA, in other operations, rebuild TensorFlow with the appropriate compiler flags.\n"),
    "onednn": (f"{TS}: I tensorflow/core/util/port.cc:113] oneDNN custom operations are on. You may see slightly "
               "different numerical results due to floating-point round-off errors from different computation "
               "orders. To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.\n"),
    "tensorrt": f"{TS}: W tensorflow/compiler/tf2tensorrt/utils/py_utils.cc:38] TF-TRT Warning: Could not find TensorRT\n",
    "nodriver": (f"{TS}: I tensorflow/tsl/cuda/cudart_stub.cc:28] Could not find cuda drivers on your machine, GPU "
                 "will not be used.\n"),
}


@pytest.mark.parametrize("name", sorted(NOISE_LINES))
def test_noise_alone_is_benign(name):
    """Each start-up line on its own is benign noise."""
    assert_matches(NOISE_LINES[name], NOISE)


ALL_NOISE = "".join(NOISE_LINES[k] for k in ("onednn", "factory", "cpu", "tensorrt", "numa"))


@pytest.mark.parametrize("error,cause", [
    (GPU_OOM, TF_OOM),
    (HANDLE_INTERNAL + CONV_ALGO, AT_INIT),
    (LOADED_OLDER + DNN_NOT_FOUND, CUDNN_OLD),
    (CANNOT_DLOPEN, CUDA_LIBS),
    ("tensorflow.python.framework.errors_impl.InternalError: libdevice not found at ./libdevice.10.bc [Op:__inference_train_function_71]\n",
     "tf.xla.cuda-toolkit-missing"),
])
def test_noise_then_real_gpu_error_gives_the_real_cause(error, cause):
    """Benign lines above a real GPU error: the real error's cause wins and the noise is not confident."""
    text = ALL_NOISE + error
    assert_matches(text, cause)
    assert not _confident(text, NOISE), _causes(text)


@pytest.mark.parametrize("error", [
    "Traceback (most recent call last):\n  File \"run.py\", line 3, in <module>\n    open('weights/best.h5')\n"
    "FileNotFoundError: [Errno 2] No such file or directory: 'weights/best.h5'\n",
    "Traceback (most recent call last):\n  File \"plot.py\", line 9, in <module>\n"
    "    plt.plot(h.history['val_acc'])\nKeyError: 'val_acc'\n",
    "Segmentation fault (core dumped)\n",
])
def test_noise_then_ordinary_failure_is_not_benign(error):
    """An ordinary failure after the noise is the user's problem: nothing claims 'benign'."""
    text = ALL_NOISE + error
    assert not _confident(text, NOISE), _causes(text)


def test_fatal_avx_message_is_not_benign():
    """'compiled to use AVX instructions, but these aren't available' then Aborted is fatal, not noise."""
    text = (f"{TS}: F tensorflow/core/platform/cpu_feature_guard.cc:37] The TensorFlow library was compiled to use "
            "AVX instructions, but these aren't available on your machine.\nAborted (core dumped)\n")
    assert not _confident(text, NOISE), _causes(text)


def test_no_driver_line_with_gpu_in_snapshot_is_not_noise():
    """'Could not find cuda drivers' on a machine that has a GPU is a real problem."""
    text = NOISE_LINES["nodriver"] + NOISE_LINES["cpu"]
    assert not _confident(text, NOISE, env=GPU_ENV), _causes(text, GPU_ENV)


def test_tensorrt_lines_are_not_missing_cuda_libraries():
    """libnvinfer / 'Cannot dlopen some TensorRT libraries' are optional TensorRT, not the CUDA toolkit."""
    text = (f"{TS}: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library "
            "'libnvinfer.so.7'; dlerror: libnvinfer.so.7: cannot open shared object file: No such file or directory\n"
            f"{TS}: W tensorflow/compiler/tf2tensorrt/utils/py_utils.cc:38] TF-TRT Warning: Cannot dlopen some "
            "TensorRT libraries. If you would like to use Nvidia GPU with TensorRT, please make sure the missing "
            "libraries mentioned above are installed properly.\n")
    assert_matches(text, NOISE)
    assert not _confident(text, CUDA_LIBS), _causes(text)
