"""The database layer: one async interface over the sandbox's SQLite and production MySQL.

`open_database(target)` picks the backend from the plan's target; nothing above this
package imports a driver.
"""

from __future__ import annotations

from ..plan.model import Target
from .base import Database, TableFact
from .errors import DatabaseError, DatabaseUnavailable, LockWaitTimeout, QueryError, StatementTimeout
from .options import ConnectionSettings, read_option_file, resolve_settings
from .sql import TAG, quote_ident


def open_database(target: Target, interactive: bool = False, settings: ConnectionSettings | None = None) -> Database:
    """A not-yet-connected Database for `target`; call `await db.connect()` (or use
    `async with`). `interactive` allows a password prompt when nothing else gave one;
    `settings` (MySQL only) were resolved earlier, e.g. prompted for before a TUI started."""
    if target.kind == "sqlite":
        from .sqlite import SqliteDatabase

        return SqliteDatabase(target)
    if target.kind == "mysql":
        from .mysql import MysqlDatabase

        return MysqlDatabase(target, settings=settings, interactive=interactive)
    raise ValueError(f"unknown target kind {target.kind!r}")


__all__ = [
    "open_database", "Database", "TableFact", "DatabaseError", "DatabaseUnavailable", "LockWaitTimeout",
    "QueryError", "StatementTimeout", "ConnectionSettings", "read_option_file", "resolve_settings", "TAG", "quote_ident",
]
