"""The paste area: a TextArea that caps huge pastes and highlights the lines that fired."""

from __future__ import annotations

from typing import Iterable, Optional, Set

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widgets import TextArea

from ..present import cap_text

BIG_PASTE = 1 << 20  # characters
PLACEHOLDER = (
    "Paste a traceback or a log here (your terminal's paste key).\n"
    "Or: ctrl+o opens a file; `dnnfix tui FILE` and `dnnfix tui < log.txt` work too."
)


class PasteArea(TextArea):
    COMPONENT_CLASSES = TextArea.COMPONENT_CLASSES | {"paste-area--fired", "paste-area--against", "paste-area--current"}

    class Capped(Message):
        """A paste was too big for the UI and was cut down (head, error-like lines, tail)."""

        def __init__(self, note: str) -> None:
            super().__init__()
            self.note = note

    def __init__(self, **kwargs) -> None:
        super().__init__(
            soft_wrap=False, show_line_numbers=True, placeholder=PLACEHOLDER, highlight_cursor_line=False, **kwargs
        )
        self.fired: Set[int] = set()  # 0-based rows
        self.against: Set[int] = set()
        self.current: Optional[int] = None
        self.truncated = False
        self.pasted = False  # the next change comes from a whole paste: no need to wait for more keys

    def load_paste(self, text: str) -> None:
        """Replace the whole content with `text`, capped for the UI."""
        capped, truncated, note = cap_text(text)
        self.truncated = truncated
        self.load_text(capped)
        if note:
            self.post_message(self.Capped(note))

    async def _on_paste(self, event: events.Paste) -> None:
        if self.read_only:
            return
        event.stop()
        event.prevent_default()
        self.pasted = True
        text = event.text
        if len(text) > BIG_PASTE:
            # capping a huge paste scans all of it: do that off the event loop so that the screen keeps drawing
            import asyncio

            capped, truncated, note = await asyncio.to_thread(cap_text, text)
        else:
            capped, truncated, note = cap_text(text)
        if truncated or note:
            # a huge paste replaces everything: keeping line numbers meaningful matters more than merging
            self.truncated = truncated
            self.load_text(capped)
            self.post_message(self.Capped(note))
            return
        if result := self._replace_via_keyboard(capped, *self.selection):
            self.move_cursor(result.end_location)
            self.focus()

    def mark(self, fired: Iterable[int], against: Iterable[int] = (), current: Optional[int] = None) -> None:
        """Highlight input lines (1-based, as Evidence.line) that fired for and against the selected cause."""
        self.fired = {n - 1 for n in fired if n}
        self.against = {n - 1 for n in against if n} - self.fired
        self.current = current - 1 if current else None
        self._line_cache.clear()
        self.refresh()

    def jump_to(self, line: int) -> None:
        """Put the cursor on input line `line` (1-based) and scroll it to the middle."""
        row = max(0, min(line - 1, self.document.line_count - 1))
        self.current = row
        self._line_cache.clear()
        self.move_cursor((row, 0), center=True)
        self.refresh()

    def get_line(self, line_index: int) -> Text:
        line = super().get_line(line_index)
        if line_index == self.current:
            line.stylize(self.get_component_rich_style("paste-area--current"))
        elif line_index in self.fired:
            line.stylize(self.get_component_rich_style("paste-area--fired"))
        elif line_index in self.against:
            line.stylize(self.get_component_rich_style("paste-area--against"))
        return line
