"""Packaging is tested, not assumed: the wheel carries every knowledge-base file and runs from itself."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    p = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    (whl,) = out.glob("dnnfix-*.whl")
    return whl


def test_wheel_contains_every_kb_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    kb_files = [p.relative_to(ROOT / "kb").as_posix() for p in (ROOT / "kb").rglob("*") if p.is_file()]
    assert kb_files, "the knowledge base is empty"
    missing = [f for f in kb_files if f"dnnfix/_kb/{f}" not in names]
    assert missing == []


def test_installed_wheel_runs_match_from_its_own_kb(wheel, tmp_path):
    target = tmp_path / "site"
    p = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    env = dict(os.environ, PYTHONPATH=str(target))
    sample = ROOT / "examples" / "colab-dnn-library-not-found.txt"
    p = subprocess.run(
        [
            sys.executable,
            "-c",
            "import dnnfix.knowledge.load as k, sys; print(k.builtin_dir()); "
            "from dnnfix.cli import main; sys.exit(main(['match', '--json', '--no-probe', sys.argv[1]]))",
            str(sample),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert p.returncode == 0, p.stderr
    first, row = p.stdout.splitlines()
    assert first.startswith(str(target)) and first.endswith("_kb")
    assert json.loads(row)["matches"], "the packaged knowledge base found nothing in the demo example"
