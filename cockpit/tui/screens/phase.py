"""One phase: its steps in order with why each is (not) ready, the exact dry-run of the
selected step, and the code-rollback tasks and fallback notes the plan lists.

Running a step always goes dry-run -> confirmation -> execute in a worker, with output
streaming into the log below; the screen stays responsive the whole time.

Everything here that the cockpit did not write (plan titles and notes, dry-run text
quoting SQL, guard details, outcome messages, server errors, a dump's output) reaches the
screen through `fmt.styled` (cleaned + exactly escaped markup) or `cockpit.text.clean`
(plain widgets such as the output log); nothing is interpolated raw into markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import DataTable, Log, Static

from cockpit.engine.labels import SHORT_TAG, StepTag, step_tag
from cockpit.engine.types import DryRun, status_label
from cockpit.plan.model import Phase
from cockpit.text import clean, escape_markup
from cockpit.tui import format as fmt
from cockpit.tui.messages import JournalChanged, RefreshWanted, StepFailed, StepFinished, StepOutput
from cockpit.tui.output import output_sink
from cockpit.tui.screens.base import CockpitScreen
from cockpit.tui.screens.confirm import ConfirmScreen
from cockpit.tui.screens.prompt import PromptScreen
from cockpit.tui.wraplog import WrappingLog

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

TITLE_LIMIT = 120  # a plan's phase name is one line on screen, however long the plan made it
TAG_STYLE: dict[StepTag, str] = {"abort": "$warning", "optional": "$text-muted", "": ""}


def dry_run_markup(dry: DryRun) -> str:
    """The dry-run as the operator reads it: what would run, then each guard's verdict."""
    lines = [fmt.styled(dry.text.rstrip(), "")]
    warnings = dry.warnings
    if warnings:
        lines.append("")
        lines.extend(fmt.styled(f"⚠ {warning}", "b $warning") for warning in warnings)
    if dry.guards:
        lines.append("")
        for guard in dry.guards:
            mark = fmt.styled("✔", "$success") if guard.ok else fmt.styled("✘", "b $error")
            lines.append(f"{mark} {fmt.styled(guard.name, 'b')}: {fmt.styled(guard.detail, '')}")
    if dry.would_refuse:
        lines.append(fmt.styled("Would be refused now (guards are re-checked live when run).", "b $error"))
    elif dry.destructive:
        lines.append(fmt.styled(f"Destructive: you will type {dry.confirm_token!r} to run it.", "b $warning"))
    return "\n".join(lines)


class PhaseScreen(CockpitScreen):
    COMPACT_FOOTER = True  # `!` EMERGENCY, `?` and `j` stay visible at 80 columns
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("x", "run_step", "Run"),
        # passes every overridable guard (reverse order, the watch window, in-flight runs)
        # with a journalled reason; never a guard that protects rows
        Binding("o", "override_step", "Override"),
        # in the help screen and the palette; off the footer so `!`, `?` and `j` fit at 80 columns
        Binding("c", "checklist", "Checklist", show=False),
        Binding("l", "log", "Log", show=False),
        Binding("w", "watch", "Watch", show=False),
        Binding("n", "note", "Note"),
    ]

    def __init__(self, phase_id: int) -> None:
        super().__init__(id=f"phase-screen-{phase_id}")
        self.phase_id = phase_id
        self.running_step: str | None = None
        self._streamed = 0  # output lines the running step streamed (else its outcome's are shown)

    @property
    def phase(self) -> Phase:
        return self.cockpit_app.plan.phase(self.phase_id)

    def compose_body(self) -> ComposeResult:
        phase = self.phase
        yield Static("", id="phase-title")
        table: DataTable[Content | str] = DataTable(id="steps", cursor_type="row", zebra_stripes=True)
        yield table
        with Horizontal(id="phase-lower"):
            with VerticalScroll(id="dryrun-box"):
                yield Static("select a step to see its dry-run", id="dryrun")
            with VerticalScroll(id="notes-box"):
                yield Static(self._notes_markup(phase), id="notes")
        yield WrappingLog(id="output", max_lines=2000)  # wraps: a refusal reason is never cut off

    def _notes_markup(self, phase: Phase) -> str:
        code = [s for s in phase.steps if s.kind == "manual"]
        lines = [fmt.styled("Code rollback", "b")]
        lines += [f"• {fmt.styled(s.title, '')}" for s in code] or ["• none"]
        lines.append(fmt.styled("Fallback", "b"))
        lines += [f"• {fmt.styled(note, '')}" for note in phase.fallback]
        lines.append(fmt.styled(f"Budget ~{phase.budget_minutes:g} min · data-loss risk {phase.data_loss_risk} ({phase.data_loss_reason})",
                                "$text-muted"))
        return "\n".join(lines)

    def on_mount(self) -> None:
        table: DataTable[Content | str] = self.query_one("#steps", DataTable)
        steps = self.phase.all_steps
        # fixed widths, the reason column taking the rest: nothing scrolls sideways at 80 columns
        step_width = max(len(s.id) + (len(SHORT_TAG[step_tag(s)]) + 3 if step_tag(s) else 0) for s in steps)
        status_width = len("interrupted — verify")
        why_width = max(16, self.app.size.width - 2 - step_width - status_width - 2 * 4 - 2)
        table.add_column("#", key="n", width=2)
        table.add_column("Step", key="step", width=step_width)
        table.add_column("Status", key="status", width=status_width)
        table.add_column("Why / last result", key="why", width=why_width)
        for number, step in enumerate(steps, start=1):
            name, tag = fmt.styled(step.id, ""), step_tag(step)
            label = f"{name} [{TAG_STYLE[tag]}]({SHORT_TAG[tag]})[/]" if tag else name
            table.add_row(str(number), _content(label), "", "", key=step.id)
        table.focus()
        self.query_one("#output", Log).border_title = "Output"
        self.query_one("#dryrun-box").border_title = "Dry-run"
        self.query_one("#notes-box").border_title = "Notes"

    def selected_step(self) -> str:
        table: DataTable[Content | str] = self.query_one("#steps", DataTable)
        row = table.cursor_row if table.row_count else 0
        return self.phase.all_steps[max(0, min(row, len(self.phase.all_steps) - 1))].id

    def redraw(self) -> None:
        app = self.cockpit_app
        phase = self.phase
        snap = app.snapshot
        state = "unknown"
        if snap is not None:
            try:
                state = snap.phase(phase.id).state
            except KeyError:
                pass
        engine = self.engine
        progress = engine.phase_progress(phase.id)
        elapsed = ""
        if progress.started_at:
            elapsed = f" · {progress.status} {fmt.duration(progress.elapsed_s)} of ~{phase.budget_minutes:g}m"
        self.query_one("#phase-title", Static).update(
            f"[b]{fmt.styled(phase.title, '', multiline=False, limit=TITLE_LIMIT)}[/b] · "
            f"{fmt.styled(state, fmt.STATE_STYLE.get(state, ''))}{fmt.styled(elapsed, '$text-muted')}"
        )
        table: DataTable[Content | str] = self.query_one("#steps", DataTable)
        for view in engine.step_views(phase.id, snap):
            status = "running" if view.step.id == self.running_step else view.status
            label = fmt.styled(status_label(status), fmt.STEP_STYLE.get(status, ""))
            why = ", ".join(view.blocked_by) if view.blocked_by else view.last_message
            try:
                table.update_cell(view.step.id, "status", _content(label))
                table.update_cell(view.step.id, "why", _content(fmt.styled(why, "$text-muted")), update_width=False)
            except Exception:  # a step the plan no longer has; nothing to show
                continue

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value:
            self.load_dry_run(str(event.row_key.value))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_run_step()

    @work(exclusive=True, group="dryrun", exit_on_error=False)
    async def load_dry_run(self, step_id: str) -> None:
        box = self.query_one("#dryrun", Static)
        try:
            dry = await self.engine.dry_run(self.phase_id, step_id, preview=True, snapshot=self.cockpit_app.snapshot)
        except Exception as exc:
            box.update(fmt.styled(f"dry-run failed: {exc}", "b $error"))
            return
        self.query_one("#dryrun-box").border_title = f"Dry-run · {escape_markup(step_id)}"
        box.update(dry_run_markup(dry))

    # ------------------------------------------------------------------ actions
    def action_run_step(self) -> None:
        app = self.cockpit_app
        if app.read_only:
            self.notify(f"Read-only: {app.read_only_reason}", severity="warning")
            return
        self.run_step(self.selected_step(), override=False)

    def action_override_step(self) -> None:
        if not self.cockpit_app.read_only:
            self.run_step(self.selected_step(), override=True)

    def action_checklist(self) -> None:
        self.cockpit_app.open_checklist(self.phase_id)

    def action_log(self) -> None:
        self.cockpit_app.open_log(self.phase_id)

    def action_watch(self) -> None:
        from cockpit.tui.screens.watch import start_or_open_watch

        start_or_open_watch(self, self.phase_id)

    @work(group="note", exit_on_error=False)
    async def action_note(self) -> None:
        text = await self.app.push_screen_wait(PromptScreen(f"Note for phase {self.phase_id}", "Goes into the journal with your name.",
                                                            "what happened"))
        if text:
            await self.engine.note_async(text, self.phase_id)  # an fsync'd write: off the event loop
            self.post_message(JournalChanged())
            self.notify("Note journalled.")

    @work(exclusive=True, group="run", exit_on_error=False)
    async def run_step(self, step_id: str, override: bool) -> None:
        """Dry-run, confirmation, execution. The dialog returns what the operator typed and
        the engine judges it: a refused token opens the dialog again with the engine's
        reason. The engine's answers come back as messages (output lines, the outcome)."""
        engine = self.engine
        reason: str | None = None
        if override:
            reason = await self.app.push_screen_wait(
                PromptScreen(
                    "Override the reverse order",
                    "Later phases are not rolled back. Why must this phase go first? (journalled)",
                    "reason",
                )
            )
            if not reason:
                return
        dry = await engine.dry_run(self.phase_id, step_id)
        token = dry.confirm_token if dry.destructive or dry.confirm_token else None
        warning = fmt.styled("Guards say this would be refused.", "b $error") if dry.would_refuse else ""
        refusal = ""
        while True:
            answer = await self.app.push_screen_wait(ConfirmScreen(f"Run {self.phase_id}/{step_id}: {dry.title}", dry_run_markup(dry),
                                                                   token, warning, refusal=refusal))
            if answer is None:
                self.notify("Cancelled; nothing was run.")
                return
            self._started(step_id, dry.title)
            try:
                outcome = await engine.execute(
                    self.phase_id,
                    step_id,
                    confirm=answer.typed,
                    override_reason=reason,
                    on_output=output_sink(self),
                )
            except Exception as exc:  # the engine journals its own failures; the view must not die
                self.post_message(StepFailed(step_id, str(exc)))
                return
            self.post_message(StepFinished(step_id, outcome))
            if token is None or outcome.status != "refused" or outcome.guard != "confirm":
                return
            refusal = outcome.message  # the engine did not take the typed token: ask again, saying why

    def _started(self, step_id: str, title: str) -> None:
        self.query_one("#output", Log).write_line(clean(f"── {fmt.clock_time(self.cockpit_app.now())} {step_id}: {title}"))
        self._streamed = 0
        self.running_step = step_id
        self.redraw()

    def on_step_output(self, message: StepOutput) -> None:
        self._streamed += 1
        self.query_one("#output", Log).write_line(message.line)

    def on_step_finished(self, message: StepFinished) -> None:
        outcome, step_id = message.outcome, message.step_id
        self._ended()
        log = self.query_one("#output", Log)
        if not self._streamed:
            for line in outcome.output:
                log.write_line(clean(line))
        log.write_line(clean(f"== {outcome.status.upper()}: {outcome.message}"))
        severity: SeverityLevel = "information" if outcome.status == "done" else "error"
        self.notify(f"{step_id}: {outcome.status} — {outcome.message}", severity=severity, timeout=10)
        self.load_dry_run(self.selected_step())

    def on_step_failed(self, message: StepFailed) -> None:
        self._ended()
        self.query_one("#output", Log).write_line(clean(f"!! {message.step_id} failed: {message.error}"))
        self.notify(f"{message.step_id} failed: {message.error}", severity="error")

    def _ended(self) -> None:
        """The step is over, whatever its end: the journal and the live system moved."""
        self.running_step = None
        self.post_message(JournalChanged())
        self.post_message(RefreshWanted())


def _content(markup: str) -> Content:
    return Content.from_markup(markup)
