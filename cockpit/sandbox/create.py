"""Create a sandbox: the embedded default for drills, demos and fast tests.

A sandbox is a folder holding an SQLite database with the plan's tables (seeded), a
crontab file with the plan's jobs, an empty error log and a config pointing at them.
The `MysqlSpec` variant seeds the same tables into a real MySQL/MariaDB database for
drills on a server — and refuses any database that already holds a table, so it can
never write into a production schema.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import sqlite3
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path

from crontab import CronTab

from ..db.errors import DatabaseError
from ..plan.loader import default_plan_path, load_plan
from ..plan.model import Plan, Target
from .config import CONFIG_NAME, CRONTAB_NAME, DB_NAME, ERROR_LOG, sandbox_config, write_config
from .schema import TableSpec, create_statements, flag_table_spec, insert_statement, sandbox_tables, seed_rows

FALLBACK_SCHEDULE = "*/15 * * * *"


class SandboxError(Exception):
    """The sandbox could not be created; `str()` is one operator-ready line."""


@dataclass(frozen=True)
class MysqlSpec:
    """A drill database on a real server. No password field: it comes from MYSQL_PWD,
    the option file or a prompt, exactly as in production."""

    host: str = "127.0.0.1"
    port: int = 3306
    database: str = ""
    user: str = ""
    socket: str = ""
    option_file: str = ""

    def target(self) -> Target:
        return Target(kind="mysql", host=self.host, port=self.port, database=self.database, user=self.user,
                      socket=self.socket, option_file=self.option_file)


@dataclass(frozen=True)
class SandboxResult:
    config_path: Path
    created: bool
    message: str


def default_sandbox_dir() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "rollback-cockpit" / "sandbox"


def create_sandbox(directory: Path, plan_path: Path | None = None, mysql: MysqlSpec | None = None) -> SandboxResult:
    """Create the sandbox in `directory`, or leave an existing one untouched."""
    directory = Path(directory).expanduser().absolute()
    config_path = directory / CONFIG_NAME
    if config_path.exists():
        existing = load_plan(config_path).target
        if existing.kind == "sqlite" and existing.path is not None and not existing.path.exists():
            # recreating the data under an existing journal would make the journal lie
            raise SandboxError(f"the sandbox in {directory} is incomplete ({DB_NAME} is missing): remove the folder and run "
                               "`cockpit sandbox init` again")
        return SandboxResult(config_path, False, f"sandbox already exists in {directory}; nothing changed")
    plan_path = Path(plan_path) if plan_path else default_plan_path()
    plan = load_plan(plan_path)  # a broken plan fails here, before anything is written
    directory.mkdir(parents=True, exist_ok=True)
    tables = sandbox_tables(plan)
    flags = flag_table_spec(plan)
    if mysql is None:
        _create_sqlite(directory / DB_NAME, plan, tables, flags)
        target: dict[str, str | int] = {"kind": "sqlite", "path": DB_NAME}
        where = str(directory / DB_NAME)
    else:
        if not mysql.database:
            raise SandboxError("a MySQL sandbox needs a database name")
        _run_async(_create_mysql(mysql, plan, tables, flags))
        target = {"kind": "mysql", "host": mysql.host, "port": mysql.port, "database": mysql.database}
        for key in ("user", "socket", "option_file"):
            if getattr(mysql, key):
                target[key] = getattr(mysql, key)
        where = mysql.target().label
    _write_crontab(directory / CRONTAB_NAME, plan)
    log = directory / ERROR_LOG
    log.parent.mkdir(parents=True, exist_ok=True)
    log.touch()
    write_config(config_path, sandbox_config(plan_path, target))
    load_plan(config_path)  # prove the written config is usable before saying so
    total = sum(t.rows for t in tables)
    return SandboxResult(config_path, True, f"sandbox created in {directory}: {len(tables) + 1} tables ({total} rows) in {where}")


# -- SQLite ---------------------------------------------------------------------------
def _create_sqlite(path: Path, plan: Plan, tables: list[TableSpec], flags: TableSpec) -> None:
    """Build in a temporary file and rename, so a crash never leaves half a sandbox."""
    tmp = path.with_name(path.name + ".tmp")
    for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        leftover.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    try:
        with conn:
            for spec in [*tables, flags]:
                for statement in create_statements(spec, "sqlite"):
                    conn.execute(statement)
                columns, rows = seed_rows(spec)
                for row in rows:
                    conn.execute(insert_statement(spec, columns, 1), row)
            conn.executemany(_flag_insert(flags), _flag_rows(plan))
        conn.execute("ANALYZE")  # row estimates for table_facts, like information_schema
    finally:
        conn.close()
    tmp.replace(path)


def _flag_insert(flags: TableSpec) -> str:
    return insert_statement(flags, [flags.columns[1][0], flags.columns[2][0], "updated_at"], 1)


def _flag_rows(plan: Plan) -> list[tuple[str, int, str]]:
    return [(key, 1, "2025-10-01 06:00:00") for key in plan.all_flags]


# -- MySQL ----------------------------------------------------------------------------
def _run_async(coro: Coroutine[object, object, None]) -> None:
    """Run a coroutine to completion from sync code, even inside a running event loop."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coro).result()


async def _create_mysql(spec: MysqlSpec, plan: Plan, tables: list[TableSpec], flags: TableSpec) -> None:
    from ..db.mysql import MysqlDatabase

    db = MysqlDatabase(spec.target(), interactive=os.isatty(0))
    try:
        await db.connect()
        existing = await db.fetch_all(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME LIMIT 3"
        )
        if existing:
            names = ", ".join(str(r[0]) for r in existing)
            raise SandboxError(
                f"refusing to seed {spec.database}: it already holds tables ({names}...); "
                "a drill sandbox needs an empty database so it can never touch a production schema"
            )
        for table in [*tables, flags]:
            for statement in create_statements(table, "mysql"):
                await db.execute(statement)
            columns, rows = seed_rows(table)
            if rows:
                await db.execute(insert_statement(table, columns, len(rows)), [v for row in rows for v in row])
        flag_rows = _flag_rows(plan)
        if flag_rows:
            sql = insert_statement(flags, [flags.columns[1][0], flags.columns[2][0], "updated_at"], len(flag_rows))
            await db.execute(sql, [v for row in flag_rows for v in row])
        await db.execute("ANALYZE TABLE " + ", ".join(f"`{t.name}`" for t in [*tables, flags]))
    except DatabaseError as exc:
        raise SandboxError(f"cannot create the MySQL sandbox: {exc}") from None
    finally:
        await db.close()


# -- crontab --------------------------------------------------------------------------
def _write_crontab(path: Path, plan: Plan) -> None:
    cron = CronTab(tab="")
    for job in plan.all_cron_jobs:
        entry = cron.new(command=job.command or f"/usr/bin/php {job.script}", comment=job.id)
        entry.setall(job.schedule or FALLBACK_SCHEDULE)
        entry.enable(True)
    cron.write(str(path))
