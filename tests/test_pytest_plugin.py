"""The pytest plugin (pytester): off by default; with -p dnnfix / the ini option / --dnnfix-json a failing test
whose error dnnfix recognises gets a "dnnfix" section and the run a summary line. Real CPU framework errors."""

import json
import os
import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]
pytest.importorskip("torch")
# Every inner run is a subprocess: pytester's in-process runs restore sys.modules afterwards, and a framework
# imported again in the same process is not the one that raised.

TESTS = """
def test_linear_shapes():
    import torch
    torch.nn.Linear(4, 2)(torch.zeros(3, 5))

def test_plain_assert():
    assert 1 == 2

def test_passes():
    pass
"""


# the inner runs load no other third-party plugin (textual-snapshot's session hooks clash with pytester's)
QUIET = ("-p", "no:cacheprovider", "-p", "no:textual-snapshot", "-p", "no:syrupy")


def _section(result):
    out = result.stdout.str()
    return out, out.count("-- dnnfix --")


def test_off_unless_asked_for(pytester):
    pytester.makepyfile(test_fw=TESTS)
    result = pytester.runpytest_subprocess(*QUIET)
    result.assert_outcomes(failed=2, passed=1)
    out, sections = _section(result)
    assert sections == 0
    assert "dnnfix:" not in out and "== dnnfix ==" not in out


def test_p_dnnfix_adds_a_section_to_a_recognised_failure_and_a_summary(pytester):
    pytester.makepyfile(test_fw=TESTS)
    result = pytester.runpytest_subprocess(*QUIET, "-p", "dnnfix")
    result.assert_outcomes(failed=2, passed=1)
    out, sections = _section(result)
    assert sections == 1  # under the torch failure only: a plain assertion is not dnnfix's business
    section = out[out.index("-- dnnfix --") : out.index("_ test_plain_assert _")]
    assert "cause: torch.shape-mismatch" in section
    assert "mat1 and mat2 shapes cannot be multiplied" in section  # the evidence line
    assert "fix first:" in section
    assert out.index("_ test_linear_shapes _") < out.index("-- dnnfix --")
    result.stdout.fnmatch_lines(
        [
            "*= dnnfix =*",
            "dnnfix: 1 of 2 failure(s) have a known cause: torch.shape-mismatch",
            "*test_fw.py::test_linear_shapes: torch.shape-mismatch: *",
        ]
    )


def test_ini_option_turns_it_on(pytester):
    pytester.makepyfile(test_fw=TESTS)
    pytester.makeini("[pytest]\ndnnfix = true\n")
    result = pytester.runpytest_subprocess(*QUIET)
    result.stdout.fnmatch_lines(["dnnfix: 1 of 2 failure(s) have a known cause: torch.shape-mismatch"])


def test_dnnfix_json_writes_the_diagnoses(pytester):
    pytester.makepyfile(
        test_fw=TESTS
        + """
def test_cuda_on_a_cpu_build():
    import torch
    if torch.cuda.is_available():
        raise RuntimeError("Torch not compiled with CUDA enabled")
    torch.zeros(1, device="cuda")
"""
    )
    result = pytester.runpytest_subprocess(*QUIET, "--dnnfix-json", "out/diag.json")
    result.assert_outcomes(failed=3, passed=1)
    data = json.loads((pytester.path / "out" / "diag.json").read_text())
    assert data["failed"] == 3
    by_test = {d["nodeid"]: d for d in data["diagnoses"]}
    assert set(by_test) == {"test_fw.py::test_linear_shapes", "test_fw.py::test_cuda_on_a_cpu_build"}
    assert by_test["test_fw.py::test_linear_shapes"]["cause"] == "torch.shape-mismatch"
    assert by_test["test_fw.py::test_cuda_on_a_cpu_build"]["cause"] == "torch.build.cpu-only"
    for d in data["diagnoses"]:
        assert d["evidence"] and d["when"] == "call" and d["exception"]["type"]


def test_a_failing_fixture_is_diagnosed_at_setup(pytester):
    pytester.makepyfile(
        test_fx="""
import pytest

@pytest.fixture
def model():
    import torch
    return torch.nn.Linear(4, 2)(torch.zeros(3, 5))

def test_uses(model):
    pass
"""
    )
    result = pytester.runpytest_subprocess(*QUIET, "--dnnfix-json", "d.json")
    result.assert_outcomes(errors=1)
    (d,) = json.loads((pytester.path / "d.json").read_text())["diagnoses"]
    assert (d["when"], d["cause"]) == ("setup", "torch.shape-mismatch")


def test_a_passing_run_says_nothing(pytester):
    pytester.makepyfile(test_ok="def test_ok():\n    pass\n")
    result = pytester.runpytest_subprocess(*QUIET, "-p", "dnnfix")
    result.assert_outcomes(passed=1)
    assert "dnnfix:" not in result.stdout.str() and "== dnnfix ==" not in result.stdout.str()


def test_p_dnnfix_without_plugin_autoload(tmp_path):
    """PYTEST_DISABLE_PLUGIN_AUTOLOAD=1: `-p dnnfix` still finds the plugin by its entry point."""
    (tmp_path / "test_fw.py").write_text(TESTS)
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    p = subprocess.run(
        [sys.executable, "-m", "pytest", *QUIET, "-p", "dnnfix", "test_fw.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 1
    assert "dnnfix: 1 of 2 failure(s) have a known cause: torch.shape-mismatch" in p.stdout, p.stdout + p.stderr


@pytest.mark.framework
def test_tensorflow_keras_error(pytester):
    pytest.importorskip("tensorflow")
    pytester.makepyfile(
        test_tf="""
def test_dense_input():
    import numpy as np
    import tensorflow as tf
    model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(2)])
    model(np.zeros((3, 5), dtype="float32"))
"""
    )
    result = pytester.runpytest_subprocess(*QUIET, "--dnnfix-json", "d.json")
    result.assert_outcomes(failed=1)
    (d,) = json.loads((pytester.path / "d.json").read_text())["diagnoses"]
    assert d["exception"]["type"] == "ValueError"
    assert d["cause"] == "keras.input-shape-mismatch"
    result.stdout.fnmatch_lines(["dnnfix: 1 of 1 failure(s) have a known cause: keras.input-shape-mismatch"])
