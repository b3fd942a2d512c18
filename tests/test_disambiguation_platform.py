"""Platform look-alikes must land on the right cause: host RAM vs GPU memory, a hidden GPU vs a CPU-only runtime
vs a CPU-only wheel, fatal vs harmless CPU-instruction messages, the paging file vs other DLL failures, and
TensorFlow's missing wheel vs any other package's."""
import pytest

from dnnfix.testing import assert_matches, assert_silent, diagnose
from dnnfix.testing import top_cause as _top

HOST_RAM = "host.ram.exhausted"
TF_GPU_OOM = "tf.gpu.oom"
TORCH_GPU_OOM = "torch.cuda.oom"
JAX_GPU_OOM = "jax.gpu.oom"
NOT_VISIBLE = "gpu.device.not-visible"
NO_ACCEL = "colab.runtime.no-accelerator"
CPU_WHEEL = "torch.build.cpu-only"
AVX = "cpu.avx.unsupported"
PAGEFILE = "win.pagefile.too-small"
DLL = "tf.import.dll-load-failed"
NO_WHEEL = "tf.install.no-matching-wheel"


MEMORY_CASES = [
    ("tf-oom-on-cpu-allocator",
     "tensorflow.python.framework.errors_impl.ResourceExhaustedError: OOM when allocating tensor with "
     "shape[512,256,256,64] and type float on /job:localhost/replica:0/task:0/device:CPU:0 by allocator cpu",
     HOST_RAM),
    ("tf-oom-on-mklcpu-with-gpu-allocator-hint",
     "W0000 00:00:1795598189.190904   13390 bfc_allocator.cc:502] Allocator (mklcpu) ran out of memory trying to "
     "allocate 64.00TiB (rounded to 70368744177664)requested by op Fill\n"
     "If the cause is memory fragmentation maybe the environment variable 'TF_GPU_ALLOCATOR=cuda_malloc_async' "
     "will improve the situation. \n"
     "tensorflow.python.framework.errors_impl.ResourceExhaustedError: {{function_node "
     "__wrapped__Fill_device_/job:localhost/replica:0/task:0/device:CPU:0}} OOM when allocating tensor with "
     "shape[4194304,4194304] and type float on /job:localhost/replica:0/task:0/device:CPU:0 by allocator mklcpu "
     "[Op:Fill] name: ",
     HOST_RAM),
    ("tf-oom-on-gpu-allocator",
     "tensorflow.python.framework.errors_impl.ResourceExhaustedError: OOM when allocating tensor with "
     "shape[64,512,56,56] and type float on /job:localhost/replica:0/task:0/device:GPU:0 by allocator GPU_0_bfc\n"
     "\t [[{{node resnet50/conv2_block1_1_conv/Conv2D}}]]",
     TF_GPU_OOM),
    ("torch-cpu-allocator",
     "RuntimeError: [enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate memory: you "
     "tried to allocate 34359738368 bytes. Error code 12 (Cannot allocate memory)",
     HOST_RAM),
    ("torch-cuda-oom",
     "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 23.65 GiB total "
     "capacity; 20.11 GiB already allocated; 1.21 GiB free; 21.30 GiB reserved in total by PyTorch)",
     TORCH_GPU_OOM),
    ("dataloader-killed-is-host",
     "RuntimeError: DataLoader worker (pid 25981) is killed by signal: Killed.",
     HOST_RAM),
    ("numpy-array-memory",
     "numpy.core._exceptions._ArrayMemoryError: Unable to allocate 58.2 GiB for an array with shape "
     "(120000, 65102) and data type float64",
     HOST_RAM),
    ("colab-ram-banner",
     "Your session crashed after using all available RAM. If you are interested in access to high-RAM "
     "runtimes, you may want to check out Colab Pro.",
     HOST_RAM),
    ("exit-137-after-cpu-allocation-warning",
     "W tensorflow/tsl/framework/cpu_allocator_impl.cc:83] Allocation of 4294967296 exceeds 10% of free system "
     "memory.\nEpoch 1/50\nKilled",
     HOST_RAM),
    ("jax-gpu-oom",
     "jaxlib.xla_extension.XlaRuntimeError: RESOURCE_EXHAUSTED: Out of memory while trying to allocate "
     "12884901888 bytes.",
     JAX_GPU_OOM),
]


@pytest.mark.parametrize("name,text,cause", MEMORY_CASES, ids=[c[0] for c in MEMORY_CASES])
def test_host_ram_versus_gpu_memory(name, text, cause):
    """Host-RAM exhaustion and GPU out-of-memory never swap places."""
    assert_matches(text, cause)


def test_cpu_allocator_oom_is_not_gpu_oom():
    """The TF OOM template naming device:CPU:0 does not rank a GPU-memory cause first."""
    text = ("ResourceExhaustedError: OOM when allocating tensor with shape[100000,50000] and type float on "
            "/job:localhost/replica:0/task:0/device:CPU:0 by allocator cpu")
    ms = diagnose(text)
    assert ms and ms[0].cause == HOST_RAM
    assert all(m.cause != TF_GPU_OOM or not m.confident for m in ms)


NO_GPU_CASES = [
    ("script-hides-gpu",
     "$ CUDA_VISIBLE_DEVICES=2 python main.py\nTraceback (most recent call last):\n"
     '  File "/home/ivan/repo/main.py", line 57, in <module>\n    model = Net().cuda()\n'
     "RuntimeError: No CUDA GPUs are available",
     NOT_VISIBLE),
    ("tf-cuinit-no-device",
     "E tensorflow/stream_executor/cuda/cuda_driver.cc:271] failed call to cuInit: CUDA_ERROR_NO_DEVICE: "
     "no CUDA-capable device is detected",
     NOT_VISIBLE),
    ("colab-cpu-runtime-no-driver",
     "<ipython-input-6-4d5e6f7a8b9c> in <cell line: 2>()\n----> 2 model = model.to(device)\n"
     "/usr/local/lib/python3.10/dist-packages/torch/cuda/__init__.py in _lazy_init()\n"
     "RuntimeError: Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU and "
     "installed a driver from http://www.nvidia.com/Download/index.aspx",
     NO_ACCEL),
    ("colab-check-snippet",
     "----> 4   raise SystemError('GPU device not found')\nSystemError: GPU device not found",
     NO_ACCEL),
    ("colab-deserialize",
     "----> 1 model.load_state_dict(torch.load('/content/drive/MyDrive/model.pt'))\n"
     "RuntimeError: Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. "
     "If you are running on a CPU-only machine, please use torch.load with map_location=torch.device('cpu') "
     "to map your storages to the CPU.",
     NO_ACCEL),
    ("server-deserialize",
     'File "/srv/api/app.py", line 18, in <module>\n    state = torch.load("weights/best.pt")\n'
     "RuntimeError: Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. "
     "If you are running on a CPU-only machine, please use torch.load with map_location=torch.device('cpu') "
     "to map your storages to the CPU.",
     NOT_VISIBLE),
    ("cpu-only-wheel",
     "AssertionError: Torch not compiled with CUDA enabled",
     CPU_WHEEL),
]


@pytest.mark.parametrize("name,text,cause", NO_GPU_CASES, ids=[c[0] for c in NO_GPU_CASES])
def test_hidden_gpu_versus_cpu_runtime_versus_cpu_wheel(name, text, cause):
    """No-GPU messages go to the hidden GPU, the CPU-only notebook runtime or the CPU-only wheel."""
    assert _top(text) == cause, [(m.cause, m.score, m.signature) for m in diagnose(text)[:3]]


def test_visible_gpu_in_snapshot_counts_against_cpu_runtime():
    """A snapshot that lists a GPU takes the no-accelerator explanation off the table."""
    text = "!nvidia-smi\n/bin/bash: line 1: nvidia-smi: command not found\n/content/drive/MyDrive/run.py"
    assert _top(text) == NO_ACCEL
    env = {"gpus": [{"name": "Tesla T4"}], "platform": {"colab": True}}
    ms = [m for m in diagnose(text, env=env) if m.cause == NO_ACCEL]
    assert not ms or not ms[0].confident


def test_avx_fatal_versus_benign():
    """'compiled to use AVX ... aren't available' is fatal; 'optimized to use available CPU instructions' is not."""
    assert_matches("F tensorflow/core/platform/cpu_feature_guard.cc:37] The TensorFlow library was compiled to use "
                   "AVX instructions, but these aren't available on your machine.\nAborted (core dumped)", AVX)
    benign = ("I tensorflow/core/platform/cpu_feature_guard.cc:182] This TensorFlow binary is optimized to use "
              "available CPU instructions in performance-critical operations.\nTo enable the following "
              "instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the appropriate compiler flags.")
    assert all(m.cause != AVX for m in diagnose(benign))


def test_illegal_instruction_after_benign_line_is_not_confident_avx():
    """When TF already said the CPU has AVX2, a later SIGILL is not blamed on AVX with confidence."""
    text = ("I tensorflow/core/platform/cpu_feature_guard.cc:193] This TensorFlow binary is optimized to use "
            "available CPU instructions in performance-critical operations.\nIllegal instruction (core dumped)")
    assert all(not m.confident for m in diagnose(text) if m.cause == AVX)


def test_pagefile_versus_dll_load_failed():
    """The paging-file text wins over a TensorFlow/torch DLL failure; WinError 126 is not the paging file."""
    assert_matches("ImportError: DLL load failed while importing _pywrap_tensorflow_internal: The paging file is "
                   "too small for this operation to complete.", PAGEFILE)
    assert_matches("ImportError: DLL load failed while importing _pywrap_tensorflow_internal: The specified "
                   "module could not be found.", DLL)
    text = ('OSError: [WinError 126] The specified module could not be found. Error loading '
            '"C:\\venv\\lib\\site-packages\\torch\\lib\\fbgemm.dll" or one of its dependencies.')
    assert all(m.cause != PAGEFILE or not m.confident for m in diagnose(text))


@pytest.mark.parametrize("pkg", ["torch==1.7.1", "tensorflow-datasets==9.9.9", "detectron2", "tensorflowjs==0.0.1"])
def test_no_matching_wheel_is_tensorflow_only(pkg):
    """pip's 'no matching distribution' for other packages is not TensorFlow's missing wheel."""
    text = (f"ERROR: Could not find a version that satisfies the requirement {pkg} (from versions: none)\n"
            f"ERROR: No matching distribution found for {pkg}")
    assert all(m.cause != NO_WHEEL for m in diagnose(text))


@pytest.mark.parametrize("pkg", ["tensorflow", "tensorflow==2.12.0", "tensorflow-gpu==2.10.0", "tensorflow[and-cuda]",
                                 "tensorflow-intel==2.15.0"])
def test_no_matching_wheel_tensorflow_forms(pkg):
    """Every tensorflow distribution name is recognised."""
    text = (f"ERROR: Could not find a version that satisfies the requirement {pkg} (from versions: none)\n"
            f"ERROR: No matching distribution found for {pkg}")
    assert_matches(text, NO_WHEEL)


def test_bare_killed_line_alone_is_not_confident():
    """A lone 'Killed' is too thin to be confident about (the lint forbids it as an anchor)."""
    assert_silent("Killed")
