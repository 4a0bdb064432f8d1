"""Sandbox creation: SQLite by default, MySQL for drills on a real server."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from crontab import CronTab

from cockpit.plan import load_plan
from cockpit.sandbox import MysqlSpec, SandboxError, create_sandbox, default_sandbox_dir


def _counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        return {n: conn.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        conn.close()


def test_sandbox_is_created_loadable_and_shaped_for_both_guard_paths(tmp_path: Path) -> None:
    result = create_sandbox(tmp_path / "sb")
    assert result.created and result.config_path == tmp_path / "sb" / "phases.toml"
    plan = load_plan(result.config_path)
    assert plan.sandbox and plan.target.kind == "sqlite" and plan.target.path == tmp_path / "sb" / "sandbox.db"
    assert plan.cron_source.source == "file" and plan.cron_source.path == tmp_path / "sb" / "crontab"
    assert plan.paths.journal.parent == tmp_path / "sb" and plan.log.file.parent == tmp_path / "sb"
    assert all(log.path == tmp_path / "sb" / "logs" / "error.log" for p in plan.phases for log in p.error_logs)
    assert (tmp_path / "sb" / "logs" / "error.log").read_text() == ""
    assert "password" not in result.config_path.read_text()
    counts = _counts(plan.target.path)
    # guard paths: 10, 8, 7 hold rows (refused until a backup); 9 is empty (allowed at once)
    for phase_id in (10, 8, 7):
        assert all(counts[t] > 0 for t in plan.phase(phase_id).guard_tables), phase_id
    assert all(counts[t] == 0 for t in plan.phase(9).guard_tables)
    assert counts["account"] > 0
    conn = sqlite3.connect(plan.target.path)
    flags = dict(conn.execute("SELECT flag_key, enabled FROM feature_flag").fetchall())
    columns = {r[1] for r in conn.execute("PRAGMA table_info(assignment_plan_job)")}
    newest = conn.execute("SELECT MAX(created_at) FROM assignment_log").fetchone()[0]
    conn.close()
    assert flags == {k: 1 for k in plan.all_flags}
    assert "priority" in columns
    assert newest < "2025-11-01"  # old: the activity checks say "no recent activity"
    jobs = list(CronTab(tabfile=str(plan.cron_source.path)))
    assert [(j.comment, str(j.slices), j.is_enabled()) for j in jobs] == [
        (j.id, j.schedule, True) for j in plan.all_cron_jobs
    ]
    assert all(job.command in str(j) for job, j in zip(plan.all_cron_jobs, jobs))


def test_rerun_changes_nothing(tmp_path: Path) -> None:
    first = create_sandbox(tmp_path / "sb")
    db = tmp_path / "sb" / "sandbox.db"
    conn = sqlite3.connect(db)
    conn.execute("UPDATE feature_flag SET enabled = 0")
    conn.commit()
    conn.close()
    before = {p: p.read_bytes() for p in (tmp_path / "sb").rglob("*") if p.is_file()}
    again = create_sandbox(tmp_path / "sb")
    assert not again.created and "nothing changed" in again.message and again.config_path == first.config_path
    assert {p: p.read_bytes() for p in (tmp_path / "sb").rglob("*") if p.is_file()} == before


def test_seed_is_deterministic(tmp_path: Path) -> None:
    a = create_sandbox(tmp_path / "a").config_path.parent / "sandbox.db"
    b = create_sandbox(tmp_path / "b").config_path.parent / "sandbox.db"
    dump = lambda p: list(sqlite3.connect(p).iterdump())  # noqa: E731
    assert dump(a) == dump(b)


def test_default_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_sandbox_dir() == tmp_path / "rollback-cockpit" / "sandbox"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_sandbox_dir() == tmp_path / "home" / ".local" / "state" / "rollback-cockpit" / "sandbox"


@pytest.mark.mariadb
def test_mysql_sandbox_seeds_an_empty_database(mariadb, mysql_sandbox) -> None:
    plan = load_plan(mysql_sandbox.config_path)
    assert plan.target.kind == "mysql" and plan.target.database == mysql_sandbox.database
    assert plan.target.option_file == str(mysql_sandbox.option_file)
    assert mariadb.password not in mysql_sandbox.config_path.read_text()
    rows = dict(mariadb.root_execute(
        "SELECT TABLE_NAME, ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()", database=mysql_sandbox.database
    ))
    assert set(plan.all_tables) | {"feature_flag", "account"} == set(rows) and set(rows.values()) == {"InnoDB"}
    assert mariadb.root_execute("SELECT COUNT(*) FROM assignment_log", database=mysql_sandbox.database)[0][0] == 40
    assert mariadb.root_execute("SELECT COUNT(*) FROM people_operator_cache", database=mysql_sandbox.database)[0][0] == 0


@pytest.mark.mariadb
def test_mysql_sandbox_refuses_a_database_with_tables(mariadb, mariadb_db: str, tmp_path: Path) -> None:
    mariadb.root_execute("CREATE TABLE orders (id INT PRIMARY KEY)", "INSERT INTO orders VALUES (1)", database=mariadb_db)
    spec = MysqlSpec(host=mariadb.host, port=mariadb.port, database=mariadb_db, user=mariadb.user, option_file=str(mariadb.option_file))
    with pytest.raises(SandboxError, match=f"refusing to seed {mariadb_db}: it already holds tables \\(orders"):
        create_sandbox(tmp_path / "drill", mysql=spec)
    assert not (tmp_path / "drill" / "phases.toml").exists()
    tables = mariadb.root_execute("SHOW TABLES", database=mariadb_db)
    assert tables == [("orders",)]


def test_an_incomplete_sandbox_is_refused_not_silently_reused(tmp_path) -> None:
    create_sandbox(tmp_path / "sb")
    (tmp_path / "sb" / "sandbox.db").unlink()
    with pytest.raises(SandboxError, match="incomplete"):
        create_sandbox(tmp_path / "sb")
