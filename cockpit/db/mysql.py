"""The production backend: aiomysql against MySQL or MariaDB.

A small pool (one connection, a second for a lock diagnosis) keeps the cockpit's
footprint on production to what an operator would open by hand; a dedicated connection
holds the operator lock for the whole session because GET_LOCK belongs to a session.
Every statement is a named entry of db/queries.py, sent with its tag
(`/* rollback-cockpit:<name> */`) under the bound its entry declares; every wait is
bounded, and every driver error leaves as one of the cockpit's own exceptions with a
one-line, password-free message.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

import aiomysql
import pymysql

from ..plan.model import Target
from . import queries as q
from .base import CatalogueEntry, Database, Params, TableFact
from .errors import DatabaseError, DatabaseUnavailable, LockWaitTimeout, QueryError, StatementTimeout
from .options import ConnectionSettings, resolve_settings
from .queries import Bound, Row, Sql
from .sql import statement_kind

# Client/server codes that mean "no usable connection" rather than "this statement failed".
UNAVAILABLE_CODES = frozenset({1040, 1045, 1053, 1927, 2002, 2003, 2005, 2006, 2013, 2014, 2026, 2055, 4031})
PERMISSION_CODES = frozenset({1044, 1142, 1143, 1227})
TIMEOUT_CODES = frozenset({1969, 3024})
LOCK_WAIT_CODE = 1205
CONNECT_TIMEOUT_S = 3


@lru_cache(maxsize=512)  # pure in `sql`; a refresh sends the same texts every time (~1 ms each to scan)
def to_pyformat(sql: str) -> str:
    """Turn `?` placeholders into `%s` (and `%` into `%%`) outside quotes and comments,
    so callers write one placeholder style for both backends."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"`":
            end = i + 1
            while end < n:
                if sql[end] == "\\" and ch != "`":
                    end += 2
                    continue
                if sql[end] == ch:
                    if end + 1 < n and sql[end + 1] == ch:
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i : end + 1].replace("%", "%%"))
            i = end + 1
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif sql.startswith("-- ", i) or ch == "#":
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif ch == "?":
            out.append("%s")
            i += 1
        elif ch == "%":
            out.append("%%")
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


class MysqlDatabase(Database):
    def __init__(self, target: Target, settings: ConnectionSettings | None = None, interactive: bool = False) -> None:
        super().__init__(target)
        self.settings = settings or resolve_settings(target, interactive=interactive)
        self._pool: aiomysql.Pool | None = None
        self._lock_conn: aiomysql.Connection | None = None
        self._held_locks: set[str] = set()
        # a statement that outlives its own server-side limit by this much means the
        # network, not the query, is stuck: give up and call the connection lost
        self.wait_s = max(10.0, target.statement_timeout_ms / 1000 + 5)

    # -- connection ------------------------------------------------------------------
    def _connect_kwargs(self) -> dict[str, Any]:
        s = self.settings
        kwargs: dict[str, Any] = dict(
            user=s.user,
            password=s.password,
            db=s.database or None,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_S,
            charset="utf8mb4",
        )
        if s.socket:
            kwargs["unix_socket"] = s.socket
        else:
            kwargs["host"], kwargs["port"] = s.host, s.port
        return kwargs

    @property
    def where(self) -> str:
        s = self.settings
        return f"{s.socket or f'{s.host}:{s.port}'}/{s.database}"

    async def connect(self) -> None:
        if self._pool is not None:
            return
        try:
            self._pool = await asyncio.wait_for(
                aiomysql.create_pool(minsize=1, maxsize=2, pool_recycle=3600, **self._connect_kwargs()),
                timeout=CONNECT_TIMEOUT_S * 2,
            )
        except BaseException as exc:  # noqa: BLE001 - every driver failure becomes one line
            if isinstance(exc, (KeyboardInterrupt, asyncio.CancelledError)):
                raise
            raise self._connect_error(exc) from None
        try:
            version = str(await self.fetch_value(q.SERVER_VERSION.bind()))
        except DatabaseError:
            await self.close()
            raise
        self.server_version = version
        self.dialect = "mariadb" if "mariadb" in version.lower() else "mysql"

    def _connect_error(self, exc: BaseException) -> DatabaseUnavailable:
        code, reason = _code_and_message(exc)
        if code == 1045:
            password = ("using a password" if self.settings.password
                        else "without a password (set one in the option file, MYSQL_PWD or run interactively)")
            reason = f"access denied for user {self.settings.user!r} {password}"
        return DatabaseUnavailable(self._scrub(f"cannot connect to mysql {self.where}: {reason}"), code)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        lock_conn, self._lock_conn = self._lock_conn, None
        self._held_locks.clear()
        self.dialect = ""
        if lock_conn is not None:
            lock_conn.close()  # closing the session releases its GET_LOCK locks
        if pool is not None:
            pool.close()
            try:
                await asyncio.wait_for(pool.wait_closed(), timeout=2)
            except (TimeoutError, Exception):  # noqa: BLE001 - closing must not fail
                pool.terminate()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[aiomysql.Connection]:
        if self._pool is None:
            raise DatabaseUnavailable(f"not connected to mysql {self.where}")
        try:
            conn = await asyncio.wait_for(self._pool.acquire(), timeout=CONNECT_TIMEOUT_S * 2)
        except BaseException as exc:  # noqa: BLE001
            if isinstance(exc, (KeyboardInterrupt, asyncio.CancelledError)):
                raise
            raise self._connect_error(exc) from None
        try:
            yield conn
        finally:
            self._pool.release(conn)

    def _lock_wait_s(self) -> int:
        return max(1, int(self.target.lock_wait_timeout_s))

    def _client_wait_s(self, stmt: Sql) -> float:
        """How long the client waits for an answer: past the server's own bound, so the
        server's verdict (a time limit, a lock wait given up) arrives first."""
        if stmt.bound is Bound.STATEMENT:
            return max(self.wait_s, stmt.limit_ms(self.target.statement_timeout_ms) / 1000 + 5)
        if stmt.bound is Bound.LOCK_WAIT:
            return self.wait_s + self._lock_wait_s()
        if stmt.bound is Bound.LOCK_FUNCTION and len(stmt.params) > 1 and isinstance(stmt.params[1], (int, float)):
            return self.wait_s + float(stmt.params[1])
        return self.wait_s

    async def _run(self, conn: aiomysql.Connection, stmt: Sql, fetch: bool, wait_s: float | None = None) -> Any:
        """Send one statement on `conn`, tagged and bounded as its entry says; the client
        gives up after `wait_s` (default: just past the server's own bound)."""
        self.queries += 1
        text = q.bounded_text(self.dialect, stmt, self.target.statement_timeout_ms)
        try:
            async with conn.cursor() as cur:
                await asyncio.wait_for(cur.execute(to_pyformat(text), stmt.params), timeout=wait_s or self._client_wait_s(stmt))
                return await cur.fetchall() if fetch else cur.rowcount
        except BaseException as exc:  # noqa: BLE001
            if isinstance(exc, (KeyboardInterrupt, asyncio.CancelledError)):
                conn.close()
                raise
            if isinstance(exc, asyncio.TimeoutError):
                conn.close()  # the protocol state is unknown: never reuse it
            raise self._query_error(exc, stmt.text, wait_s or self._client_wait_s(stmt)) from None

    def _query_error(self, exc: BaseException, sql: str, waited_s: float) -> DatabaseError:
        kind = statement_kind(sql)
        if isinstance(exc, asyncio.TimeoutError):
            return DatabaseUnavailable(f"mysql {self.where} did not answer a {kind} within {waited_s:.0f} s")
        code, reason = _code_and_message(exc)
        reason = self._scrub(reason)
        if code in UNAVAILABLE_CODES or code is None or isinstance(exc, (OSError, pymysql.err.InterfaceError)):
            return DatabaseUnavailable(f"lost the connection to mysql {self.where}: {reason}", code)
        if code in TIMEOUT_CODES:
            return StatementTimeout(f"{kind} hit its time limit: {reason}", code)
        if code == LOCK_WAIT_CODE:
            return LockWaitTimeout(f"{kind} gave up waiting for a lock: {reason}", code)
        if code in PERMISSION_CODES:
            return QueryError(f"{kind} not permitted: {reason}", code)
        return QueryError(f"{kind} failed: {reason}", code)

    def _scrub(self, text: str) -> str:
        password = self.settings.password
        return text.replace(password, "***") if password else text

    # -- statements -----------------------------------------------------------------
    async def fetch_all(self, sql: str | Sql, params: Params = ()) -> list[Row]:
        stmt = q.as_sql(sql, params)
        if stmt.bound is Bound.LOCK_WAIT:
            return await self._locking(stmt, fetch=True)
        async with self._connection() as conn:
            return [tuple(row) for row in await self._run(conn, stmt, fetch=True)]

    async def execute(self, sql: str | Sql, params: Params = ()) -> int:
        stmt = q.as_sql(sql, params)
        if stmt.bound is Bound.LOCK_WAIT:
            await self._locking(stmt, fetch=False)
            return 0
        async with self._connection() as conn:
            return int(await self._run(conn, stmt, fetch=False))

    async def fetch_value(self, sql: str | Sql, params: Params = ()) -> Any:
        rows = await self.fetch_all(sql, params)
        return rows[0][0] if rows else None

    async def fetch_all_bounded(self, sql: str | Sql, params: Params = (), timeout_ms: int | None = None) -> list[Row]:
        return await self.fetch_all(q.with_limit(sql, params, self._timeout_ms(timeout_ms)))

    async def table_facts(self, tables: Iterable[str]) -> dict[str, TableFact]:
        names = self._table_names(tables)
        if not names:
            return {}
        rows = await self.fetch_all(q.table_facts(names))
        found: dict[str, CatalogueEntry] = {}
        for name, estimate, size, column, position in rows:
            if column is None:  # the TABLES row sorts first (position 0)
                found[str(name)] = CatalogueEntry(estimate, size)
            elif str(name) not in found:
                continue
            elif int(position) < 100000:
                found[str(name)].columns.append(str(column))
            else:
                if int(position) == 100001:
                    found[str(name)].indexed.append(str(column))
                if size:  # this index is the PRIMARY one: `position` - 100000 is the column's place in it
                    found[str(name)].pk[int(position) - 100000] = str(column)
        return {name: found[name].fact(name) if name in found else TableFact(name, False) for name in names}

    async def ddl(self, sql: str | Sql) -> None:
        stmt = sql if isinstance(sql, Sql) else q.adhoc(sql, bound=Bound.LOCK_WAIT)
        if stmt.bound is Bound.LOCK_WAIT:
            await self._locking(stmt, fetch=False)
        else:
            await self.execute(stmt)

    async def _locking(self, stmt: Sql, fetch: bool) -> list[Row]:
        """A Bound.LOCK_WAIT statement: the session's lock_wait_timeout set around it; when
        it gives up, who held the lock is named."""
        seconds = self._lock_wait_s()
        failure: LockWaitTimeout | None = None
        rows: list[Row] = []
        async with self._connection() as conn:
            await self._run(conn, q.SET_LOCK_WAIT.bind(seconds), fetch=False)
            try:
                done = await self._run(conn, stmt, fetch=fetch)
                rows = [tuple(r) for r in done or ()] if fetch else []
            except LockWaitTimeout as exc:
                failure = exc
            finally:
                if not conn.closed:
                    try:
                        await self._run(conn, q.RESET_LOCK_WAIT.bind(), fetch=False)
                    except DatabaseError:
                        pass
        if failure is not None:
            table = _table_of(stmt.text)
            holders = await self._lock_holders(table)
            raise LockWaitTimeout(
                f"{statement_kind(stmt.text)} {table or ''} gave up after {seconds} s waiting for a metadata lock".replace("  ", " "),
                holders=holders,
            )
        return rows

    async def table_checksum(self, table: str) -> str:
        rows = await self.fetch_all(q.TABLE_CHECKSUM.bind(table=table))
        if not rows or rows[0][1] is None:
            raise QueryError(f"no such table to checksum: {table}")
        return str(rows[0][1])

    async def run_script(self, statements: Sequence[Sql | tuple[str, Params]],
                         check: Callable[[int, list[Row]], None] | None = None) -> list[list[Row]]:
        out: list[list[Row]] = []
        async with self._connection() as conn:
            await self._run(conn, q.SET_LOCK_WAIT.bind(self._lock_wait_s()), fetch=False)
            try:
                for index, item in enumerate(statements):
                    stmt = item if isinstance(item, Sql) else q.adhoc(item[0], item[1], bound=Bound.LOCK_WAIT)
                    rows = await self._run(conn, stmt, fetch=True)
                    out.append([tuple(r) for r in rows or ()])
                    if check is not None:
                        check(index, out[-1])
            finally:
                # a failure half-way must not leave this pooled session holding table locks
                if not conn.closed:
                    for cleanup in (q.UNLOCK_TABLES, q.RESET_LOCK_WAIT):
                        try:
                            await self._run(conn, cleanup.bind(), fetch=False)
                        except DatabaseError:
                            conn.close()
                            break
        return out

    async def primary_key(self, table: str) -> tuple[str, ...]:
        rows = await self.fetch_all(q.PRIMARY_KEY.bind(table))
        return tuple(str(r[0]) for r in rows)

    async def column_definition(self, table: str, column: str) -> str | None:
        rows = await self.fetch_all(q.COLUMN_DEFINITION.bind(table, column))
        if not rows:
            return None
        column_type, nullable = rows[0]
        definition = f"{column_type} {'NULL' if nullable == 'YES' else 'NOT NULL'}"
        try:
            q.column_type(definition)
        except ValueError:
            raise QueryError(f"column {table}.{column} has a type the cockpit will not splice into SQL: {column_type!r}") from None
        return definition

    async def _lock_holders(self, table: str | None) -> tuple[str, ...]:
        """Who blocks a DDL, from the best source this server offers (each may be
        missing: a plugin not loaded, performance_schema off, no PROCESS privilege)."""
        candidates: list[Sql] = []
        if table:
            candidates += [q.MDL_HOLDERS_PLUGIN.bind(table), q.MDL_HOLDERS_PERFSCHEMA.bind(table)]
        candidates.append(q.OPEN_TRANSACTIONS.bind())
        for stmt in candidates:
            try:
                rows = await self.fetch_all(stmt)
            except DatabaseError:
                continue
            if rows:
                return tuple(
                    f"connection {pid} {user}@{host} {command} {secs}s" + (f": {info}" if info else "")
                    for pid, user, host, secs, command, info in dict.fromkeys(rows)
                )
        return ()

    async def get_lock(self, name: str, timeout_s: float = 0, *, session_wait_timeout_s: int | None = None) -> bool:
        """GET_LOCK on the dedicated lock connection (opened here when needed). With
        `session_wait_timeout_s` that session's idle limit is set first, so the server
        neither kills a heartbeat-kept lock after the global `wait_timeout` nor keeps a
        frozen cockpit's lock for the global 8 h."""
        if self._lock_conn is None or self._lock_conn.closed:
            self._held_locks.clear()
            try:
                self._lock_conn = await asyncio.wait_for(aiomysql.connect(**self._connect_kwargs()), timeout=CONNECT_TIMEOUT_S * 2)
            except BaseException as exc:  # noqa: BLE001
                if isinstance(exc, (KeyboardInterrupt, asyncio.CancelledError)):
                    raise
                raise self._connect_error(exc) from None
        if session_wait_timeout_s is not None:
            await self._run(self._lock_conn, q.SET_WAIT_TIMEOUT.bind(max(1, int(session_wait_timeout_s))), fetch=False)
        rows = await self._run(self._lock_conn, q.GET_LOCK.bind(name[:64], timeout_s), fetch=True)
        taken = bool(rows and rows[0][0] == 1)
        if taken:
            self._held_locks.add(name)
        return taken

    async def lock_owned(self, name: str, wait_s: float | None = None) -> bool:
        """Whether the lock connection still owns `name` (`IS_USED_LOCK(name) =
        CONNECTION_ID()`), asked on that very connection: a connection the server killed
        (idle timeout, KILL, restart) raises DatabaseUnavailable, and is never reopened here."""
        if self._lock_conn is None or self._lock_conn.closed:
            self._held_locks.discard(name)
            raise DatabaseUnavailable(f"the lock connection to mysql {self.where} is closed")
        rows = await self._run(self._lock_conn, q.LOCK_OWNED.bind(name[:64]), fetch=True, wait_s=wait_s)
        owned = bool(rows and rows[0][0] == 1)
        if not owned:
            self._held_locks.discard(name)
        return owned

    async def release_lock(self, name: str) -> None:
        if self._lock_conn is None or self._lock_conn.closed:
            self._held_locks.discard(name)
            return
        await self._run(self._lock_conn, q.RELEASE_LOCK.bind(name[:64]), fetch=True)
        self._held_locks.discard(name)


def _code_and_message(exc: BaseException) -> tuple[int | None, str]:
    args = getattr(exc, "args", ())
    if isinstance(exc, pymysql.err.MySQLError) and args and isinstance(args[0], int):
        message = str(args[1]) if len(args) > 1 else exc.__class__.__name__
        if args[0] == 0 or not message:
            return None, "connection closed"
        return args[0], message
    if isinstance(exc, asyncio.TimeoutError):
        return 2003, f"no answer within {CONNECT_TIMEOUT_S * 2} s"
    if isinstance(exc, ConnectionRefusedError):
        return 2003, "connection refused"
    if isinstance(exc, OSError):
        return 2003, exc.strerror or exc.__class__.__name__
    return None, f"{exc.__class__.__name__}: {exc}" if str(exc) else exc.__class__.__name__


_DDL_TABLE = re.compile(r"\b(?:TABLE|ON)\s+(?:IF\s+EXISTS\s+)?`?([A-Za-z_][A-Za-z0-9_]*)`?", re.IGNORECASE)


def _table_of(sql: str) -> str | None:
    match = _DDL_TABLE.search(sql)
    return match.group(1) if match else None
