"""New signature: a YAML draft prefilled from the paste, a cause picker, live `dnnfix kb check` diagnostics
(path:line:col), how the draft ranks on the paste, and saving into the user's knowledge-base folder."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, List, Optional

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.markup import escape
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Label, OptionList, Select, Static, TabbedContent, TabPane, TextArea
from textual.widgets.option_list import Option

from ..present import ordinal, short_path

if TYPE_CHECKING:
    from textual import getters

    from ...model import Incident
    from ..app import DnnfixApp

CHECK_DELAY_S = 0.2


class SignatureScreen(Screen[Optional[str]]):
    if TYPE_CHECKING:
        app = getters.app(DnnfixApp)  # textual's way to type self.app: this screen runs only in DnnfixApp

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", tooltip="Save into your knowledge-base folder (refused while errors remain)"),
        Binding("ctrl+g", "next_problem", "Problem", tooltip="Jump to the next kb check problem"),
        Binding("f3", "pick_cause", "Cause", tooltip="Open the cause picker (type to search)"),
        Binding("f4", "toggle_file", "Cases", tooltip="Switch between the signature and its cases file"),
        Binding("escape", "cancel", "Cancel", tooltip="Close without saving"),
    ]

    def __init__(self, text: str, cause: str = "") -> None:
        super().__init__()
        self.text, self.cause = text, cause
        self.diags: List = []
        self._problem = -1
        self._timer: Optional[Timer] = None
        self._inc: Optional[Incident] = None

    def compose(self) -> ComposeResult:
        s = self.app.session
        sig_yaml, cases_yaml = s.draft(self.text, self.cause)
        causes = sorted(s.kb.causes)
        with Horizontal(id="sig-head"):
            yield Label("[b]New signature[/b] · cause ([b]F3[/b]):", id="cause-label")
            yield Select(
                [(c, c) for c in causes],
                value=self.cause if self.cause in causes else Select.NULL,
                prompt="Pick the cause (type to search)",
                id="cause",
            )
        with TabbedContent(id="sig-files"):
            with TabPane("signature", id="tab-sig"):
                yield TextArea(sig_yaml, id="sig-yaml", show_line_numbers=True, soft_wrap=False)
            with TabPane("cases", id="tab-cases"):
                yield TextArea(cases_yaml, id="cases-yaml", show_line_numbers=True, soft_wrap=False)
        yield Static(id="sig-rank")
        yield OptionList(id="problems")
        yield Static(id="sig-where", classes="hint")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        from ...parse import parse_text

        self._inc = parse_text(self.text)
        self.query_one("#sig-files", TabbedContent).border_title = "New signature"
        self.query_one("#sig-yaml", TextArea).focus()
        self.check()

    # ------------------------------------------------------------ live check
    @on(TextArea.Changed)
    def _edited(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(CHECK_DELAY_S, self.check)

    def check(self) -> None:
        self._timer = None
        s = self.app.session
        sig_yaml = self.query_one("#sig-yaml", TextArea).text
        diags, sig, sid = s.check(sig_yaml, self.query_one("#cases-yaml", TextArea).text)
        self.diags = diags
        self._problem = -1
        problems = self.query_one("#problems", OptionList)
        problems.clear_options()
        errors = sum(1 for d in diags if d.severity == "error")
        problems.border_title = f"dnnfix kb check: {errors} error{'s' if errors != 1 else ''}, {len(diags) - errors} warning{'s' if len(diags) - errors != 1 else ''}"
        if diags:
            problems.add_options(
                [
                    Option(
                        ("[$text-error]" if d.severity == "error" else "[$text-warning]")
                        + escape(short_path(d.format()))
                        + "[/]"
                    )
                    for d in diags
                ]
            )
        else:
            problems.add_option(Option("[$text-success]✔ no problems[/]", disabled=True))
        rank = self.query_one("#sig-rank", Static)
        if sig is None:
            rank.update("[$text-muted]fix the problems below to see how this signature ranks on the paste[/]")
        else:
            n, m = s.rank_draft(sig, self._inc)
            if m is None or n is None:  # (both or neither)
                rank.update("[$text-error]does not fire on the paste:[/] no anchor clause matches; loosen the regex")
            else:
                tone = "success" if n == 1 and m.confident else "warning"
                rank.update(
                    f"[$text-{tone}]on the paste: ranks {ordinal(n)}, score {m.score:.2f}"
                    f"{' confident' if m.confident else ' (not confident: below 0.6)'}[/]"
                )
        where = s.sig_path(sid or "<id>")
        self.query_one("#sig-where", Static).update(
            f"saves {escape(short_path(str(where)))} and its .cases.yaml · ctrl+s save · Esc cancel"
        )

    def action_next_problem(self) -> None:
        if not self.diags:
            self.notify("no problems", timeout=2)
            return
        self._problem = (self._problem + 1) % len(self.diags)
        self._goto(self._problem)

    @on(OptionList.OptionSelected, "#problems")
    def _problem_chosen(self, event: OptionList.OptionSelected) -> None:
        if self.diags:
            self._goto(event.option_index)

    def _goto(self, i: int) -> None:
        d = self.diags[i]
        tabs = self.query_one("#sig-files", TabbedContent)
        area_id = "#cases-yaml" if d.path.endswith(".cases.yaml") else "#sig-yaml"
        tabs.active = "tab-cases" if area_id == "#cases-yaml" else "tab-sig"
        area = self.query_one(area_id, TextArea)
        area.move_cursor((max(0, d.line - 1), max(0, d.col - 1)), center=True)
        area.focus()
        self.query_one("#problems", OptionList).highlighted = i

    # ------------------------------------------------------------ cause picker
    @on(Select.Changed, "#cause")
    def _cause_changed(self, event: Select.Changed) -> None:
        if event.value is Select.NULL or not isinstance(event.value, str):
            return
        area = self.query_one("#sig-yaml", TextArea)
        text = area.text
        line = f"cause: {event.value}"
        if re.search(r"(?m)^cause:.*$", text):
            new = re.sub(r"(?m)^cause:.*$", line, text, count=1)
        elif re.search(r"(?m)^id:.*$", text):
            new = re.sub(r"(?m)^(id:.*)$", lambda m: m.group(1) + "\n" + line, text, count=1)
        else:
            new = line + "\n" + text
        if new != text:
            area.load_text(new)

    def action_pick_cause(self) -> None:
        sel = self.query_one("#cause", Select)
        sel.focus()
        sel.expanded = True

    def action_toggle_file(self) -> None:
        tabs = self.query_one("#sig-files", TabbedContent)
        tabs.active = "tab-cases" if tabs.active == "tab-sig" else "tab-sig"
        self.query_one("#cases-yaml" if tabs.active == "tab-cases" else "#sig-yaml", TextArea).focus()

    # ------------------------------------------------------------ save / cancel
    def action_save(self) -> None:
        if self._timer is not None:
            self.check()
        try:
            sig_path, cases_path = self.app.session.save(
                self.query_one("#sig-yaml", TextArea).text, self.query_one("#cases-yaml", TextArea).text
            )
        except ValueError as e:
            self.notify(short_path(str(e)), title="Not saved", severity="error", timeout=6)
            return
        except OSError as e:
            self.notify(f"cannot write: {e}", title="Not saved", severity="error", timeout=6)
            return
        self.app.notify(
            f"saved {short_path(str(sig_path))} and {cases_path.name}; run `dnnfix kb test --only {sig_path.stem}`",
            title="New signature",
            timeout=6,
        )
        self.dismiss(str(sig_path))

    def action_cancel(self) -> None:
        self.dismiss(None)
