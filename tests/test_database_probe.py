"""The database probe: two statements per refresh, stale-not-crashed, per-part errors."""

from __future__ import annotations

import time
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


async def test_unindexed_activity_column_is_read_by_key_never_scanned(sandbox: Path) -> None:
    """An activity check on an unindexed column of a big table would scan production on
    every tick: it is read on the newest rows by key instead, so it answers within a
    statement limit a scan of the table cannot meet, and counts the recent writes."""
    import sqlite3

    plan = load_plan(sandbox)
    with sqlite3.connect(plan.target.path) as conn:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='assignment_log'").fetchall():
            if not name.startswith("sqlite_autoindex"):
                conn.execute(f'DROP INDEX "{name}"')
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400000) "
            "INSERT INTO assignment_log (token_id, node_id, account_id, rule, reason, created_at) "
            "SELECT i, i % 50, i % 25, 'auto', 'seed', '2020-01-01 00:00:00' FROM n"
        )
        conn.executemany(
            "INSERT INTO assignment_log (token_id, node_id, account_id, rule, reason, created_at) "
            "VALUES (?, 1, 1, 'auto', 'now', datetime('now'))", [(i,) for i in range(3)],
        )
    db = open_database(plan.target)
    scan_limit = DatabaseProbe(db, refresh_timeout_ms=15)
    try:
        async with db:
            started = time.perf_counter()
            scanned = await db.fetch_all("SELECT COUNT(*) FROM assignment_log WHERE created_at >= datetime('now', '-5 minutes')")
            scan_s = time.perf_counter() - started
            facts = await scan_limit.refresh(plan)
        reading = facts.activity[(7, "assignment-log")]
        assert scanned[0][0] == 3 and scan_s > 0.015, "the table is too small to prove anything"
        assert reading.freshness.error is None and reading.recent_rows == 3
        assert reading.method == "newest 1000 rows by key"
        assert facts.connection.queries_last_refresh == 2
    finally:
        await db.close()


async def test_check_names_unindexed_activity_columns_with_the_fix(sandbox: Path) -> None:
    import sqlite3

    from cockpit.probes.database import activity_index_results

    plan = load_plan(sandbox)
    db = open_database(plan.target)
    async with db:
        indexed = activity_index_results(plan, await db.table_facts(plan.all_tables))
    assert [name for name, _, _ in indexed] == ["activity indexes"]
    with sqlite3.connect(plan.target.path) as conn:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='assignment_log'").fetchall():
            if not name.startswith("sqlite_autoindex"):
                conn.execute(f'DROP INDEX "{name}"')
    db = open_database(plan.target)
    async with db:
        results = activity_index_results(plan, await db.table_facts(plan.all_tables))
    (name, ok, detail), = results
    assert name == "activity index assignment_log.created_at" and ok
    assert "CREATE INDEX `ix_assignment_log_created_at` ON `assignment_log` (`created_at`)" in detail


@pytest.mark.mariadb
async def test_mariadb_rows_read_per_refresh_do_not_grow_with_an_unindexed_table(mariadb, mysql_sandbox) -> None:
    """Handler_read_* deltas of one refresh at 20k and at 200k rows in assignment_log,
    its activity column indexed and not: equal within a few rows, and small."""
    plan = load_plan(mysql_sandbox.config_path)
    database = mysql_sandbox.database

    async def rows_read() -> int:
        async with open_database(plan.target) as db:
            probe = DatabaseProbe(db)
            await probe.refresh(plan)

            async def handler() -> int:
                return sum(int(v) for _, v in await db.fetch_all("SHOW SESSION STATUS LIKE 'Handler_read%'"))

            overhead = -(await handler()) + await handler()
            before = await handler()
            facts = await probe.refresh(plan)
            assert facts.connection.queries_last_refresh == 2
            assert facts.activity[(7, "assignment-log")].recent_rows == 0
            return await handler() - before - overhead

    def grow(rows: int) -> None:
        mariadb.root_execute(
            "INSERT INTO assignment_log (token_id, node_id, account_id, rule, reason, created_at) "
            f"SELECT seq, seq % 50, seq % 25, 'auto', 'seed', TIMESTAMP'2020-01-01 00:00:00' FROM seq_1_to_{rows}",
            database=database,
        )

    grow(20_000)
    indexed_small = await rows_read()
    indexes = mariadb.root_execute(
        "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() "
        "AND TABLE_NAME = 'assignment_log' AND COLUMN_NAME = 'created_at'", database=database)
    for (name,) in indexes:
        mariadb.root_execute(f"DROP INDEX `{name}` ON assignment_log", database=database)
    unindexed_small = await rows_read()
    grow(180_000)
    unindexed_big = await rows_read()
    assert abs(unindexed_big - unindexed_small) <= 5, (unindexed_small, unindexed_big)
    assert unindexed_big < 3_000 and indexed_small < 3_000, (indexed_small, unindexed_big)
