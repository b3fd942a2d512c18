"""Installed versions of the packages that decide deep-learning failures, without importing them.

The versions come from the installed distributions' metadata directory names
(`<name>-<version>.dist-info`, the same records `importlib.metadata` reads), scanned in `sys.path`
order: about 1 ms, against 50-100 ms for `importlib.metadata.distributions()`, which matters for the
exception hook. A name with an unparsable directory falls back to `importlib.metadata.version`.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Dict, Iterable, List, Optional, Tuple

# Reported when installed (the last line: the packages of kb/compat/api-drift.yaml, so that an API-drift
# match can say which side is out of date). Every distribution whose name starts with one of PREFIXES is reported too
# (nvidia-cudnn-cu12, nvidia-cublas-cu12, jax-cuda12-plugin, ...).
WANTED = frozenset(
    """
    tensorflow tensorflow-cpu tensorflow-gpu tensorflow-intel tensorflow-macos tensorflow-metal
    tensorflow-aarch64 tensorflow-rocm tf-nightly tf-keras keras keras-nightly tensorboard
    tensorflow-estimator tensorflow-probability tensorflow-addons tensorflow-text tensorflow-hub
    tensorflow-io tensorflow-io-gcs-filesystem tensorflow-datasets tensorrt tensorrt-libs
    keras-nlp keras-cv keras-hub
    torch torchvision torchaudio torchtext triton pytorch-lightning lightning xformers flash-attn
    bitsandbytes deepspeed accelerate transformers diffusers peft
    jax jaxlib flax optax equinox orbax-checkpoint
    numpy scipy pandas pyarrow protobuf ml-dtypes h5py opencv-python opencv-python-headless
    onnx onnxruntime onnxruntime-gpu pynvml nvidia-ml-py cupy-cuda11x cupy-cuda12x
    google-colab ipykernel
    huggingface-hub trl datasets gradio pillow scikit-learn mmcv mmcv-full mmengine timm torchtext
    """.split()
)
PREFIXES = ("nvidia-", "jax-cuda", "jax-rocm", "cuda-", "libtpu", "tensorflow-")

_SPLIT = re.compile(r"[-_.]+")


def normalize(name: str) -> str:
    """PEP 503 form: lowercase, runs of '-', '_' and '.' become one '-'."""
    return _SPLIT.sub("-", name).lower()


def _wanted(name: str) -> bool:
    return name in WANTED or name.startswith(PREFIXES)


def _parse_entry(entry: str) -> Optional[Tuple[str, str]]:
    if entry.endswith(".dist-info"):
        stem = entry[: -len(".dist-info")]
    elif entry.endswith(".egg-info"):
        stem = entry[: -len(".egg-info")]
    else:
        return None
    # The name part never holds '-' in these directory names (it is escaped to '_'); the version
    # follows the first '-'. Egg-info may add "-py3.10" after the version.
    name, sep, rest = stem.partition("-")
    if not sep or not rest:
        return None
    version = rest.split("-py", 1)[0]
    return normalize(name), version


def _site_dirs(paths: Iterable[str]) -> List[str]:
    seen = set()
    out = []
    for p in paths:
        p = p or os.getcwd()
        if p in seen or not os.path.isdir(p):
            continue
        seen.add(p)
        out.append(p)
    return out


def installed(paths: Optional[Iterable[str]] = None, everything: bool = False) -> Dict[str, object]:
    """{"packages": {name: version}, "duplicates": {name: [versions...]}} in sys.path order."""
    found: Dict[str, str] = {}
    dups: Dict[str, List[str]] = {}
    for directory in _site_dirs(sys.path if paths is None else paths):
        try:
            entries = os.listdir(directory)
        except OSError:
            continue
        for entry in entries:
            parsed = _parse_entry(entry)
            if parsed is None:
                continue
            name, version = parsed
            if not everything and not _wanted(name):
                continue
            if name in found:
                # A second copy further down sys.path is shadowed: a classic cause of "I upgraded
                # but the old version is still used". Keep the first (the one imports get).
                if version != found[name]:
                    dups.setdefault(name, [found[name]]).append(version)
                continue
            found[name] = version
    result: Dict[str, object] = {"packages": dict(sorted(found.items()))}
    if dups:
        result["duplicates"] = dups
    return result
