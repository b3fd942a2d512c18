"""The ranked causes: title, confidence bar, score, confident/possible badge and signature status badge."""

from __future__ import annotations

from typing import List, Optional

from textual.markup import escape
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ..present import bar

_STATUS = {
    "stable": "$text-primary on $primary-muted",
    "test": "$text-accent on $accent-muted",
    "experimental": "$text-warning on $warning-muted",
    "deprecated": "$text-error on $error-muted",
}


def prompt(rank: int, m) -> str:
    """Two lines of markup for one match (theme variables, so it reads in light and dark themes)."""
    tone = "success" if m.confident else "warning"
    badge = f"[$text-{tone} on ${tone}-muted] {'confident' if m.confident else 'possible'} [/]"
    status = f"[{_STATUS.get(m.status, '$text-muted')}] {escape(m.status)} [/]"
    return f"[b]{rank}.[/b] {escape(m.title)}\n   [${tone}]{bar(m.score)}[/] {m.score:.2f} {badge} {status}"


class CauseList(OptionList):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.matches: List = []

    def show(self, matches: List, keep: Optional[str] = None) -> None:
        """Replace the list; keep the highlight on signature `keep` when it is still there."""
        self.matches = list(matches)
        self.clear_options()
        self.add_options([Option(prompt(i, m), id=f"m{i - 1}") for i, m in enumerate(self.matches, 1)])
        if self.matches:
            ids = [m.signature for m in self.matches]
            self.highlighted = ids.index(keep) if keep in ids else 0

    @property
    def current(self):
        i = self.highlighted
        return self.matches[i] if i is not None and 0 <= i < len(self.matches) else None
