"""The sandbox backend: one sqlite3 connection driven from a worker thread.

sqlite3 is blocking, so every call runs in `asyncio.to_thread`; a single connection
guarded by an asyncio.Lock keeps statements ordered and the progress handler (used to
bound an exact count) attached to the statement it is meant for.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from ..plan.model import Target
from .base import Database, Params, TableFact
from .errors import DatabaseUnavailable, QueryError, StatementTimeout
from .sql import quote_ident, statement_kind


def content_hash(conn: sqlite3.Connection, table: str) -> str:
    """sha256 over every row of `table` ordered by all its columns: independent of rowids
    and insertion order, so a restored copy hashes like its source. Streams the rows."""
    sql = f"SELECT * FROM {quote_ident(table)}"
    width = len(conn.execute(f"{sql} LIMIT 0").description)
    order = ", ".join(str(i) for i in range(1, width + 1))
    hasher = hashlib.sha256()
    for row in conn.execute(f"{sql} ORDER BY {order}"):
        hasher.update(repr(tuple(row)).encode("utf-8", "surrogatepass") + b"\n")
    return hasher.hexdigest()


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
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=5000")
            return conn

        try:
            self._conn = await asyncio.to_thread(opener)
        except sqlite3.Error as exc:
            raise DatabaseUnavailable(f"cannot open sandbox database {self.path}: {exc}") from None
        self.server_version = sqlite3.sqlite_version
        self.dialect = "sqlite"
        names = {row[0] for row in await self.fetch_all("SELECT name FROM sqlite_master WHERE type='table'")}
        self._has_stat1 = "sqlite_stat1" in names
        try:
            await self.fetch_all("SELECT 1 FROM dbstat LIMIT 0")
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

    async def _run(self, sql: str, work: Callable[[sqlite3.Connection], Any]) -> Any:
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

    async def fetch_all(self, sql: str, params: Params = ()) -> list[tuple]:
        return await self._run(sql, lambda c: [tuple(r) for r in c.execute(sql, tuple(params)).fetchall()])

    async def execute(self, sql: str, params: Params = ()) -> int:
        return await self._run(sql, lambda c: c.execute(sql, tuple(params)).rowcount)

    async def table_facts(self, tables: Iterable[str]) -> dict[str, TableFact]:
        names = self._table_names(tables)
        if not names:
            return {}
        marks = ",".join("?" for _ in names)
        # rowcount estimate from ANALYZE (the first number of any stat row is the table's
        # row count), size from dbstat when compiled in: catalogue reads only, no scan.
        estimate = "(SELECT CAST(s.stat AS INTEGER) FROM sqlite_stat1 s WHERE s.tbl = m.name LIMIT 1)" if self._has_stat1 else "NULL"
        size = "(SELECT SUM(d.pgsize) FROM dbstat d WHERE d.name = m.name)" if self._has_dbstat else "NULL"
        # per column: its primary-key position and whether it leads an index (activity checks must never scan)
        leads = ("EXISTS(SELECT 1 FROM pragma_index_list(m.name) il, pragma_index_info(il.name) ii "
                 "WHERE ii.seqno = 0 AND ii.name = p.name)")
        sql = (
            f"SELECT m.name, {estimate}, {size}, p.name, p.pk, {leads} FROM sqlite_master m "
            f"LEFT JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name IN ({marks}) ORDER BY m.name, p.cid"
        )
        rows = await self.fetch_all(sql, names)
        found: dict[str, dict[str, Any]] = {}
        for name, rows_estimate, size_bytes, column, pk, lead in rows:
            entry = found.setdefault(name, {"rows": rows_estimate, "size": size_bytes, "columns": [], "indexed": [], "pk": {}})
            if column is not None:
                entry["columns"].append(column)
                if lead or pk == 1:  # a first primary-key column is the rowid or has its own index
                    entry["indexed"].append(column)
                if pk:
                    entry["pk"][int(pk)] = column
        facts = {}
        for name in names:
            if name in found:
                e = found[name]
                facts[name] = TableFact(name, True, e["rows"], e["size"], tuple(e["columns"]), tuple(e["indexed"]),
                                        tuple(e["pk"][k] for k in sorted(e["pk"])))
            else:
                facts[name] = TableFact(name, False)
        return facts

    async def fetch_all_bounded(self, sql: str, params: Params = (), timeout_ms: int | None = None) -> list[tuple]:
        deadline = time.monotonic() + self._timeout_ms(timeout_ms) / 1000

        def bounded(conn: sqlite3.Connection) -> list[tuple]:
            conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 1000)
            try:
                return [tuple(r) for r in conn.execute(sql, tuple(params)).fetchall()]
            finally:
                conn.set_progress_handler(None, 0)

        return await self._run(sql, bounded)

    async def ddl(self, sql: str) -> None:
        # SQLite's busy_timeout already bounds the wait for the single writer lock.
        await self.execute(sql)

    async def table_checksum(self, table: str) -> str:
        return await self._run("SELECT", lambda conn: content_hash(conn, table))

    async def run_script(self, statements: Sequence[tuple[str, Params]],
                         check: Callable[[int, list[tuple]], None] | None = None) -> list[list[tuple]]:
        first = statements[0][0] if statements else "BEGIN"

        def script(conn: sqlite3.Connection) -> list[list[tuple]]:
            out: list[list[tuple]] = []
            conn.execute("BEGIN IMMEDIATE")
            try:
                for index, (sql, params) in enumerate(statements):
                    out.append([tuple(r) for r in conn.execute(sql, tuple(params)).fetchall()])
                    if check is not None:
                        check(index, out[-1])
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return out

        return await self._run(first, script)

    async def primary_key(self, table: str) -> tuple[str, ...]:
        rows = await self.fetch_all("SELECT name, pk FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", (table,))
        if rows:
            return tuple(str(r[0]) for r in rows)
        exists = await self.fetch_value("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
        return ("rowid",) if exists else ()

    async def column_definition(self, table: str, column: str) -> str | None:
        rows = await self.fetch_all("SELECT type FROM pragma_table_info(?) WHERE name = ?", (table, column))
        return (str(rows[0][0]) or "BLOB") if rows else None

    async def get_lock(self, name: str, timeout_s: float = 0) -> bool:
        # One file, one process: the engine's lock file does the job a server lock does.
        return True

    async def release_lock(self, name: str) -> None:
        return None
