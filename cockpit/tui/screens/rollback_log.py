"""The rollback log entry: previewed live as the operator types, appended on request.

The plan's critical notes ask to "document all rollbacks for audit trail"; the entry is
built by the engine from the journal (date, who, duration, data loss), so the operator
only writes what no machine knows: the reason and the resolution."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Input, Static, TextArea

from cockpit.tui import format as fmt
from cockpit.tui.messages import JournalChanged
from cockpit.tui.screens.base import CockpitScreen


class RollbackLogScreen(CockpitScreen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("ctrl+s", "append_log", "Append to log", priority=True),
    ]

    def __init__(self, phase_id: int) -> None:
        super().__init__(id=f"log-screen-{phase_id}")
        self.phase_id = phase_id
        self.written_to: str | None = None

    def compose_body(self) -> ComposeResult:
        phase = self.cockpit_app.plan.phase(self.phase_id)
        yield Static(f"[b]Rollback log · {fmt.styled(phase.title, '')}[/b] → {fmt.styled(self._log_name(), '$text-muted')}", id="log-title")
        yield Input(placeholder="Reason: why was this phase rolled back?", id="reason")
        yield TextArea(id="resolution", soft_wrap=True, show_line_numbers=False)
        with VerticalScroll(id="preview-box"):
            yield Static("", id="preview", markup=False)

    def _log_name(self) -> str:
        """Relative to the plan's folder when it lives there: the full path rarely fits 80 columns.
        During a drill the entry goes to the drill log, and the title says so."""
        from cockpit.drill.logbook import drill_log_path
        from cockpit.drill.record import DRILL_KINDS, active_drill

        plan = self.cockpit_app.plan
        path = drill_log_path(plan) if active_drill(self.engine.journal.events(kinds=DRILL_KINDS)) else plan.log.file
        try:
            return str(path.relative_to(plan.path.parent))
        except ValueError:
            return str(path)

    def on_mount(self) -> None:
        self.query_one("#resolution", TextArea).border_title = "Resolution: how was it resolved?"
        self.query_one("#preview-box").border_title = "Preview (ctrl+s appends)"
        self.query_one("#reason", Input).focus()

    def _texts(self) -> tuple[str, str]:
        return self.query_one("#reason", Input).value.strip(), self.query_one("#resolution", TextArea).text.strip()

    def redraw(self) -> None:
        reason, resolution = self._texts()
        from cockpit.drill import logbook

        preview = logbook.preview(self.engine, self.phase_id, reason or "[Brief description]", resolution or "[How it was resolved]")
        self.query_one("#preview", Static).update(preview.strip())
        if self.written_to:
            self.query_one("#preview-box").border_subtitle = f"appended to {fmt.styled(self.written_to, '', multiline=False)}"

    def on_input_changed(self, _event: Input.Changed) -> None:
        self.redraw()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.query_one("#resolution", TextArea).focus()

    def on_text_area_changed(self, _event: TextArea.Changed) -> None:
        self.redraw()

    def action_append_log(self) -> None:
        if self.cockpit_app.read_only:
            self.notify(f"Read-only: {self.cockpit_app.read_only_reason}", severity="warning")
            return
        reason, resolution = self._texts()
        if not reason or not resolution:
            self.notify("Write both a reason and a resolution first.", severity="warning")
            return
        self.append(reason, resolution)

    @work(group="append-log", thread=True, exit_on_error=False)
    def append(self, reason: str, resolution: str) -> None:
        from cockpit.drill import logbook

        try:
            result = logbook.append(self.engine, self.phase_id, reason, resolution)
        except Exception as exc:
            self.app.call_from_thread(self.notify, f"could not append the log: {exc}", severity="error")
            return
        self.written_to = str(result.path)
        if result.written:
            self.app.call_from_thread(self.notify, f"Log appended: {result.path}", timeout=5)
        else:
            self.app.call_from_thread(self.notify, f"Already in {result.path.name}: not written twice",
                                              severity="warning", timeout=5)
        self.post_message(JournalChanged())  # thread-safe
