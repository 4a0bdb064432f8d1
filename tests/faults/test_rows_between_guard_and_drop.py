"""A writer that slips in between the guard's exact count and the DROP: the rows it wrote
have no backup, so the migration stops before dropping anything and says why."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from cockpit.plan import load_plan
from tests.faults.cli import cockpit_env, run

MV = ("mv_cycle_time_analytics", "mv_team_workload", "mv_node_bottlenecks", "mv_token_flow_summary")


def _tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_rows_written_after_the_guard_stop_the_drop(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    for step in ("flags-off", "cron-stop", "backup"):
        assert run("run", "10", step, "--execute", "--config", str(sandbox)).code == 0
    env = cockpit_env({"COCKPIT_TEST_PAUSE_AFTER_INTENT": "2"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "cockpit", "run", "10", "drop", "--execute", "--confirm", "10", "--config", str(sandbox)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        deadline = time.monotonic() + 20
        journal = run("journal", "--json", "--config", str(sandbox))
        while not any(e["kind"] == "step_intent" and e["step"] == "drop" for e in journal.json()):
            assert time.monotonic() < deadline, "the migration never journalled its intent"
            time.sleep(0.05)
            journal = run("journal", "--json", "--config", str(sandbox))
        # the guard has counted and passed; a late writer adds a row now
        with sqlite3.connect(plan.target.path) as conn:
            conn.execute("INSERT INTO mv_node_bottlenecks (node_id, node_name, queue_length, avg_wait_seconds, refreshed_at) "
                         "VALUES (999, 'late', 1, 1.0, '2025-11-01 00:00:00')")
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, out + err
    assert "rows changed since the guard counted" in out + err and "mv_node_bottlenecks: 12 -> 13" in out + err
    assert set(MV) <= _tables(plan.target.path), "nothing may be dropped"
    steps = run("steps", "10", "--json", "--config", str(sandbox)).json()
    drop = next(s for s in steps["steps"] if s["id"] == "drop")
    assert drop["status"] == "failed"
