"""Exact row counts run only when the operator asks (key `e` on the board), never on the
refresh path, and show on the card with their age — read-only cockpits may ask too."""

from __future__ import annotations

from pathlib import Path

from cockpit.plan import load_plan
from cockpit.tui.app import CockpitApp
from cockpit.tui.widgets.phase_card import PhaseCard
from tests.fixtures.tui import settle


async def test_exact_counts_on_request_show_on_the_card(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    app = CockpitApp(plan, operator="alice", auto_refresh=False, read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        tables = {t.name: t for t in app.snapshot.phase(10).tables}
        assert all(t.exact_rows is None for t in tables.values())  # the refresh never counts
        queries_before = app.live.db.queries
        await pilot.press("e")
        await pilot.app.workers.wait_for_complete()
        await settle(pilot)
        assert app.live.db.queries - queries_before >= len(tables)  # one bounded COUNT(*) per table, plus the refresh
        counted = {t.name: t.exact_rows for t in app.snapshot.phase(10).tables}
        assert counted == {"mv_token_flow_summary": 24, "mv_node_bottlenecks": 12, "mv_team_workload": 8, "mv_cycle_time_analytics": 30}
        card = str(app.screen.query_one("#phase-10", PhaseCard).render())
        assert "exact 24" in card
        other = {t.name: t.exact_rows for t in app.snapshot.phase(9).tables}
        assert set(other.values()) == {None}  # only the selected phase was counted


async def test_browsing_steps_never_counts_production_tables(sandbox: Path) -> None:
    """The dry-run follows the cursor: it previews guards from the snapshot; the exact
    counts run when the operator asks to run the step, not while browsing."""
    plan = load_plan(sandbox)
    app = CockpitApp(plan, operator="alice", auto_refresh=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        before = app.engine.database.queries
        await pilot.press("down", "down")  # flags-off -> cron-stop -> quarantine
        await settle(pilot)
        assert app.screen.selected_step() == "quarantine"
        dry_run = str(app.screen.query_one("#dryrun").render())
        assert "RENAME TO `_cockpit_q10_mv_token_flow_summary`" in dry_run and "prerequisites" in dry_run
        await pilot.press("down", "down")  # -> backup -> drop
        await settle(pilot)
        assert app.screen.selected_step() == "drop"
        dry_run = str(app.screen.query_one("#dryrun").render())
        assert "DROP TABLE `_cockpit_q10_mv_token_flow_summary`" in dry_run and "quarantine" in dry_run
        # describing reads the catalogue once per highlight at most; exact counts,
        # checksums and file hashes run only when the step is run
        assert app.engine.database.queries - before <= 6
