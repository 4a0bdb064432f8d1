"""One async interface over the sandbox's SQLite and a production MySQL/MariaDB.

Probes and the engine talk to `Database` only, so the same rollback code runs against a
drill sandbox and production. Statements use `?` placeholders on every backend (the
MySQL backend translates them); identifiers go through `quote_ident`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..plan.model import Target
from .errors import StatementTimeout
from .queries import Row, Sql, count_rows
from .sql import quote_ident

Params = Sequence[Any]  # bound values: whatever the driver accepts (int, str, float, bytes, None, ...)


@dataclass(frozen=True)
class TableFact:
    """What the catalogue says about a table, without touching its rows."""

    name: str
    exists: bool
    estimated_rows: int | None = None
    size_bytes: int | None = None
    columns: tuple[str, ...] = ()
    indexed: tuple[str, ...] = ()  # columns that lead an index (a range on them reads no more rows than it returns)
    primary_key: tuple[str, ...] = ()  # in key order; () when the table has none


class CatalogueEntry:
    """One table's rows of a backend's catalogue statement, gathered while they are read;
    `fact` turns it into the TableFact both backends return."""

    def __init__(self, rows: object, size: object) -> None:
        self.rows = None if rows is None else int(str(rows))
        self.size = None if size is None else int(str(size))
        self.columns: list[str] = []
        self.indexed: list[str] = []
        self.pk: dict[int, str] = {}  # position in the primary key -> column

    def fact(self, name: str) -> TableFact:
        return TableFact(name, True, self.rows, self.size, tuple(self.columns), tuple(dict.fromkeys(self.indexed)),
                         tuple(self.pk[k] for k in sorted(self.pk)))


class Database(ABC):
    """A connection to the target database. `queries` counts statements sent so tests
    and benchmarks can prove that a refresh stays cheap.

    This is the whole surface the engine, its steps and the probes may rely on for every
    backend. What only a server has stays on `MysqlDatabase` and is reached after an
    `isinstance` check: the connection `settings` (the dump tools' option file) and the
    server lock's `lock_owned` / `get_lock(..., session_wait_timeout_s=)` (engine/lock.py)."""

    target: Target
    dialect: str  # "sqlite" | "mariadb" | "mysql"
    server_version: str

    def __init__(self, target: Target) -> None:
        self.target = target
        self.dialect = ""
        self.server_version = ""
        self.queries = 0

    @property
    def server_label(self) -> str:
        """e.g. "MariaDB 10.11.6" — shown in the connection bar."""
        names = {"sqlite": "SQLite", "mariadb": "MariaDB", "mysql": "MySQL"}
        version = self.server_version.split("-")[0]
        return f"{names.get(self.dialect, self.dialect)} {version}".strip()

    @property
    def connected(self) -> bool:
        return bool(self.dialect)

    async def __aenter__(self) -> Database:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @abstractmethod
    async def connect(self) -> None:
        """Open the connection(s); raises DatabaseUnavailable."""

    @abstractmethod
    async def close(self) -> None:
        """Release everything, including a held session lock. Never raises."""

    @abstractmethod
    async def fetch_all(self, sql: str | Sql, params: Params = ()) -> list[Row]:
        """Run one statement and return its rows."""

    @abstractmethod
    async def execute(self, sql: str | Sql, params: Params = ()) -> int:
        """Run one statement in autocommit and return the affected row count."""

    async def fetch_value(self, sql: str | Sql, params: Params = ()) -> Any:
        """The first column of the first row, or None."""
        rows = await self.fetch_all(sql, params)
        return rows[0][0] if rows else None

    @abstractmethod
    async def table_facts(self, tables: Iterable[str]) -> dict[str, TableFact]:
        """Existence, estimated rows, size and columns of `tables`, in ONE statement."""

    @abstractmethod
    async def fetch_all_bounded(self, sql: str | Sql, params: Params = (), timeout_ms: int | None = None) -> list[Row]:
        """A SELECT the server abandons after `timeout_ms` (StatementTimeout): anything the
        cockpit reads from a production table on its own initiative is bounded."""

    async def exact_count(self, table: str, timeout_ms: int | None = None) -> int:
        """COUNT(*) bounded by a time limit; raises StatementTimeout when it is hit."""
        ms = self._timeout_ms(timeout_ms)
        try:
            rows = await self.fetch_all(count_rows(table, ms))  # the entry carries its own bound
        except StatementTimeout:
            raise StatementTimeout(f"COUNT(*) of {table} hit its {ms} ms limit") from None
        return int(rows[0][0])

    @abstractmethod
    async def ddl(self, sql: str | Sql) -> None:
        """Run DROP/ALTER without stalling behind a metadata lock (LockWaitTimeout)."""

    @abstractmethod
    async def table_checksum(self, table: str) -> str:
        """A content hash of every row of `table` (MariaDB: CHECKSUM TABLE ... EXTENDED;
        SQLite: sha256 over the rows in a stable order). Used on quarantined tables only,
        which no writer can reach, so the full read stalls nobody."""

    @abstractmethod
    async def run_script(self, statements: Sequence[Sql | tuple[str, Params]],
                         check: Callable[[int, list[Row]], None] | None = None) -> list[list[Row]]:
        """Run statements in order on ONE session (MySQL: one pooled connection, so
        LOCK TABLES ... UNLOCK TABLES bracket them; SQLite: one IMMEDIATE transaction,
        rolled back when a statement fails). `check(index, rows)` sees each statement's
        rows and may raise to stop before the next one. Returns each statement's rows."""

    @abstractmethod
    async def primary_key(self, table: str) -> tuple[str, ...]:
        """The primary key's columns (SQLite without one: ("rowid",)); () when none."""

    @abstractmethod
    async def column_definition(self, table: str, column: str) -> str | None:
        """The column's type as ADD COLUMN needs it (e.g. "int(11) NULL"), None if absent."""

    @abstractmethod
    async def get_lock(self, name: str, timeout_s: float = 0) -> bool:
        """Take a named session lock (one operator per plan)."""

    @abstractmethod
    async def release_lock(self, name: str) -> None:
        """Release a lock taken with get_lock."""

    # -- helpers shared by the backends --------------------------------------------
    @staticmethod
    def _table_names(tables: Iterable[str]) -> list[str]:
        """Distinct names in order, each checked as a plain identifier before any SQL
        mentions it (the catalogue queries bind them, but a bad name is a plan bug)."""
        names = list(dict.fromkeys(tables))
        for name in names:
            quote_ident(name)
        return names

    def _timeout_ms(self, timeout_ms: int | None) -> int:
        value = self.target.statement_timeout_ms if timeout_ms is None else timeout_ms
        return max(1, int(value))
