"""A long transaction holds the table the migration wants to DROP.

On MySQL/MariaDB a DROP waiting for a metadata lock queues every later query on that
table behind it: a cockpit that waits politely stalls production. The DROP must give up
within the plan's short lock_wait_timeout, say who holds the lock, and production's
SELECTs must flow again as soon as it gave up.
"""

from __future__ import annotations

import asyncio
import threading
import time
import tomllib
from pathlib import Path

import pytest
import tomli_w

from cockpit.db import LockWaitTimeout, open_database
from cockpit.journal import Journal
from cockpit.plan import load_plan

from . import cli

pytestmark = pytest.mark.mariadb

LOCK_WAIT_S = 1
DROP_LOCK_WAIT_S = 3
HELD = "mv_token_flow_summary"


def _with_lock_wait(config: Path, seconds: int) -> Path:
    """The same sandbox config with a shorter lock wait (same folder, same journal)."""
    data = tomllib.loads(config.read_text(encoding="utf-8"))
    data["target"]["lock_wait_timeout_s"] = seconds
    path = config.with_name("phases-short-lock.toml")
    path.write_text(tomli_w.dumps(data, multiline_strings=True), encoding="utf-8")
    return path


class Holder:
    """A production session with an open transaction that has read the table."""

    def __init__(self, mariadb, database: str) -> None:
        self.conn = mariadb.root(database)
        self.conn.autocommit(False)
        with self.conn.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute(f"SELECT * FROM `{HELD}` LIMIT 1")
            cur.fetchall()

    def release(self) -> None:
        try:
            self.conn.commit()
        finally:
            self.conn.close()


MDL_WAIT = "Waiting for table metadata lock"


def _waiting(mariadb, statement: str) -> bool:
    """Another session whose statement contains `statement` is queued on a metadata lock
    (contains: the cockpit may put a tag comment in front of its SQL)."""
    rows = mariadb.root_execute(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND STATE = '" + MDL_WAIT + "' "
        "AND INFO LIKE '%" + statement.replace("'", "''") + "%'")
    return int(rows[0][0]) > 0


async def _until_waiting(mariadb, statement: str, *, unless: asyncio.Task | None = None, timeout: float = 20) -> bool:
    """Wait for the server to show that statement queued on the metadata lock (PROCESSLIST
    state, not a guess of how long queuing takes); False if `unless` finished first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await asyncio.to_thread(_waiting, mariadb, statement):
            return True
        if unless is not None and unless.done():
            return False
        await asyncio.sleep(0.005)
    raise AssertionError(f"{statement!r} never showed {MDL_WAIT!r} in PROCESSLIST")


def _timed_select(mariadb, database: str, out: dict) -> None:
    """Production traffic: a plain read of the table, timed."""
    conn = mariadb.root(database)
    try:
        started = time.monotonic()
        with conn.cursor() as cur:
            cur.execute(f"SELECT COUNT(*) FROM `{HELD}`")
            out["rows"] = cur.fetchone()[0]
        out["finished"] = time.monotonic()
        out["elapsed"] = out["finished"] - started
    finally:
        conn.close()


async def test_drop_gives_up_names_the_holder_and_production_flows(mariadb, mysql_sandbox) -> None:
    db_name = mysql_sandbox.database
    before = mariadb.root_execute(f"SELECT COUNT(*) FROM `{HELD}`", database=db_name)[0][0]
    assert before > 0
    holder = Holder(mariadb, db_name)
    try:
        # 3 s, not 1: the read must get to queue behind the pending DROP before it gives up,
        # and on a loaded machine starting a thread and a connection can take a second
        async with open_database(mariadb.target(db_name, lock_wait_timeout_s=DROP_LOCK_WAIT_S)) as db:
            drop = asyncio.create_task(db.ddl(f"DROP TABLE `{HELD}`"))
            assert await _until_waiting(mariadb, "DROP TABLE", unless=drop), "the DROP never queued on the metadata lock"
            reader: dict = {}
            thread = threading.Thread(target=_timed_select, args=(mariadb, db_name, reader), daemon=True)
            thread.start()
            started = time.monotonic()
            # production's read queues behind the pending DROP (seen in PROCESSLIST)
            assert await _until_waiting(mariadb, "SELECT COUNT(*)", unless=drop), "the read never queued behind the DROP"
            with pytest.raises(LockWaitTimeout) as caught:
                await drop
            gave_up = time.monotonic()
            await asyncio.to_thread(thread.join, 10)
        message = str(caught.value)
        assert "\n" not in message and HELD in message and f"{DROP_LOCK_WAIT_S} s" in message
        assert caught.value.holders, "the holder should be named (INNODB_TRX/PROCESSLIST are readable with PROCESS)"
        assert "root@" in message
        assert gave_up - started < DROP_LOCK_WAIT_S + 2, "the DROP must not wait longer than its lock wait"
        # the reader queued behind the DROP, and ran as soon as the DROP gave up
        assert "finished" in reader, "production's SELECT is still stuck after the DROP gave up"
        assert reader["rows"] == before
        assert reader["finished"] >= gave_up - 0.2, "the read should have queued behind the pending DROP"
        assert reader["finished"] - gave_up < 1.0
    finally:
        holder.release()
    # nothing was dropped
    assert mariadb.root_execute(f"SELECT COUNT(*) FROM `{HELD}`", database=db_name)[0][0] == before


async def test_engine_quarantine_reports_blocked_and_finishes_after_release(mariadb, mysql_sandbox, open_engine) -> None:
    """The quarantine's RENAME is the first statement that needs the tables' metadata
    locks: behind a long transaction it gives up within lock_wait_timeout, names the
    holder, renames nothing (RENAME is all or nothing), and production's reads flow."""
    config = _with_lock_wait(mysql_sandbox.config_path, LOCK_WAIT_S)
    engine = await open_engine(config)
    for step in ("flags-off", "cron-stop"):
        outcome = await engine.execute(10, step)
        assert outcome.status == "done", (step, outcome)
    await engine.close()

    plan = load_plan(config)
    db_name = mysql_sandbox.database
    holder = Holder(mariadb, db_name)
    try:
        started = time.monotonic()
        result = await asyncio.to_thread(cli.run, "run", "10", "quarantine", "--execute", "--confirm", "10", "--config", str(config))
        elapsed = time.monotonic() - started
        # production reads are not stuck after the quarantine gave up
        reader: dict = {}
        await asyncio.to_thread(_timed_select, mariadb, db_name, reader)
        assert reader["elapsed"] < 1.0
    finally:
        holder.release()
    assert result.code == 1, result
    assert len(result.stderr_lines) == 1 and "Traceback" not in result.stderr, result
    assert "lock_wait" in result.stderr and "held by" in result.stderr
    assert elapsed < 30
    present = {r[0] for r in mariadb.root_execute("SHOW TABLES", database=db_name)}
    assert set(plan.phase(10).tables) <= present, "a blocked RENAME renames nothing"

    journal = Journal(plan.paths.journal, plan.target.label, "reader")
    try:
        outcomes = [e.data for e in journal.events(10, kinds=["step_outcome"]) if e.step == "quarantine"]
    finally:
        journal.close()
    assert outcomes[-1]["status"] == "failed" and outcomes[-1]["guard"] == "lock_wait"
    steps = cli.run("steps", "10", "--json", "--config", str(config)).json()["steps"]
    assert next(s for s in steps if s["id"] == "quarantine")["status"] == "failed"

    # the holder is gone: the same quarantine goes through
    again = await asyncio.to_thread(cli.run, "run", "10", "quarantine", "--execute", "--confirm", "10", "--config", str(config))
    assert again.code == 0, again
    present = {r[0] for r in mariadb.root_execute("SHOW TABLES", database=db_name)}
    assert not present & set(plan.phase(10).tables)
