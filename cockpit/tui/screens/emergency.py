"""Emergency rollback: every flag of every phase off, behind one key and one typed word.

The point of the emergency path is speed, so the screen opens with the dry-run already
loading and the flags' current states; the typed word (cockpit.engine.confirm's
EMERGENCY_TOKEN) is the only friction, and the engine, not this screen, judges it."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Log, Static

from cockpit.engine.confirm import EMERGENCY_TOKEN
from cockpit.engine.types import DryRun
from cockpit.text import clean
from cockpit.tui import format as fmt
from cockpit.tui.messages import JournalChanged, RefreshWanted, StepFailed, StepFinished, StepOutput
from cockpit.tui.output import output_sink
from cockpit.tui.screens.base import CockpitScreen
from cockpit.tui.screens.confirm import ConfirmScreen
from cockpit.tui.screens.phase import dry_run_markup


class EmergencyScreen(CockpitScreen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("x", "execute_emergency", "ALL FLAGS OFF"),
    ]

    def __init__(self) -> None:
        super().__init__(id="emergency-screen")
        self.dry: DryRun | None = None
        self._streamed = 0

    def compose_body(self) -> ComposeResult:
        em = self.cockpit_app.plan.emergency
        effects = " · ".join(em.effects)
        yield Static(
            f"[b $error]!! {fmt.styled(em.title, '')}[/] · ~{em.budget_minutes:g} min · data-loss risk "
            f"{fmt.styled(em.data_loss_risk, fmt.RISK_STYLE.get(em.data_loss_risk, ''))} ({fmt.styled(em.data_loss_reason, '')})\n"
            f"{fmt.styled(effects, '$text-muted')}",
            id="emergency-title",
        )
        with VerticalScroll(id="emergency-box"):
            yield Static("loading the dry-run…", id="emergency-dryrun")
        yield Static("", id="emergency-flags")
        from cockpit.drill.lifecycle import contacts_line, lifecycle

        contacts = contacts_line(lifecycle(self.cockpit_app.plan, (), self.cockpit_app.now()))
        yield Static(clean(contacts), id="emergency-contacts", markup=False)
        yield Log(id="emergency-output", max_lines=500)

    def on_mount(self) -> None:
        self.query_one("#emergency-box").border_title = "Dry-run"
        self.query_one("#emergency-output", Log).border_title = "Result per flag"
        self.load_dry_run()

    @work(exclusive=True, group="emergency-dry", exit_on_error=False)
    async def load_dry_run(self) -> None:
        try:
            self.dry = await self.engine.emergency_dry_run()
        except Exception as exc:
            self.query_one("#emergency-dryrun", Static).update(fmt.styled(f"dry-run failed: {exc}", "b $error"))
            return
        self.query_one("#emergency-dryrun", Static).update(dry_run_markup(self.dry))

    def redraw(self) -> None:
        snap = self.cockpit_app.snapshot
        states: dict[str, str] = {}
        if snap is not None:
            for phase in snap.phases:
                for flag in phase.flags:
                    states[flag.key] = fmt.value(flag.state, fmt.FLAG_STYLE.get(flag.state, ""), flag.freshness)
        flags = "  ".join(f"{fmt.styled(key, '')} {states.get(key, '?')}" for key in self.cockpit_app.plan.emergency.flags)
        self.query_one("#emergency-flags", Static).update(f"[b]now[/b] {flags}")

    def action_execute_emergency(self) -> None:
        self.execute()

    @work(exclusive=True, group="emergency-run", exit_on_error=False)
    async def execute(self) -> None:
        """The dialog returns what was typed; the engine judges it (a refusal opens the
        dialog again with its reason) and answers with messages, as a step does."""
        app, engine = self.cockpit_app, self.engine
        dry = self.dry or await engine.emergency_dry_run()
        token = dry.confirm_token or EMERGENCY_TOKEN
        refusal = ""
        while True:
            answer = await self.app.push_screen_wait(ConfirmScreen(app.plan.emergency.title, dry_run_markup(dry), token,
                                                              refusal=refusal))
            if answer is None:
                self.notify("Cancelled; no flag was touched.")
                return
            self._streamed = 0
            header = f"── {fmt.clock_time(app.now())} emergency rollback by {app.operator}"
            self.query_one("#emergency-output", Log).write_line(clean(header))
            try:
                outcome = await engine.emergency_execute(confirm=answer.typed, on_output=output_sink(self))
            except Exception as exc:
                self.post_message(StepFailed("emergency", str(exc)))
                return
            self.post_message(StepFinished("emergency", outcome))
            if outcome.status != "refused" or outcome.guard != "confirm":
                return
            refusal = outcome.message

    def on_step_output(self, message: StepOutput) -> None:
        self._streamed += 1
        self.query_one("#emergency-output", Log).write_line(message.line)

    def on_step_finished(self, message: StepFinished) -> None:
        outcome = message.outcome
        self._ended()
        log = self.query_one("#emergency-output", Log)
        if not self._streamed:
            for line in outcome.output:
                log.write_line(clean(line))
        log.write_line(clean(f"== {outcome.status.upper()}: {outcome.message}"))
        self.notify(outcome.message, severity="information" if outcome.status == "done" else "error", timeout=15)

    def on_step_failed(self, message: StepFailed) -> None:
        self._ended()
        self.query_one("#emergency-output", Log).write_line(clean(f"!! emergency rollback failed: {message.error}"))
        self.notify(f"emergency rollback failed: {message.error}", severity="error")

    def _ended(self) -> None:
        self.post_message(JournalChanged())
        self.post_message(RefreshWanted())
