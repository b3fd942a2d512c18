"""Packaging like a maintained project: metadata, extras, py.typed in the wheel, --version, shell completion."""

import os
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

import dnnfix

ROOT = Path(__file__).resolve().parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")


@pytest.fixture(scope="module")
def project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_all_extra_has_no_tensorflow_and_tf_is_separate(project):
    extras = project["optional-dependencies"]
    assert not any("tensorflow" in req for req in extras["all"])
    assert any(req.startswith("tensorflow") for req in extras["tf"])
    assert any(req.startswith("textual-serve") for req in extras["serve"])


def test_classifiers_urls_and_plugin_entry_point(project):
    classifiers = set(project["classifiers"])
    for minor in range(10, 15):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers
    assert "Typing :: Typed" in classifiers and "Framework :: Pytest" in classifiers
    assert {"Homepage", "Source", "Issues"} <= set(project["urls"])
    assert project["entry-points"]["pytest11"] == {"dnnfix": "dnnfix.pytest_plugin"}
    assert (ROOT / "dnnfix" / "py.typed").is_file()


def test_wheel_carries_py_typed_and_the_metadata(tmp_path):
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert p.returncode == 0, p.stderr
    (whl,) = tmp_path.glob("dnnfix-*.whl")
    z = zipfile.ZipFile(whl)
    assert "dnnfix/py.typed" in z.namelist()
    meta = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    assert "Classifier: Programming Language :: Python :: 3.14" in meta
    assert "Project-URL: Source," in meta
    assert "Provides-Extra: tf" in meta
    ep = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "[pytest11]" in ep and "dnnfix = dnnfix.pytest_plugin" in ep


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_flags(flag):
    p = subprocess.run([sys.executable, "-m", "dnnfix", flag], capture_output=True, text=True, timeout=60)
    assert (p.returncode, p.stdout) == (0, f"dnnfix {dnnfix.__version__}\n")
    assert dnnfix.__version__ == metadata.version("dnnfix")


@pytest.mark.parametrize(
    "shell,marker", [("bash", "complete "), ("zsh", "#compdef dnnfix"), ("fish", "complete --command dnnfix")]
)
def test_completion_code_for_each_shell(shell, marker):
    pytest.importorskip("argcomplete")
    p = subprocess.run(
        [sys.executable, "-m", "dnnfix", "completion", shell], capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 0, p.stderr
    assert marker in p.stdout and "dnnfix" in p.stdout


def _complete(line: str):
    """What the shell gets for `line` (argcomplete's protocol: _ARGCOMPLETE set, answers on fd 8)."""
    env = dict(os.environ, _ARGCOMPLETE="1", _ARGCOMPLETE_IFS="\n", COMP_LINE=line, COMP_POINT=str(len(line)))
    p = subprocess.run(
        ["bash", "-c", '"$0" -m dnnfix 8>&1 1>/dev/null 9>/dev/null', sys.executable],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return sorted(x.strip() for x in p.stdout.split("\n") if x.strip())


def test_completion_answers_from_the_real_parser():
    pytest.importorskip("argcomplete")
    assert "match" in _complete("dnnfix ma") and "completion" in _complete("dnnfix co")
    assert "--no-probe" in _complete("dnnfix match --no")
    assert _complete("dnnfix completion f") == ["fish"]
