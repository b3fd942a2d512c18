"""The environment panel: this machine's probe on/off, or a snapshot from `dnnfix env --json`.

Every change re-ranks the causes behind the panel at once; the panel shows the new top cause.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static, Switch

from ..present import env_rows

if TYPE_CHECKING:
    from textual import getters

    from ..app import DnnfixApp


class EnvScreen(ModalScreen[None]):
    if TYPE_CHECKING:
        app = getters.app(DnnfixApp)  # textual's way to type self.app: this screen runs only in DnnfixApp

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("p", "toggle_probe", "Probe", tooltip="This machine's probe on/off"),
        Binding("l", "focus_file", "Load", tooltip="Type a snapshot file to load (Enter loads)"),
        Binding("u", "unload", "Unload", tooltip="Stop using the loaded snapshot"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="env", classes="dialog"):
            yield Label("Environment: facts about the machine that failed", classes="dialog-title")
            with Horizontal(id="probe-row"):
                yield Switch(value=self.app.session.probe, id="probe")
                yield Label("use this machine's probe ([b]p[/b])", id="probe-label")
            yield Label("or a snapshot from [b]dnnfix env --json[/b] ([b]l[/b], Enter loads):")
            yield Input(placeholder="path/to/snapshot.json", id="snapshot-path")
            yield Static(id="env-using")
            yield Static(id="env-rows")
            yield Static(id="env-top")
            yield Label("p probe · l load · u unload · Esc close", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#probe", Switch).focus()
        self._refresh_facts()
        self.on_diagnosis(self.app.main.diagnosis)

    def _refresh_facts(self) -> None:
        s = self.app.session
        self.query_one("#probe", Switch).value = s.probe
        self.query_one("#env-using", Static).update(f"[b]Using:[/b] {escape(s.env_label())}")
        snap, _ = s.env()
        rows = env_rows(snap)
        width = max((len(k) for k, _ in rows), default=0)
        self.query_one("#env-rows", Static).update(
            "\n".join(f"  [$text-muted]{k:<{width}}[/] {escape(v)}" for k, v in rows)
            or "  [$text-muted]no facts: versions and GPUs are unknown, so only the text decides[/]"
        )

    def on_diagnosis(self, d) -> None:
        """Called by the app whenever the causes were ranked again."""
        top = self.query_one("#env-top", Static)
        if d is None or not d.matches:
            top.update("[$text-muted]Top cause: none yet[/]")
        else:
            m = d.matches[0]
            top.update(
                f"[b]Top cause now:[/b] {escape(m.cause)} {m.score:.2f} "
                f"{'[$text-success]confident[/]' if m.confident else '[$text-warning]possible[/]'}"
            )

    def _changed(self) -> None:
        self._refresh_facts()
        self.app.main.rediagnose()

    @on(Switch.Changed, "#probe")
    def _probe_switched(self, event: Switch.Changed) -> None:
        if event.value != self.app.session.probe:
            self.app.session.set_probe(event.value)
            self._changed()

    def action_toggle_probe(self) -> None:
        sw = self.query_one("#probe", Switch)
        sw.value = not sw.value

    def action_focus_file(self) -> None:
        self.query_one("#snapshot-path", Input).focus()

    @on(Input.Submitted, "#snapshot-path")
    def _load(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        if not path:
            return
        import os

        try:
            self.app.session.load_snapshot(os.path.expanduser(path))
        except ValueError as e:
            self.notify(str(e), severity="error")
            return
        event.input.value = ""  # the panel says which snapshot is in use
        self.query_one("#probe", Switch).focus()
        self._changed()

    def action_unload(self) -> None:
        if self.app.session.snapshot is not None:
            self.app.session.clear_snapshot()
            self._changed()

    def action_close(self) -> None:
        self.dismiss(None)
