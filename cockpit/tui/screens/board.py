"""Home: the four phases in rollback order, each with what still runs and what it would cost."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from cockpit.tui.screens.base import CockpitScreen
from cockpit.tui.widgets.phase_card import PhaseCard


class BoardScreen(CockpitScreen):
    BINDINGS = [
        Binding("enter", "open_phase", "Open phase"),
        Binding("c", "checklist", "Checklist"),
        Binding("w", "watch", "Watch"),
        Binding("l", "log", "Log"),
        Binding("e", "exact_counts", "Exact counts"),
        Binding("down", "focus_next_card", "Next", show=False),
        Binding("up", "focus_previous_card", "Previous", show=False),
    ]

    def compose_body(self) -> ComposeResult:
        yield Static("", id="alerts-banner")
        with VerticalScroll(id="board"):
            for phase in self.app.plan.rollback_order:
                yield PhaseCard(phase)

    def on_mount(self) -> None:
        cards = list(self.query(PhaseCard))
        if cards:
            cards[0].focus()

    def selected_phase_id(self) -> int:
        focused = self.focused
        if isinstance(focused, PhaseCard):
            return focused.phase.id
        return self.app.plan.rollback_order[0].id

    def redraw(self) -> None:
        app = self.app
        now = app.now()
        snap = app.snapshot
        for card in self.query(PhaseCard):
            phase_snap = None
            if snap is not None:
                try:
                    phase_snap = snap.phase(card.phase.id)
                except KeyError:
                    phase_snap = None
            card.show(phase_snap, app.engine.phase_progress(card.phase.id), now)
        banner = self.query_one("#alerts-banner", Static)
        count = app.open_alert_count
        banner.display = bool(count)
        if count:
            banner.update(f"{count} unacknowledged alert(s): press w to see and acknowledge them")

    def tick(self) -> None:
        self.redraw()

    def action_focus_next_card(self) -> None:
        self.focus_next(PhaseCard)

    def action_focus_previous_card(self) -> None:
        self.focus_previous(PhaseCard)

    def action_exact_counts(self) -> None:
        self.count_exactly(self.selected_phase_id())

    @work(group="exact-count", exclusive=True, exit_on_error=False)
    async def count_exactly(self, phase_id: int) -> None:
        """Exact COUNT(*) of the phase's tables, on request only (the refresh never counts),
        each bounded by the plan's statement time limit; results show on the card with
        their age from the next snapshot on."""
        from cockpit.db.errors import DatabaseError

        phase = self.app.plan.phase(phase_id)
        self.notify(f"Counting the rows of phase {phase_id}'s tables exactly…", timeout=3)
        counted, problems = [], []
        snapshot = self.app.snapshot
        absent = {t.name for t in snapshot.phase(phase_id).tables if t.exists is False} if snapshot else set()
        for table in phase.tables:
            if table in absent:
                continue
            try:
                counted.append(f"{table} {await self.app.live.exact_count(table):,}")
            except (DatabaseError, RuntimeError) as exc:
                problems.append(f"{table}: {exc}")
        self.app.refresh_now()
        if counted:
            self.notify(" · ".join(counted), title=f"Phase {phase_id}: exact rows", timeout=10)
        if problems:
            self.notify("; ".join(problems), title="Not counted", severity="warning", timeout=10)

    def action_open_phase(self) -> None:
        self.app.open_phase(self.selected_phase_id())

    def action_checklist(self) -> None:
        self.app.open_checklist(self.selected_phase_id())

    def action_log(self) -> None:
        self.app.open_log(self.selected_phase_id())

    def action_watch(self) -> None:
        from cockpit.tui.screens.watch import start_or_open_watch

        start_or_open_watch(self.app, self.selected_phase_id())
