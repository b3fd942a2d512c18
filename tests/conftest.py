"""Shared test set-up: every test runs with an empty user KB, no KB cache and no colour."""
import os

import pytest


@pytest.fixture(autouse=True)
def _isolated_dnnfix(tmp_path, monkeypatch):
    monkeypatch.setenv("DNNFIX_USER_KB", str(tmp_path / "no-user-kb"))
    monkeypatch.setenv("DNNFIX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DNNFIX_KB_PATH", raising=False)
    monkeypatch.delenv("DNNFIX_DISABLE", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    yield


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
