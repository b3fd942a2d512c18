"""The dnnfix paste-a-traceback app. `make_app(...)` builds it for the CLI (`dnnfix tui`), the tests and
the bench alike; everything it works on lives in a Session (dnnfix/tui/session.py)."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Dict, Optional, Sequence

from textual.app import App
from textual.binding import Binding

from .session import Session


class DnnfixApp(App):
    CSS_PATH = "dnnfix.tcss"
    TITLE = "dnnfix"
    SUB_TITLE = "paste a traceback"
    BINDINGS = [
        Binding("f1", "help", "Help", tooltip="Every key (this list)"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("ctrl+t", "toggle_theme", "Theme", show=False, tooltip="Switch between the light and dark theme"),
    ]

    def __init__(
        self,
        session: Session,
        text: str = "",
        *,
        show_timings: bool = True,
        theme: Optional[str] = None,
        cursor_blink: bool = True,
    ) -> None:
        super().__init__()
        self.session = session
        self.initial_text = text
        self.show_timings = show_timings
        self.cursor_blink = cursor_blink
        self.started = time.perf_counter()
        if theme:
            self.theme = theme

    def get_default_screen(self):
        from .screens.main import MainScreen

        return MainScreen()

    def on_mount(self) -> None:
        if not self.initial_text:
            # load the knowledge base while the person reaches for the paste key
            self.run_worker(lambda: self.session.kb, thread=True, group="kb", exit_on_error=False)

    @property
    def main(self):
        from .screens.main import MainScreen

        return next(s for s in self.screen_stack if isinstance(s, MainScreen))

    @property
    def kb_warning(self) -> str:
        return self.session.kb_warning() if self.session._kb is not None else ""

    def diagnosis_changed(self, d) -> None:
        """Tell the screen on top (the environment panel re-shows the top cause live)."""
        hook = getattr(self.screen, "on_diagnosis", None)
        if hook is not None and self.screen is not self.main:
            hook(d)

    async def wait_idle(self, timeout: float = 20.0) -> None:
        """Until no diagnosis is pending and its explanation is on screen (tests and the bench)."""
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            busy = (
                self.main.busy
                or any(w.group in ("diagnose", "kb") and not w.is_finished for w in self.workers)
                or self.main.details.updating
            )
            if not busy:
                return
            await asyncio.sleep(0.01)
        raise TimeoutError("the diagnosis did not finish")

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"


def make_app(
    text: str = "",
    *,
    kb_paths: Sequence[str] = (),
    kb_dirs: Optional[Sequence[str]] = None,
    probe: bool = False,
    env: Optional[Dict[str, Any]] = None,
    env_name: str = "",
    show_timings: bool = True,
    theme: Optional[str] = None,
    kb=None,
    cursor_blink: bool = True,
) -> DnnfixApp:
    """The app. kb_dirs: exactly these knowledge-base folders (no built-in one: tests); env: a snapshot dict
    (from `dnnfix env --json`) used instead of the probe; show_timings=False and cursor_blink=False keep screenshots
    deterministic (a blinking cursor's phase at the moment of the screenshot is a matter of timing)."""
    session = Session(kb_paths, kb_dirs, probe=probe and env is None, snapshot=env, snapshot_name=env_name, kb=kb)
    return DnnfixApp(session, text, show_timings=show_timings, theme=theme, cursor_blink=cursor_blink)
