"""Where the process runs: Colab, Kaggle, WSL, a container, conda, a virtual environment, Jupyter."""

from __future__ import annotations

import os
import sys
from typing import Any, Dict

from ._util import read_text


def _docker() -> bool:
    if os.path.exists("/.dockerenv") or os.path.exists("/run/.containerenv"):
        return True
    if os.environ.get("container"):  # podman, systemd-nspawn
        return True
    text = read_text("/proc/1/cgroup", 65536) or ""
    return any(word in text for word in ("docker", "containerd", "kubepods", "libpod"))


def _colab() -> bool:
    if "google.colab" in sys.modules:
        return True
    return any(k in os.environ for k in ("COLAB_RELEASE_TAG", "COLAB_GPU", "COLAB_BACKEND_VERSION"))


def _kaggle() -> bool:
    if any(k in os.environ for k in ("KAGGLE_KERNEL_RUN_TYPE", "KAGGLE_URL_BASE", "KAGGLE_DATA_PROXY_URL")):
        return True
    return os.path.isdir("/kaggle/input")


def platform_info() -> Dict[str, Any]:
    info: Dict[str, Any] = {
        "colab": _colab(),
        "kaggle": _kaggle(),
        "docker": _docker() if sys.platform == "linux" else False,
        "conda": bool(os.environ.get("CONDA_PREFIX")) or os.path.isdir(os.path.join(sys.prefix, "conda-meta")),
        "venv": sys.prefix != getattr(sys, "base_prefix", sys.prefix),
        "jupyter": "ipykernel" in sys.modules,
    }
    if info["colab"]:
        # COLAB_GPU is "1" on a GPU runtime and absent or "0" otherwise (older runtimes);
        # COLAB_TPU_ADDR marks the legacy TPU runtime.
        gpu = os.environ.get("COLAB_GPU")
        if gpu is not None:
            info["colab_gpu"] = gpu not in ("", "0")
        if os.environ.get("COLAB_TPU_ADDR") or os.environ.get("TPU_NAME"):
            info["colab_tpu"] = True
    if "SAGEMAKER_INTERNAL_IMAGE_URI" in os.environ or os.path.isdir("/opt/ml/metadata"):
        info["sagemaker"] = True
    return info
