"""Everything that happened, newest first: the audit trail the rollback log is built from."""

from __future__ import annotations

import json
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import DataTable, Static

from cockpit.text import plain
from cockpit.tui import format as fmt

from cockpit.tui.screens.base import CockpitScreen

KIND_STYLE = {
    "step_outcome": "b",
    "override": "b $warning",
    "alert": "b $error",
    "emergency_intent": "b $error",
    "emergency_outcome": "b $error",
    "backup_verified": "$success",
    "session_start": "$text-muted",
    "session_end": "$text-muted",
    "step_output": "$text-muted",
}


def describe(event: Any) -> str:
    """One line per event: the human part of its data, never a raw dict when avoidable."""
    data = dict(event.data or {})
    for key in ("message", "text", "reason", "item"):
        if data.get(key):
            head = str(data[key])
            status = data.get("status")
            return f"{status}: {head}" if status else head
    if event.kind in ("session_start", "session_end"):
        # pid and host are in `cockpit journal --json`; here they would only push the useful columns off screen
        return "cockpit opened" if event.kind == "session_start" else "cockpit closed"
    if event.kind == "watch_start":
        return f"{data.get('hours', '?')} h"
    return json.dumps(data, sort_keys=True, default=str)[:200] if data else ""


class JournalScreen(CockpitScreen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("0", "filter(10)", "Ph10"),
        Binding("9", "filter(9)", "Ph9"),
        Binding("8", "filter(8)", "Ph8"),
        Binding("7", "filter(7)", "Ph7"),
        Binding("a", "filter(0)", "All"),
    ]

    def __init__(self) -> None:
        super().__init__(id="journal-screen")
        self.phase_filter: int | None = None
        self._shown: tuple[int | None, int] = (None, -1)

    def compose_body(self) -> ComposeResult:
        yield Static("", id="journal-title")
        yield DataTable(id="journal", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one("#journal", DataTable)
        table.add_column("When", key="at", width=19)
        table.add_column("Ph", key="phase", width=3)
        table.add_column("Who", key="who", width=10)
        table.add_column("Event", key="kind", width=17)
        table.add_column("Step", key="step", width=14)
        table.add_column("What", key="what")
        table.focus()

    def action_filter(self, phase_id: int) -> None:
        self.phase_filter = phase_id or None
        self.redraw()

    def redraw(self) -> None:
        events = self.app.engine.events(self.phase_filter)
        latest = events[-1].id if events else 0
        if self._shown == (self.phase_filter, latest):
            return
        self._shown = (self.phase_filter, latest)
        label = f"phase {self.phase_filter}" if self.phase_filter else "all phases"
        self.query_one("#journal-title", Static).update(
            f"[b]Journal[/b] · {label} · {len(events)} events · newest first {fmt.styled('(7/8/9/0 filter, a all)', '$text-muted')}"
        )
        table = self.query_one("#journal", DataTable)
        table.clear()
        for event in reversed(events):
            table.add_row(
                fmt.stamp(event.at),
                "" if event.phase is None else str(event.phase),
                plain(event.operator),  # str cells are parsed as markup; these are untrusted
                Content.from_markup(fmt.styled(event.kind, KIND_STYLE.get(event.kind, ""))),
                plain(event.step or ""),
                plain(describe(event), limit=500),
                key=str(event.id),
            )
