"""Real-framework tests: run tensorflow-cpu / torch CPU in a subprocess and capture what it really prints."""

import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest


def _require(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{module} is not installed: scripts/test installs it for CI")
        pytest.skip(f"{module} not installed (scripts/test installs it)")


@pytest.fixture
def run_python(tmp_path):
    """run_python(code, timeout=180, env=None) -> combined stdout+stderr of `python -c code`."""

    def run(code: str, timeout: int = 180, env=None, require=()) -> str:
        for mod in require:
            _require(mod)
        e = dict(os.environ)
        e.pop("NO_COLOR", None)
        e.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")
        e["PYTHONUNBUFFERED"] = "1"
        e["CUDA_VISIBLE_DEVICES"] = e.get("CUDA_VISIBLE_DEVICES", "")
        if env:
            e.update(env)
        p = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            cwd=tmp_path,
            env=e,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
        )
        return p.stdout.decode("utf-8", "replace")

    return run
