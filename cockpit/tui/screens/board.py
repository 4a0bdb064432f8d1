"""Home: the four phases in rollback order, each with what still runs and what it would cost."""

from __future__ import annotations

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

    def action_open_phase(self) -> None:
        self.app.open_phase(self.selected_phase_id())

    def action_checklist(self) -> None:
        self.app.open_checklist(self.selected_phase_id())

    def action_log(self) -> None:
        self.app.open_log(self.selected_phase_id())

    def action_watch(self) -> None:
        from cockpit.tui.screens.watch import start_or_open_watch

        start_or_open_watch(self.app, self.selected_phase_id())
