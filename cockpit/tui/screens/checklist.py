"""The plan's before/after checklists for one phase: the operator's ticks (journalled with
who and when) next to what the live system says about each item."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import DataTable, Static

from cockpit.text import plain
from cockpit.tui import format as fmt
from cockpit.tui.evidence import evidence_for
from cockpit.tui.screens.base import CockpitScreen


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

    def compose_body(self) -> ComposeResult:
        phase = self.app.plan.phase(self.phase_id)
        yield Static(f"[b]Checklist · {fmt.styled(phase.title, '', multiline=False, limit=120)}[/b]", id="checklist-title")
        yield DataTable(id="checklist", cursor_type="row", zebra_stripes=False)
        # at 80 columns the evidence column is narrow: the selected item's full evidence shows here
        yield Static("", id="checklist-detail")

    def on_mount(self) -> None:
        table = self.query_one("#checklist", DataTable)
        # fixed widths: the evidence column takes what is left, so nothing needs a horizontal scroll at 80 columns
        item_width = max(len(i.text) for which in ("before", "after") for i in self.app.plan.checklist(which))
        item_width = min(item_width, 40)
        evidence_width = max(18, self.app.size.width - item_width - 1 - 11 - 2 * 4 - 2)
        table.add_column("", key="box", width=1)
        table.add_column("Item", key="item", width=item_width)
        table.add_column("Ticked", key="by", width=11)
        table.add_column("Evidence", key="evidence", width=evidence_width)
        for which in ("before", "after"):
            table.add_row("", Content.from_markup(f"[b]{which.upper()} ROLLBACK[/b]"), "", "", key=f"header:{which}")
            for item in self.app.plan.checklist(which):
                table.add_row("", plain(item.text), "", "", key=f"{which}:{item.id}")
        table.move_cursor(row=1)
        table.focus()

    def redraw(self) -> None:
        app = self.app
        engine = app.engine
        ticks = engine.ticks(self.phase_id)
        events = engine.events(self.phase_id)
        watch = engine.watch()
        now = app.now()
        snap = None
        if app.snapshot is not None:
            try:
                snap = app.snapshot.phase(self.phase_id)
            except KeyError:
                snap = None
        table = self.query_one("#checklist", DataTable)
        self._details: dict[str, str] = {}
        for which in ("before", "after"):
            for item in app.plan.checklist(which):
                key = f"{which}:{item.id}"
                state = ticks.get((which, item.id))
                box = "[b $success]☑[/]" if state and state.ticked else "☐"
                by = f"{state.by[:5]} {fmt.clock_time(state.at)[:5]}" if state and state.ticked else ""
                evidence = ""
                if item.evidence:
                    found = evidence_for(item.evidence, self.phase_id, snap, events, watch, now)
                    if item.evidence == "backup":
                        found = backup_scope(app.plan, self.phase_id, events, found,
                                             engine.journal.events(kinds=("full_backup_verified",)))
                    elif item.evidence == "smoke":
                        found = smoke_evidence(app.plan, self.phase_id, engine.events())
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

    def _show_detail(self) -> None:
        selected = self._selected()
        key = f"{selected[0]}:{selected[1]}" if selected else ""
        self.query_one("#checklist-detail", Static).update(getattr(self, "_details", {}).get(key, ""))

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _selected(self) -> tuple[str, str] | None:
        table = self.query_one("#checklist", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""
        which, _, item = key.partition(":")
        if which not in ("before", "after"):
            return None
        return which, item

    def action_tick(self) -> None:
        selected = self._selected()
        if selected is None or self.app.read_only:
            return
        which, item = selected
        current = self.app.engine.ticks(self.phase_id).get((which, item))
        self.toggle(which, item, not (current and current.ticked))

    @work(group="tick", thread=True, exit_on_error=False)
    def toggle(self, which: str, item: str, ticked: bool) -> None:
        """Journal writes are quick, but fsync on a busy disk is not: off the UI thread."""
        self.app.engine.tick(self.phase_id, which, item, ticked)
        self.app.call_from_thread(self.app.journal_changed)

    def action_open_phase(self) -> None:
        self.app.open_phase(self.phase_id)

    def action_smoke(self) -> None:
        from cockpit.plan.smoke import smoke_checks

        if self.app.read_only:
            self.notify(f"Read-only: {self.app.read_only_reason}", severity="warning")
        elif not smoke_checks(self.app.plan, self.phase_id):
            self.notify("The plan declares no [[smoke]] checks for this phase or the platform.", severity="warning")
        else:
            self.run_smoke()

    @work(group="smoke", exclusive=True, exit_on_error=False)
    async def run_smoke(self) -> None:
        """HTTP checks (httpx, async, each with its timeout), journalled as evidence."""
        from cockpit.plan.smoke import smoke_checks
        from cockpit.probes.smoke import run_smoke, summary

        results = await run_smoke(smoke_checks(self.app.plan, self.phase_id))
        import asyncio

        await asyncio.to_thread(self.app.engine.journal.append, "smoke", phase=self.phase_id, data={
            "ok": all(r.ok for r in results), "results": [r.to_json() for r in results]})
        self.app.journal_changed()
        self.notify(summary(results), severity="information" if all(r.ok for r in results) else "error", timeout=6)

    def action_full_dump(self) -> None:
        if self.app.read_only:
            self.notify(f"Read-only: {self.app.read_only_reason}", severity="warning")
        else:
            self.run_full_dump()

    @work(group="full_dump", exclusive=True, exit_on_error=False)
    async def run_full_dump(self) -> None:
        """The full dump the plan asks for: its dry-run in a confirm dialog, then the dump
        (the tool runs as a subprocess; the SQLite copy in a thread), journalled."""
        from cockpit.engine.full_dump import describe, run_full_dump
        from cockpit.tui.screens.confirm import ConfirmScreen

        engine = self.app.engine
        text, _out = describe(engine.plan, engine.db, engine.clock())
        body = fmt.styled(text, "")
        confirmed = await self.app.push_screen_wait(ConfirmScreen(f"Full dump of {engine.plan.target.label}", body))
        if not confirmed:
            self.notify("Cancelled; nothing was run.")
            return
        self.notify("Full dump running…", timeout=4)
        try:
            outcome = await run_full_dump(engine)
        finally:
            self.app.journal_changed()
        severity = "information" if outcome.status == "done" else "error"
        self.notify(f"{outcome.status}: {outcome.message}", severity=severity, timeout=10)

    def on_data_table_row_selected(self, _event: DataTable.RowSelected) -> None:
        self.action_tick()


def backup_scope(plan: Any, phase_id: int, events: Any, found: Any, full_dumps: Any = ()) -> Any:
    """"Backup database (full dump)": a journalled full dump of the whole database
    (`cockpit backup-full`, `b`) when there is one; else say whether the phase's verified
    dump covers every table of the plan or only the phase's own, so a phase dump is never
    taken for the full one."""
    from cockpit.tui.evidence import Evidence

    if full_dumps:
        last = full_dumps[-1].data
        return Evidence(True, f"full dump verified: {last.get('path')} ({last.get('tables')} tables, "
                              f"{fmt.size(last.get('size'))})")
    dumps = [e for e in events if e.kind == "backup_verified" and e.phase == phase_id]
    if not dumps:
        return Evidence(found.ok, f"{found.text}; b takes a full dump")
    tables = set(dumps[-1].data.get("tables", []))
    everything = set(plan.all_tables)
    if everything and everything <= tables:
        return Evidence(True, f"full dump verified ({len(tables)} tables)")
    return Evidence(None, f"phase {phase_id}'s {len(tables)} tables only, not a full dump ({len(everything)} tables; "
                          "b takes one)")


def smoke_evidence(plan: Any, phase_id: int, events: Any) -> Any:
    """"Verify system functionality": the latest recorded smoke run for this phase (or the
    platform), with its time; `s` runs the checks again."""
    from cockpit.plan.smoke import smoke_checks
    from cockpit.text import clean
    from cockpit.tui.evidence import Evidence

    if not smoke_checks(plan, phase_id):
        return Evidence(None, "no smoke checks in the plan")
    runs = [e for e in events if e.kind == "smoke" and e.phase in (None, phase_id)]
    if not runs:
        return Evidence(None, "press s to run the smoke checks")
    last = runs[-1]
    results = last.data.get("results", [])
    failed = [r for r in results if not r.get("ok")]
    when = fmt.clock_time(last.at)[:5]
    if failed:
        first = failed[0]
        return Evidence(False, clean(f"{first.get('id')}: {first.get('detail')} ({when})"))
    return Evidence(True, f"{len(results)}/{len(results)} smoke checks passed {when}")
