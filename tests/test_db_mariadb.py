"""The MySQL backend against the session's real MariaDB."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from cockpit.db import DatabaseUnavailable, LockWaitTimeout, QueryError, StatementTimeout, open_database
from cockpit.db.mysql import MysqlDatabase
from cockpit.db.options import ConnectionSettings

pytestmark = pytest.mark.mariadb


async def test_connect_detects_mariadb_and_tags_statements(mariadb, mariadb_db: str) -> None:
    async with open_database(mariadb.target(mariadb_db)) as db:
        assert db.dialect == "mariadb" and db.server_label.startswith("MariaDB 1")
        info = await db.fetch_value("SELECT INFO FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()")
        assert str(info).startswith("/* rollback-cockpit */ SELECT INFO")
        await db.execute("CREATE TABLE t (id INT PRIMARY KEY, note VARCHAR(20))")
        assert await db.execute("INSERT INTO t VALUES (?, ?), (?, ?)", (1, "50% ?", 2, None)) == 2
        assert await db.fetch_all("SELECT note FROM t WHERE note LIKE '50%' AND id = ?", (1,)) == [("50% ?",)]


async def test_table_facts_one_query(mariadb, mariadb_db: str) -> None:
    mariadb.root_execute(
        "CREATE TABLE a (id INT PRIMARY KEY, created_at DATETIME, priority INT)",
        "CREATE TABLE b (id INT PRIMARY KEY)",
        "INSERT INTO a VALUES (1, NOW(), 1), (2, NOW(), 2)",
        "ANALYZE TABLE a",
        database=mariadb_db,
    )
    async with open_database(mariadb.target(mariadb_db)) as db:
        before = db.queries
        facts = await db.table_facts(["a", "b", "missing"])
        assert db.queries - before == 1
        assert facts["a"].exists and facts["a"].columns == ("id", "created_at", "priority")
        assert facts["a"].estimated_rows == 2 and facts["a"].size_bytes > 0
        assert facts["b"].exists and facts["b"].estimated_rows == 0
        assert not facts["missing"].exists


async def test_exact_count_with_statement_time_limit(mariadb, mariadb_db: str) -> None:
    mariadb.root_execute(
        "CREATE TABLE c (id INT PRIMARY KEY)",
        "INSERT INTO c SELECT seq FROM seq_1_to_500",
        # 10^10 rows: only a time limit ends this count
        "CREATE VIEW slow AS SELECT a.seq FROM seq_1_to_100000 a, seq_1_to_100000 b",
        database=mariadb_db,
    )
    async with open_database(mariadb.target(mariadb_db)) as db:
        assert await db.exact_count("c") == 500
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(StatementTimeout, match="slow.*200 ms"):
            await db.exact_count("slow", timeout_ms=200)
        assert loop.time() - started < 5
        assert await db.exact_count("c") == 500  # the pool is still healthy


async def test_ddl_gives_up_behind_a_metadata_lock_and_names_the_holder(mariadb, mariadb_db: str) -> None:
    mariadb.root_execute("CREATE TABLE held (id INT PRIMARY KEY) ENGINE=InnoDB", "INSERT INTO held VALUES (1)", database=mariadb_db)
    holder = mariadb.root(mariadb_db)
    try:
        with holder.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("SELECT * FROM held")
        async with open_database(mariadb.target(mariadb_db, lock_wait_timeout_s=1)) as db:
            with pytest.raises(LockWaitTimeout) as info:
                await db.ddl("DROP TABLE `held`")
            assert "held by: connection" in str(info.value) and "root@" in str(info.value)
            assert info.value.holders
            holder.commit()
            await db.ddl("DROP TABLE `held`")
            assert not (await db.table_facts(["held"]))["held"].exists
            # the session setting was restored on the pooled connection
            assert int(await db.fetch_value("SELECT @@SESSION.lock_wait_timeout")) > 1
    finally:
        holder.close()


async def test_get_lock_is_exclusive_between_sessions(mariadb, mariadb_db: str) -> None:
    first = open_database(mariadb.target(mariadb_db))
    second = open_database(mariadb.target(mariadb_db))
    async with first, second:
        assert await first.get_lock("rollback-cockpit:plan", 0) is True
        assert await second.get_lock("rollback-cockpit:plan", 0) is False
        await first.release_lock("rollback-cockpit:plan")
        assert await second.get_lock("rollback-cockpit:plan", 0) is True
    third = open_database(mariadb.target(mariadb_db))
    async with third:  # closing `second` released its lock with its session
        assert await third.get_lock("rollback-cockpit:plan", 0) is True


async def test_permission_error_names_statement_and_table(mariadb, mariadb_db: str) -> None:
    async with open_database(mariadb.target(mariadb_db)) as db:
        with pytest.raises(QueryError) as info:
            await db.fetch_all("SELECT * FROM mysql.user")
    message = str(info.value)
    assert message.startswith("SELECT not permitted") and "user" in message
    assert mariadb.password not in message and "\n" not in message


async def test_wrong_password_and_unreachable_never_show_the_password(mariadb, mariadb_db: str) -> None:
    wrong = "Wr0ng-" + mariadb.password[::-1]
    settings = ConnectionSettings(mariadb.host, mariadb.port, "", mariadb_db, mariadb.user, wrong, "test")
    db = MysqlDatabase(mariadb.target(mariadb_db), settings=settings)
    with pytest.raises(DatabaseUnavailable) as info:
        await db.connect()
    assert "access denied" in str(info.value) and wrong not in str(info.value)
    assert info.value.code == 1045
    settings = replace(settings, port=1, password=mariadb.password)
    db = MysqlDatabase(mariadb.target(mariadb_db, port=1), settings=settings)
    with pytest.raises(DatabaseUnavailable) as info:
        await db.connect()
    assert "cannot connect" in str(info.value) and mariadb.password not in str(info.value)
    assert mariadb.password not in repr(settings)


async def test_socket_connection(mariadb, mariadb_db: str) -> None:
    async with open_database(mariadb.target(mariadb_db, socket=mariadb.socket)) as db:
        assert await db.fetch_value("SELECT 1") == 1
