"""A writer that slips in between the guards and the destructive statement.

The old shape counted, then dropped, and had to re-count before every DROP to catch a
late writer. The quarantine makes the race harmless by construction: a row written
before the RENAME is renamed with its table (and counted after the rename), and a write
after it finds no table to write to. Nothing is destroyed until the final drop, which
compares the frozen tables with a backup verified by restore."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cockpit.engine.statements import quarantine_name
from cockpit.plan import load_plan
from tests.faults.cli import cockpit_env, run

MV = ("mv_cycle_time_analytics", "mv_team_workload", "mv_node_bottlenecks", "mv_token_flow_summary")
LATE = ("INSERT INTO {table} (node_id, node_name, queue_length, avg_wait_seconds, refreshed_at) "
        "VALUES (999, 'late', 1, 1.0, '2025-11-01 00:00:00')")


def _tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_a_row_written_after_the_guards_is_quarantined_with_its_table(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    for step in ("flags-off", "cron-stop"):
        assert run("run", "10", step, "--execute", "--config", str(sandbox)).code == 0
    env = cockpit_env({"COCKPIT_TEST_PAUSE_AFTER_INTENT": "2"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "cockpit", "run", "10", "quarantine", "--execute", "--confirm", "10", "--config", str(sandbox)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        deadline = time.monotonic() + 20
        journal = run("journal", "--json", "--config", str(sandbox))
        while not any(e["kind"] == "step_intent" and e["step"] == "quarantine" for e in journal.json()):
            assert time.monotonic() < deadline, "the quarantine never journalled its intent"
            time.sleep(0.05)
            journal = run("journal", "--json", "--config", str(sandbox))
        # the guards have passed; a late writer adds a row now
        with sqlite3.connect(plan.target.path) as conn:
            conn.execute(LATE.format(table="mv_node_bottlenecks"))
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out + err
    quarantined = quarantine_name(10, "mv_node_bottlenecks")
    assert f"{quarantined}: 13 rows" in out, out
    assert not set(MV) & _tables(plan.target.path)
    with sqlite3.connect(plan.target.path) as conn:
        assert conn.execute(f"SELECT node_name FROM {quarantined} WHERE node_id = 999").fetchall() == [("late",)]
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            conn.execute(LATE.format(table="mv_node_bottlenecks"))  # after the rename: nowhere to write
    # the backup holds the late row too
    assert run("run", "10", "backup", "--execute", "--config", str(sandbox)).code == 0
    steps = run("steps", "10", "--json", "--config", str(sandbox)).json()
    backup = next(s for s in steps["steps"] if s["id"] == "backup")
    assert backup["status"] == "done" and f"{quarantined}: 13" in backup["message"]
