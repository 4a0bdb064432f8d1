"""The statements a destructive step shows and runs: one object for both.

A dry-run prints `Script.describe()`; the execution calls `Script.run(db)` on the same
object, so the text the operator read cannot drift from what reaches the server. A
script either is one DDL statement (bounded by the plan's lock_wait_timeout) or a list
of statements run on ONE session (MySQL: one connection, so LOCK TABLES ... UNLOCK TABLES
bracket them; SQLite: one transaction).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from cockpit.db import queries
from cockpit.db.queries import Row
from cockpit.db.statement import Statement as BoundStatement

if TYPE_CHECKING:
    from cockpit.db.base import Database

QUARANTINE_PREFIX = "_cockpit_q"
MAX_IDENTIFIER = 64


class ScriptCheckFailed(Exception):
    """A verification statement inside a script returned something else than expected."""


@dataclass(frozen=True)
class Statement(BoundStatement):
    """One statement of a script: a bound entry of db/queries.py (db/statement.py), with
    what the dry-run says about it and, for a verification, the single row it must return."""

    note: str = ""
    expect: tuple[int, ...] | None = None  # the single row it must return, else the script stops here

    def describe(self) -> str:
        text = f"{self.sql};"
        if self.params:
            text += f"  -- params {self.params!r}"
        if self.note:
            text += f"  -- {self.note}"
        return text


@dataclass(frozen=True)
class Script:
    """`ddl`: exactly one statement through Database.ddl; `session`: all statements on one
    session through Database.run_script."""

    mode: Literal["ddl", "session"]
    statements: tuple[Statement, ...]
    title: str = ""
    objects: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        lines = [f"-- {self.title}"] if self.title else []
        if self.mode == "session":
            lines.append("-- on one session, in order:")
        lines += [s.describe() for s in self.statements]
        return "\n".join(lines)

    async def run(self, db: Database) -> list[list[Row]]:
        if self.mode == "ddl":
            (only,) = self.statements
            await db.ddl(only.entry)
            return [[]]

        def check(index: int, rows: list[Row]) -> None:
            wanted = self.statements[index].expect
            if wanted is not None and (len(rows) != 1 or tuple(int(v or 0) for v in rows[0]) != wanted):
                raise ScriptCheckFailed(f"{self.title}: expected {wanted}, got {rows[:1]}; stopped before the next statement")

        return await db.run_script([s.entry for s in self.statements], check)


def quarantine_name(phase_id: int, table: str, column: str | None = None) -> str:
    """Same-schema quarantine name: `_cockpit_q<phase>_<table>` (a column copy adds
    `__<column>`). Same schema, because RENAME within a schema needs only the ALTER/DROP/
    CREATE privileges the migration already needed, where a quarantine schema would need
    CREATE DATABASE. Names longer than MySQL's 64 characters keep a hash of the original."""
    base = f"{QUARANTINE_PREFIX}{phase_id}_{table}" + (f"__{column}" if column else "")
    if len(base) <= MAX_IDENTIFIER:
        return base
    digest = hashlib.sha1(base.encode()).hexdigest()[:10]
    return f"{base[:MAX_IDENTIFIER - 11]}_{digest}"


def rename_script(dialect: str, pairs: list[tuple[str, str]], title: str) -> Script:
    """All pairs renamed at once: MariaDB/MySQL one RENAME TABLE (atomic, waits for the
    writers' metadata locks up to lock_wait_timeout); SQLite one transaction."""
    entries = tuple(Statement(e) for e in queries.rename_tables(dialect, pairs))
    return Script("session" if dialect == "sqlite" else "ddl", entries, title, tuple(a for a, _ in pairs))


_VERIFY = {queries.COPY_VERIFY.name, queries.SQLITE_COPY_VERIFY.name}


def column_copy_script(dialect: str, table: str, column: str, pk: tuple[str, ...], copy: str) -> Script:
    """Copy a column the plan drops into its own table and drop it from production, under
    a lock no writer slips past: MySQL LOCK TABLES ... WRITE on both tables (the copy is
    created empty beforehand, since CREATE ... SELECT may not run under LOCK TABLES), the
    copy verified row by row, then ALTER TABLE ... DROP COLUMN, then UNLOCK. SQLite: one
    IMMEDIATE transaction (the database-wide write lock)."""
    statements = tuple(
        Statement(e, note="must be 0, 0: every row copied with its value", expect=(0, 0)) if e.name in _VERIFY else Statement(e)
        for e in queries.column_copy(dialect, table, column, pk, copy))
    return Script("session", statements, f"copy {table}.{column} out to {copy}, then drop it", (f"{table}.{column}",))


def copy_table_create(table: str, column: str, pk: tuple[str, ...], copy: str) -> Statement:
    """MariaDB/MySQL: the empty copy a column is copied into (before its LOCK TABLES)."""
    return Statement(queries.COPY_TABLE_CREATE.bind(copy=copy, keys=queries.idents(pk), column=column, table=table))


def column_restore_script(dialect: str, table: str, column: str, definition: str, pk: tuple[str, ...], copy: str) -> Script:
    """Put a copied-out column back: ADD COLUMN with the recorded definition, values from
    the copy by primary key, then the copy goes (rows written since get the column's default)."""
    statements = tuple(Statement(e) for e in queries.column_restore(dialect, table, column, definition, pk, copy))
    return Script("session", statements, f"restore {table}.{column} from {copy}", (f"{table}.{column}",))


def drop_script(table: str) -> Script:
    return Script("ddl", (Statement(queries.DROP_TABLE.bind(table=table)),), f"final drop of {table}", (table,))


def drop_if_exists(table: str) -> Statement:
    """A copy left by a failed column copy-out."""
    return Statement(queries.DROP_TABLE_IF_EXISTS.bind(table=table))
