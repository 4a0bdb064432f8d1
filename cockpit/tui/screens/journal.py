"""Everything that happened, newest first: the audit trail the rollback log is built from.

A 48-hour watch leaves a long journal, so the screen never loads it whole: it shows the
latest WINDOW events (filtered by phase in SQL), loads the next older page on request
(`o`, or the cursor reaching the last row), and on each refresh adds only the rows newer
than the newest one shown. Opening it must stay well under half a second at 100k events:

- the rows are drawn by `EventTable` (widgets/event_table.py, Textual's line API: one
  cached line per event from plain strings), not a `DataTable`, which measured and
  rendered every cell through Rich before its first frame;
- the total ("N events", an index count that grows with the history: ~40 ms at 100k) is
  counted in a worker, never on the open path; the title says "…" until it arrives. It
  counts the rows up to the newest one shown when it was asked, so it is exact whatever
  was appended meanwhile: the rows shown above that id are added to it, and from then on
  every row appended adds one.
"""

from __future__ import annotations

import json
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from cockpit.journal import JournalError
from cockpit.text import clean
from cockpit.tui import format as fmt
from cockpit.tui.screens.base import CockpitScreen
from cockpit.tui.widgets.event_table import Column, EventTable, Row, Tone

KIND_TONE: dict[str, Tone] = {
    "step_outcome": "strong",
    "override": "warning",
    "alert": "error",
    "emergency_intent": "error",
    "emergency_outcome": "error",
    "backup_verified": "success",
    "session_start": "muted",
    "session_end": "muted",
    "step_output": "muted",
}

COLUMNS = (
    Column("When", 19, 14, keep_end=True),  # 80 columns: "11-01 12:26:45", no year
    Column("Ph", 3, 2),
    Column("Who", 10, 8),
    Column("Event", 17, 14),
    Column("Step", 14, 10),
    Column("What"),
)


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


def row_of(event: Any) -> Row:
    """An event's line: every cell cleaned of what a terminal would act on, and plain
    text — the table never parses markup, so "[/]" in a note shows as "[/]"."""
    return Row(
        id=event.id,
        cells=(
            fmt.stamp(event.at),
            "" if event.phase is None else str(event.phase),
            clean(event.operator, limit=100),
            clean(event.kind, limit=100),
            clean(event.step or "", limit=100),
            clean(describe(event), limit=500),
        ),
        tone=KIND_TONE.get(event.kind, ""),
    )


WINDOW = 50


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
        # events in the current view's selection (all, or one phase); None until the
        # worker's count arrives ("…" in the title: never a guessed number)
        self._total: int | None = None
        self._view = 0  # bumped on every reload: a count asked for an older view is dropped

    def compose_body(self) -> ComposeResult:
        yield Static("", id="journal-title")
        yield EventTable(COLUMNS, tone_column=3, id="journal")

    @property
    def table(self) -> EventTable:
        return self.query_one("#journal", EventTable)

    def on_mount(self) -> None:
        self.table.focus()

    def action_filter(self, phase_id: int) -> None:
        self.phase_filter = phase_id or None
        self.redraw()

    def on_event_table_cursor_moved(self, event: EventTable.CursorMoved) -> None:
        """Scrolling down past the last row shown pages back, as `o` does."""
        if event.row >= event.table.row_count - 1 and not self._exhausted:
            self.action_older()

    def action_older(self) -> None:
        """The next WINDOW older events, added below the ones shown."""
        if self._exhausted or self._oldest is None:
            return
        older = self.engine.journal.window(WINDOW, before_id=self._oldest, phase=self.phase_filter)
        self._exhausted = len(older) < WINDOW
        self.table.add_older([row_of(e) for e in older])
        if older:
            self._oldest = min(self._oldest, older[-1].id)
        self._title()

    def _title(self) -> None:
        label = f"phase {self.phase_filter}" if self.phase_filter else "all phases"
        shown = self.table.row_count
        if self._total is not None and shown >= self._total:
            self._exhausted = True  # nothing older: paging back would read nothing
        total = "… events" if self._total is None else f"{self._total} event{'' if self._total == 1 else 's'}"
        more = "" if self._exhausted else f" · showing the newest {shown} {fmt.styled('(o older)', '$text-muted')}"
        self.query_one("#journal-title", Static).update(
            f"[b]Journal[/b] · {label} · {total}{more} · newest first {fmt.styled('(7/8/9/0 filter, a all)', '$text-muted')}"
        )

    @work(group="journal-count", exclusive=True, exit_on_error=False)
    async def _count(self, view: int, phase: int | None, up_to: int) -> None:
        """The view's total, counted in a thread: the rows up to `up_to` (the newest shown
        when asked), plus the rows shown above it by the time the count arrives. A worker
        (exclusive: a newer view's count cancels this one), never on the open path."""
        try:
            counted = await self.engine.journal.count_async(phase, up_to=up_to)
        except JournalError as exc:  # the title keeps "…": no number rather than a wrong one
            self.notify(clean(exc, limit=300), title="Journal not counted", severity="warning", timeout=10, markup=False)
            return
        if view != self._view:
            return  # another view (a filter, a burst's reload) asked again
        self._total = counted + sum(1 for event_id in self.table.ids if event_id > up_to)
        self._title()

    def redraw(self) -> None:
        journal = self.engine.journal
        table = self.table
        same_view = self._loaded_filter is not False and self._loaded_filter == self.phase_filter
        newer = journal.window(WINDOW, after_id=self._newest, phase=self.phase_filter) if same_view else []
        if not same_view or len(newer) >= WINDOW:
            # a new view (first open, another filter, or a burst of a whole window or more
            # since the last refresh: appending only the newest WINDOW of it would leave a
            # gap): the latest window only, older ones a page away
            latest = journal.window(WINDOW, phase=self.phase_filter)
            self._loaded_filter = self.phase_filter
            self._newest = latest[0].id if latest else 0
            self._oldest = latest[-1].id if latest else None
            self._exhausted = len(latest) < WINDOW
            table.set_rows([row_of(e) for e in latest])
            self._view += 1
            self._total = None
            self._count(self._view, self.phase_filter, self._newest)
            self._title()
            return
        if not newer:
            return
        added = table.add_newer([row_of(e) for e in newer])
        self._newest = max(self._newest, newer[0].id)
        if self._oldest is None:
            self._oldest = newer[-1].id
        if self._total is not None:
            self._total += added
        self._title()
