"""Environment look-alikes in PyTorch and JAX must land on the right cause: the same cuDNN line under TensorFlow
and JAX, a cuDNN handle failure with the card free or full, a DataLoader worker killed by SIGBUS or SIGKILL,
a GPU checkpoint on a CPU wheel or with hidden GPUs, and the many reasons behind "Unable to initialize backend
'cuda'"."""
import pytest

from dnnfix.testing import assert_matches, assert_silent, diagnose
from dnnfix.testing import ranked_causes as _causes

CPU_ONLY = "torch.build.cpu-only"
NOT_VISIBLE = "gpu.device.not-visible"
SHM = "torch.dataloader.shm-exhausted"
RAM = "host.ram.exhausted"
JAX_PLUGIN = "jax.cuda.plugin-missing"
JAX_LIB = "jax.jaxlib.version-mismatch"
JAX_CUDNN = "jax.cudnn.version-mismatch"
JAX_CUDA = "jax.cuda.version-mismatch"
JAX_OOM = "jax.gpu.oom"
TF_CUDNN = "tf.cudnn.version-mismatch"
TF_OOM = "tf.gpu.oom"


def _confident(text, cause):
    return any(m.confident for m in diagnose(text) if m.cause == cause)


# ---------------------------------------------------------------- the shared cuda_dnn.cc line
LOADED = ("E0000 00:00:1716311244.102983    3410 cuda_dnn.cc:535] Loaded runtime CuDNN library: 8.5.0 but source "
          "was compiled with: 8.6.0.  CuDNN library needs to have matching major version and equal or higher minor "
          "version.\n")
JAX_TAIL = ('  File "/home/u/venv/lib/python3.10/site-packages/jax/_src/pjit.py", line 250, in cache_miss\n'
            "jaxlib.xla_extension.XlaRuntimeError: FAILED_PRECONDITION: DNN library initialization failed.\n")
TF_TAIL = ('  File "/home/u/venv/lib/python3.10/site-packages/tensorflow/python/eager/execute.py", line 53, in quick_execute\n'
           "tensorflow.python.framework.errors_impl.UnimplementedError: Graph execution error:\n")


def test_cudnn_line_with_jax_frames_is_jax():
    """The XLA cuDNN line next to jax frames and XlaRuntimeError is JAX's cuDNN mismatch."""
    assert_matches(LOADED + "Traceback (most recent call last):\n" + JAX_TAIL, JAX_CUDNN)


def test_cudnn_line_with_tensorflow_frames_is_tensorflow():
    """The same line next to TensorFlow frames is TensorFlow's, and JAX is not confident."""
    text = LOADED + "Traceback (most recent call last):\n" + TF_TAIL
    assert_matches(text, TF_CUDNN)
    assert not _confident(text, JAX_CUDNN)


def test_jaxlib_log_path_alone_points_to_jax():
    """jaxlib logs "external/xla/xla/..." (TensorFlow >= 2.14 logs "external/local_xla/xla/...")."""
    text = LOADED.replace("E0000 00:00:1716311244.102983    3410 cuda_dnn.cc:535]",
                          "E external/xla/xla/stream_executor/cuda/cuda_dnn.cc:439]")
    assert_matches(text, JAX_CUDNN, top=3)


def test_bare_cudnn_line_keeps_both_readings():
    """Without any framework evidence TensorFlow (the common case) leads and JAX stays a candidate."""
    causes = _causes(LOADED)
    assert causes[0] == TF_CUDNN
    assert JAX_CUDNN in causes[:3]
    assert not _confident(LOADED, JAX_CUDNN)


# ---------------------------------------------------------------- cuDNN handle failure: memory free or taken
HANDLE = ("E external/xla/xla/stream_executor/cuda/cuda_dnn.cc:407] Could not create cudnn handle: CUDNN_STATUS_INTERNAL_ERROR\n"
          "E external/xla/xla/stream_executor/cuda/cuda_dnn.cc:411] Memory usage: {free} bytes free, 25438126080 bytes total.\n"
          "jaxlib.xla_extension.XlaRuntimeError: FAILED_PRECONDITION: DNN library initialization failed. Look at the errors above for more details.\n")


def test_jax_handle_failure_with_free_memory_is_a_version_problem():
    """Almost all of the card free: cuDNN could not start for another reason, a version mismatch."""
    assert_matches(HANDLE.format(free="23912398848"), JAX_CUDNN)


def test_jax_handle_failure_with_full_memory_is_not_a_version_problem():
    """200 MB free of 25 GB: memory was taken; the version reading must not be confident."""
    assert not _confident(HANDLE.format(free="215154688"), JAX_CUDNN)


# ---------------------------------------------------------------- DataLoader worker deaths
WORKER = ('Traceback (most recent call last):\n'
          '  File "/opt/conda/lib/python3.11/site-packages/torch/utils/data/dataloader.py", line 1291, in _try_get_data\n'
          '    data = self._data_queue.get(timeout=timeout)\n'
          'RuntimeError: DataLoader worker (pid 6094) is killed by signal: {sig}. {tail}\n'
          'RuntimeError: DataLoader worker (pid(s) 6094) exited unexpectedly\n')


def test_worker_bus_error_is_shared_memory():
    """SIGBUS in a DataLoader worker is /dev/shm."""
    text = WORKER.format(sig="Bus error", tail="It is possible that dataloader's workers are out of shared memory. "
                                                "Please try to raise your shared memory limit.")
    assert_matches(text, SHM)


def test_worker_killed_is_host_ram_not_shared_memory():
    """SIGKILL in a DataLoader worker is the OOM killer: shared memory must not be confident."""
    text = WORKER.format(sig="Killed", tail="")
    assert not _confident(text, SHM)
    assert _causes(text)[0] == RAM


# ---------------------------------------------------------------- GPU checkpoint on a machine without CUDA
DESER = ("RuntimeError: Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. "
         "If you are running on a CPU-only machine, please use torch.load with map_location=torch.device('cpu') "
         "to map your storages to the CPU.\n")


def test_deserialize_alone_is_not_a_confident_cpu_wheel():
    """Hidden GPUs (CUDA_VISIBLE_DEVICES) give the same error: no confident CPU-wheel claim without evidence."""
    assert not _confident(DESER, CPU_ONLY)
    assert CPU_ONLY in _causes(DESER)[:3]


@pytest.mark.parametrize("evidence", ["torch 2.2.1+cpu\n", "PyTorch version: 2.0.1+cpu\nCUDA used to build PyTorch: None\n",
                                      ">>> torch.__version__\n'2.4.1+cpu'\n"])
def test_deserialize_with_cpu_wheel_evidence_is_the_wheel(evidence):
    """A +cpu version string anywhere in the paste makes the CPU wheel the answer."""
    assert_matches(evidence + DESER, CPU_ONLY)


def test_deserialize_with_cpu_wheel_in_snapshot_is_the_wheel():
    """The snapshot's torch version ending in +cpu counts like the text."""
    assert_matches(DESER, CPU_ONLY, env={"packages": {"torch": "2.3.1+cpu"}, "gpus": [{"index": 0}]})


def test_deserialize_with_hidden_gpus_is_not_the_wheel():
    """CUDA_VISIBLE_DEVICES set to nothing: the GPU is hidden, not missing from the build."""
    text = '$ CUDA_VISIBLE_DEVICES="" python infer.py\n' + DESER
    assert not _confident(text, CPU_ONLY)


def test_no_cuda_gpus_available_is_not_the_cpu_wheel():
    """A CPU wheel says "Torch not compiled with CUDA enabled"; "No CUDA GPUs are available" proves a CUDA build."""
    text = ('  File "/usr/local/lib/python3.10/dist-packages/torch/cuda/__init__.py", line 298, in _lazy_init\n'
            "    torch._C._cuda_init()\nRuntimeError: No CUDA GPUs are available\n")
    assert not _confident(text, CPU_ONLY)


def test_not_compiled_with_cuda_is_the_wheel():
    """The AssertionError from torch/cuda/__init__.py is the CPU wheel itself."""
    text = ('  File "/opt/venv/lib/python3.10/site-packages/torch/cuda/__init__.py", line 284, in _lazy_init\n'
            '    raise AssertionError("Torch not compiled with CUDA enabled")\n'
            "AssertionError: Torch not compiled with CUDA enabled\n")
    assert_matches(text, CPU_ONLY)


# ---------------------------------------------------------------- "Unable to initialize backend 'cuda'": read the reason
TAIL = " (you may need to uninstall the failing plugin package, or set JAX_PLATFORMS=cpu to skip this backend.)"
BACKEND = [
    ("unknown-backend", "Unknown backend cuda", JAX_PLUGIN),
    ("cudnn-older", "Found cuDNN version 8700, but JAX was built against version 8904, which is newer.", JAX_CUDNN),
    ("cublas-older", "Found cuBLAS version 120103, but JAX was built against version 120205, which is newer.", JAX_CUDA),
    ("cuda-not-loadable", "Unable to load CUDA. Is it installed?", JAX_CUDA),
    ("outdated-cusparse", "Unable to use CUDA because of the following issues with CUDA components:\n"
                          "Outdated cuSPARSE installation found.", JAX_CUDA),
    ("no-visible-devices", "FAILED_PRECONDITION: No visible GPU devices.", NOT_VISIBLE),
]


@pytest.mark.parametrize("name,reason,cause", BACKEND, ids=[b[0] for b in BACKEND])
def test_jax_backend_init_failure_follows_the_reason(name, reason, cause):
    """The wrapper is the same; the reason after the colon picks the cause."""
    text = f"RuntimeError: Unable to initialize backend 'cuda': {reason}{TAIL}\n"
    assert_matches(text, cause)


def test_plugin_incompatible_with_jaxlib_beats_cpu_fallback():
    """The plugin warning explains the CPU fallback that follows it."""
    text = ("RuntimeWarning: JAX plugin jax_cuda12_plugin version 0.4.30 is installed, but it is not compatible with "
            "the installed jaxlib version 0.4.31, so it will not be used.\n"
            "An NVIDIA GPU may be present on this machine, but a CUDA-enabled jaxlib is not installed. Falling back to cpu.\n")
    assert_matches(text, JAX_LIB)


def test_old_no_gpu_warning_above_a_user_error_is_silent():
    """jax < 0.4.17 printed "No GPU/TPU found" on every CPU machine; a user error below it is the real failure."""
    text = ("WARNING:absl:No GPU/TPU found, falling back to CPU. (Set TF_CPP_MIN_LOG_LEVEL=0 and rerun for more info.)\n"
            "Traceback (most recent call last):\n"
            '  File "mlp.py", line 22, in <module>\n    y = x + w\n'
            "TypeError: add got incompatible shapes for broadcasting: (32, 10), (3, 10).\n")
    assert_silent(text)


# ---------------------------------------------------------------- XLA out of memory: JAX or TensorFlow
OOM = "RESOURCE_EXHAUSTED: Out of memory while trying to allocate 9663676416 bytes."


def test_xla_oom_in_jax_is_jax():
    """XlaRuntimeError and jax frames: JAX's allocator."""
    text = ('  File "/w/venv/lib/python3.10/site-packages/jax/_src/pjit.py", line 1297, in _pjit_call_impl_python\n'
            f"jaxlib.xla_extension.XlaRuntimeError: {OOM}\n")
    assert_matches(text, JAX_OOM)


def test_xla_oom_in_tensorflow_is_tensorflow():
    """The same XLA text under TensorFlow (jit_compile / Keras 3) is TensorFlow's out-of-memory."""
    text = ('  File "/w/venv/lib/python3.11/site-packages/tensorflow/python/eager/execute.py", line 53, in quick_execute\n'
            "tensorflow.python.framework.errors_impl.ResourceExhaustedError: Graph execution error:\n"
            "Out of memory while trying to allocate 9663676416 bytes.\n")
    assert_matches(text, TF_OOM)
    assert not _confident(text, JAX_OOM)
