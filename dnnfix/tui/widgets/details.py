"""The selected cause in three tabs: its explanation (Markdown), the evidence that fired, and its fixes."""

from __future__ import annotations

from typing import Dict, List, Optional

from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.containers import Vertical, VerticalScroll
from textual.markup import escape
from textual.widgets import Markdown, OptionList, TabbedContent, TabPane
from textual.widgets.option_list import Option

from ..present import explanation_markdown


class EvidenceList(OptionList):
    """One row per fired clause; Enter on a row with a line number jumps there in the paste."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lines: List[Optional[int]] = []

    def show(self, match) -> None:
        self.clear_options()
        self.lines = []
        if match is None:
            return
        opts = []
        for e in match.evidence:
            mark = "[$text-error]−[/]" if e.against else "[$text-success]+[/]"
            where = f"[$text-accent]line {e.line}[/] " if e.line else ""
            text = e.text if len(e.text) < 300 else e.text[:300] + "…"
            opts.append(Option(f"{mark} {'against: ' if e.against else ''}{where}{escape(text)}"))
            self.lines.append(e.line)
        self.add_options(opts)
        if opts:
            self.highlighted = 0


class Details(Vertical):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.fixes: List[Dict[str, str]] = []
        self.fix_index = 0
        self._updates: List[AwaitComplete] = []  # Markdown parses in a thread and mounts later

    @property
    def updating(self) -> bool:
        """A Markdown update is still parsing or mounting (the app's wait_idle waits for it)."""
        self._updates = [u for u in self._updates if not u.is_done]
        return bool(self._updates)

    def _markdown(self, widget_id: str, text: str) -> None:
        self._updates.append(self.query_one(widget_id, Markdown).update(text))

    def compose(self) -> ComposeResult:
        with TabbedContent(initial="tab-explain", id="detail-tabs"):
            with TabPane("Explanation", id="tab-explain"):
                with VerticalScroll(id="explain-scroll"):
                    yield Markdown(id="explain")
            with TabPane("Evidence", id="tab-evidence"):
                yield EvidenceList(id="evidence")
            with TabPane("Fixes", id="tab-fixes"):
                with VerticalScroll(id="fix-scroll"):
                    yield Markdown(id="fix")

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one("#detail-tabs", TabbedContent)

    @property
    def active(self) -> str:
        return self.tabs.active

    @active.setter
    def active(self, tab: str) -> None:
        self.tabs.active = tab

    def get_tab(self, pane_id: str):
        return self.tabs.get_tab(pane_id)

    def show_match(self, match, kb, fixes: List[Dict[str, str]]) -> None:
        self.fixes = fixes
        self.fix_index = 0
        self._markdown("#explain", explanation_markdown(match, kb))
        self.query_one("#evidence", EvidenceList).show(match)
        self.get_tab("tab-fixes").label = f"Fixes ({len(fixes)})"
        self.get_tab("tab-evidence").label = f"Evidence ({len(match.evidence)})"
        self._show_fix(match.cause)

    def show_text(self, markdown: str) -> None:
        """No cause selected: a message in the explanation tab, the others empty."""
        self.fixes = []
        self.fix_index = 0
        self._markdown("#explain", markdown)
        self.query_one("#evidence", EvidenceList).show(None)
        self._markdown("#fix", "")
        self.get_tab("tab-fixes").label = "Fixes"
        self.get_tab("tab-evidence").label = "Evidence"

    def step_fix(self, delta: int, cause: str) -> None:
        if self.fixes:
            self.fix_index = (self.fix_index + delta) % len(self.fixes)
            self._show_fix(cause)

    @property
    def current_fix(self) -> Optional[Dict[str, str]]:
        return self.fixes[self.fix_index] if self.fixes else None

    def _show_fix(self, cause: str) -> None:
        if not self.fixes:
            self._markdown("#fix", f"No fix snippet for `{cause}` yet.")
            return
        f = self.fixes[self.fix_index]
        n = len(self.fixes)
        more = " · **]** / **[** next / previous fix" if n > 1 else ""
        note = f"\n\n{f['note']}" if f.get("note") else ""
        fence = "````" if "```" in f["code"] else "```"
        self._markdown(
            "#fix",
            f"**Fix {self.fix_index + 1} of {n}: {f['title']}**{note}\n\n{fence}{f['language']}\n{f['code']}\n{fence}\n\n"
            f"**c** copy · **s** save as a script{more}",
        )
