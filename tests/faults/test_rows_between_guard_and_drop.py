"""A writer that slips in between the guards and the destructive statement.

The old shape counted, then dropped, and had to re-count before every DROP to catch a
late writer. The quarantine makes the race harmless by construction: a row written
before the RENAME is renamed with its table (and counted after the rename), and a write
after it finds no table to write to (production's writers are locked out: "no such
table"). Nothing is destroyed until the final drop, which compares the frozen tables
with a backup verified by restore."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cockpit.engine.statements import quarantine_name
from cockpit.plan import load_plan
from tests.faults.cli import ROOT, cockpit_env, run

MV = ("mv_cycle_time_analytics", "mv_team_workload", "mv_node_bottlenecks", "mv_token_flow_summary")
LATE = ("INSERT INTO {table} (node_id, node_name, queue_length, avg_wait_seconds, refreshed_at) "
        "VALUES ({node_id}, 'late', 1, 1.0, '2025-11-01 00:00:00')")
STRADDLER_ID = 999  # the row whose transaction is open while the guards pass
WRITER_FROM = 1000  # the steady writer's rows


def _tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _intent_journalled(journal: Path) -> bool:
    try:
        with sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT 1 FROM event WHERE kind = 'step_intent' AND step = 'quarantine'").fetchone() is not None
    except sqlite3.OperationalError:  # not created yet
        return False


class _Writers:
    """Production's writers, each on its own connection, no pause hook anywhere:

    - the straddler opens a write transaction, inserts a row, and commits only once the
      quarantine has journalled its intent, i.e. after every guard passed: its row is the
      late row the old count-then-drop shape could lose;
    - the steady writer inserts a row every few ms (autocommit) until a write finds no
      table: the RENAME has locked it out, which is what production sees after it.
    Every row whose INSERT returned is committed and must end up in the quarantine."""

    def __init__(self, db: Path, journal: Path) -> None:
        self.db, self.journal = db, journal
        self.committed: list[int] = []
        self.locked_out = ""
        self.errors: list[str] = []
        self.straddling = threading.Event()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._straddle, daemon=True), threading.Thread(target=self._steady, daemon=True)]
        # list.append is atomic: both threads record into `committed`

    def start(self) -> None:
        """Steady traffic first, then the straddler's open transaction: the quarantine
        starts against both."""
        self.threads[1].start()
        deadline = time.monotonic() + 30
        while len(self.committed) < 3:
            assert time.monotonic() < deadline and not self.errors, f"the steady writer does not write: {self.errors}"
            time.sleep(0.01)
        self.threads[0].start()
        assert self.straddling.wait(30), f"the straddler could not open its transaction: {self.errors}"

    def join(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(30)

    def _straddle(self) -> None:
        conn = sqlite3.connect(self.db, timeout=30, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(LATE.format(table="mv_node_bottlenecks", node_id=STRADDLER_ID))
            self.straddling.set()
            deadline = time.monotonic() + 60
            while not _intent_journalled(self.journal):
                if self.stop.is_set() or time.monotonic() > deadline:
                    conn.execute("ROLLBACK")
                    self.errors.append("the quarantine never journalled its intent")
                    return
                time.sleep(0.01)
            conn.execute("COMMIT")
            self.committed.append(STRADDLER_ID)
        except sqlite3.Error as exc:
            self.errors.append(f"straddler: {exc}")
        finally:
            conn.close()

    def _steady(self) -> None:
        conn = sqlite3.connect(self.db, timeout=30, isolation_level=None)
        node_id = WRITER_FROM
        try:
            while not self.stop.is_set():
                try:
                    conn.execute(LATE.format(table="mv_node_bottlenecks", node_id=node_id))
                except sqlite3.OperationalError as exc:
                    if "no such table" in str(exc):
                        self.locked_out = str(exc)
                        return
                    if "locked" not in str(exc) and "busy" not in str(exc):
                        raise
                    continue  # not written: try the same row again
                self.committed.append(node_id)
                node_id += 1
                time.sleep(0.005)  # production's pace, not a loop that starves the RENAME of the lock
        except sqlite3.Error as exc:
            self.errors.append(f"writer: {exc}")
        finally:
            conn.close()


def test_a_row_written_after_the_guards_is_quarantined_with_its_table(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    for step in ("flags-off", "cron-stop"):
        assert run("run", "10", step, "--execute", "--config", str(sandbox)).code == 0
    with sqlite3.connect(plan.target.path) as conn:
        before = conn.execute("SELECT COUNT(*) FROM mv_node_bottlenecks").fetchone()[0]
    writers = _Writers(plan.target.path, plan.paths.journal)
    writers.start()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cockpit", "run", "10", "quarantine", "--execute", "--confirm", "10", "--config", str(sandbox)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cockpit_env(), cwd=ROOT, stdin=subprocess.DEVNULL,
    )
    try:
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
        writers.join()
    assert proc.returncode == 0, out + err
    assert not writers.errors, writers.errors
    assert STRADDLER_ID in writers.committed, "the row committed after the guards"
    assert "no such table" in writers.locked_out, "the writer was locked out by the RENAME"
    quarantined = quarantine_name(10, "mv_node_bottlenecks")
    rows = before + len(writers.committed)
    assert f"{quarantined}: {rows} rows" in out, (out, writers.committed)
    assert not set(MV) & _tables(plan.target.path)
    with sqlite3.connect(plan.target.path) as conn:
        kept = {r[0] for r in conn.execute(f"SELECT node_id FROM {quarantined} WHERE node_name = 'late'")}
        assert kept == set(writers.committed), "every committed row is in the quarantine, nothing else"
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            conn.execute(LATE.format(table="mv_node_bottlenecks", node_id=1))  # after the rename: nowhere to write
    # the backup holds the late rows too
    assert run("run", "10", "backup", "--execute", "--config", str(sandbox)).code == 0
    steps = run("steps", "10", "--json", "--config", str(sandbox)).json()
    backup = next(s for s in steps["steps"] if s["id"] == "backup")
    assert backup["status"] == "done" and f"{quarantined}: {rows}" in backup["message"]
