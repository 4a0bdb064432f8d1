"""The SQLite backend against a real sandbox file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from cockpit.db import DatabaseUnavailable, QueryError, StatementTimeout, open_database
from cockpit.plan import load_plan
from cockpit.plan.model import Target


async def test_table_facts_in_one_statement(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    async with open_database(plan.target) as db:
        assert db.dialect == "sqlite" and db.server_label.startswith("SQLite 3.")
        before = db.queries
        facts = await db.table_facts([*plan.all_tables, "feature_flag", "no_such_table"])
        assert db.queries - before == 1
        log = facts["assignment_log"]
        assert log.exists and log.estimated_rows == 40 and log.size_bytes and log.size_bytes > 0
        assert log.columns[0] == "id" and "created_at" in log.columns
        assert "priority" in facts["assignment_plan_node"].columns
        assert not facts["no_such_table"].exists and facts["no_such_table"].columns == ()


async def test_exact_count_and_its_time_limit(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    async with open_database(plan.target) as db:
        assert await db.exact_count("oem_job_ticket_step") == 54
        # a view over a huge generated series: counting it takes far longer than 50 ms
        await db.execute(
            "CREATE VIEW slow_view AS WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 100000000) SELECT n FROM s"
        )
        with pytest.raises(StatementTimeout, match="slow_view.*50 ms"):
            await db.exact_count("slow_view", timeout_ms=50)
        # the connection is still usable and no handler is left behind
        assert await db.exact_count("assignment_log") == 40


async def test_missing_file_is_unavailable_not_created(tmp_path: Path) -> None:
    db = open_database(Target(kind="sqlite", path=tmp_path / "gone.db"))
    with pytest.raises(DatabaseUnavailable, match="does not exist"):
        await db.connect()
    assert not (tmp_path / "gone.db").exists()


async def test_errors_are_query_errors_with_one_line(sandbox: Path) -> None:
    async with open_database(load_plan(sandbox).target) as db:
        with pytest.raises(QueryError) as info:
            await db.fetch_all("SELECT * FROM nowhere")
        assert "\n" not in str(info.value) and str(info.value).startswith("SELECT failed")


async def test_ddl_and_lock(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    async with open_database(replace(plan.target)) as db:
        assert await db.get_lock("plan", 0) is True
        await db.ddl("ALTER TABLE `assignment_plan_job` DROP COLUMN `priority`")
        facts = await db.table_facts(["assignment_plan_job"])
        assert "priority" not in facts["assignment_plan_job"].columns
        await db.release_lock("plan")
