"""The main screen: paste on the left, ranked causes and the selected cause's details on the right.

Diagnosis runs in a worker thread, at once after a paste and 300 ms after the last typed key, so neither
typing nor a huge paste waits for it; a result that arrives after a newer edit is dropped (generation counter).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, OptionList, Static

from ..present import listed, script_name, script_text
from ..widgets.cause_list import CauseList
from ..widgets.details import Details, EvidenceList
from ..widgets.paste_area import PasteArea

if TYPE_CHECKING:
    from textual import getters

    from ..app import DnnfixApp

DEBOUNCE_S = 0.3
EMPTY = (
    "### Paste a failure on the left\n\n"
    "A Python traceback, a notebook error, a CI or training log: dnnfix ranks the likely causes, shows the "
    "lines that point to each one, and the fix to run.\n\n"
    "- **ctrl+o** open a file · **F2** environment (versions, GPU) · **F1** every key\n"
    "- **Esc** leaves the paste area; **Tab** moves between panes"
)


class ResultsPane(Vertical):
    """Letter keys act here only, so that they type normally in the paste area."""

    BINDINGS = [
        Binding("c", "screen.copy_fix", "Copy", tooltip="Copy the fix shown to the clipboard (OSC 52)"),
        Binding("s", "screen.save_fix", "Save", tooltip="Save the fix shown as a script"),
        Binding("right_square_bracket", "screen.step_fix(1)", "Next fix", key_display="]", show=False),
        Binding("left_square_bracket", "screen.step_fix(-1)", "Previous fix", key_display="[", show=False),
        Binding("x", "screen.tab('tab-explain')", "Explanation tab", show=False),
        Binding("v", "screen.tab('tab-evidence')", "Evidence tab", show=False),
        Binding("f", "screen.tab('tab-fixes')", "Fixes tab", show=False),
        Binding("g", "screen.next_line", "Next fired line", show=False, tooltip="Jump to the next line that fired"),
        Binding("e", "screen.environment", "Environment panel", show=False),
        Binding("n", "screen.new_signature", "New signature", show=False),
        Binding("o", "screen.open", "Open a file", show=False),
        Binding("i", "screen.focus_paste", "Back to the paste area", show=False),
        Binding("question_mark", "app.help", "Help", key_display="?", show=False),
        Binding("q", "app.quit", "Quit", show=False),
        *[Binding(str(k), f"screen.pick({k})", f"Cause {k}", show=False) for k in range(1, 10)],
    ]


class MainScreen(Screen):
    if TYPE_CHECKING:
        app = getters.app(DnnfixApp)  # textual's way to type self.app: this screen runs only in DnnfixApp

    BINDINGS = [
        Binding("ctrl+o", "open", "Open", tooltip="Open a traceback or log file"),
        Binding("f2", "environment", "Env", tooltip="Environment panel: probe on/off, load a snapshot"),
        Binding("ctrl+n", "new_signature", "New sig", tooltip="Draft a new signature from the paste"),
        Binding("ctrl+g", "next_line", "Next line", tooltip="Jump to the next line that fired for the selected cause"),
        Binding("ctrl+l", "clear", "Clear the paste", show=False),
        Binding("ctrl+r", "diagnose_now", "Diagnose now", show=False, tooltip="Diagnose now (without waiting)"),
        Binding(
            "escape", "focus_results", "To the results", show=False, tooltip="Leave the paste area for the cause list"
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.diagnosis = None
        self.busy = False
        self._gen = 0
        self._timer: Optional[Timer] = None
        self._jump = -1
        self._note = ""
        self._error = ""

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            paste = PasteArea(id="paste")
            paste.cursor_blink = self.app.cursor_blink
            yield paste
            with ResultsPane(id="results"):
                yield Static(id="verdict", markup=True)
                yield CauseList(id="causes")
                yield Details(id="details")
        yield Static(id="status")
        yield Footer(compact=True, show_command_palette=False)

    @property
    def paste(self) -> PasteArea:
        return self.query_one("#paste", PasteArea)

    @property
    def causes(self) -> CauseList:
        return self.query_one("#causes", CauseList)

    @property
    def details(self) -> Details:
        return self.query_one("#details", Details)

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._select(self.causes.current))
        self.paste.border_title = "Paste"
        self.causes.border_title = "Causes"
        self._show(self._gen, None)
        text = self.app.initial_text
        if text:
            self.busy = True
            self.paste.load_paste(text)
            self.action_diagnose_now()
        self.paste.focus()

    # ------------------------------------------------------------ diagnosis
    @on(PasteArea.Changed, "#paste")
    def _changed(self) -> None:
        self.busy = True
        self.paste.mark(())
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.paste.pasted:
            # a bracketed paste arrives whole: diagnose at once; typing (or a terminal that sends a paste as
            # keys) waits for a pause
            self.paste.pasted = False
            self.action_diagnose_now()
        else:
            self._timer = self.set_timer(DEBOUNCE_S, self.action_diagnose_now)

    @on(PasteArea.Capped)
    def _capped(self, event: PasteArea.Capped) -> None:
        self._note = event.note
        self.notify(event.note, title="Large paste")

    def action_diagnose_now(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._gen += 1
        gen, text, truncated = self._gen, self.paste.text, self.paste.truncated
        if not text.strip():
            self._note = ""
            self._show(gen, None)
            return
        self.busy = True
        self.run_worker(
            lambda: self._work(gen, text, truncated), thread=True, exclusive=True, group="diagnose", exit_on_error=False
        )

    def _work(self, gen: int, text: str, truncated: bool) -> None:
        try:
            d, err = self.app.session.diagnose(text, truncated), ""
        except Exception as e:  # one line, never a traceback over the app
            d, err = None, f"internal error: {type(e).__name__}: {e}"
        try:
            self.app.call_from_thread(self._show, gen, d, err)
        except RuntimeError:
            pass  # the app is closing

    def rediagnose(self) -> None:
        """Environment or knowledge base changed: rank again now."""
        self.action_diagnose_now()

    def _show(self, gen: int, d, err: str = "") -> None:
        if gen != self._gen:
            return
        keep = self.causes.current.signature if self.causes.current is not None else None
        self.diagnosis, self._error, self._jump = d, err, -1
        verdict = self.query_one("#verdict", Static)
        if d is None:
            self.causes.show([])
            verdict.update("[$text-error]" + escape(err) + "[/]" if err else "[$text-muted]Waiting for a paste…[/]")
            self.details.show_text(EMPTY)
            self.paste.mark(())
        else:
            n = len(d.confident)
            if n:
                verdict.update(
                    f"[$text-success]✔[/] [b]{n} confident cause{'s' if n > 1 else ''}[/b]"
                    + (f" [$text-muted]+{len(d.matches) - n} possible[/]" if len(d.matches) > n else "")
                )
            else:
                verdict.update(
                    "[$text-warning]✘[/] [b]No known cause fits[/b]"
                    + (f" [$text-muted]({len(d.matches)} weak)[/]" if d.matches else "")
                    + "  [$text-muted]ctrl+n: teach dnnfix[/]"
                )
            self.causes.show(listed(d, self.app.session.kb), keep)
            if not d.matches:
                self._show_nothing(d)
            else:
                self._select(self.causes.current)
        self.causes.display = bool(self.causes.matches)
        self._update_status()
        self.busy = self._timer is not None
        self.app.diagnosis_changed(d)

    def _show_nothing(self, d) -> None:
        self.details.show_text(
            "### No known cause fits\n\n" + escape_md(d.family) + "\n\n"
            f"Fingerprint: `{d.fingerprint}`\n\n"
            "**ctrl+n** drafts a new signature from this paste (anchors filled in from the text), checks it as "
            "you edit, and saves it in your knowledge-base folder."
        )
        self.causes.border_subtitle = ""

    def _update_status(self) -> None:
        d = self.diagnosis
        parts = [f"{self.paste.document.line_count:,} lines" if self.paste.text else "empty"]
        if d is not None:
            parts.append(f"{len(d.matches)} cause{'s' if len(d.matches) != 1 else ''}")
            m = self.causes.current
            if m is not None:
                parts.append(f"selected {m.cause}")
        parts.append(f"env: {self.app.session.env_label()}")
        if d is not None and self.app.show_timings:
            parts.append(f"{d.elapsed_ms:.1f} ms")
        if self._note:
            parts.append(self._note)
        warn = self.app.kb_warning
        if warn:
            parts.append(warn)
        self.query_one("#status", Static).update(escape(" · ".join(parts)))

    # ------------------------------------------------------------ selection
    @on(OptionList.OptionHighlighted, "#causes")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._select(self.causes.current)
        self._update_status()

    @on(OptionList.OptionSelected, "#causes")
    def _chosen(self) -> None:
        self.details.query_one("Tabs").focus()

    def _select(self, m) -> None:
        if m is None:
            return
        from ...api import fixes_for

        kb = self.app.session.kb
        self.details.show_match(m, kb, fixes_for(m, kb))
        self.details.border_title = m.cause
        self.causes.border_subtitle = m.signature
        self._jump = -1
        self.paste.mark(m.lines, [e.line for e in m.evidence if e.against and e.line])

    @on(OptionList.OptionSelected, "#evidence")
    def _evidence_chosen(self, event: OptionList.OptionSelected) -> None:
        ev = self.query_one("#evidence", EvidenceList)
        line = ev.lines[event.option_index] if event.option_index < len(ev.lines) else None
        if line:
            self.paste.jump_to(line)
            self.notify(f"line {line}", timeout=2)
        else:
            self.notify("this evidence is a fact or the exception type, not one line", timeout=3)

    def action_pick(self, n: int) -> None:
        if 0 < n <= len(self.causes.matches):
            self.causes.highlighted = n - 1
            self.causes.focus()

    def action_tab(self, tab: str) -> None:
        self.details.active = tab
        target = {"tab-explain": "#explain-scroll", "tab-evidence": "#evidence", "tab-fixes": "#fix-scroll"}[tab]
        self.details.query_one(target).focus()

    def action_next_line(self) -> None:
        m = self.causes.current
        lines = m.lines if m is not None else []
        if not lines:
            self.notify("no line of the paste fired for this cause", timeout=3)
            return
        self._jump = (self._jump + 1) % len(lines)
        self.paste.jump_to(lines[self._jump])
        self.notify(f"line {lines[self._jump]} ({self._jump + 1} of {len(lines)})", timeout=2)

    def action_focus_results(self) -> None:
        self.causes.focus()

    def action_focus_paste(self) -> None:
        self.paste.focus()

    def action_clear(self) -> None:
        self.paste.truncated = False
        self._note = ""
        self.paste.load_text("")
        self.paste.focus()

    # ------------------------------------------------------------ fixes
    def action_step_fix(self, delta: int) -> None:
        m = self.causes.current
        if m is not None:
            self.details.step_fix(delta, m.cause)
            self.details.active = "tab-fixes"

    def _fix_or_say(self):
        m, f = self.causes.current, self.details.current_fix
        if m is None or f is None:
            self.notify("no fix to use: select a cause that has one", severity="warning", timeout=3)
            return None, None
        return m, f

    def action_copy_fix(self) -> None:
        m, f = self._fix_or_say()
        if f is None:
            return
        self.app.copy_to_clipboard(f["code"])
        n = len(f["code"].splitlines())
        self.notify(
            f"copied fix {self.details.fix_index + 1} ({f['language'] or 'text'}, {n} line{'s' if n != 1 else ''}) "
            "to the clipboard; s saves it as a script",
            timeout=4,
        )

    def action_save_fix(self) -> None:
        m, f = self._fix_or_say()
        if f is None:
            return
        from .prompt import PromptScreen

        default = os.path.join(os.getcwd(), script_name(m, self.details.fix_index, f))

        def write(path: Optional[str]) -> None:
            if not path:
                return
            p = Path(path).expanduser()
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(script_text(m, f), encoding="utf-8")
                if p.suffix in (".sh", ".py"):
                    p.chmod(p.stat().st_mode | 0o111)
            except OSError as e:
                self.notify(f"cannot write {p}: {e.strerror or e}", severity="error")
                return
            self.notify(f"saved {p}", timeout=4)

        self.app.push_screen(PromptScreen("Save the fix as a script", default, "Enter saves · Esc cancels"), write)

    # ------------------------------------------------------------ other screens
    def action_open(self) -> None:
        from .prompt import PromptScreen

        def load(path: Optional[str]) -> None:
            if not path:
                return
            from ...readinput import InputError, read_input

            try:
                t = read_input(str(Path(path).expanduser()))
            except InputError as e:
                self.notify(str(e), severity="error")
                return
            self._note = ""
            self.paste.load_paste(t.text)
            self.paste.truncated = self.paste.truncated or t.truncated
            self.action_diagnose_now()

        self.app.push_screen(PromptScreen("Open a traceback or log file", "", "Enter opens · Esc cancels"), load)

    def action_environment(self) -> None:
        from .env import EnvScreen

        self.app.push_screen(EnvScreen())

    def action_new_signature(self) -> None:
        text = self.paste.text
        if not text.strip():
            self.notify("paste the failure first: the draft takes its anchors from it", severity="warning")
            return
        from .signature import SignatureScreen

        top = self.causes.current or (self.diagnosis.top if self.diagnosis is not None else None)

        def saved(path: Optional[str]) -> None:
            if path:
                self.rediagnose()

        self.app.push_screen(SignatureScreen(text, top.cause if top is not None else ""), saved)


def escape_md(text: str) -> str:
    return text.replace("*", r"\*").replace("_", r"\_").replace("`", r"\`")
