"""Real Python-environment failures: pip (offline) finding no usable wheel, stdlib modules removed in 3.12, a local
file shadowing a package, spawn workers re-importing __main__, and a package installed for another interpreter.
Each runs the real interpreter or pip in a subprocess and diagnoses exactly what it printed.

Other CPython releases come from pyenv (~/.pyenv/versions/3.X.*); a test that needs one it cannot find is skipped.
The Windows DLL failures of torch cannot be produced here; their cases live in kb/signatures/python-env/.
"""

import glob
import importlib.util
import os
import subprocess
import sys
import textwrap
import zipfile

import pytest

from dnnfix.testing import assert_matches, assert_silent, diagnose

pytestmark = pytest.mark.framework

NO_WHEEL = "py.package.no-matching-wheel"
REMOVED = "py.stdlib.removed-module"
SHADOWED = "py.package.shadowed"
SPAWN = "py.multiprocessing.spawn-guard"
WRONG_PY = "py.install.wrong-interpreter"


def _causes(text):
    return [(m.cause, round(m.score, 2), m.signature) for m in diagnose(text)[:4]]


def _pyenv(minor: str) -> str:
    """Path of a pyenv CPython 3.<minor>, or skip."""
    found = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/3.{minor}.*/bin/python")))
    if not found:
        pytest.skip(f"no CPython 3.{minor} under ~/.pyenv/versions")
    return found[-1]


def _run(argv, cwd, timeout=120, extra=None) -> str:
    env = dict(os.environ, PYTHONUNBUFFERED="1", PIP_DISABLE_PIP_VERSION_CHECK="1", **(extra or {}))
    env.pop("PYTHONPATH", None)
    p = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    return p.stdout.decode("utf-8", "replace")


def _pip(args, cwd) -> str:
    """pip install with no index and no site configuration (constraints or wheel folders of this machine)."""
    env = {"PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": "", "PIP_CONSTRAINT": ""}
    return _run([sys.executable, "-m", "pip", "install", "--no-index", *args], cwd, timeout=240, extra=env)


def _script(tmp_path, name: str, code: str):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(code), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------------ pip, offline


def test_pip_finds_no_torch_release(tmp_path):
    """pip without an index for a pinned torch: 'from versions: none' / 'No matching distribution found for torch'."""
    out = _pip(["torch==1.0.0"], tmp_path)
    assert "No matching distribution found for torch==1.0.0" in out, out[-2000:]
    m = assert_matches(out, NO_WHEEL)
    assert m.facts.get("requirement", "").startswith("torch")


def test_pip_rejects_a_wheel_for_another_platform(tmp_path):
    """A torch wheel whose tags name CPython 2.7 on win32: 'is not a supported wheel on this platform'."""
    whl = tmp_path / "torch-2.1.0+cu118-cp27-cp27m-win32.whl"
    whl.write_bytes(b"")
    out = _pip([str(whl)], tmp_path)
    assert "is not a supported wheel on this platform" in out, out[-2000:]
    m = assert_matches(out, NO_WHEEL)
    assert m.facts.get("wheel", "").startswith("torch-2.1.0")


def test_pip_package_requires_a_different_python(tmp_path):
    """A local vllm wheel declaring Requires-Python >=3.99: pip's resolver says it needs a different Python."""
    links = tmp_path / "links"
    links.mkdir()
    with zipfile.ZipFile(links / "vllm-9.9.9-py3-none-any.whl", "w") as z:
        z.writestr(
            "vllm-9.9.9.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: vllm\nVersion: 9.9.9\nRequires-Python: >=3.99\n\n",
        )
        z.writestr(
            "vllm-9.9.9.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        z.writestr("vllm-9.9.9.dist-info/RECORD", "")
    out = _pip(["--find-links", str(links), "vllm"], tmp_path)
    assert "requires a different Python" in out, out[-2000:]
    m = assert_matches(out, NO_WHEEL)
    assert m.facts.get("package") == "vllm"
    assert m.facts.get("requires_python") == ">=3.99"


def test_pip_unknown_package_is_not_claimed(tmp_path):
    """The same pip failure for a package that does not exist anywhere stays unconfident."""
    out = _pip(["dnnfix-no-such-package==1.0"], tmp_path)
    assert "No matching distribution found" in out, out[-2000:]
    assert_silent(out)


# ------------------------------------------------------------------------------------------- removed stdlib


def test_python312_has_no_distutils_or_imp(tmp_path):
    """CPython 3.12 itself: 'No module named distutils' / 'imp', and pkgutil.ImpImporter is gone."""
    py = _pyenv("12")
    for code, word in (
        ("from distutils.core import setup\n", "distutils"),
        ("import imp\n", "'imp'"),
        ("import pkgutil\nprint(pkgutil.ImpImporter)\n", "ImpImporter"),
    ):
        path = _script(tmp_path, "legacy_setup.py", code)
        out = _run([py, str(path)], tmp_path)
        assert word in out and "Traceback" in out, out[-2000:]
        assert_matches(out, REMOVED)


def test_collections_abc_alias_removed(tmp_path):
    """This interpreter (3.10+): 'cannot import name Mapping from collections'."""
    if sys.version_info < (3, 10):
        pytest.skip("the collections ABC aliases exist before 3.10")
    path = _script(tmp_path, "old_lib.py", "from collections import Mapping\n")
    out = _run([sys.executable, str(path)], tmp_path)
    assert "cannot import name 'Mapping' from 'collections'" in out, out[-2000:]
    m = assert_matches(out, REMOVED)
    assert m.facts.get("name") == "Mapping"


# ------------------------------------------------------------------------------------------------ shadowing


def test_local_numpy_py_shadows_numpy(tmp_path):
    """A script named numpy.py that imports numpy: 'partially initialized module numpy' (3.8-3.12 wording)."""
    path = _script(tmp_path, "numpy.py", "import numpy as np\nprint(np.zeros(3))\n")
    out = _run([sys.executable, str(path)], tmp_path)
    assert "partially initialized module 'numpy'" in out, out[-2000:]
    m = assert_matches(out, SHADOWED)
    assert m.facts.get("module") == "numpy"


def test_python313_says_consider_renaming(tmp_path):
    """CPython 3.13's own hint for a local random.py and numpy.py."""
    py = _pyenv("13")
    for name, code in (
        ("random.py", "import random\nprint(random.randint(1, 5))\n"),
        ("numpy.py", "import numpy as np\nprint(np.zeros(3))\n"),
    ):
        work = tmp_path / name.replace(".py", "")
        path = _script(work, name, code)
        out = _run([py, str(path)], work)
        assert "consider renaming" in out, out[-2000:]
        m = assert_matches(out, SHADOWED)
        assert m.facts.get("shadow_path", "").endswith(name)


def test_package_folder_and_torch_py_shadow_the_package(tmp_path):
    """A folder jax/ without __init__.py (jax not installed): '(unknown location)'; a torch.py: "not a package"."""
    if importlib.util.find_spec("jax") is not None:
        pytest.skip("jax is installed: a regular package wins over a namespace folder")
    (tmp_path / "a" / "jax").mkdir(parents=True)
    path = _script(tmp_path / "a", "train.py", "from jax import numpy as jnp\n")
    out = _run([sys.executable, str(path)], tmp_path / "a")
    assert "(unknown location)" in out, out[-2000:]
    assert_matches(out, SHADOWED)
    _script(tmp_path / "b", "torch.py", "x = 1\n")
    path = _script(tmp_path / "b", "train.py", "import torch.nn as nn\n")
    out = _run([sys.executable, str(path)], tmp_path / "b")
    assert "is not a package" in out, out[-2000:]
    assert_matches(out, SHADOWED)


def test_own_circular_import_is_not_shadowing(tmp_path):
    """Two modules of the user's own package importing each other: an ordinary bug, nothing confident."""
    _script(tmp_path, "app/__init__.py", "")
    _script(tmp_path, "app/models.py", "from app.services import bill\nclass User: pass\n")
    _script(tmp_path, "app/services.py", "from app.models import User\ndef bill(): pass\n")
    path = _script(tmp_path, "main.py", "import app.models\n")
    out = _run([sys.executable, str(path)], tmp_path)
    assert "partially initialized module 'app.models'" in out, out[-2000:]
    assert_silent(out)


# ----------------------------------------------------------------------------------------- multiprocessing


def test_spawn_without_main_guard(tmp_path):
    """A spawn Process started at module level: the child re-imports the script and refuses ('bootstrapping phase')."""
    path = _script(
        tmp_path,
        "prep.py",
        """
        import multiprocessing as mp
        def square(x):
            return x * x
        mp.set_start_method("spawn", force=True)
        p = mp.Process(target=square, args=(3,))
        p.start()
        p.join()
        """,
    )
    out = _run([sys.executable, str(path)], tmp_path, timeout=60)
    assert "bootstrapping phase" in out, out[-2000:]
    assert_matches(out, SPAWN)


def test_spawn_worker_cannot_find_main_function(tmp_path):
    """Code run with `python -c` (as in a notebook): spawn workers cannot find the function in __main__."""
    code = textwrap.dedent("""
        import multiprocessing as mp
        def work(x):
            return x * x
        if __name__ == "__main__":
            with mp.get_context("spawn").Pool(1) as pool:
                print(pool.map_async(work, range(2)).get(timeout=20))
        """)
    out = _run([sys.executable, "-c", code], tmp_path, timeout=60)
    assert "Can't get attribute 'work' on <module '__main__'" in out, out[-2000:]
    m = assert_matches(out, SPAWN)
    assert m.facts.get("name") == "work"


# ------------------------------------------------------------------------------------------ wrong interpreter


def test_installed_for_one_python_imported_by_another(tmp_path):
    """pip of this venv says pytest is already satisfied; CPython 3.10 from pyenv then cannot import it."""
    py = _pyenv("10")
    probe = _run([py, "-c", "import pytest"], tmp_path)
    if "ModuleNotFoundError" not in probe:
        pytest.skip("pytest is installed for the other interpreter too")
    out = _pip(["--no-deps", "pytest"], tmp_path)
    assert "Requirement already satisfied: pytest" in out, out[-2000:]
    path = _script(tmp_path, "test_model.py", "import pytest\n")
    out += _run([py, str(path)], tmp_path)
    assert "No module named 'pytest'" in out, out[-2000:]
    m = assert_matches(out, WRONG_PY)
    assert m.facts.get("package") == "pytest"
