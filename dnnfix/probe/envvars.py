"""Environment variables that change how deep-learning frameworks find and use the GPU."""

from __future__ import annotations

import os
from typing import Dict, Mapping, Optional

NAMES = (
    "CUDA_VISIBLE_DEVICES",
    "CUDA_DEVICE_ORDER",
    "CUDA_HOME",
    "CUDA_PATH",
    "CUDA_LAUNCH_BLOCKING",
    "CUDA_MODULE_LOADING",
    "CUDA_FORCE_PTX_JIT",
    "CUDA_CACHE_DISABLE",
    "NVIDIA_VISIBLE_DEVICES",
    "NVIDIA_DRIVER_CAPABILITIES",
    "LD_LIBRARY_PATH",
    "LD_PRELOAD",
    "PYTHONPATH",
    "PYTHONNOUSERSITE",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "CONDA_DEFAULT_ENV",
    "TF_CPP_MIN_LOG_LEVEL",
    "TF_CPP_MAX_VLOG_LEVEL",
    "TF_FORCE_GPU_ALLOW_GROWTH",
    "TF_GPU_ALLOCATOR",
    "TF_ENABLE_ONEDNN_OPTS",
    "TF_USE_LEGACY_KERAS",
    "TF_XLA_FLAGS",
    "TF_CUDNN_USE_AUTOTUNE",
    "TF_DETERMINISTIC_OPS",
    "TF_NUM_INTEROP_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "KERAS_BACKEND",
    "KERAS_HOME",
    "XLA_FLAGS",
    "XLA_PYTHON_CLIENT_PREALLOCATE",
    "XLA_PYTHON_CLIENT_MEM_FRACTION",
    "XLA_PYTHON_CLIENT_ALLOCATOR",
    "JAX_PLATFORMS",
    "JAX_PLATFORM_NAME",
    "JAX_ENABLE_X64",
    "JAX_SKIP_CUDA_CONSTRAINTS_CHECK",
    "PYTORCH_CUDA_ALLOC_CONF",
    "PYTORCH_ALLOC_CONF",
    "PYTORCH_NVML_BASED_CUDA_CHECK",
    "TORCH_CUDA_ARCH_LIST",
    "TORCH_USE_CUDA_DSA",
    "TORCH_CUDNN_V8_API_ENABLED",
    "CUBLAS_WORKSPACE_CONFIG",
    "NCCL_DEBUG",
    "NCCL_P2P_DISABLE",
    "NCCL_IB_DISABLE",
    "NCCL_SOCKET_IFNAME",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
)
# Any other variable with one of these prefixes is reported too (new framework knobs appear often).
PREFIXES = ("CUDA_", "CUDNN_", "TF_", "XLA_", "JAX_", "PYTORCH_", "TORCH_", "NCCL_", "KERAS_")
# Terraform shares the TF_ prefix (and keeps credentials in TF_TOKEN_*): never report those.
NOT_PREFIXES = (
    "TF_VAR_",
    "TF_CLI_",
    "TF_LOG",
    "TF_WORKSPACE",
    "TF_DATA_DIR",
    "TF_IN_AUTOMATION",
    "TF_INPUT",
    "TF_PLUGIN_",
    "TF_TOKEN_",
    "TF_REGISTRY_",
    "TF_STATE_",
    "TF_IGNORE",
    "TF_APPEND_USER_AGENT",
)


def relevant(environ: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    env = os.environ if environ is None else environ
    out = {name: env[name] for name in NAMES if name in env}
    for name, value in env.items():
        if name not in out and name.startswith(PREFIXES) and not name.startswith(NOT_PREFIXES):
            out[name] = value
    return dict(sorted(out.items()))
