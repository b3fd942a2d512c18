"""`dnnfix doctor` and `dnnfix env` on snapshot fixtures and on this machine; the same text ranks differently per machine."""

import json
import os
import subprocess
import sys

import pytest

from dnnfix.knowledge import compat
from dnnfix.cli import main
from dnnfix.commands import doctor

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(REPO, "tests", "fixtures", "env")


def fixture_path(name):
    return os.path.join(FIXTURES, name + ".json")


def fixture(name):
    with open(fixture_path(name)) as fh:
        return json.load(fh)


# Each fixture and the causes doctor must report on it (nothing else at error/warning level).
EXPECTED = {
    "no-gpu": set(),
    "real-cpu-machine": set(),
    "colab-t4-old-cudnn": {"tf.cudnn.version-mismatch"},
    "driver-too-old": {"gpu.driver.too-old"},
    "windows-native-tf215": {"tf.gpu.windows-native"},
    "keras3-tf215": {"keras.tf-version-mismatch"},
    "numpy2-old-tf": {"py.numpy.abi-mismatch"},
    "driver-mismatch": {"gpu.driver.kernel-userspace-mismatch"},
    "py312-tf215": {"tf.install.no-matching-wheel"},
    "real-h200-torch-jax": set(),  # recorded on an H200 with scripts/device_snapshot.sh (torch 2.11+cu130, jax 0.11.2)
}


def test_every_fixture_is_covered():
    """Each JSON fixture has an expectation here."""
    names = {f[:-5] for f in os.listdir(FIXTURES) if f.endswith(".json")}
    assert names == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_doctor_findings_per_fixture(name):
    """Doctor reports exactly the expected causes (errors and warnings) on each machine."""
    found = doctor.findings(fixture(name))
    causes = {f["cause"] for f in found if f["severity"] in ("error", "warning")}
    assert causes == EXPECTED[name], [(f["id"], f["cause"]) for f in found]
    for f in found:
        assert f["title"] and "?" not in f["title"] and "{{" not in f["message"], f
        if f["source"] == "signature":  # fixes from kb/causes/<cause>.md
            assert f["fixes"] and all(fix["code"].strip() for fix in f["fixes"]), f


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_doctor_exit_status(name, capsys):
    """Exit status 1 when something is wrong, 0 when fine."""
    rc = main(["doctor", "--env", fixture_path(name)])
    out = capsys.readouterr().out
    assert rc == (1 if EXPECTED[name] else 0), out
    assert out.startswith("dnnfix doctor: ")
    if not EXPECTED[name]:
        assert "No known problem found." in out


def test_doctor_message_names_the_missing_wheel():
    """The brief's example: TensorFlow found, nvidia-cudnn-cu12 missing, DNN library will not be found."""
    snap = fixture("colab-t4-old-cudnn")
    snap["cuda"] = {"runtime_version": "12.2", "runtime_versions": ["12.2"], "cudnn_versions": []}
    found = doctor.findings(snap)
    top = found[0]
    assert top["cause"] == "tf.cudnn.not-found"
    assert "cuda.cudnn_versions is empty (from --env snapshot)" in top["evidence"]
    assert "DNN library is not found" in top["message"]
    assert any("tensorflow[and-cuda]" in fix["code"] for fix in top["fixes"])


def test_doctor_json(capsys):
    """--json: one object with ok, findings, expected facts and the snapshot."""
    rc = main(["doctor", "--json", "--env", fixture_path("driver-too-old")])
    data = json.loads(capsys.readouterr().out)
    assert rc == 1 and data["ok"] is False
    assert data["findings"][0]["cause"] == "gpu.driver.too-old"
    assert data["expected"]["driver"]["min"] == "525.60.13"
    assert data["snapshot"]["driver"]["version"] == "470.182.03"


def test_doctor_bad_snapshot_is_a_usage_error(tmp_path, capsys):
    """An unreadable --env file: exit 2 and one line naming it."""
    bad = tmp_path / "snap.json"
    bad.write_text("{not json")
    assert main(["doctor", "--env", str(bad)]) == 2
    assert str(bad) in capsys.readouterr().err


def test_doctor_on_this_machine(capsys):
    """The real probe on this machine: the exit status follows the findings (on the CPU CI machine: none, 0)."""
    from dnnfix import probe

    bad = [f for f in doctor.findings(probe.collect()) if f["severity"] in ("error", "warning")]
    rc = main(["doctor"])
    out = capsys.readouterr().out
    assert rc == (1 if bad else 0), out
    assert out.startswith("dnnfix doctor: ")
    if not bad:
        assert "No known problem found." in out


def test_env_text_report_of_a_gpu_machine():
    """The readable report shows GPUs, driver, CUDA/cuDNN and libraries of a snapshot."""
    from dnnfix.commands.env import render

    text = render(fixture("colab-t4-old-cudnn"))
    assert "GPU 0" in text and "Tesla T4 (compute 7.5, 0/15360 MiB used)" in text
    assert "535.104.05, supports CUDA 12.2" in text
    assert "runtime 12.2 (found); cuDNN 8.6.0 (found)" in text
    assert "colab, docker, jupyter" in text


def test_partial_snapshot_only_loses_checks():
    """A snapshot with only some core keys gives no false finding."""
    assert doctor.findings({"packages": {"tensorflow": "2.15.0"}}) == []
    assert doctor.findings({"python": {"version": "3.12.0"}}) == []
    found = doctor.findings({"packages": {"tensorflow": "2.15.0", "keras": "3.0.0"}})
    assert [f["cause"] for f in found] == ["keras.tf-version-mismatch"]


def test_env_only_signatures_are_included():
    """Confident env_only signatures add findings for causes no compat check reported."""
    snap = fixture("windows-native-tf215")
    from dnnfix.knowledge.load import load_kb

    findings = doctor._signature_findings(snap, load_kb(), "env")
    if not findings:
        pytest.skip("no env-only signature is confident on this fixture")
    assert all(f["source"] == "signature" and f["fixes"] is not None for f in findings)


def test_unsupported_gpu_architecture_for_torch_wheel():
    """An RTX 50xx (compute 12.0) with a cu124 torch: no kernels for this GPU."""
    snap = fixture("driver-too-old")
    snap["packages"]["torch"] = "2.5.1+cu124"
    snap["driver"] = {"version": "570.124.06", "cuda_version": "12.8"}
    snap["gpus"][0].update(name="NVIDIA GeForce RTX 5090", compute_capability="12.0")
    found = doctor.findings(snap)
    assert [f["cause"] for f in found if f["severity"] == "error"] == ["gpu.arch.unsupported"]


def test_driver_below_toolkit_is_a_warning():
    """A 12.x driver older than the toolkit's works through minor version compatibility: a warning."""
    snap = fixture("driver-too-old")
    snap["driver"] = {"version": "525.147.05", "cuda_version": "12.0"}
    found = doctor.findings(snap)
    assert [(f["cause"], f["severity"]) for f in found if f["severity"] != "info"] == [
        ("gpu.driver.too-old", "warning")
    ]


# ---------------------------------------------------------------- the same text, different machines
DNN_TEXT = """Traceback (most recent call last):
  File "/content/train.py", line 42, in <module>
    model.fit(x, y, epochs=10)
  File "/usr/local/lib/python3.10/dist-packages/tensorflow/python/eager/execute.py", line 53, in quick_execute
    tensors = pywrap_tfe.TFE_Py_Execute(ctx._handle, device_name, op_name,
tensorflow.python.framework.errors_impl.UnimplementedError: Graph execution error:

Detected at node sequential/conv2d/Relu defined at (most recent call last):
DNN library is not found.
\t [[{{node sequential/conv2d/Relu}}]] [Op:__inference_train_function_1234]
"""


def _top_cause(env):
    from dnnfix.testing import diagnose

    ms = diagnose(DNN_TEXT, env=env)
    return ms[0].cause if ms else None


def test_same_text_ranks_by_machine():
    """'DNN library is not found': mismatch with an old cuDNN loaded, not-found where no cuDNN exists."""
    old = fixture("colab-t4-old-cudnn")
    assert _top_cause(old) == "tf.cudnn.version-mismatch"
    absent = fixture("colab-t4-old-cudnn")
    absent["cuda"] = {"runtime_version": "12.2", "runtime_versions": ["12.2"], "cudnn_versions": []}
    assert _top_cause(absent) == "tf.cudnn.not-found"


def test_derived_facts_reach_the_matcher():
    """dnnfix.api.derive returns compat.derive's expected.* facts."""
    from dnnfix.api import derive

    snap = fixture("colab-t4-old-cudnn")
    assert derive(snap) == compat.derive(snap)
    assert derive(snap)["expected"]["tf"]["cudnn"] == "8.9"


# ---------------------------------------------------------------- dnnfix env
def test_env_json_is_a_snapshot(capsys):
    """`dnnfix env --json` prints the snapshot; doctor --env reads it back."""
    assert main(["env", "--json"]) == 0
    snap = json.loads(capsys.readouterr().out)
    assert {"python", "os", "platform", "packages", "probes"} <= set(snap)


def test_env_redacted_and_text(capsys, monkeypatch):
    """--redact hides the home folder; the text report names the sections."""
    home = os.path.expanduser("~")
    monkeypatch.setenv("LD_LIBRARY_PATH", os.path.join(home, "cuda", "lib64"))
    assert main(["env", "--json", "--redact"]) == 0
    out = capsys.readouterr().out
    snap = json.loads(out)
    assert snap["redacted"] is True
    if len(home) > 3:
        assert home not in out
        assert snap["env"]["LD_LIBRARY_PATH"] == "~/cuda/lib64"
    assert main(["env"]) == 0
    text = capsys.readouterr().out
    for label in ("Python", "OS", "GPUs", "Packages"):
        assert label in text


def test_env_command_imports_no_framework():
    """`python -m dnnfix env` leaves tensorflow/torch/jax unimported."""
    code = (
        "import sys, runpy; sys.argv=['dnnfix','env','--json']; "
        "import dnnfix.cli as c; rc = c.main(['env', '--json']); "
        "sys.stderr.write(repr(sorted({'tensorflow','torch','jax'} & set(sys.modules))))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().endswith("[]"), proc.stderr[-500:]


# ---------------------------------------------------------------- GPU feature gates (kb/compat/gpu-features.yaml)
def _gates(name, cc):
    snap = {"gpus": [{"index": 0, "name": name, "compute_capability": cc}]}
    found = [f for f in doctor.findings(snap) if f["id"] == "gpu-feature-gates"]
    return found[0]["title"].split("cannot run: ", 1)[1].split(", ") if found else []


@pytest.mark.parametrize(
    "name,cc,missing,present",
    [
        ("Tesla P100-PCIE-16GB", "6.0", ["bfloat16", "FlashAttention 2", "FP8", "Triton"], []),
        ("Tesla V100-SXM2-16GB", "7.0", ["bfloat16", "FlashAttention 2", "FP8"], ["Triton"]),
        ("Tesla T4", "7.5", ["bfloat16", "FlashAttention 2", "FlashAttention 3", "FP8"], ["Triton"]),
        ("NVIDIA A100-SXM4-40GB", "8.0", ["FlashAttention 3", "FP8"], ["bfloat16", "FlashAttention 2"]),
        ("NVIDIA L4", "8.9", ["FlashAttention 3", "MXFP8"], ["bfloat16", "FP8"]),
        ("NVIDIA H100 80GB HBM3", "9.0", ["MXFP8", "NVFP4"], ["bfloat16", "FlashAttention 3", "FP8"]),
        ("NVIDIA B200", "10.0", ["FlashAttention 3"], ["MXFP8", "NVFP4", "bfloat16"]),
        ("NVIDIA GeForce RTX 5090", "12.0", ["FlashAttention 3"], ["FP8", "bfloat16"]),
    ],
)
def test_feature_gates_per_architecture(name, cc, missing, present):
    """doctor warns from the compute capability which features will refuse the card (info: nothing broke yet)."""
    names = " | ".join(_gates(name, cc))
    for feature in missing:
        assert feature in names, names
    for feature in present:
        assert feature.rstrip(",") not in _gates(name, cc), names


def test_real_h200_snapshot():
    """The snapshot recorded on a real H200: no problem; the only gates are the Blackwell-only formats."""
    snap = fixture("real-h200-torch-jax")
    found = doctor.findings(snap)
    assert [f["severity"] for f in found] == ["info"]
    assert found[0]["title"].split("cannot run: ")[1].split(", ") == ["MXFP8", "NVFP4"]
    from dnnfix.facts import release

    assert release(snap["frameworks"]["torch"]["cudnn_version"]) == (9, 19, 0)
