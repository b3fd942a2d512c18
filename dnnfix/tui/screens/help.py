"""Every key of the app, read from the bindings themselves so that the list cannot drift from the code."""

from __future__ import annotations

from typing import Iterable, List, Tuple

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label


def groups() -> List[Tuple[str, Iterable[Binding]]]:
    from ..app import DnnfixApp
    from .env import EnvScreen
    from .main import MainScreen, ResultsPane
    from .signature import SignatureScreen

    results = _bindings(ResultsPane.BINDINGS)
    digits = [b for b in results if b.key.isdigit()]
    letters = [b for b in results if not b.key.isdigit()]
    return [
        ("Anywhere", _bindings(DnnfixApp.BINDINGS) + _bindings(MainScreen.BINDINGS)),
        (
            "Results (Esc or Tab from the paste)",
            letters
            + [
                Binding("1-9", "pick", f"Cause 1 to {len(digits)}"),
                Binding("up,down", "", "Move in a list"),
                Binding("enter", "", "Open / jump to the line of an evidence row"),
            ],
        ),
        ("Environment panel (F2)", _bindings(EnvScreen.BINDINGS)),
        ("New signature (ctrl+n)", _bindings(SignatureScreen.BINDINGS)),
    ]


def _bindings(items: Iterable[BindingType]) -> List[Binding]:
    """The Binding objects of a BINDINGS list (textual also takes tuples; every binding here is a Binding)."""
    return [b for b in items if isinstance(b, Binding)]


def _key(app, b: Binding) -> str:
    if b.key == "1-9" or b.action == "":
        return b.key.replace(",", " / ")
    return " / ".join(
        app.get_key_display(Binding(k.strip(), b.action, key_display=b.key_display)) for k in b.key.split(",")
    )


def describe(b: Binding) -> str:
    return b.tooltip or b.description


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q,question_mark", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="dialog"):
            yield Label("dnnfix keys", classes="dialog-title")
            for title, bindings in groups():
                yield Label(Content.from_markup("[b $text-accent]$title[/]", title=title), classes="help-group")
                with Grid(classes="help-keys"):
                    for b in bindings:
                        if b.description:
                            yield Label(Content.from_markup("[b]$key[/b]", key=_key(self.app, b)), classes="help-key")
                            yield Label(describe(b), classes="help-what")
            yield Label(
                "Paste with your terminal's paste key. Copy uses OSC 52: most terminals pass it to the "
                "clipboard (tmux: set -g set-clipboard on); where it does not, s saves the fix as a script.",
                classes="hint help-note",
            )
            yield Label("Esc closes", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)
