"""Emergency rollback: every flag of every phase off, behind one key and one typed word.

The point of the emergency path is speed, so the screen opens with the dry-run already
loading and the flags' current states; the typed "EMERGENCY" is the only friction."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Log, Static

from cockpit.tui import format as fmt
from cockpit.tui.output import log_sink
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
        self.dry: Any = None

    def compose_body(self) -> ComposeResult:
        em = self.app.plan.emergency
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
        from cockpit.text import clean

        contacts = contacts_line(lifecycle(self.app.plan, (), self.app.now()))
        yield Static(clean(contacts), id="emergency-contacts", markup=False)
        yield Log(id="emergency-output", max_lines=500)

    def on_mount(self) -> None:
        self.query_one("#emergency-box").border_title = "Dry-run"
        self.query_one("#emergency-output", Log).border_title = "Result per flag"
        self.load_dry_run()

    @work(exclusive=True, group="emergency-dry", exit_on_error=False)
    async def load_dry_run(self) -> None:
        try:
            self.dry = await self.app.engine.emergency_dry_run()
        except Exception as exc:
            self.query_one("#emergency-dryrun", Static).update(fmt.styled(f"dry-run failed: {exc}", "b $error"))
            return
        self.query_one("#emergency-dryrun", Static).update(dry_run_markup(self.dry))

    def redraw(self) -> None:
        snap = self.app.snapshot
        states: dict[str, str] = {}
        if snap is not None:
            for phase in snap.phases:
                for flag in phase.flags:
                    states[flag.key] = fmt.value(flag.state, fmt.FLAG_STYLE.get(flag.state, ""), flag.freshness)
        flags = "  ".join(f"{fmt.styled(key, '')} {states.get(key, '?')}" for key in self.app.plan.emergency.flags)
        self.query_one("#emergency-flags", Static).update(f"[b]now[/b] {flags}")

    def action_execute_emergency(self) -> None:
        self.execute()

    @work(exclusive=True, group="emergency-run", exit_on_error=False)
    async def execute(self) -> None:
        app = self.app
        dry = self.dry or await app.engine.emergency_dry_run()
        token = dry.confirm_token or "EMERGENCY"
        ok = await app.push_screen_wait(ConfirmScreen(app.plan.emergency.title, dry_run_markup(dry), token))
        if not ok:
            self.notify("Cancelled; no flag was touched.")
            return
        log = self.query_one("#emergency-output", Log)
        log.write_line(f"── {fmt.clock_time(app.now())} emergency rollback by {app.operator}")

        streamed: list[str] = []
        try:
            outcome = await app.engine.emergency_execute(confirm=token, on_output=log_sink(app, log, streamed))
        except Exception as exc:
            log.write_line(f"!! emergency rollback failed: {exc}")
            self.notify(f"emergency rollback failed: {exc}", severity="error")
            return
        finally:
            app.journal_changed()
            app.refresh_now()
        if not streamed:
            for line in outcome.output:
                log.write_line(line)
        log.write_line(f"== {outcome.status.upper()}: {outcome.message}")
        self.notify(outcome.message, severity="information" if outcome.status == "done" else "error", timeout=15)
