"""Everything that happened, newest first: the audit trail the rollback log is built from.

A 48-hour watch leaves a long journal, so the screen never loads it whole: it shows the
latest WINDOW events (filtered by phase in SQL), loads the next older page on request
(`o`, or the cursor reaching the last row), and on each refresh adds only the rows newer
than the newest one shown. The window is a screenful or so (50 rows): a DataTable
measures every cell of every row it is given before its first frame, so 200 rows cost
the opening four times what the screen can show.
"""

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


WINDOW = 50


class _Stamp(str):
    """The "When" cell, carrying its event id so new rows sort above older ones."""

    event_id: int = 0

    @classmethod
    def of(cls, event: Any) -> _Stamp:
        stamp = cls(fmt.stamp(event.at))
        stamp.event_id = event.id
        return stamp


class JournalScreen(CockpitScreen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("0", "filter(10)", "Ph10"),
        Binding("9", "filter(9)", "Ph9"),
        Binding("8", "filter(8)", "Ph8"),
        Binding("7", "filter(7)", "Ph7"),
        Binding("a", "filter(0)", "All"),
        Binding("o", "older", "Older", show=False),  # named in the title while older rows exist
    ]

    def __init__(self) -> None:
        super().__init__(id="journal-screen")
        self.phase_filter: int | None = None
        self._newest = 0  # id of the newest row shown
        self._oldest: int | None = None  # id of the oldest row shown
        self._loaded_filter: int | None | bool = False  # False: nothing loaded yet
        self._exhausted = False
        self._total = 0  # events in the current view's selection (all, or one phase)

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

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Scrolling down past the last row shown pages back, as `o` does."""
        if event.cursor_row >= event.data_table.row_count - 1 and not self._exhausted:
            self.action_older()

    def action_older(self) -> None:
        """The next WINDOW older events, added below the ones shown."""
        if self._exhausted or self._oldest is None:
            return
        older = self.engine.journal.window(WINDOW, before_id=self._oldest, phase=self.phase_filter)
        self._exhausted = len(older) < WINDOW
        self._add(older)
        self._title()

    def _add(self, events: list[Any]) -> None:
        """Add rows (newest first in `events`); ids already shown are skipped."""
        table = self.query_one("#journal", DataTable)
        for event in events:
            key = str(event.id)
            if key in table.rows:
                continue
            table.add_row(
                _Stamp.of(event),
                "" if event.phase is None else str(event.phase),
                plain(event.operator),  # str cells are parsed as markup; these are untrusted
                Content.from_markup(fmt.styled(event.kind, KIND_STYLE.get(event.kind, ""))),
                plain(event.step or ""),
                plain(describe(event), limit=500),
                key=key,
            )
            self._newest = max(self._newest, event.id)
            self._oldest = event.id if self._oldest is None else min(self._oldest, event.id)

    def _title(self) -> None:
        label = f"phase {self.phase_filter}" if self.phase_filter else "all phases"
        total = self._total
        shown = self.query_one("#journal", DataTable).row_count
        more = "" if shown >= total else f" · showing the newest {shown} {fmt.styled('(o older)', '$text-muted')}"
        self.query_one("#journal-title", Static).update(
            f"[b]Journal[/b] · {label} · {total} events{more} · newest first {fmt.styled('(7/8/9/0 filter, a all)', '$text-muted')}"
        )

    def redraw(self) -> None:
        journal = self.engine.journal
        table = self.query_one("#journal", DataTable)
        newer = [] if self._loaded_filter is False or self._loaded_filter != self.phase_filter else \
            journal.window(WINDOW, after_id=self._newest, phase=self.phase_filter)
        if self._loaded_filter is False or self._loaded_filter != self.phase_filter or len(newer) >= WINDOW:
            # a new view (first open, another filter, or a burst of a whole window or more
            # since the last refresh: appending only the newest WINDOW of it would leave a
            # gap): the latest window only, older ones a page away
            table.clear()
            self._newest, self._oldest, self._loaded_filter = 0, None, self.phase_filter
            # counted once per view (an index scan: ~40 ms at 100k events), then kept up
            # to date from the rows appended: the journal only ever grows at its end.
            # The count must cover exactly the rows of the window's time: taken again
            # if a row landed between the two (the newest id moved)
            for _ in range(3):
                latest = journal.window(WINDOW, phase=self.phase_filter)
                self._total = journal.count(self.phase_filter)
                if [e.id for e in journal.window(1, phase=self.phase_filter)] == [e.id for e in latest[:1]]:
                    break
            self._exhausted = len(latest) < WINDOW
            self._add(latest)
            self._title()
            return
        if not newer:
            return
        before = table.row_count
        self._add(newer)
        self._total += table.row_count - before
        table.sort("at", key=lambda stamp: stamp.event_id, reverse=True)
        self._title()
