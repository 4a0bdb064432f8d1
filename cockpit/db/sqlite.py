"""The sandbox backend: one sqlite3 connection driven from a worker thread.

sqlite3 is blocking, so every call runs in `asyncio.to_thread`; a single connection
guarded by an asyncio.Lock keeps statements ordered and the progress handler (used to
bound a statement in time, as max_statement_time does on MariaDB) attached to the
statement it is meant for. Its statements are the `SQLITE_*` entries of db/queries.py,
next to their MariaDB counterparts.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from ..plan.model import Target
from . import queries as q
from .base import CatalogueEntry, Database, Params, TableFact
from .errors import DatabaseUnavailable, QueryError, StatementTimeout
from .queries import Bound, Row, Sql
from .sql import statement_kind

T = TypeVar("T")


def content_hash(conn: sqlite3.Connection, table: str) -> str:
    """sha256 over every row of `table` ordered by all its columns: independent of rowids
    and insertion order, so a restored copy hashes like its source. Streams the rows."""
    width = len(conn.execute(q.SQLITE_ROWS_SHAPE.bind(table=table).text).description)
    hasher = hashlib.sha256()
    for row in conn.execute(q.sqlite_rows_ordered(table, width).text):
        hasher.update(repr(tuple(row)).encode("utf-8", "surrogatepass") + b"\n")
    return hasher.hexdigest()


def local_count(conn: sqlite3.Connection, table: str) -> int:
    """Exact rows of `table` on a local sandbox file (a restored scratch copy)."""
    return int(conn.execute(q.SQLITE_LOCAL_COUNT.bind(table=table).text).fetchone()[0])


def schema_of(conn: sqlite3.Connection, tables: Sequence[str]) -> set[str]:
    """The CREATE statements (tables and indexes) of `tables` on a local sandbox file."""
    stmt = q.SQLITE_SCHEMA_OF.bind(names=q.Fragment(q.marks(len(tables)).text, tuple(tables)))
    return {str(row[0]) for row in conn.execute(stmt.text, stmt.params)}


def integrity_check(conn: sqlite3.Connection) -> list[str]:
    return [str(row[0]) for row in conn.execute(q.SQLITE_INTEGRITY_CHECK.bind().text)]


def user_tables(conn: sqlite3.Connection) -> tuple[str, ...]:
    return tuple(str(row[0]) for row in conn.execute(q.SQLITE_USER_TABLES.bind().text))


def self_contained(conn: sqlite3.Connection) -> None:
    """A copy that inherits the source's WAL mode becomes one self-contained file."""
    conn.execute(q.SQLITE_JOURNAL_DELETE.bind().text)


class SqliteDatabase(Database):
    def __init__(self, target: Target) -> None:
        super().__init__(target)
        if target.path is None:
            raise ValueError("a sqlite target needs a path")
        self.path = Path(target.path)
        self._conn: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()
        self._has_stat1 = False
        self._has_dbstat = False

    async def connect(self) -> None:
        if self._conn is not None:
            return
        if not self.path.is_file():
            raise DatabaseUnavailable(f"sandbox database {self.path} does not exist "
                                      "(remove the sandbox folder and run `cockpit sandbox init` again)")

        def opener() -> sqlite3.Connection:
            # mode=rw: never create an empty database by accident in place of the sandbox
            conn = sqlite3.connect(f"file:{self.path}?mode=rw", uri=True, check_same_thread=False, isolation_level=None)
            conn.execute(q.SQLITE_OPEN_WAL.bind().text)
            conn.execute(q.SQLITE_BUSY_TIMEOUT.bind().text)
            return conn

        try:
            self._conn = await asyncio.to_thread(opener)
        except sqlite3.Error as exc:
            raise DatabaseUnavailable(f"cannot open sandbox database {self.path}: {exc}") from None
        self.server_version = sqlite3.sqlite_version
        self.dialect = "sqlite"
        names = {row[0] for row in await self.fetch_all(q.SQLITE_TABLE_NAMES.bind())}
        self._has_stat1 = "sqlite_stat1" in names
        try:
            await self.fetch_all(q.SQLITE_HAS_DBSTAT.bind())
            self._has_dbstat = True
        except QueryError:
            self._has_dbstat = False

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        self.dialect = ""
        if conn is not None:
            try:
                await asyncio.to_thread(conn.close)
            except sqlite3.Error:
                pass

    async def _run(self, sql: str, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._conn is None:
            raise DatabaseUnavailable("sandbox database is not open")
        conn = self._conn
        async with self._lock:
            self.queries += 1
            try:
                return await asyncio.to_thread(work, conn)
            except sqlite3.OperationalError as exc:
                if "interrupted" in str(exc):
                    raise StatementTimeout(f"{statement_kind(sql)} hit its time limit") from None
                raise QueryError(f"{statement_kind(sql)} failed: {exc}") from None
            except sqlite3.Error as exc:
                raise QueryError(f"{statement_kind(sql)} failed: {exc}") from None

    def _deadline(self, stmt: Sql) -> float | None:
        """When a Bound.STATEMENT statement is interrupted (monotonic clock), else None."""
        if stmt.bound is not Bound.STATEMENT:
            return None
        return time.monotonic() + stmt.limit_ms(self.target.statement_timeout_ms) / 1000

    @staticmethod
    def _rows(conn: sqlite3.Connection, stmt: Sql, deadline: float | None) -> list[Row]:
        """Run one statement on `conn`, interrupted past `deadline`."""
        if deadline is not None:
            conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 1000)
        try:
            return [tuple(r) for r in conn.execute(stmt.tagged, stmt.params).fetchall()]
        finally:
            if deadline is not None:
                conn.set_progress_handler(None, 0)

    async def fetch_all(self, sql: str | Sql, params: Params = ()) -> list[Row]:
        stmt = q.as_sql(sql, params)
        deadline = self._deadline(stmt)
        return await self._run(stmt.text, lambda c: self._rows(c, stmt, deadline))

    async def execute(self, sql: str | Sql, params: Params = ()) -> int:
        stmt = q.as_sql(sql, params)
        deadline = self._deadline(stmt)

        def run(conn: sqlite3.Connection) -> int:
            if deadline is not None:
                conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 1000)
            try:
                return int(conn.execute(stmt.tagged, stmt.params).rowcount)
            finally:
                if deadline is not None:
                    conn.set_progress_handler(None, 0)

        return await self._run(stmt.text, run)

    async def fetch_value(self, sql: str | Sql, params: Params = ()) -> Any:
        rows = await self.fetch_all(sql, params)
        return rows[0][0] if rows else None

    async def fetch_all_bounded(self, sql: str | Sql, params: Params = (), timeout_ms: int | None = None) -> list[Row]:
        return await self.fetch_all(q.with_limit(sql, params, self._timeout_ms(timeout_ms)))

    async def table_facts(self, tables: Iterable[str]) -> dict[str, TableFact]:
        names = self._table_names(tables)
        if not names:
            return {}
        rows = await self.fetch_all(q.sqlite_table_facts(names, self._has_stat1, self._has_dbstat))
        found: dict[str, CatalogueEntry] = {}
        for name, rows_estimate, size_bytes, column, pk, lead in rows:
            entry = found.setdefault(str(name), CatalogueEntry(rows_estimate, size_bytes))
            if column is not None:
                entry.columns.append(str(column))
                if lead or pk == 1:  # a first primary-key column is the rowid or has its own index
                    entry.indexed.append(str(column))
                if pk:
                    entry.pk[int(pk)] = str(column)
        return {name: found[name].fact(name) if name in found else TableFact(name, False) for name in names}

    async def ddl(self, sql: str | Sql) -> None:
        # SQLite's busy_timeout already bounds the wait for the single writer lock.
        await self.execute(sql if isinstance(sql, Sql) else q.adhoc(sql, bound=Bound.LOCK_WAIT))

    async def table_checksum(self, table: str) -> str:
        return await self._run(q.SQLITE_ROWS_ORDERED.template, lambda conn: content_hash(conn, table))

    async def run_script(self, statements: Sequence[Sql | tuple[str, Params]],
                         check: Callable[[int, list[Row]], None] | None = None) -> list[list[Row]]:
        items = [s if isinstance(s, Sql) else q.adhoc(s[0], s[1], bound=Bound.LOCK_WAIT) for s in statements]
        first = items[0].text if items else q.SQLITE_BEGIN.template
        deadlines = [self._deadline(s) for s in items]

        def script(conn: sqlite3.Connection) -> list[list[Row]]:
            out: list[list[Row]] = []
            conn.execute(q.SQLITE_BEGIN.bind().tagged)
            try:
                for index, stmt in enumerate(items):
                    out.append(self._rows(conn, stmt, deadlines[index]))
                    if check is not None:
                        check(index, out[-1])
            except BaseException:
                conn.execute(q.SQLITE_ROLLBACK.bind().tagged)
                raise
            conn.execute(q.SQLITE_COMMIT.bind().tagged)
            return out

        return await self._run(first, script)

    async def primary_key(self, table: str) -> tuple[str, ...]:
        rows = await self.fetch_all(q.SQLITE_PRIMARY_KEY.bind(table))
        if rows:
            return tuple(str(r[0]) for r in rows)
        exists = await self.fetch_value(q.SQLITE_TABLE_EXISTS.bind(table))
        return ("rowid",) if exists else ()

    async def column_definition(self, table: str, column: str) -> str | None:
        rows = await self.fetch_all(q.SQLITE_COLUMN_TYPE.bind(table, column))
        return (str(rows[0][0]) or "BLOB") if rows else None

    async def get_lock(self, name: str, timeout_s: float = 0, *, session_wait_timeout_s: int | None = None) -> bool:
        # One file, one process: the engine's lock file does the job a server lock does.
        return True

    async def lock_owned(self, name: str, wait_s: float | None = None) -> bool:
        return True

    async def release_lock(self, name: str) -> None:
        return None
