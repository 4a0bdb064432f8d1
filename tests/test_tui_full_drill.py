"""A whole drill 10 -> 7 driven by keys at 80×24 on the real sandbox, then the drill
report's figures checked against what was done: every phase rolled back within its
budget (flags, cron, quarantine, backup verified by restore, code tasks), the refusals met
in phase 10 (the backup before the quarantine, resolved by the quarantine; the final drop
before the watch, left for after it: the plan marks that drop optional), where each
phase's tables ended, the after-checklists left unticked, the verdict, and the drill's
log entry in the drill log."""

from __future__ import annotations

import time
from pathlib import Path

from cockpit.drill.control import report_path
from cockpit.drill.record import drills
from cockpit.plan import load_plan
from cockpit.tui.app import CockpitApp
from cockpit.tui.screens.board import BoardScreen
from cockpit.tui.screens.confirm import ConfirmScreen
from cockpit.tui.screens.phase import PhaseScreen
from tests.fixtures.tui import settle


async def _keys(pilot, *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


async def _moves(pilot, *keys: str) -> None:
    """Keys that only move the cursor or tick a box start no worker: settle once after them."""
    if keys:
        await pilot.press(*keys)
        await settle(pilot)


async def _run(pilot, destructive: bool) -> None:
    await _keys(pilot, "x")
    dialog = pilot.app.screen
    assert isinstance(dialog, ConfirmScreen), "a dry-run confirmation comes first"
    assert (dialog.token is not None) == destructive, "a destructive step asks for a typed token, no other does"
    if dialog.token:
        await pilot.press(*dialog.token)
        await _keys(pilot, "enter")
    else:
        await _keys(pilot, "y")


async def test_full_drill_by_keys_at_80x24(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    app = CockpitApp(plan, operator="alice", auto_refresh=False)
    began = time.monotonic()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _keys(pilot, "D", "y")  # start the drill
        for position, phase in enumerate(plan.rollback_order):
            assert isinstance(app.screen, BoardScreen)
            if phase.id == 10:  # the other phases' checklists are left for the report to find
                await _keys(pilot, "c")
                await _moves(pilot, *["space", "down"] * len(plan.checklist_before))
                await _keys(pilot, "escape")
            await _keys(pilot, "enter")
            assert isinstance(app.screen, PhaseScreen) and app.screen.phase_id == phase.id
            steps = list(phase.steps)
            kinds = [s.kind for s in steps]
            quarantine, backup, drop = kinds.index("quarantine"), kinds.index("backup"), kinds.index("migration")
            assert quarantine < backup < drop, kinds
            # every step but the final drop, which waits for the watch
            order = [i for i in range(len(steps)) if i != drop]
            if phase.id == 10:  # meet the guards: the backup before the quarantine, the drop before the watch
                order.remove(backup)
                order.insert(order.index(quarantine), backup)
                order.insert(order.index(quarantine) + 1, backup)
                order.insert(order.index(quarantine) + 2, drop)
            row = 0
            for index in order:
                await _moves(pilot, *(["down"] * (index - row) if index >= row else ["up"] * (row - index)))
                row = index
                await _run(pilot, steps[index].destructive)
            views = {v.step.id: v.status for v in app.engine.step_views(phase.id)}
            assert all(views[s.id] == "done" for s in steps if s.kind != "migration"), views
            assert views[steps[drop].id] == ("refused" if phase.id == 10 else "blocked"), views
            assert app.engine.step_views(phase.id)[drop].blocked_by or phase.id == 10
            await _keys(pilot, "escape")
            if phase.id == 10:
                await _keys(pilot, "l")
                await pilot.press(*f"drill {phase.id}")
                await _keys(pilot, "enter")
                await pilot.press(*"rehearsed")
                await _keys(pilot, "ctrl+s", "escape")
            if position < len(plan.rollback_order) - 1:
                await _keys(pilot, "down")
        await _keys(pilot, "D", "y")  # end it: scored, report written
        board = app.screen
        assert "last drill" in str(board.query_one("#lifecycle").render())
    elapsed = time.monotonic() - began

    from cockpit.journal import Journal

    journal = Journal(plan.paths.journal, plan.target.label, "inspector")
    try:
        (drill,) = drills(journal.events())
    finally:
        journal.close()
    assert drill.verdict == "pass with findings"
    report = report_path(plan, 1).read_text()
    assert "**Verdict:** PASS WITH FINDINGS" in report
    for phase in plan.rollback_order:
        assert f"### Phase {phase.id} — {phase.name}" in report
        assert f"of ~{phase.budget_minutes:g} minutes — within budget; rolled back" in report
    assert "| backup | done | 2 |" in report and "| quarantine | done | 1 |" in report
    assert "| drop | refused | 1 |" in report
    assert "- backup [quarantine]:" in report and "→ done after quarantine" in report
    assert "- drop [watch_window]:" in report and "→ left for after the watch (the final drop is optional" in report
    assert report.count("Refusals met:") == 1
    assert "unresolved" not in report and "Overrides:" not in report
    assert report.count("Tables: quarantined, backup verified by restore; final drop after the watch\n") == 4
    assert report.count("Checklist left unticked: after: verify, after: error-logs, after: monitor, after: log\n") == 1
    assert report.count("Checklist left unticked: before: backup, before: flags,") == 3
    assert "Not attempted" not in report
    drill_log = plan.log.file.with_name("ROLLBACK_LOG.drill.md").read_text()
    assert drill_log.count("## Drill Log Entry — drill 1") == 1 and not plan.log.file.exists()
    # ~110 key presses, 30 live dry-runs and 28 real steps (dumps verified by restore):
    # measured 39 s on 2 cores at a load average of ~2.3, 52 s at ~4 (the old backup-then-drop drill: 63 s at
    # the same load), 72 s at ~6, 124 s at ~17; a bound against a
    # hang, not a benchmark
    assert elapsed < 300, f"the keyed drill took {elapsed:.1f}s"
