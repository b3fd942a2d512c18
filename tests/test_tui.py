"""The terminal app driven as a person would (Textual pilot): paste, results, select, copy, save, new signature."""

import asyncio
import json
import os
import stat
from pathlib import Path

import pytest

pytest.importorskip("textual")

from textual import events  # noqa: E402
from textual.widgets import Input, Select, TextArea  # noqa: E402

from dnnfix.tui.app import make_app  # noqa: E402

# whole CLI / TUI / hook runs in many processes: the whole suite and the newest Python run them, the oldest
# Python's core suite in CI leaves them out (scripts/test_pythons, DNNFIX_CORE_LIGHT)
pytestmark = pytest.mark.subprocess_heavy

MINI = Path(__file__).parent / "fixtures" / "kb-mini"
LOADED = (
    "2023-01-01 10:00:00.000000: E tensorflow/stream_executor/cuda/cuda_dnn.cc:361] Loaded runtime CuDNN "
    "library: 8.0.5 but source was compiled with: 8.1.0.\n"
    "Traceback (most recent call last):\n"
    '  File "train.py", line 3, in <module>\n'
    "    model.fit(x, y)\n"
    "tensorflow.python.framework.errors_impl.UnimplementedError: Graph execution error:\n"
    "DNN library is not found.\n"
)
ONLY_MESSAGE = (
    "tensorflow.python.framework.errors_impl.UnimplementedError: Graph execution error:\nDNN library is not found.\n"
)
UNKNOWN = (
    'Traceback (most recent call last):\n  File "train.py", line 9, in <module>\n    main()\n'
    "ValueError: the frobnicator refused the widget count 7\n"
)


def mini_app(**kw):
    return make_app(kb_dirs=[str(MINI)], show_timings=False, **kw)


async def paste(pilot, text):
    """A bracketed paste, delivered like the terminal's, then wait for the diagnosis."""
    pilot.app.post_message(events.Paste(text))
    await pilot.pause()
    await pilot.app.wait_idle()
    await pilot.pause()


def run(coro):
    return asyncio.run(coro)


def test_paste_ranks_causes_and_highlights_the_lines_that_fired():
    async def go():
        app = mini_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await paste(pilot, LOADED)
            main = app.main
            assert [m.cause for m in main.diagnosis.matches] == ["demo.cudnn.mismatch", "demo.cudnn.missing"]
            assert main.causes.current.signature == "demo-loaded-older"
            assert main.details.border_title == "demo.cudnn.mismatch"
            assert main.paste.fired == {0, 4, 5}  # the log line, the exception line, the message
            assert "confident" in str(main.query_one("#verdict").render())

    run(go())


def test_typing_is_debounced_into_one_diagnosis(monkeypatch):
    # a longer quiet period than the app's 0.3 s: on a loaded CI machine the pilot's key presses can stall for more
    # than 0.3 s, which is a pause in typing, not a failure of the debouncing this test is about
    from dnnfix.tui.screens import main as main_screen

    monkeypatch.setattr(main_screen, "DEBOUNCE_S", 2.0)

    async def go():
        app = mini_app()
        calls = []
        real = app.session.diagnose
        app.session.diagnose = lambda text, truncated=False: calls.append(text) or real(text, truncated)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"DNN library is not found")
            await app.wait_idle()
            assert calls == ["DNN library is not found"]
            assert sorted(m.cause for m in app.main.diagnosis.matches) == ["demo.cudnn.mismatch", "demo.cudnn.missing"]

    run(go())


def test_wait_idle_covers_the_explanation_markdown_still_parsing(monkeypatch):
    """Textual parses a Markdown update in a thread and mounts it later: on a loaded machine the diagnosis can be
    done while the explanation still shows the old text. wait_idle (which the snapshot tests rely on) waits for
    it too."""
    import time

    from markdown_it import MarkdownIt

    real = MarkdownIt.parse

    def slow(self, src, env=None):
        time.sleep(0.3)
        return real(self, src, env)

    monkeypatch.setattr(MarkdownIt, "parse", slow)

    async def go():
        app = mini_app()
        async with app.run_test(size=(80, 24)) as pilot:
            pilot.app.post_message(events.Paste(UNKNOWN))
            await pilot.pause()
            await app.wait_idle()
            shown = " ".join(str(b._content) if hasattr(b, "_content") else "" for b in app.main.query("MarkdownBlock"))
            assert "Fingerprint" in shown, shown

    run(go())


def test_a_steady_cursor_looks_the_same_at_any_moment():
    """cursor_blink=False (the screenshots use it) draws the same screen, cursor included, whenever it is taken: with
    blinking, two screenshots half a second apart differ by the cursor's phase, which made a CI snapshot flaky."""

    async def shots(blink):
        app = make_app(UNKNOWN, kb_dirs=[str(MINI)], show_timings=False, cursor_blink=blink)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await app.wait_idle()
            await pilot.pause()  # the explanation's blocks, mounted, are laid out on the next refresh
            first = app.export_screenshot()
            await asyncio.sleep(0.55)  # past one blink interval (0.5 s)
            await pilot.pause()
            return first, app.export_screenshot()

    a, b = run(shots(False))
    assert a == b
    assert 'fill="#e0e0e0"' in a  # the cursor's cell is drawn (the dark theme's cursor colour)


def test_selecting_a_cause_updates_details_and_highlights():
    async def go():
        app = mini_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await paste(pilot, LOADED)
            await pilot.press("escape", "down")
            main = app.main
            assert main.causes.current.cause == "demo.cudnn.missing"
            assert main.details.border_title == "demo.cudnn.missing"
            assert main.paste.fired == {5} and main.paste.against == {0}  # 'against' clause on the log line
            await pilot.press("1")
            assert main.causes.current.cause == "demo.cudnn.mismatch"

    run(go())


def test_evidence_row_and_next_line_jump_into_the_paste():
    async def go():
        app = mini_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await paste(pilot, LOADED)
            await pilot.press("escape", "v")
            assert app.main.details.active == "tab-evidence"
            await pilot.press("down", "enter")  # second evidence row: the phrase on line 6
            assert app.main.paste.current == 5 and app.main.paste.cursor_location == (5, 0)
            await pilot.press("ctrl+g")
            assert app.main.paste.current == 0

    run(go())


def test_copy_fix_puts_the_filled_snippet_on_the_clipboard():
    async def go():
        app = mini_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await paste(pilot, LOADED)
            await pilot.press("escape", "f", "c")
            assert app.main.details.active == "tab-fixes"
            assert app.clipboard == "pip install 'nvidia-cudnn-cu12==8.1.0.*'"

    run(go())


def test_save_fix_writes_an_executable_script(tmp_path):
    async def go():
        app = mini_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await paste(pilot, LOADED)
            await pilot.press("escape", "s")
            prompt = app.screen.query_one(Input)
            assert prompt.value.endswith("dnnfix-fix-demo-cudnn-mismatch-1.sh")
            prompt.value = str(tmp_path / "fix.sh")
            await pilot.press("enter")
            await pilot.pause()

    run(go())
    script = tmp_path / "fix.sh"
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env bash\n") and "pip install 'nvidia-cudnn-cu12==8.1.0.*'" in text
    assert script.stat().st_mode & stat.S_IXUSR


def test_new_signature_is_checked_live_and_saved_into_the_user_kb():
    async def go():
        app = mini_app()
        async with app.run_test(size=(100, 30)) as pilot:
            await paste(pilot, UNKNOWN)
            assert app.main.diagnosis.matches == [] and "No known cause" in str(app.main.query_one("#verdict").render())
            await pilot.press("ctrl+n")
            await pilot.pause()
            screen = app.screen
            assert [d.code for d in screen.diags] == ["DNX105"]  # no cause picked yet
            assert ":2:8: DNX105 unknown cause id ''" in screen.diags[0].format()
            await pilot.press("ctrl+s")  # refused while an error remains
            assert app.screen is screen
            screen.query_one("#cause", Select).value = "demo.cudnn.missing"
            await pilot.pause(0.4)
            assert screen.diags == []
            assert "cause: demo.cudnn.missing" in screen.query_one("#sig-yaml", TextArea).text
            assert "ranks 1st" in str(screen.query_one("#sig-rank").render())
            await pilot.press("ctrl+s")
            await pilot.pause()
            await app.wait_idle()
            assert app.screen is app.main
            assert app.main.diagnosis.top.cause == "demo.cudnn.missing"
            return app.main.diagnosis.top.signature

    sid = run(go())
    folder = Path(os.environ["DNNFIX_USER_KB"]) / "signatures" / "local"
    assert sorted(p.name for p in folder.iterdir()) == [f"{sid}.cases.yaml", f"{sid}.yaml"]
    assert "frobnicator" in (folder / f"{sid}.cases.yaml").read_text()


def test_new_signature_reports_yaml_errors_at_their_line_and_column():
    async def go():
        app = mini_app()
        async with app.run_test(size=(100, 30)) as pilot:
            await paste(pilot, UNKNOWN)
            await pilot.press("ctrl+n")
            await pilot.pause()
            area = app.screen.query_one("#sig-yaml", TextArea)
            area.load_text(
                "id: x\ncause: demo.cudnn.missing\ntitel: t\nstatus: stable\nmatch:\n  - regex: 'frobnicator refused'\n"
            )
            await pilot.pause(0.4)
            lines = [d.format() for d in app.screen.diags]
            assert any(":3:1: DNX102 unknown key 'titel'" in ln for ln in lines), lines
            await pilot.press("ctrl+g")
            assert area.cursor_location[0] in (0, 2)  # the first problem listed
            await pilot.press("escape")
            assert app.screen is app.main

    run(go())


def test_environment_panel_reranks_live(tmp_path, monkeypatch):
    import dnnfix.api as api

    monkeypatch.setattr(api, "derive", lambda snap, kb=None: {"expected": {"tf": {"cudnn": "8.9"}}} if snap else {})
    snap = tmp_path / "snap.json"
    snap.write_text(json.dumps({"cuda": {"cudnn_version": "8.1.0"}, "packages": {"tensorflow": "2.15.0"}}))

    async def go():
        app = mini_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await paste(pilot, ONLY_MESSAGE)
            assert not app.main.diagnosis.confident
            await pilot.press("f2")
            assert app.screen.__class__.__name__ == "EnvScreen"
            await pilot.press("l")
            app.screen.query_one("#snapshot-path", Input).value = str(snap)
            await pilot.press("enter")
            await pilot.pause()
            await app.wait_idle()
            await pilot.pause()
            top = app.main.diagnosis.top
            assert (top.cause, top.confident) == ("demo.cudnn.mismatch", True)
            assert "demo.cudnn.mismatch" in str(app.screen.query_one("#env-top").render())
            assert "tensorflow 2.15.0" in str(app.screen.query_one("#env-rows").render())
            await pilot.press("u")
            await app.wait_idle()
            assert not app.main.diagnosis.confident
            await pilot.press("escape")
            assert app.screen is app.main

    run(go())


def test_probe_switch_uses_this_machine(monkeypatch):
    import dnnfix.api as api

    monkeypatch.setattr(api, "probe_snapshot", lambda quick=True: {"python": {"version": "3.99.0"}})

    async def go():
        app = mini_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await paste(pilot, LOADED)
            await pilot.press("f2", "p")
            await app.wait_idle()
            await pilot.pause()
            assert app.session.probe and app.session.env_label() == "this machine"
            assert "3.99.0" in str(app.screen.query_one("#env-rows").render())

    run(go())


def test_huge_paste_is_capped_and_still_diagnosed():
    noise = "\n".join(f"I0101 10:00:00.000 1 train.py:1] step {i} loss 0.{i}" for i in range(60_000))

    async def go():
        app = mini_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await paste(pilot, LOADED + noise + "\nDNN library is not found.\n")
            main = app.main
            assert main.paste.truncated and main.paste.document.line_count <= 20_000
            assert main.diagnosis.top.cause == "demo.cudnn.mismatch"  # the head's decisive line was kept
            assert any("very large" in n for n in main.diagnosis.notes)

    run(go())


def test_help_lists_every_key_binding():
    from dnnfix.tui.screens.help import describe, groups

    async def go():
        app = mini_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("f1")
            assert app.screen.__class__.__name__ == "HelpScreen"
            shown = " ".join(str(w.render()) for w in app.screen.query(".help-what"))
            await pilot.press("escape")
            assert app.screen is app.main
            return shown

    shown = run(go())
    for _title, bindings in groups():
        for b in bindings:
            assert describe(b) in shown


def test_open_file_loads_and_diagnoses(tmp_path):
    f = tmp_path / "log.txt"
    f.write_text(LOADED)

    async def go():
        app = mini_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("ctrl+o")
            app.screen.query_one(Input).value = str(f)
            await pilot.press("enter")
            await pilot.pause()
            await app.wait_idle()
            return app.main.diagnosis.top.cause

    assert run(go()) == "demo.cudnn.mismatch"


def test_text_given_to_the_factory_is_diagnosed_at_start():
    async def go():
        app = mini_app(text=LOADED)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await app.wait_idle()
            return app.main.diagnosis.top.cause, app.main.paste.text

    cause, text = run(go())
    assert cause == "demo.cudnn.mismatch" and text == LOADED


def test_theme_toggle_keeps_results():
    async def go():
        app = mini_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await paste(pilot, LOADED)
            dark = app.current_theme.dark
            await pilot.press("ctrl+t")
            await pilot.pause()
            assert app.current_theme.dark != dark
            assert app.main.details.border_title == "demo.cudnn.mismatch"

    run(go())


def test_stale_result_is_dropped():
    async def go():
        app = mini_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await paste(pilot, LOADED)
            main = app.main
            old = main.diagnosis
            main._show(main._gen - 1, None)  # a slower, older worker finishing late
            assert main.diagnosis is old

    run(go())
