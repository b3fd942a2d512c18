"""Screenshots of the app's main states at a fixed terminal size (pytest-textual-snapshot).

Deterministic: the fixture knowledge base only, no timings, no machine probe, no paths on screen.
Update after an intended change with `pytest tests/test_tui_snapshots.py --snapshot-update`, then look at them.
"""

import json
from pathlib import Path

import pytest

pytest.importorskip("textual")
pytest.importorskip("pytest_textual_snapshot")

from dnnfix.tui.app import make_app  # noqa: E402

from test_tui import LOADED, MINI, ONLY_MESSAGE, UNKNOWN  # noqa: E402

# whole CLI / TUI / hook runs in many processes: the whole suite and the newest Python run them, the oldest
# Python's core suite in CI leaves them out (scripts/test_pythons, DNNFIX_CORE_LIGHT)
pytestmark = pytest.mark.subprocess_heavy

SIZE = (80, 24)


def app_with(text="", theme=None):
    # no blinking: Textual caches a rendered line by whether the cursor is in its "on" phase, so a cursor made steady
    # during its "off" phase stays undrawn, and which phase a loaded machine reaches first is timing
    return make_app(text, kb_dirs=[str(MINI)], show_timings=False, theme=theme, cursor_blink=False)


async def settle(pilot):
    await pilot.pause()
    await pilot.app.wait_idle()
    await pilot.pause()


def test_empty(snap_compare):
    assert snap_compare(app_with(), terminal_size=SIZE, run_before=settle)


def test_matched(snap_compare):
    async def before(pilot):
        await settle(pilot)
        await pilot.press("escape")  # focus on the results, as after reading the paste

    assert snap_compare(app_with(LOADED), terminal_size=SIZE, run_before=before)


def test_matched_light_theme_fixes_tab(snap_compare):
    async def before(pilot):
        await settle(pilot)
        await pilot.press("escape", "f")

    assert snap_compare(app_with(LOADED, theme="textual-light"), terminal_size=SIZE, run_before=before)


def test_nothing_matched(snap_compare):
    assert snap_compare(app_with(UNKNOWN), terminal_size=SIZE, run_before=settle)


def test_environment_panel_with_snapshot(snap_compare, tmp_path, monkeypatch):
    import dnnfix.api as api

    monkeypatch.setattr(api, "derive", lambda snap, *_a, **_k: {"expected": {"tf": {"cudnn": "8.9"}}} if snap else {})
    snap = tmp_path / "colab-t4.json"
    snap.write_text(
        json.dumps(
            {
                "python": {"version": "3.10.12"},
                "os": {"system": "Linux", "distro": "Ubuntu 22.04.4 LTS"},
                "platform": {"colab": True, "jupyter": True},
                "packages": {"tensorflow": "2.15.0", "numpy": "1.25.2"},
                "driver": {"version": "535.104.05", "cuda_version": "12.2"},
                "cuda": {"runtime_version": "12.2", "cudnn_version": "8.6.0"},
                "gpus": [{"name": "Tesla T4"}],
            }
        )
    )

    async def before(pilot):
        await settle(pilot)
        await pilot.press("f2", "l")
        pilot.app.screen.query_one("#snapshot-path").value = str(snap)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(app_with(ONLY_MESSAGE), terminal_size=SIZE, run_before=before)


def test_help(snap_compare):
    async def before(pilot):
        await settle(pilot)
        await pilot.press("f1")

    assert snap_compare(app_with(), terminal_size=SIZE, run_before=before)


def test_snapshots_are_stored_beside_the_tests():
    """The accepted screenshots are part of the repository (reviewers look at them in diffs)."""
    folder = Path(__file__).parent / "__snapshots__" / "test_tui_snapshots"
    assert folder.is_dir() and len(list(folder.glob("*.svg"))) >= 6


@pytest.fixture(autouse=True)
def _colours(monkeypatch):
    """Screenshots in colour: the suite sets NO_COLOR for the plain-text renderers."""
    monkeypatch.delenv("NO_COLOR", raising=False)
