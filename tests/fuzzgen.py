"""Input generators for fuzzing dnnfix (tests/test_fuzz.py and scripts/fuzz_bench).

Pastes are built from pieces that stress the parser and matcher: fragments of real knowledge-base case texts,
runs of whitespace and blank lines, very long lines and messages, ANSI codes, carriage returns, tabs, NULs and
other control characters, non-ASCII text, traceback skeletons and log prefixes, cut anywhere.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import List

_PIECES = [
    "Traceback (most recent call last):\n",
    '  File "/usr/lib/python3.10/site-packages/torch/nn/modules/module.py", line 1501, in _call_impl\n',
    "    return forward_call(*args, **kwargs)\n",
    "RuntimeError: CUDA error: out of memory\n",
    "2024-01-01 10:00:00.000000: I tensorflow/core/platform/cpu_feature_guard.cc:182] ",
    "E0000 00:00:1700000000.000000 12345 cuda_dnn.cc:535] Loaded runtime CuDNN library: 8.6.0 but source was compiled with: 8.9.4.",
    "\x1b[0;31m",
    "\x1b[0m",
    "\r",
    "\t",
    "\x00",
    "\x0c",
    "\u00e9",
    "\u4e2d\u6587",
    "\u2588",
    "\ufffd",
    ">>> torch.cuda.is_available()\nFalse\n",
    "[rank0]: ",
    "In [3]: ",
    "<ipython-input-3-abc>",
    "\n\n\n",
    "    ",
    "\\",
    "'",
    '"',
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    "=",
    "GPU 0: NVIDIA GeForce RTX 3090",
    "libcudart.so.11.0",
    "DLL load failed while importing _pywrap_tensorflow_internal",
    "Killed\n",
    "ImportError: cannot import name 'x' from 'y' (unknown location)\n",
]


def case_fragments(root: Path, limit: int = 400) -> List[str]:
    """Lines from the knowledge base's own cases: realistic material to cut and splice."""
    import yaml

    out: List[str] = []
    for p in sorted(root.rglob("*.cases.yaml"))[:limit]:
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except Exception:
            continue
        for c in data.get("cases") or []:
            t = c.get("text") if isinstance(c, dict) else None
            if isinstance(t, str):
                out.extend(t.splitlines()[:20])
    return out


def paste(rng: random.Random, fragments: List[str], max_len: int = 20000) -> str:
    """One fuzzed paste."""
    parts: List[str] = []
    for _ in range(rng.randint(1, 40)):
        r = rng.random()
        if r < 0.35 and fragments:
            line = rng.choice(fragments)
            if rng.random() < 0.3:  # cut it anywhere
                a, b = sorted(rng.randint(0, len(line)) for _ in range(2))
                line = line[a:b]
            parts.append(line + "\n")
        elif r < 0.6:
            parts.append(rng.choice(_PIECES))
        elif r < 0.7:  # runs that hurt backtracking engines
            parts.append(rng.choice([" ", "\t", "\n", " \n", "a", "0", ".", "x "]) * rng.randint(10, 3000))
        elif r < 0.8:
            parts.append("".join(chr(rng.randint(0, 0x2FFF)) for _ in range(rng.randint(1, 60))))
        elif r < 0.9:
            parts.append(rng.choice(fragments or _PIECES) * rng.randint(2, 30))
        else:
            parts.append("".join(rng.choice("abcdefgh ijk:./_-0123456789\n") for _ in range(rng.randint(1, 400))))
    text = "".join(parts)
    return text[:max_len]


def adversarial() -> List[str]:
    """The slow inputs found by hand and by earlier fuzzing (issue 15), in full."""
    tf = (
        "2024-01-01 10:00:00.000000: I tensorflow/core/platform/cpu_feature_guard.cc:182] This TensorFlow binary "
        "is optimized to use available CPU instructions\n"
    )
    return [
        tf + "\n" * 25000,
        "   \t  \n" * 20000,
        "RuntimeError: CUDA error: no kernel image is available for execution on the device\nGPU 0: NVIDIA"
        + " " * 2200
        + "x\n",
        "RuntimeError: " + "\n".join("word%d something" % i for i in range(20000)),
        ">>> torch.cuda.is_available()\n" + " \n" * 20000 + "False\n",
        "x" * 50_000_0 + "\n",
    ]


def line_mixes(pieces: List[str], count: int, most: int, seed: int):
    """`count` texts, each up to `most` of `pieces` (lines) drawn at random and joined by newlines: the inputs that
    compare a shortcut with the whole-text search it replaces."""
    rnd = random.Random(seed)
    for _ in range(count):
        yield "\n".join(rnd.choice(pieces) for _ in range(rnd.randint(0, most)))
