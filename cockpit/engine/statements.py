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
from typing import Any

from cockpit.db.sql import quote_ident

QUARANTINE_PREFIX = "_cockpit_q"
MAX_IDENTIFIER = 64


class ScriptCheckFailed(Exception):
    """A verification statement inside a script returned something else than expected."""


@dataclass(frozen=True)
class Statement:
    sql: str
    params: tuple[Any, ...] = ()
    note: str = ""
    expect: tuple[Any, ...] | None = None  # the single row it must return, else the script stops here

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

    mode: str
    statements: tuple[Statement, ...]
    title: str = ""
    objects: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        lines = [f"-- {self.title}"] if self.title else []
        if self.mode == "session":
            lines.append("-- on one session, in order:")
        lines += [s.describe() for s in self.statements]
        return "\n".join(lines)

    async def run(self, db: Any) -> list[list[tuple]]:
        if self.mode == "ddl":
            (only,) = self.statements
            await db.ddl(only.sql)
            return [[]]
        def check(index: int, rows: list[tuple]) -> None:
            wanted = self.statements[index].expect
            if wanted is not None and (len(rows) != 1 or tuple(int(v or 0) for v in rows[0]) != wanted):
                raise ScriptCheckFailed(f"{self.title}: expected {wanted}, got {rows[:1]}; stopped before the next statement")

        return await db.run_script([(s.sql, s.params) for s in self.statements], check)


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
    if dialect == "sqlite":
        return Script("session", tuple(Statement(f"ALTER TABLE {quote_ident(a)} RENAME TO {quote_ident(b)}") for a, b in pairs),
                      title, tuple(a for a, _ in pairs))
    (first, to), rest = pairs[0], pairs[1:]
    more = "".join(f", {quote_ident(a)} TO {quote_ident(b)}" for a, b in rest)
    return Script("ddl", (Statement(f"RENAME TABLE {quote_ident(first)} TO {quote_ident(to)}{more}"),), title, tuple(a for a, _ in pairs))


def column_copy_script(dialect: str, table: str, column: str, pk: tuple[str, ...], copy: str) -> Script:
    """Copy a column the plan drops into its own table and drop it from production, under
    a lock no writer slips past: MySQL LOCK TABLES ... WRITE on both tables (the copy is
    created empty beforehand, since CREATE ... SELECT may not run under LOCK TABLES), the
    copy verified row by row, then ALTER TABLE ... DROP COLUMN, then UNLOCK. SQLite: one
    IMMEDIATE transaction (the database-wide write lock)."""
    t, c, q = quote_ident(table), quote_ident(column), quote_ident(copy)
    keys = ", ".join(quote_ident(k) for k in pk)
    k0, more = quote_ident(pk[0]), "".join(f" AND s.{quote_ident(k)} = q.{quote_ident(k)}" for k in pk[1:])
    statements: tuple[Statement, ...]
    if dialect == "sqlite":
        statements = (
            Statement(f"CREATE TABLE {q} AS SELECT {keys}, {c} FROM {t}"),
            Statement(f"SELECT (SELECT COUNT(*) FROM {t}) - (SELECT COUNT(*) FROM {q}), "
                      f"(SELECT COUNT(*) FROM {t} s LEFT JOIN {q} q ON s.{k0} = q.{k0}{more} WHERE q.{c} IS NOT s.{c})",
                      note="must be 0, 0: every row copied with its value", expect=(0, 0)),
            Statement(f"ALTER TABLE {t} DROP COLUMN {c}"),
        )
    else:
        statements = (
            Statement(f"LOCK TABLES {t} WRITE, {t} AS s WRITE, {q} WRITE, {q} AS q WRITE"),
            Statement(f"INSERT INTO {q} SELECT {keys}, {c} FROM {t}"),
            Statement(f"SELECT (SELECT COUNT(*) FROM {t}) - (SELECT COUNT(*) FROM {q}), "
                      f"(SELECT COUNT(*) FROM {t} AS s LEFT JOIN {q} AS q ON s.{k0} = q.{k0}{more} WHERE NOT (q.{c} <=> s.{c}))",
                      note="must be 0, 0: every row copied with its value", expect=(0, 0)),
            Statement(f"ALTER TABLE {t} DROP COLUMN {c}"),
            Statement("UNLOCK TABLES"),
        )
    return Script("session", statements, f"copy {table}.{column} out to {copy}, then drop it", (f"{table}.{column}",))


def column_restore_script(dialect: str, table: str, column: str, definition: str, pk: tuple[str, ...], copy: str) -> Script:
    """Put a copied-out column back: ADD COLUMN with the recorded definition, values from
    the copy by primary key, then the copy goes (rows written since get the column's default)."""
    t, c, q = quote_ident(table), quote_ident(column), quote_ident(copy)
    k0 = quote_ident(pk[0])
    statements: tuple[Statement, ...]
    if dialect == "sqlite":
        more = "".join(f" AND q.{quote_ident(k)} = {t}.{quote_ident(k)}" for k in pk[1:])
        statements = (
            Statement(f"ALTER TABLE {t} ADD COLUMN {c} {definition}"),
            Statement(f"UPDATE {t} SET {c} = (SELECT q.{c} FROM {q} q WHERE q.{k0} = {t}.{k0}{more})"),
            Statement(f"DROP TABLE {q}"),
        )
    else:
        more = "".join(f" AND s.{quote_ident(k)} = q.{quote_ident(k)}" for k in pk[1:])
        statements = (
            Statement(f"ALTER TABLE {t} ADD COLUMN {c} {definition}"),
            Statement(f"LOCK TABLES {t} WRITE, {t} AS s WRITE, {q} AS q READ"),
            Statement(f"UPDATE {t} AS s JOIN {q} AS q ON s.{k0} = q.{k0}{more} SET s.{c} = q.{c}"),
            Statement("UNLOCK TABLES"),
            Statement(f"DROP TABLE {q}"),
        )
    return Script("session", statements, f"restore {table}.{column} from {copy}", (f"{table}.{column}",))


def drop_script(table: str) -> Script:
    return Script("ddl", (Statement(f"DROP TABLE {quote_ident(table)}"),), f"final drop of {table}", (table,))
