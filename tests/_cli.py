"""Shared by the CLI tests: run `python -m dnnfix` as a user would and a paste the fixture KB recognises."""

import os
import subprocess
import sys

LOADED_CUDNN = (
    "E tensorflow/stream_executor/cuda/cuda_dnn.cc:361] Loaded runtime CuDNN library: 8.0.5 but source was "
    "compiled with: 8.1.0.\nUnimplementedError: Graph execution error:\nDNN library is not found.\n"
)


def dnnfix(*args, stdin=None, env=None):
    """(exit status, stdout, stderr) of `python -m dnnfix ARGS`."""
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([sys.executable, "-m", "dnnfix", *args], input=stdin, capture_output=True, timeout=120, env=e)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
