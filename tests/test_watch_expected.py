"""Expected state follows the journal, through the real Watcher and LiveSystem in-process:
a dropped table recreated by someone is one alert; tables brought back by a deliberate
step (a restore, whatever its kind) are not; rows appearing in an emptied table are."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cockpit.db import open_database
from cockpit.engine import Engine
from cockpit.journal import Journal
from cockpit.live import LiveSystem
from cockpit.plan import load_plan
from cockpit.watch.loop import Watcher, WatchSettings


async def _engine_steps(config: Path, *steps: str) -> None:
    engine = await Engine.open(load_plan(config), operator="alice")
    try:
        for step in steps:
            outcome = await engine.execute(10, step, confirm="10")
            assert outcome.status == "done", f"{step}: {outcome.message}"
    finally:
        await engine.close()


async def test_recreated_table_alerts_once_but_a_restore_step_does_not(sandbox: Path) -> None:
    await _engine_steps(sandbox, "flags-off", "cron-stop", "backup", "drop")
    plan = load_plan(sandbox)
    db = open_database(plan.target)
    live = LiveSystem(plan, db)
    journal = Journal(plan.paths.journal, plan.target.label, "watcher")
    watcher = Watcher(plan, WatchSettings(hours=24, refresh=0, heartbeat=60), journal, live, say=lambda line: None)
    watcher._begin()

    def alerts() -> list[tuple[str, str]]:
        return [(e.data["kind"], e.data["subject"]) for e in journal.events(kinds=["alert"])]

    try:
        for _ in range(2):
            await watcher.tick()
        assert alerts() == []
        assert watcher.baselines[10][1]["mv_team_workload"][0] is False  # dropped: expected absent

        with sqlite3.connect(plan.target.path) as conn:  # someone recreates one
            conn.execute("CREATE TABLE mv_team_workload (id INTEGER PRIMARY KEY)")
        for _ in range(3):
            await watcher.tick()
        assert alerts() == [("table_back", "mv_team_workload")]

        # a deliberate restore (A1's restore step; any step kind done counts): intent, tables back, outcome
        intent = journal.append("step_intent", phase=10, step="restore", operator="alice")
        await watcher.tick()  # mid-step: the phase is settling, nothing judged
        with sqlite3.connect(plan.target.path) as conn:
            conn.execute("CREATE TABLE mv_node_bottlenecks (id INTEGER PRIMARY KEY)")
        await watcher.tick()
        journal.append("step_outcome", phase=10, step="restore", data={"status": "done", "intent_id": intent}, operator="alice")
        for _ in range(3):
            await watcher.tick()
        assert alerts() == [("table_back", "mv_team_workload")], "a restore is not drift"
        assert watcher.baselines[10][1]["mv_node_bottlenecks"][0] is True

        with sqlite3.connect(plan.target.path) as conn:  # rows appear in the restored-empty table
            conn.execute("INSERT INTO mv_node_bottlenecks (id) VALUES (1)")
        for _ in range(2):
            await watcher.tick()
        assert alerts()[-1] == ("table_refilling", "mv_node_bottlenecks")
        assert len(alerts()) == 2
    finally:
        await live.close()
        await db.close()
        journal.close()
