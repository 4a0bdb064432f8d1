"""Expected state follows the journal, through the real Engine, Watcher and LiveSystem
in-process, on the shape the cockpit runs: quarantine -> backup (from the quarantine)
-> final drop after the watch, or restore to undo.

- After the quarantine the phase's tables are absent by intent: no alert. One of them
  re-created under its name by someone else is drift: one alert, however many refreshes.
- After a restore they are back by intent: no alert; rows appearing in a table that came
  back empty are "refilling".
- After the final drop they must stay gone: re-created is one alert, even when it happens
  before the watcher's first reading after the step (the journal says what to expect,
  not a baseline taken after the fact).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cockpit.db import open_database
from cockpit.engine import Engine
from cockpit.journal import Journal
from cockpit.live import LiveSystem
from cockpit.plan import load_plan
from cockpit.watch.loop import Watcher, WatchSettings

TABLES = ("mv_token_flow_summary", "mv_node_bottlenecks", "mv_team_workload", "mv_cycle_time_analytics")


async def _engine_steps(config: Path, *steps: str) -> None:
    engine = await Engine.open(load_plan(config), operator="alice")
    try:
        for step in steps:
            override = "drill: the watch of this test is its own" if step == "drop" else None
            outcome = await engine.execute(10, step, confirm="10", override_reason=override)
            assert outcome.status == "done", f"{step}: {outcome.message}"
    finally:
        await engine.close()


def _sql(plan_path: Path, statement: str) -> None:
    """Someone else, on their own connection (production's code, a colleague's console)."""
    with sqlite3.connect(plan_path) as conn:
        conn.execute(statement)


class _Watch:
    """The real watcher over the sandbox, ticked by hand."""

    def __init__(self, config: Path) -> None:
        self.plan = load_plan(config)
        self.db = open_database(self.plan.target)
        self.live = LiveSystem(self.plan, self.db)
        self.journal = Journal(self.plan.paths.journal, self.plan.target.label, "watcher")
        self.watcher = Watcher(self.plan, WatchSettings(hours=24, refresh=0, heartbeat=60), self.journal, self.live,
                               say=lambda line: None)
        self.watcher._begin()

    async def ticks(self, n: int) -> None:
        for _ in range(n):
            await self.watcher.tick()

    def alerts(self) -> list[tuple[str, str]]:
        return [(e.data["kind"], e.data["subject"]) for e in self.journal.events(kinds=["alert"])]

    def cleared(self) -> int:
        return len(self.journal.events(kinds=["alert_clear"]))

    def present(self, table: str) -> bool | None:
        return self.watcher.baselines[10][1][table][0]

    async def close(self) -> None:
        await self.live.close()
        await self.db.close()
        self.journal.close()


async def test_recreated_table_alerts_once_but_a_restore_step_does_not(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    _sql(plan.target.path, "DELETE FROM mv_node_bottlenecks")  # empty when quarantined: comes back empty
    await _engine_steps(sandbox, "flags-off", "cron-stop", "quarantine", "backup")
    watch = _Watch(sandbox)
    try:
        await watch.ticks(2)
        assert watch.alerts() == [], "tables absent by the quarantine are no alert"
        assert all(watch.present(t) is False for t in TABLES)
        assert set(watch.watcher.expected.absent[10]) == set(TABLES)

        _sql(plan.target.path, "CREATE TABLE mv_team_workload (id INTEGER PRIMARY KEY)")  # someone re-creates one
        await watch.ticks(3)
        assert watch.alerts() == [("table_back", "mv_team_workload")]
        message = watch.journal.events(kinds=["alert"])[-1].data["message"]
        assert "quarantined as _cockpit_q10_mv_team_workload" in message and "re-created" in message

        _sql(plan.target.path, "DROP TABLE mv_team_workload")  # they take it away again: the restore would refuse over it
        await watch.ticks(1)
        assert watch.cleared() == 1

        await _engine_steps(sandbox, "restore")  # the real undo: one RENAME back
        await watch.ticks(3)
        assert watch.alerts() == [("table_back", "mv_team_workload")], "a restore is not drift"
        assert watch.watcher.expected.absent.get(10, {}) == {}
        assert all(watch.present(t) is True for t in TABLES)
        assert watch.watcher.baselines[10][1]["mv_node_bottlenecks"][1] is False  # restored, empty

        _sql(plan.target.path, "INSERT INTO mv_node_bottlenecks (node_id, node_name) VALUES (1, 'x')")  # rows again
        await watch.ticks(2)
        assert watch.alerts()[-1] == ("table_refilling", "mv_node_bottlenecks")
        assert len(watch.alerts()) == 2
    finally:
        await watch.close()


@pytest.mark.parametrize("last", ["backup", "drop"])
async def test_a_table_recreated_before_the_watchers_first_reading_is_still_drift(sandbox: Path, last: str) -> None:
    """Quarantined (until a restore) or final-dropped: the journal alone says the tables
    must be absent, so a re-creation that lands between the step and the watcher's next
    reading is not swallowed into the baseline."""
    plan = load_plan(sandbox)
    steps = ["flags-off", "cron-stop", "quarantine", "backup"] + (["drop"] if last == "drop" else [])
    await _engine_steps(sandbox, *steps)
    _sql(plan.target.path, "CREATE TABLE mv_cycle_time_analytics (id INTEGER PRIMARY KEY)")
    watch = _Watch(sandbox)
    try:
        await watch.ticks(3)
        assert watch.alerts() == [("table_back", "mv_cycle_time_analytics")]
        message = watch.journal.events(kinds=["alert"])[-1].data["message"]
        assert ("final drop" in message) == (last == "drop")
        assert watch.present("mv_cycle_time_analytics") is True  # the baseline saw it: the journal decided

        _sql(plan.target.path, "DROP TABLE mv_cycle_time_analytics")
        await watch.ticks(2)
        assert watch.cleared() == 1 and len(watch.alerts()) == 1
    finally:
        await watch.close()


@pytest.mark.parametrize(("took_effect", "claimed"), [(None, False), (True, False), (False, True)])
async def test_an_interrupted_restore_leaves_the_tables_to_the_operator(sandbox: Path, took_effect: bool | None,
                                                                       claimed: bool) -> None:
    """A restore whose connection was lost after its RENAME may have run: the journal
    still says "quarantined", the tables may be back by the operator's own step, so the
    watcher does not call them re-created by someone; known not to have run, they stay
    absent by intent."""
    from cockpit.watch.expected import expectation

    await _engine_steps(sandbox, "flags-off", "cron-stop", "quarantine")
    watch = _Watch(sandbox)
    try:
        intent = watch.journal.append("step_intent", phase=10, step="restore", operator="alice")
        watch.journal.append("step_outcome", phase=10, step="restore", operator="alice",
                             data={"status": "interrupted", "intent_id": intent, "took_effect": took_effect})
        absent = expectation(watch.plan, watch.journal.events(), 0.0).absent.get(10, {})
        assert (set(absent) == set(TABLES)) if claimed else absent == {}
    finally:
        await watch.close()
