"""A whole phase-10 drill driven through the real app on the real sandbox: the checklist,
flags off, cron stopped, the quarantine, the backup verified by restore, the final drop
refused until the watch has passed, the typed confirmation, the rollback log, and the journal that recorded all of it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cockpit.plan import load_plan
from cockpit.tui.app import CockpitApp
from cockpit.tui.screens.confirm import ConfirmScreen
from cockpit.tui.screens.phase import PhaseScreen
from tests.fixtures.tui import settle


def _flag(db: Path, key: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT enabled FROM feature_flag WHERE flag_key = ?", (key,)).fetchone()[0]


def _tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


async def _run_selected(pilot, *confirm_keys: str) -> None:
    await pilot.press("x")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ConfirmScreen), "a dry-run confirmation must come first"
    await pilot.press(*confirm_keys)
    await settle(pilot)


async def test_phase_10_drill(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    db = plan.target.path
    app = CockpitApp(plan, operator="alice", auto_refresh=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        engine = app.engine

        # before checklist: every item ticked, journalled with who
        await pilot.press("c")
        await settle(pilot)
        for _ in plan.checklist_before:
            await pilot.press("space", "down")
            await settle(pilot)
        ticks = engine.ticks(10)
        assert all(ticks[("before", item.id)].ticked for item in plan.checklist_before)
        assert {t.by for t in ticks.values()} == {"alice"}

        await pilot.press("escape", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PhaseScreen) and app.screen.phase_id == 10

        # flags off (yes/no)
        await _run_selected(pilot, "y")
        assert _flag(db, "enable_production_dashboard") == 0
        # cron stop
        await pilot.press("down")
        await _run_selected(pilot, "y")
        crontab = plan.cron_source.path.read_text()
        line = next(l for l in crontab.splitlines() if "refresh_dashboard_materialized_views.php" in l)
        assert line.lstrip().startswith("#"), line

        # the quarantine after typing the phase id: the tables leave production's reach
        await pilot.press("down")
        await _run_selected(pilot, "1", "0", "enter")
        views = {v.step.id: v for v in engine.step_views(10)}
        assert views["quarantine"].status == "done", views["quarantine"]
        assert "mv_token_flow_summary" not in _tables(db) and "_cockpit_q10_mv_token_flow_summary" in _tables(db)
        # flags-on is now blocked, naming restore
        assert any("restore" in b for b in views["flags-on"].blocked_by)

        # the backup (from the quarantine, verified by restore)
        await pilot.press("down")
        await _run_selected(pilot, "y")
        assert any(e.kind == "backup_verified" for e in engine.events(10))

        # a mistyped confirmation runs nothing
        await pilot.press("down")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("9", "enter", "escape")
        await settle(pilot)
        assert not [e for e in engine.events(10) if e.kind == "step_outcome" and e.step == "drop"]

        # the final drop is refused until the watch since the quarantine has passed
        await _run_selected(pilot, "1", "0", "enter")
        assert {v.step.id: v for v in engine.step_views(10)}["drop"].status == "refused"
        assert "_cockpit_q10_mv_cycle_time_analytics" in _tables(db)
        output = "\n".join(app.screen.query_one("#output").lines)
        assert "DONE" in output and "REFUSED" in output

        # the rollback log entry, previewed then appended
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        await pilot.press(*"dashboard timeouts", "enter", *"flags off, views dropped after backup")
        await settle(pilot)
        preview = str(app.screen.query_one("#preview").render())
        assert "dashboard timeouts" in preview
        await pilot.press("ctrl+s")
        await settle(pilot)

    log_text = plan.log.file.read_text()
    assert "Phase 10" in log_text and "dashboard timeouts" in log_text and "alice" in log_text
    # the app closed its engine on exit: read what it left in the journal file
    events = [e for e in journal_events(plan) if e.phase == 10]
    kinds = [e.kind for e in events]
    assert kinds.count("tick") == len(plan.checklist_before)
    assert "backup_verified" in kinds and "log_written" in kinds
    outcomes = [(e.step, e.data.get("status")) for e in events if e.kind == "step_outcome"]
    assert outcomes == [("flags-off", "done"), ("cron-stop", "done"), ("quarantine", "done"), ("backup", "done"), ("drop", "refused")]
    all_kinds = [e.kind for e in journal_events(plan)]
    assert all_kinds[-1] == "session_end"


def journal_events(plan):
    from cockpit.journal import Journal

    journal = Journal(plan.paths.journal, plan.target.label, "check")
    try:
        return journal.events()
    finally:
        journal.close()
