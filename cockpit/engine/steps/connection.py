"""The database a step talks to, typed: a step that needs one runs only with one.

The engine refuses a step whose kind needs the database while it is unreachable (exit 3
semantics, before any guard runs), so inside `guards()`/`run()` the connection is there;
`connected()` says so to the type checker and fails loudly, not with an AttributeError,
if that ever stops being true. `describe()` may run without one and reads `ctx.db`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cockpit.db.base import Database
from cockpit.db.errors import DatabaseUnavailable

from .base import StepContext

if TYPE_CHECKING:
    from cockpit.db.mysql import MysqlDatabase


def connected(ctx: StepContext) -> Database:
    db: Database | None = ctx.db
    if db is None:
        raise DatabaseUnavailable("no connection to the database")
    return db


def server(ctx: StepContext) -> MysqlDatabase:
    """The MySQL/MariaDB connection (its settings feed the dump tools)."""
    from cockpit.db.mysql import MysqlDatabase

    db = connected(ctx)
    if not isinstance(db, MysqlDatabase):
        raise DatabaseUnavailable(f"a {db.dialect} database where MySQL/MariaDB was expected")
    return db
