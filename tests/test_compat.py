"""Compatibility tables (kb/compat/*.yaml) and the facts derived from them."""

import json
import os
import re

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet

from dnnfix import facts
from dnnfix.facts import simple_satisfies
from dnnfix.knowledge import compat

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(REPO, "tests", "fixtures", "env")


def fixture(name):
    with open(os.path.join(FIXTURES, name + ".json")) as fh:
        return json.load(fh)


def expected(snapshot):
    return compat.derive(snapshot).get("expected", {})


# ---------------------------------------------------------------- the tables themselves
def test_every_table_cites_its_source():
    """Each table has a source URL, a retrieved date and rows."""
    tables = compat.tables()
    assert set(tables) >= {"tensorflow", "pytorch", "jax", "cuda-driver"}
    for fname, data in tables.items():
        for name, table in data.items():
            assert re.match(r"https://", str(table.get("source", ""))), (fname, name)
            assert re.match(r"\d{4}-\d\d-\d\d$", str(table.get("retrieved", ""))), (fname, name)
            assert table.get("rows"), (fname, name)


def test_specifiers_and_versions_in_tables_parse():
    """Every range in the tables is a valid PEP 440 specifier; every version is numeric."""
    for fname, data in compat.tables().items():
        for name, table in data.items():
            for row in table["rows"]:
                for key, value in row.items():
                    if key in ("python", "numpy", "keras") and str(value)[:1] in "<>=!~":
                        SpecifierSet(value)
                    if key in ("tensorflow", "torch", "jaxlib") and not str(value)[:1].isdigit():
                        SpecifierSet(value)
                    if key in ("cuda", "cudnn", "linux", "windows", "min", "min_compute_capability"):
                        values = value if isinstance(value, list) else [value]
                        assert all(compat.vkey(v) for v in values), (fname, name, row)


def test_tensorflow_rows_match_the_documented_examples():
    """Spot checks against tensorflow.org's tested build configurations."""
    rows = {r["tensorflow"]: r for r in compat.rows("tensorflow", "linux_gpu")}
    assert rows["2.15"] == {"tensorflow": "2.15", "python": ">=3.9,<3.12", "cudnn": "8.9", "cuda": "12.2"}
    assert rows["2.16"]["cuda"] == "12.3" and rows["2.18"]["cudnn"] == "9.3"
    assert rows["2.10"]["cuda"] == "11.2" and rows["1.15"]["cudnn"] == "7.4"
    windows = {r["tensorflow"] for r in compat.rows("tensorflow", "windows_gpu")}
    assert "2.10" in windows and "2.11" not in windows


def test_driver_table_matches_nvidia_release_notes():
    """Spot checks against the CUDA toolkit release notes (Table 3) and minor version compatibility."""
    rows = {(r["cuda"], r["update"]): r for r in compat.rows("cuda-driver", "toolkit_drivers")}
    assert rows[("12.2", 0)] == {"cuda": "12.2", "update": 0, "linux": "535.54.03", "windows": "536.25"}
    assert rows[("11.8", 0)]["linux"] == "520.61.05"
    minor = {r["cuda_major"]: r for r in compat.rows("cuda-driver", "minor_version_compatibility")}
    assert minor["12"]["linux"] == "525.60.13" and minor["11"]["linux"] == "450.80.02"


def test_machine_signature_causes_are_known_cause_ids():
    """Every env_only signature names a cause of kb/causes.yaml with an explanation (its fixes come from there)."""
    from dnnfix.knowledge.load import load_kb

    with open(os.path.join(REPO, "kb", "causes.yaml")) as fh:
        causes = set((yaml.safe_load(fh) or {}).get("causes", {}))
    kb = load_kb()
    for s in kb.signatures:
        if s.env_only:
            assert s.cause in causes, (s.id, s.cause)
            assert kb.explanations.get(s.cause) is not None and kb.explanations[s.cause].fixes, s.id
    for row in compat.rows("tensorflow", "numpy"):
        assert row["cause"] in causes


def test_every_table_row_is_cited():
    """A row is cited by its table's `source` (and `retrieved` date), or by a `source` of its own."""
    for fname, data in compat.tables().items():
        if fname == "api-drift":
            continue  # another module's table with its own citation rules
        for name, table in data.items():
            cited = re.match(r"https://", str(table.get("source", "")))
            for row in table.get("rows") or []:
                assert cited or re.match(r"https://", str(row.get("source", ""))), (fname, name, row)


# ---------------------------------------------------------------- derive
def test_derive_tf_215_on_linux():
    """TensorFlow 2.15 on Linux expects CUDA 12.2, cuDNN 8.9, Python 3.9-3.11, Keras 2.15, NumPy < 2."""
    tf = expected(fixture("colab-t4-old-cudnn"))["tf"]
    assert tf == {
        "version": "2.15.0",
        "package": "tensorflow",
        "python": ">=3.9,<3.12",
        "gpu_build": True,
        "gpu_on_native_windows": False,
        "cuda": "12.2",
        "cudnn": "8.9",
        "cudnn_package": "nvidia-cudnn-cu12",
        "keras_major": "2",
        "keras": "2.15",
        "numpy": "<2",
        "numpy_cause": "py.numpy.abi-mismatch",
        "min_compute_capability": "3.5",
        "needs_avx": True,
    }


def test_derive_tf_on_native_windows_has_no_cuda():
    """TensorFlow >= 2.11 on native Windows has no GPU build, so no CUDA/cuDNN is expected."""
    tf = expected(fixture("windows-native-tf215"))["tf"]
    assert tf["gpu_build"] is False and "cuda" not in tf and "cudnn" not in tf
    old = expected({"os": {"system": "Windows"}, "packages": {"tensorflow-gpu": "2.10.1"}})["tf"]
    assert old["gpu_build"] is True and old["cuda"] == "11.2" and old["cudnn"] == "8.1"


def test_derive_keras_3_for_new_tf():
    """TensorFlow >= 2.16 expects Keras 3."""
    tf = expected({"packages": {"tensorflow-cpu": "2.21.0"}, "os": {"system": "Linux"}})["tf"]
    assert tf["keras"] == "3" and tf["gpu_build"] is False and tf["package"] == "tensorflow-cpu"
    assert tf["python"] == ">=3.10,<3.14" and "numpy" not in tf


def test_derive_tf_python_and_cuda_from_tf_version_only():
    """A partial snapshot holding only packages.tensorflow still gets expected.tf.* (no OS: no gpu_build)."""
    tf = expected({"packages": {"tensorflow": "2.11.1"}})["tf"]
    assert tf["cuda"] == "11.2" and tf["cudnn"] == "8.1" and "gpu_build" not in tf


def test_unknown_tf_release_gives_no_table_facts():
    """A release missing from the tables (a nightly) derives no CUDA/cuDNN numbers."""
    tf = expected({"packages": {"tf-nightly": "2.99.0.dev20990101"}, "os": {"system": "Linux"}})["tf"]
    assert "cuda" not in tf and "cudnn" not in tf and "python" not in tf


def test_derive_torch_cuda_build_and_archs():
    """torch 2.1.2+cu121: CUDA 12.1 build with cuDNN 8.9.2.26 and its compiled architectures."""
    torch = expected(fixture("driver-too-old"))["torch"]
    assert torch["cuda"] == "12.1" and torch["cudnn"] == "8.9.2.26" and torch["cpu_only"] is False
    assert torch["builds"] == ["11.8", "12.1"]
    assert "8.6" in torch["archs"] and "9.0" in torch["archs"]


def test_derive_torch_without_local_tag_uses_the_cuda_runtime_wheel():
    """PyPI's Linux torch has no +cuXXX tag; its CUDA is the nvidia-cuda-runtime wheel it pulled in."""
    torch = expected(fixture("driver-mismatch"))["torch"]
    assert torch["cuda"] == "12.1"
    cpu = expected({"os": {"system": "Linux"}, "packages": {"torch": "2.13.0+cpu"}})["torch"]
    assert cpu["cpu_only"] is True and "cuda" not in cpu


def test_derive_blackwell_archs():
    """torch 2.7 cu128 covers compute capability 12.0; cu126 does not."""
    e = expected({"os": {"system": "Linux"}, "packages": {"torch": "2.7.0+cu128"}})["torch"]
    assert e["archs"][-1] == "12.0+PTX"
    e = expected({"os": {"system": "Linux"}, "packages": {"torch": "2.7.0+cu126"}})["torch"]
    assert "12.0" not in e["archs"]


def test_derive_jax_plugin_minimums():
    """jax with the CUDA 12 plugin: CUDA >= 12.1 and cuDNN >= 9.8 for 0.6+, 9.1 for 0.4.31-0.5."""
    new = expected({"packages": {"jax": "0.7.1", "jaxlib": "0.7.1", "jax-cuda12-plugin": "0.7.1"}})["jax"]
    assert (new["cuda"], new["cudnn"], new["cuda_major"], new["gpu_build"]) == ("12.1", "9.8", "12", True)
    mid = expected({"packages": {"jax": "0.4.33", "jaxlib": "0.4.33", "jax-cuda12-pjrt": "0.4.33"}})["jax"]
    assert mid["cudnn"] == "9.1"
    cpu = expected({"packages": {"jax": "0.4.33", "jaxlib": "0.4.33"}})["jax"]
    assert cpu["gpu_build"] is False and "cudnn" not in cpu


def test_derive_driver_minimum_for_the_most_demanding_cuda():
    """The driver minimum follows the highest CUDA any installed GPU framework uses, per OS."""
    drv = expected(fixture("colab-t4-old-cudnn"))["driver"]
    assert drv["for_cuda"] == "12.2"
    assert drv["min"] == drv["min_linux"] == "525.60.13"
    assert drv["recommended"] == "535.54.03"
    win = expected({"os": {"system": "Windows"}, "packages": {"torch": "2.4.0+cu124"}})["driver"]
    assert win["min"] == "527.41" and win["recommended"] == "551.61"
    wsl = expected({"os": {"system": "Linux", "wsl": True}, "packages": {"torch": "2.4.0+cu118"}})["driver"]
    assert wsl["min"] == "452.39"


def test_derive_empty_snapshot():
    """Nothing known, nothing derived."""
    assert compat.derive({}) == {}
    assert compat.derive({"packages": {"numpy": "1.26.4"}}) == {}


# ---------------------------------------------------------------- condition evaluation (one rule language: facts.py)
def _holds(cond, snapshot, derived=None):
    from dnnfix.facts import Facts, check_fact

    return check_fact(Facts(snapshot=snapshot, derived=derived or {}), cond)


@pytest.mark.parametrize(
    "cond,snap,want",
    [
        ({"path": "packages.keras", "version": ">=3"}, {"packages": {"keras": "3.0.1"}}, True),
        ({"path": "packages.keras", "version": ">=3"}, {"packages": {"keras": "2.15.0"}}, False),
        ({"path": "packages.keras", "version": ">=3"}, {}, None),
        ({"path": "packages.keras", "present": False}, {"packages": {}}, True),
        ({"path": "packages.keras", "present": False}, {}, None),
        ({"path": "env.X", "in": ["1"]}, {"env": {}}, False),
        ({"not": {"path": "env.X", "in": ["1"]}}, {"env": {}}, True),
        ({"not": {"path": "env.X", "in": ["1"]}}, {}, None),
        ({"path": "gpus", "empty": False}, {"gpus": [{"name": "T4"}]}, True),
        ({"path": "gpus", "empty": False}, {"gpus": []}, False),
        (
            {"path": "gpus.*.compute_capability", "lt_fact": "m"},
            {"gpus": [{"compute_capability": "8.6"}, {"compute_capability": "5.2"}], "m": "6.0"},
            True,
        ),
        ({"path": "a", "lt_fact": "b"}, {"a": "8.6.0", "b": "8.9"}, True),
        ({"path": "a", "lt_fact": "b"}, {"a": "8.9.7", "b": "8.9"}, False),
        ({"path": "a", "lt_fact": "b"}, {"a": "470.182.03", "b": "525.60.13"}, True),
        ({"path": "a", "spec_fact": "b"}, {"a": "3.12.1", "b": ">=3.9,<3.12"}, False),
        ({"path": "a", "not_spec_fact": "b"}, {"a": "3.12.1", "b": ">=3.9,<3.12"}, True),
        ({"path": "a", "ne_minor_fact": "b"}, {"a": "2.14.0", "b": "2.15.1"}, True),
        ({"path": "a", "ne_minor_fact": "b"}, {"a": "2.15.0", "b": "2.15.1"}, False),
        ({"path": "a", "ne_fact": "b"}, {"a": "2.15.0", "b": "2.15.0.post1"}, False),
        ({"path": "a", "none_major_eq_fact": "b"}, {"a": ["9.1.0"], "b": "8.9"}, True),
        ({"path": "a", "none_major_eq_fact": "b"}, {"a": ["9.1.0", "8.6.0"], "b": "8.9"}, False),
        ({"path": "a", "cc_not_in": "b"}, {"a": "12.0", "b": ["8.6", "9.0"]}, True),
        ({"path": "a", "cc_not_in": "b"}, {"a": "12.0", "b": ["8.6", "9.0+PTX"]}, False),
        ({"path": "a", "cc_not_in": "b"}, {"a": "3.7", "b": ["5.0", "9.0+PTX"]}, True),
        ({"path": "a", "max": 1024}, {"a": 64}, True),
        ({"any": [{"path": "a", "equals": 1}, {"path": "b", "equals": 2}]}, {"a": 0, "b": 2}, True),
    ],
)
def test_condition_operators(cond, snap, want):
    """Each condition kind; unknown facts give None (never hold)."""
    assert _holds(cond, snap) is want


def test_checks_yaml_is_gone_and_its_rules_are_signatures():
    """Known-bad combinations live once: as env_only signatures (kb/signatures/machine/), not in kb/compat."""
    from dnnfix.knowledge.load import load_kb

    assert not os.path.exists(os.path.join(REPO, "kb", "compat", "checks.yaml"))
    kb = load_kb()
    env_only = [s for s in kb.signatures if s.env_only]
    assert len(env_only) >= 28
    assert all(s.severity in ("error", "warning", "info") for s in env_only)
    assert not hasattr(compat, "check") and not hasattr(compat, "_View")


def test_tables_come_from_the_kb_passed_in(tmp_path):
    """No process-wide cache of the default KB: a --kb folder's table of the same name wins."""
    from dnnfix.knowledge.load import load_kb

    (tmp_path / "compat").mkdir()
    (tmp_path / "compat" / "cuda-driver.yaml").write_text(
        yaml.safe_dump(
            {
                "minor_version_compatibility": {
                    "source": "https://example.org",
                    "retrieved": "2026-12-04",
                    "rows": [{"cuda_major": 12, "linux": "999.0", "windows": "999.0"}],
                },
                "toolkit_drivers": {"source": "https://example.org", "retrieved": "2026-12-04", "rows": []},
            }
        )
    )
    snap = {"os": {"system": "Linux"}, "packages": {"torch": "2.4.1+cu124"}}
    default = compat.derive(snap, compat.kb_tables(load_kb()))["expected"]["driver"]["min"]
    mine = compat.derive(snap, compat.kb_tables(load_kb([str(tmp_path)])))["expected"]["driver"]["min"]
    assert default == "525.60.13" and mine == "999.0"


def test_capability_from_a_card_name():
    """A pasted GPU name gets its compute capability from the GPU table."""
    tabs = compat.kb_tables()
    assert compat.capability_for("NVIDIA A100-SXM4-40GB", tabs) == "8.0"
    assert compat.capability_for("Tesla T4", tabs) == "7.5"
    assert compat.capability_for("NVIDIA GeForce RTX 5090", tabs) == "12.0"
    assert compat.capability_for("Some Unknown Card", tabs) is None


def test_tf1_gpu_build_was_the_tensorflow_gpu_package():
    """Before 2.1 `tensorflow` was CPU-only on Linux; tensorflow-gpu was the GPU build."""
    assert expected({"os": {"system": "Linux"}, "packages": {"tensorflow": "1.15.5"}})["tf"]["gpu_build"] is False
    tf = expected({"os": {"system": "Linux"}, "packages": {"tensorflow-gpu": "1.15.5"}})["tf"]
    assert tf["gpu_build"] is True and tf["cuda"] == "10.0" and tf["cudnn"] == "7.4"


_REL = st.lists(st.integers(0, 12), min_size=1, max_size=4).map(tuple)


@settings(max_examples=400, deadline=None)
@given(
    version=_REL,
    clauses=st.lists(
        st.tuples(st.sampled_from(["==", "!=", ">=", "<=", ">", "<", "~=", "==*", "!=*"]), _REL), min_size=1, max_size=3
    ),
)
def test_the_quick_specifier_test_agrees_with_packaging(version, clauses):
    """compat.satisfies and the fact clauses answer simple specifiers without importing packaging: the same answers."""
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    parts = []
    for op, rel in clauses:
        text = ".".join(map(str, rel))
        parts.append(f"{op[:2]}{text}.*" if op.endswith("*") else f"{op}{text}")
    spec = ",".join(parts)
    quick = simple_satisfies(version, spec)
    try:
        want = SpecifierSet(spec).contains(Version(".".join(map(str, version))), prereleases=True)
    except ValueError:  # a form packaging refuses ("~=3"): the quick test must not answer it either
        assert quick is None
        return
    assert quick is None or quick == want, (spec, version)
    assert compat.satisfies(".".join(map(str, version)), spec) == want
    assert facts._satisfies(".".join(map(str, version)), spec) == want  # the fact clauses' spec test
    if not any(op == "~=" and len(rel) < 2 for op, rel in clauses):
        assert quick is not None  # every simple form is answered without packaging
