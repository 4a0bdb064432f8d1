"""The plan's before/after checklists for one phase: the operator's ticks (journalled with
who and when) next to what the live system says about each item."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import DataTable, Static

from cockpit.engine.evidence import evidence_for
from cockpit.text import plain
from cockpit.tui import format as fmt
from cockpit.tui.messages import JournalChanged
from cockpit.tui.screens.base import CockpitScreen

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

Cell = Content | Text | str


class ChecklistScreen(CockpitScreen):
    COMPACT_FOOTER = True  # `!` EMERGENCY, `?` and `j` stay visible at 80 columns
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", show=False),  # esc is back everywhere (help says so)
        Binding("space", "tick", "Tick"),
        Binding("x", "open_phase", "Steps"),
        Binding("s", "smoke", "Smoke"),
        # not in the footer: at 80 columns it would cut `j Journal`; help and the evidence name it
        Binding("b", "full_dump", "Full dump", show=False),
    ]

    def __init__(self, phase_id: int) -> None:
        super().__init__(id=f"checklist-screen-{phase_id}")
        self.phase_id = phase_id
        self._details: dict[str, str] = {}

    def compose_body(self) -> ComposeResult:
        phase = self.cockpit_app.plan.phase(self.phase_id)
        yield Static(f"[b]Checklist · {fmt.styled(phase.title, '', multiline=False, limit=120)}[/b]", id="checklist-title")
        yield DataTable(id="checklist", cursor_type="row", zebra_stripes=False)
        # at 80 columns the evidence column is narrow: the selected item's full evidence shows here
        yield Static("", id="checklist-detail")

    def on_mount(self) -> None:
        app = self.cockpit_app
        table: DataTable[Cell] = self.query_one("#checklist", DataTable)
        # fixed widths: the evidence column takes what is left, so nothing needs a horizontal scroll at 80 columns
        item_width = max(len(i.text) for which in ("before", "after") for i in app.plan.checklist(which))
        item_width = min(item_width, 40)
        evidence_width = max(18, self.app.size.width - item_width - 1 - 11 - 2 * 4 - 2)
        table.add_column("", key="box", width=1)
        table.add_column("Item", key="item", width=item_width)
        table.add_column("Ticked", key="by", width=11)
        table.add_column("Evidence", key="evidence", width=evidence_width)
        for which in ("before", "after"):
            table.add_row("", Content.from_markup(f"[b]{which.upper()} ROLLBACK[/b]"), "", "", key=f"header:{which}")
            for item in app.plan.checklist(which):
                table.add_row("", plain(item.text), "", "", key=f"{which}:{item.id}")
        table.move_cursor(row=1)
        table.focus()

    def redraw(self) -> None:
        app = self.cockpit_app
        engine = self.engine
        ticks = engine.ticks(self.phase_id)
        now = app.now()
        snap = None
        if app.snapshot is not None:
            try:
                snap = app.snapshot.phase(self.phase_id)
            except KeyError:
                snap = None
        table: DataTable[Cell] = self.query_one("#checklist", DataTable)
        self._details = {}
        for which in ("before", "after"):
            for item in app.plan.checklist(which):
                key = f"{which}:{item.id}"
                state = ticks.get((which, item.id))
                box = "[b $success]☑[/]" if state and state.ticked else "☐"
                by = f"{state.by[:5]} {fmt.clock_time(state.at)[:5]}" if state and state.ticked else ""
                evidence = ""
                if item.evidence:
                    watched = self._watched(now) if item.evidence == "watch" else None
                    found = evidence_for(item.evidence, app.plan, self.phase_id, snap, engine.journal, watched)
                    style = {True: "$success", False: "b $warning", None: "$text-muted"}[found.ok]
                    mark = {True: "✔ ", False: "✘ ", None: "? "}[found.ok]
                    evidence = fmt.styled(mark + found.text, style)
                table.update_cell(key, "box", Content.from_markup(box))
                table.update_cell(key, "by", Content.from_markup(fmt.styled(by, "$text-muted")), update_width=False)
                table.update_cell(key, "evidence", Content.from_markup(evidence), update_width=False)
                ticked = f"ticked by {state.by} at {fmt.clock_time(state.at)}" if state and state.ticked else "not ticked"
                detail = f"[b]{fmt.styled(item.text, '')}[/b] · {fmt.styled(ticked, '')}"
                self._details[key] = detail + (f"\n{evidence}" if evidence else "")
        self._show_detail()

    def _watched(self, now: float) -> tuple[bool | None, str]:
        """"Monitor for N hours": the watcher's heartbeats cover the hours, or not yet."""
        from cockpit.watch.coverage import COVERAGE_KINDS, watch_evidence  # hours covered and gaps, from the watcher's heartbeats

        watch = self.engine.watch()
        hours = (watch.hours if watch is not None else None) or 24.0
        return watch_evidence(self.engine.journal.events(self.phase_id, kinds=COVERAGE_KINDS), self.phase_id, now, min(hours, 24.0))

    def _show_detail(self) -> None:
        selected = self._selected()
        key = f"{selected[0]}:{selected[1]}" if selected else ""
        self.query_one("#checklist-detail", Static).update(self._details.get(key, ""))

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _selected(self) -> tuple[str, str] | None:
        table: DataTable[Cell] = self.query_one("#checklist", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""
        which, _, item = key.partition(":")
        if which not in ("before", "after"):
            return None
        return which, item

    def action_tick(self) -> None:
        selected = self._selected()
        if selected is None or self.cockpit_app.read_only:
            return
        which, item = selected
        current = self.engine.ticks(self.phase_id).get((which, item))
        self.toggle(which, item, not (current and current.ticked))

    @work(group="tick", thread=True, exit_on_error=False)
    def toggle(self, which: str, item: str, ticked: bool) -> None:
        """Journal writes are quick, but fsync on a busy disk is not: off the UI thread."""
        self.engine.tick(self.phase_id, which, item, ticked)
        self.post_message(JournalChanged())  # thread-safe

    def action_open_phase(self) -> None:
        self.cockpit_app.open_phase(self.phase_id)

    def action_smoke(self) -> None:
        from cockpit.plan.smoke import smoke_checks

        app = self.cockpit_app
        if app.read_only:
            self.notify(f"Read-only: {app.read_only_reason}", severity="warning")
        elif not smoke_checks(app.plan, self.phase_id):
            self.notify("The plan declares no [[smoke]] checks for this phase or the platform.", severity="warning")
        else:
            self.run_smoke()

    @work(group="smoke", exclusive=True, exit_on_error=False)
    async def run_smoke(self) -> None:
        """HTTP checks (httpx, async, each with its timeout), journalled as evidence."""
        from cockpit.plan.smoke import smoke_checks
        from cockpit.probes.smoke import run_smoke, summary

        results = await run_smoke(smoke_checks(self.cockpit_app.plan, self.phase_id))
        await asyncio.to_thread(self.engine.journal.append, "smoke", phase=self.phase_id, data={
            "ok": all(r.ok for r in results), "results": [r.to_json() for r in results]})
        self.post_message(JournalChanged())
        self.notify(summary(results), severity="information" if all(r.ok for r in results) else "error", timeout=6)

    def action_full_dump(self) -> None:
        app = self.cockpit_app
        if app.read_only:
            self.notify(f"Read-only: {app.read_only_reason}", severity="warning")
        else:
            self.run_full_dump()

    @work(group="full_dump", exclusive=True, exit_on_error=False)
    async def run_full_dump(self) -> None:
        """The full dump the plan asks for: its dry-run in a confirm dialog, then the dump
        (the tool runs as a subprocess; the SQLite copy in a thread), journalled."""
        from cockpit.engine.full_dump import describe, run_full_dump
        from cockpit.tui.screens.confirm import ConfirmScreen

        engine = self.engine
        text, _out = await asyncio.to_thread(describe, engine.plan, engine.db, engine.clock())  # looks the dump tool up on PATH
        body = fmt.styled(text, "")
        confirmed = await self.app.push_screen_wait(ConfirmScreen(f"Full dump of {engine.plan.target.label}", body))
        if not confirmed:
            self.notify("Cancelled; nothing was run.")
            return
        self.notify("Full dump running…", timeout=4)
        try:
            outcome = await run_full_dump(engine)
        finally:
            self.post_message(JournalChanged())
        severity: SeverityLevel = "information" if outcome.status == "done" else "error"
        self.notify(f"{outcome.status}: {outcome.message}", severity=severity, timeout=10)

    def on_data_table_row_selected(self, _event: DataTable.RowSelected) -> None:
        self.action_tick()
