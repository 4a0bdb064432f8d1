"""The database probe: two statements per refresh, stale-not-crashed, per-part errors."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from cockpit.db import StatementTimeout, open_database
from cockpit.db.mysql import MysqlDatabase
from cockpit.db.options import ConnectionSettings
from cockpit.plan import load_plan
from cockpit.plan.model import Plan
from cockpit.probes.database import DatabaseProbe


def _with_extra_tables(plan: Plan, count: int) -> Plan:
    extra = tuple(f"extra_{i}" for i in range(count))
    first = plan.rollback_order[0]
    phases = tuple(replace(p, tables=p.tables + extra) if p.id == first.id else p for p in plan.phases)
    return replace(plan, phases=phases)


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_refresh_reads_everything_in_two_statements(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    async with open_database(plan.target) as db:
        facts = await DatabaseProbe(db).refresh(plan)
    assert facts.connection.state == "connected" and facts.connection.queries_last_refresh == 2
    assert facts.tables["assignment_log"].state == "rows" and facts.tables["assignment_log"].estimated_rows == 40
    assert facts.tables["people_operator_cache"].state == "empty"
    assert facts.columns[("assignment_plan_node", "priority")] is True
    assert {f.state for f in facts.flags.values()} == {"on"}
    assert all(a.recent_rows == 0 and a.active is False for a in facts.activity.values())
    phase7 = facts.for_phase(plan.phase(7))
    assert [t.name for t in phase7["tables"]] == list(plan.phase(7).tables)
    assert [f.key for f in phase7["flags"]] == list(plan.phase(7).flags)


async def test_query_count_is_constant_as_tables_are_added(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    async with open_database(plan.target) as db:
        for i in range(30):
            await db.execute(f"CREATE TABLE extra_{i} (id INTEGER PRIMARY KEY, v TEXT)")
            if i % 2:
                await db.execute(f"INSERT INTO extra_{i} (v) VALUES ('x')")
        probe = DatabaseProbe(db)
        counts = []
        for n in (0, 5, 30):
            facts = await probe.refresh(_with_extra_tables(plan, n))
            counts.append(facts.connection.queries_last_refresh)
        assert counts == [2, 2, 2]
        assert facts.tables["extra_1"].state == "rows" and facts.tables["extra_2"].state == "empty"


async def test_activity_sees_recent_rows_capped(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    async with open_database(plan.target) as db:
        await db.execute(
            "INSERT INTO assignment_log (token_id, created_at) SELECT value, datetime('now') FROM "
            "(WITH RECURSIVE s(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM s WHERE value < 150) SELECT value FROM s)"
        )
        facts = await DatabaseProbe(db).refresh(plan)
    assert facts.activity[(7, "assignment-log")].recent_rows == 100  # capped, never a full count
    assert facts.activity[(8, "oem-tickets")].recent_rows == 0


async def test_dropped_tables_and_columns_read_absent(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    async with open_database(plan.target) as db:
        await db.ddl("DROP TABLE people_operator_cache")
        await db.ddl("ALTER TABLE assignment_plan_job DROP COLUMN priority")
        await db.ddl("DROP TABLE feature_flag")
        facts = await DatabaseProbe(db).refresh(plan)
    assert facts.tables["people_operator_cache"].state == "absent"
    assert facts.activity[(9, "people-sync")].recent_rows == 0
    assert facts.columns[("assignment_plan_job", "priority")] is False
    assert facts.columns[("assignment_plan_node", "priority")] is True
    assert {f.state for f in facts.flags.values()} == {"unknown"}
    assert "flag table feature_flag does not exist" in facts.connection.notices


async def test_exact_count_on_request_shows_in_later_readings(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    clock = Clock()
    async with open_database(plan.target) as db:
        probe = DatabaseProbe(db, clock=clock)
        assert (await probe.refresh(plan)).tables["oem_job_ticket"].exact_rows is None
        assert await probe.exact_count("oem_job_ticket") == 18
        reading = (await probe.refresh(plan)).tables["oem_job_ticket"]
        assert (reading.exact_rows, reading.exact_at) == (18, clock.now)
        await db.execute("CREATE VIEW slow AS WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s) SELECT n FROM s")
        with pytest.raises(StatementTimeout):
            await probe.exact_count("slow", timeout_ms=30)


async def test_missing_sandbox_file_is_a_state(tmp_path: Path, sandbox: Path) -> None:
    plan = load_plan(sandbox)
    plan = replace(plan, target=replace(plan.target, path=tmp_path / "vanished.db"))
    clock = Clock()
    facts = await DatabaseProbe(open_database(plan.target), clock=clock).refresh(plan)
    assert facts.connection.state == "lost" and "does not exist" in facts.connection.error
    assert facts.tables["assignment_log"].state == "unknown"
    assert {f.state for f in facts.flags.values()} == {"unknown"}


@pytest.mark.mariadb
async def test_mariadb_two_statements_constant(mariadb, mysql_sandbox) -> None:
    plan = load_plan(mysql_sandbox.config_path)
    for i in range(20):
        mariadb.root_execute(f"CREATE TABLE extra_{i} (id INT PRIMARY KEY)", database=mysql_sandbox.database)
    async with open_database(plan.target) as db:
        probe = DatabaseProbe(db)
        counts = [(await probe.refresh(_with_extra_tables(plan, n))).connection.queries_last_refresh for n in (0, 20)]
        facts = await probe.refresh(plan)
    assert counts == [2, 2]
    assert facts.tables["assignment_log"].state == "rows" and facts.tables["people_team_cache"].state == "empty"
    assert facts.connection.server.startswith("MariaDB")
    assert {f.state for f in facts.flags.values()} == {"on"}
    assert facts.activity[(7, "assignment-log")].recent_rows == 0


@pytest.mark.mariadb
async def test_server_loss_is_stale_then_recovers(mariadb, mysql_sandbox) -> None:
    plan = load_plan(mysql_sandbox.config_path)
    clock = Clock()
    probe = DatabaseProbe(open_database(plan.target), clock=clock)
    try:
        good = await probe.refresh(plan)
        assert good.connection.state == "connected"
        mariadb.kill()
        clock.now += 5
        lost = await probe.refresh(plan)  # no exception: a state
        assert lost.connection.state == "lost" and lost.connection.lost_since == clock.now
        assert lost.connection.next_retry_at == clock.now + 1
        log = lost.tables["assignment_log"]
        assert log.state == "rows" and log.freshness.stale and log.freshness.stale_since == clock.now
        assert log.freshness.age(clock.now + 10) == 15 and log.freshness.error
        assert lost.flags["enable_oem_mode"].freshness.stale
        # before the retry time: stale data without touching the network
        queries = probe.db.queries
        again = await probe.refresh(plan)
        assert probe.db.queries == queries and again.connection.state == "lost"
        # retries back off: 1, 2, 4 ... seconds, capped at 30
        delays = []
        for _ in range(7):
            clock.now = (await probe.refresh(plan)).connection.next_retry_at or clock.now
            clock.now += 0.001
            facts = await probe.refresh(plan)
            delays.append(round(facts.connection.next_retry_at - clock.now))
        assert delays[-1] == 30 and delays == sorted(delays)
        mariadb.start()
        clock.now += 31
        back = await probe.refresh(plan)
        assert back.connection.state == "connected" and back.connection.lost_since is None
        assert not back.tables["assignment_log"].freshness.stale
    finally:
        mariadb.start()
        await probe.db.close()


@pytest.mark.mariadb
async def test_permission_error_on_one_table_spares_the_rest(mariadb, mysql_sandbox) -> None:
    plan = load_plan(mysql_sandbox.config_path)
    db_name = mysql_sandbox.database
    password = "limited-pw-42x"
    statements = [f"CREATE USER IF NOT EXISTS 'limited'@'127.0.0.1' IDENTIFIED BY '{password}'"]
    for table in [*plan.all_tables, "feature_flag"]:
        if table == "oem_scan_rule":
            statements.append(f"GRANT INSERT ON `{db_name}`.`{table}` TO 'limited'@'127.0.0.1'")
        else:
            statements.append(f"GRANT SELECT ON `{db_name}`.`{table}` TO 'limited'@'127.0.0.1'")
    mariadb.root_execute(*statements)
    try:
        settings = ConnectionSettings(mariadb.host, mariadb.port, "", db_name, "limited", password, "test")
        db = MysqlDatabase(plan.target, settings=settings)
        probe = DatabaseProbe(db)
        async with db:
            first = await probe.refresh(plan)
            second = await probe.refresh(plan)
        for facts in (first, second):
            rule = facts.tables["oem_scan_rule"]
            assert rule.exists is True and rule.has_rows is None and "not permitted" in rule.freshness.error
            assert facts.tables["oem_job_ticket"].state == "rows"
            assert facts.tables["people_team_cache"].state == "empty"
            assert facts.flags["enable_oem_mode"].state == "on"
            assert facts.connection.state == "connected"
            notices = [n for n in facts.connection.notices if "oem_scan_rule" in n]
            assert len(notices) == 1 and password not in notices[0]
        assert second.connection.queries_last_refresh == 2  # the refused part stays out
    finally:
        mariadb.root_execute("DROP USER IF EXISTS 'limited'@'127.0.0.1'")


async def test_slow_activity_check_is_abandoned_and_the_rest_still_refreshes(sandbox: Path) -> None:
    """An activity check on an unindexed column of a big table would scan production on
    every tick: the refresh statement is bounded, the slow part is left out with its
    error, and every other reading still refreshes."""
    import sqlite3

    plan = load_plan(sandbox)
    with sqlite3.connect(plan.target.path) as conn:
        conn.execute("DROP INDEX IF EXISTS idx_assignment_log_created_at")
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='assignment_log'").fetchall():
            if not name.startswith("sqlite_autoindex"):
                conn.execute(f'DROP INDEX "{name}"')
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400000) "
            "INSERT INTO assignment_log (token_id, node_id, account_id, rule, reason, created_at) "
            "SELECT i, i % 50, i % 25, 'auto', 'seed', '2020-01-01 00:00:00' FROM n"
        )
    db = open_database(plan.target)
    probe = DatabaseProbe(db, refresh_timeout_ms=5)
    try:
        facts = await probe.refresh(plan)
        slow = facts.activity[(7, "assignment-log")]
        assert slow.recent_rows is None and "time limit" in (slow.freshness.error or "")
        assert facts.flags["enable_assignment_runtime"].state == "on"
        assert facts.tables["mv_token_flow_summary"].has_rows is True
        before = db.queries
        again = await probe.refresh(plan)
        assert db.queries - before == 2  # the slow part stays out: no re-scan every tick
        assert again.activity[(7, "assignment-log")].recent_rows is None
    finally:
        await db.close()
