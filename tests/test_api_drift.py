"""The API-drift table (kb/compat/api-drift.yaml) and its lookup (dnnfix/knowledge/drift.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from packaging.version import Version

from dnnfix.knowledge import drift
from fuzzgen import line_mixes
from dnnfix.api import diagnose_text
from dnnfix.facts import Facts

TABLE = Path(__file__).resolve().parent.parent / "kb" / "compat" / "api-drift.yaml"
ROW_KEYS = {"package", "kind", "module", "old", "removed_in", "last_with", "replacement", "since", "source", "note"}
REQUIRED = {"package", "kind", "module", "old", "removed_in", "last_with", "replacement", "source"}


@pytest.fixture(scope="module")
def data():
    with open(TABLE, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope="module")
def rows(data):
    return [r for t in data.values() for r in t["rows"]]


@pytest.mark.shipped_data
def test_every_table_is_titled_dated_and_cited(data):
    for name, table in data.items():
        assert table.get("title"), name
        assert re.match(r"https://", table.get("source", "")), name
        assert re.match(r"\d{4}-\d\d-\d\d$", str(table.get("retrieved"))), name
        assert table.get("rows"), name


@pytest.mark.shipped_data
def test_rows_have_the_schema(rows):
    """Every row has the required keys and no others, a known kind, and names that look like Python names."""
    assert len(rows) >= 300
    for r in rows:
        assert REQUIRED <= set(r) <= ROW_KEYS, r
        assert r["kind"] in ("import", "attribute", "argument"), r
        assert re.fullmatch(r"[A-Za-z_][\w.]*", r["module"]), r
        assert re.fullmatch(r"[A-Za-z_]\w*", r["old"]), r
        assert str(r["replacement"]).strip(), r


@pytest.mark.shipped_data
def test_every_row_cites_a_source(rows):
    for r in rows:
        assert re.match(r"https://\S+", str(r["source"])), r


@pytest.mark.shipped_data
def test_versions_parse_and_are_ordered(rows):
    """removed_in, last_with and since are PEP 440 versions; the last release with a name precedes its removal."""
    for r in rows:
        removed, last = Version(str(r["removed_in"])), Version(str(r["last_with"]))
        assert last < removed, r
        if "since" in r:
            assert Version(str(r["since"])) <= removed, r


@pytest.mark.shipped_data
def test_no_duplicate_rows(rows):
    keys = [(r["package"], r["kind"], r["module"], r["old"]) for r in rows]
    dupes = {k for k in keys if keys.count(k) > 1}
    assert not dupes


@pytest.mark.shipped_data
def test_packages_owned_by_wave1_causes_are_not_in_the_table(rows):
    """NumPy aliases and TensorFlow/Keras names have their own causes; the table must not claim them."""
    assert not {r["package"] for r in rows} & {"numpy", "tensorflow", "keras", "tf-keras"}  # drift._OTHER_CAUSES


@pytest.mark.shipped_data
def test_table_covers_many_libraries(rows):
    packages = {r["package"] for r in rows}
    assert {
        "huggingface-hub",
        "transformers",
        "trl",
        "diffusers",
        "peft",
        "datasets",
        "accelerate",
        "pandas",
        "pillow",
        "scipy",
        "scikit-learn",
        "pytorch-lightning",
        "mmcv",
        "gradio",
        "torch",
        "python",
    } <= packages


# ---------------------------------------------------------------- lookup
def _tables():
    with open(TABLE, encoding="utf-8") as fh:
        return {"api-drift": yaml.safe_load(fh)}


@pytest.mark.parametrize(
    "captures, text, package, removed, side",
    [
        (
            {"drift_import": "cached_download", "drift_from": "huggingface_hub"},
            "",
            "huggingface-hub",
            "0.26.0",
            "too new",
        ),
        ({"drift_module": "torch._six"}, "", "torch", "2.0.0", "too new"),
        ({"drift_module": "mmcv.runner.hooks"}, "", "mmcv", "2.0.0", "too new"),
        ({"drift_attr": "ANTIALIAS", "drift_mod": "PIL.Image"}, "", "pillow", "10.0.0", "too new"),
        ({"drift_attr": "append", "drift_cls": "DataFrame"}, "", "pandas", "2.0.0", "too new"),
        ({"drift_arg": "tokenizer", "drift_callee": "SFTTrainer.__init__"}, "", "trl", "0.12.0", "too new"),
        (
            {"drift_arg": "gpus", "drift_callee": "__init__"},
            "    trainer = pl.Trainer(gpus=1)\n",
            "pytorch-lightning",
            "2.0.0",
            "too new",
        ),
        (
            {"drift_arg": "processing_class", "drift_callee": "DPOTrainer.__init__"},
            "trl 0.11.4\n",
            "trl",
            "0.12.0",
            "too old",
        ),
    ],
)
def test_lookup_finds_the_row_and_the_side(captures, text, package, removed, side):
    got = drift.derive_facts(captures, Facts(), _tables(), text)
    assert got["drift.package"] == package
    assert got["drift.removed_in"] == removed
    assert side in got["drift.side"]
    assert got["drift.pin"] and got["drift.summary"]


def test_installed_version_from_a_pasted_pip_list_and_from_the_snapshot():
    cap = {"drift_attr": "append", "drift_cls": "DataFrame"}
    got = drift.derive_facts(cap, Facts(), _tables(), "pandas          2.2.3\nnumpy 1.26.4\n")
    assert got["drift.installed"] == "2.2.3"
    got = drift.derive_facts(cap, Facts(snapshot={"packages": {"pandas": "2.1.0"}}), _tables(), "")
    assert got["drift.installed"] == "2.1.0"


def test_installed_release_before_the_removal_does_not_confirm_the_row():
    """pandas 1.5 still had DataFrame.append: the row cannot explain the error, so no removed_in fact."""
    got = drift.derive_facts(
        {"drift_attr": "append", "drift_cls": "DataFrame"},
        Facts(snapshot={"packages": {"pandas": "1.5.3"}}),
        _tables(),
        "",
    )
    assert "drift.removed_in" not in got
    assert "predates" in got["drift.side"]


def test_users_own_module_and_wave1_packages_are_not_claimed():
    user = drift.derive_facts(
        {"drift_import": "load_cfg", "drift_from": "helpers", "drift_path": "/home/a/p/helpers.py"},
        Facts(),
        _tables(),
        "",
    )
    assert user.get("drift.user_module") is True and "drift.package" not in user
    np_ = drift.derive_facts({"drift_attr": "float", "drift_mod": "numpy"}, Facts(), _tables(), "")
    assert np_.get("drift.other_cause") == "numpy" and "drift.removed_in" not in np_


def test_without_a_row_the_package_and_version_are_named_but_nothing_is_removed():
    got = drift.derive_facts(
        {
            "drift_import": "brand_new",
            "drift_from": "accelerate.utils",
            "drift_path": "/v/lib/python3.11/site-packages/accelerate/utils/__init__.py",
        },
        Facts(),
        _tables(),
        "accelerate==0.20.3\n",
    )
    assert got["drift.package"] == "accelerate" and got["drift.installed"] == "0.20.3"
    assert "drift.removed_in" not in got


def test_lookup_never_raises_on_junk():
    assert drift.derive_facts({"drift_import": None}, None, None, "") == {"drift.name": ""} or True
    assert isinstance(drift.derive_facts({"drift_arg": "x"}, None, {"api-drift": {"t": {"rows": [None, 3]}}}, ""), dict)


# ---------------------------------------------------------------- end to end
def test_a_row_makes_the_match_confident_and_fills_the_fix():
    text = (
        'Traceback (most recent call last):\n  File "/home/u/app.py", line 1, in <module>\n'
        "    from huggingface_hub import HfFolder\n"
        "ImportError: cannot import name 'HfFolder' from 'huggingface_hub' "
        "(/home/u/.venv/lib/python3.12/site-packages/huggingface_hub/__init__.py)\n"
    )
    d = diagnose_text(text)
    top = d.matches[0]
    assert top.cause == "py.package.api-mismatch" and top.confident
    assert top.facts["drift.removed_in"] == "1.0.0" and top.facts["drift.pin"] == "huggingface-hub<1.0.0"
    from dnnfix.api import fixes_for
    from dnnfix.knowledge.load import load_kb

    code = fixes_for(top, load_kb())[0]["code"]
    assert "removed in huggingface-hub 1.0.0" in code and "huggingface-hub<1.0.0" in code


def test_without_a_row_the_generic_match_stays_possible():
    text = (
        'Traceback (most recent call last):\n  File "/srv/app/run.py", line 2, in <module>\n'
        "    from accelerate.utils import fancy_new_helper\n"
        "ImportError: cannot import name 'fancy_new_helper' from 'accelerate.utils' "
        "(/srv/venv/lib/python3.11/site-packages/accelerate/utils/__init__.py)\n"
    )
    top = diagnose_text(text).matches[0]
    assert top.cause == "py.package.api-mismatch"
    assert 0 < top.score < 0.6 and not top.confident
    assert top.facts["drift.package"] == "accelerate"


# ---------------------------------------------------------------- additions (the install is older than the code)
ADDED = TABLE.parent / "api-added.yaml"


def _added_rows():
    with open(ADDED, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    for name, table in data.items():
        assert table.get("title") and re.match(r"https://", table.get("source", "")), name
        assert re.match(r"\d{4}-\d\d-\d\d$", str(table.get("retrieved"))), name
    return [r for t in data.values() for r in t["rows"]]


@pytest.mark.shipped_data
def test_additions_table_schema_sources_versions_and_no_duplicates():
    rows = _added_rows()
    assert len(rows) >= 100
    keys = set()
    for r in rows:
        assert set(r) == {"package", "kind", "module", "name", "added_in", "last_without", "source"}, r
        assert r["kind"] == "import" and re.fullmatch(r"[A-Za-z_]\w*", r["name"]), r
        assert re.match(r"https://\S+", r["source"]), r
        assert Version(str(r["last_without"])) < Version(str(r["added_in"])), r
        k = (r["package"], r["module"], r["name"])
        assert k not in keys, k
        keys.add(k)
    # model classes belong to hf.transformers.too-old-for-model: no transformers.models.* name, no diffusers
    assert "diffusers" not in {r["package"] for r in rows}
    assert not [r for r in rows if r["module"].startswith("transformers.models")]


def test_a_name_newer_than_the_install_is_the_too_old_side():
    tables = _tables()
    with open(ADDED, encoding="utf-8") as fh:
        tables["api-added"] = yaml.safe_load(fh)
    cap = {"drift_import": "GRPOTrainer", "drift_from": "trl"}
    got = drift.derive_facts(cap, Facts(), tables, "trl==0.13.0\n")
    assert got["drift.added_in"] == "0.14.0" and got["drift.side"] == "installed is too old for the code"
    assert got["drift.pin"] == "trl>=0.14.0" and got["drift.installed"] == "0.13.0"
    got = drift.derive_facts(cap, Facts(), tables, "trl==0.15.2\n")
    assert "drift.added_in" not in got and "already exports" in got["drift.side"]


def test_a_librarys_own_version_check_pins_the_range_it_names():
    text = (
        "ImportError: huggingface-hub>=0.34.0,<1.0 is required for a normal functioning of this module, "
        "but found huggingface-hub==1.0.1.\n"
    )
    d = diagnose_text(text, probe=False, similar=False)
    top = d.matches[0]
    assert (top.cause, top.signature) == ("py.package.api-mismatch", "hf-dependency-version-check-failed")
    assert top.facts["drift.pin"] == "huggingface-hub>=0.34.0,<1.0"
    assert top.facts["drift.installed"] == "1.0.1"
    assert "nothing to change" in top.facts["drift.code_line"]


def test_a_removed_name_without_replacement_is_not_told_to_use_none():
    text = (
        "Traceback (most recent call last):\n"
        '  File "/home/u/a.py", line 1, in <module>\n'
        "    from huggingface_hub import KerasModelHubMixin\n"
        "ImportError: cannot import name 'KerasModelHubMixin' from 'huggingface_hub' "
        "(/home/u/venv/lib/python3.12/site-packages/huggingface_hub/__init__.py)\n"
    )
    facts = diagnose_text(text, probe=False, similar=False).matches[0].facts
    assert "use none" not in facts["drift.summary"] + facts["drift.code_line"]
    assert facts["drift.code_line"].startswith("in the code: huggingface_hub.KerasModelHubMixin has no replacement")


def test_installed_version_reads_only_the_lines_naming_the_package_with_the_same_answer():
    """In ASCII text the version patterns run over the lines that name the package (each with the line after it, for
    pip show's Name/Version pair), not the whole paste: the answer is that of searching the whole text, for pastes
    that mix pip list, pip freeze, pip show, dist-info names and prose in every order and case."""

    pats = [
        r"(?im)^[ \t]*{p}(?:[ \t]*==[ \t]*|[ \t]+)v?(\d+\.\d+(?:\.\d+)*(?:\.post\d+)?)[ \t]*$",
        r"(?i)\bName:[ \t]*{p}[ \t]*\r?\n[ \t]*Version:[ \t]*(\d+\.\d+(?:\.\d+)*)",
        r"(?i)\b{p}(?:==|[ \t]+version[ \t]*(?::[ \t]*)?|[ \t]+v|:?[ \t]+)(\d+\.\d+(?:\.\d+)*)\b",
        r"(?i)\b{p}-(\d+\.\d+(?:\.\d+)*)(?:\.dist-info|-py\d)",
    ]

    def whole_text(dist: str, text: str):
        for n in (dist, dist.replace("-", "_")):
            p = re.escape(n).replace(r"\-", "[-_]").replace("_", "[-_]")
            for rx in pats:
                m = re.search(rx.replace("{p}", p), text)
                if m:
                    return m.group(1)
        return None

    pieces = [
        "torch 2.1.0",
        "Name: torch",
        "Version: 1.13.1",
        "torch==2.0.1",
        "TORCH version: 1.9",
        "",
        "x torch",
        "torch-2.2.0.dist-info",
        "  torchvision 0.15",
        "noise",
        "torch_xla 2.1",
        "Name: Torch\nVersion: 3.1",
        "Name: torch-xla",
        "Version: 2.4.0",
    ]
    seen = set()
    for text in line_mixes(pieces, 4000, 9, seed=3):
        for dist in ("torch", "torch-xla"):
            want = whole_text(dist, text)
            assert drift.installed_version(dist, None, text) == want, (dist, text)
            seen.add(want)
    assert {"2.1.0", "1.13.1", "2.0.1", "2.4.0", None} <= seen
