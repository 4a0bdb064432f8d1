"""Every statement the cockpit sends to a database, by name, in one place.

In the spirit of Dolphie's `Modules/Queries.py`: a DBA who sees a statement of ours in
SHOW PROCESSLIST or the slow log finds it here by the name in its tag
(`/* rollback-cockpit:flag_read */ ...`), with what bounds it in time and why it is
shaped the way it is. Nothing outside this module spells SQL (tests/test_queries.py
scans the package for it), so the shape of the cockpit's load on production is this
file.

A `Query` is a frozen entry: a unique name, a template, how the server bounds it
(`Bound`) and the dialect it is written in. Templates hold identifiers as `{fields}`,
filled ONLY through `quote_ident` (or a `Fragment` built in this module from quoted
identifiers and `?` marks), and values always as `?` parameters. `Query.bind(...)`
gives an `Sql`: the text the operator reads in a dry-run and the parameters, the very
object the database backend runs (it adds the tag and applies the bound).

The SQLite sandbox's statements sit next to the MariaDB ones (`SQLITE_*`, dialect
"sqlite") so the two versions of a statement read side by side; the journal's own
SQLite (cockpit/journal.py) is not production SQL and stays there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from string import Formatter
from typing import Any, Literal

from .sql import TAG, quote_ident

Param = str | int | float | bytes | None
Row = tuple[Any, ...]  # DB-API rows: each value's type is the column's, known only at run time
Dialect = Literal["server", "sqlite", "any"]  # "server": MariaDB and MySQL

LONG_MS = 600_000  # counts and checksums of quarantined tables: no writer waits on them
ACTIVITY_CAP = 100  # activity counts stop here: "is anyone writing?" needs no exact number
RECENCY_ROWS = 1000  # an unindexed activity column is judged on the newest rows by primary key only
AMBIGUOUS_MARK = "(ambiguous)"  # the flag read yields this when the key matches more than one row
NULL_MARK = "(null)"  # ... and this for a NULL value, distinct from a missing row (SQL NULL)


class Bound(Enum):
    """How the server keeps a statement from running (or waiting) for long."""

    STATEMENT = "statement"
    """The server abandons it past a time limit: MariaDB `SET STATEMENT
    max_statement_time=S FOR ...`, MySQL `SELECT /*+ MAX_EXECUTION_TIME(ms) */` (SELECT
    only), SQLite a progress handler. The limit is the plan's statement_timeout_ms, the
    entry's `floor_ms` if larger, or what the caller passes."""
    LOCK_WAIT = "lock_wait"
    """DDL and LOCK TABLES: the session's lock_wait_timeout (the plan's
    lock_wait_timeout_s) is set around it, so it gives up rather than queue production
    behind a metadata lock; once it holds the lock its work is not cut short (an ALTER
    aborted half-way helps nobody). SQLite: busy_timeout."""
    LOCK_FUNCTION = "lock_function"
    """GET_LOCK(name, timeout): the function's own timeout argument."""
    INSTANT = "instant"
    """Sets a session variable, releases table locks or ends a transaction: touches no
    table and cannot wait on anyone (the client's wait still bounds the round trip)."""
    NONE = "none"
    """Text handed over by a test or the sandbox builder (`adhoc`): no named entry has it."""
    LOCAL = "local"
    """Sandbox only: a statement on a local SQLite file the cockpit just wrote (a dump
    being checked, a scratch copy), never on a database anyone else uses."""


@dataclass(frozen=True)
class Fragment:
    """A piece of SQL built in this module from quoted identifiers, `?` marks and fixed
    keywords; the only non-identifier text a template field accepts."""

    text: str
    params: tuple[Param, ...] = ()


@dataclass(frozen=True)
class Query:
    """One named statement. `verbatim`: the text comes whole from the plan (a check's
    own query), sent as written but still tagged and bounded."""

    name: str
    template: str
    bound: Bound
    dialect: Dialect = "server"
    floor_ms: int = 0
    doc: str = ""
    verbatim: bool = False

    @property
    def tag(self) -> str:
        return f"/* rollback-cockpit:{self.name} */"

    def bind(self, *params: Param, timeout_ms: int | None = None, **fields: str | Fragment) -> Sql:
        """The statement with its identifiers filled (a `str` field is quoted as an
        identifier, a Fragment is used as built) and its parameters in text order: one
        of `params` per `?` of the template, a fragment's own where the fragment stands
        (each time it stands there). A count that does not match is refused."""
        if self.verbatim:
            raise ValueError(f"{self.name} takes its text from the plan: use verbatim_sql()")
        filled = {key: value.text if isinstance(value, Fragment) else quote_ident(value) for key, value in fields.items()}
        given = list(params)
        ordered: list[Param] = []
        for literal, key, _, _ in Formatter().parse(self.template):
            count = literal.count("?")
            if count > len(given):
                raise ValueError(f"{self.name}: more ? marks than parameters")
            ordered += given[:count]
            del given[:count]
            value = fields.get(key) if key else None
            if isinstance(value, Fragment):
                ordered += value.params
        if given:
            raise ValueError(f"{self.name}: {len(given)} parameter(s) more than ? marks")
        return Sql(self, self.template.format(**filled), tuple(ordered), timeout_ms)

    def verbatim_sql(self, text: str, timeout_ms: int | None = None) -> Sql:
        if not self.verbatim:
            raise ValueError(f"{self.name} is not a verbatim entry")
        return Sql(self, text.strip(), (), timeout_ms)


@dataclass(frozen=True)
class Sql:
    """A bound statement: what a dry-run shows (`text`, `render()`) is what runs."""

    query: Query
    text: str
    params: tuple[Param, ...] = ()
    timeout_ms: int | None = None  # overrides the entry's limit (Bound.STATEMENT only)

    @property
    def name(self) -> str:
        return self.query.name

    @property
    def bound(self) -> Bound:
        return self.query.bound

    @property
    def tagged(self) -> str:
        """The text sent: the entry's tag first, so it leads the PROCESSLIST's INFO."""
        return f"{self.query.tag} {self.text}"

    def limit_ms(self, statement_timeout_ms: int) -> int:
        """The server-side time limit for a Bound.STATEMENT entry."""
        if self.timeout_ms is not None:
            return max(1, int(self.timeout_ms))
        return max(1, int(statement_timeout_ms), self.query.floor_ms)

    def render(self) -> str:
        """e.g. UPDATE `feature_flag` SET `enabled` = ? WHERE `flag_key` = ?  -- params ('0', 'enable_x')"""
        if not self.params:
            return self.text
        return f"{self.text}  -- params ({', '.join(repr(p) for p in self.params)})"


def bounded_text(dialect: str, sql: Sql, statement_timeout_ms: int) -> str:
    """The text a MariaDB/MySQL server receives for `sql`, tag first: a Bound.STATEMENT
    entry wrapped in the server's own time limit (the existing mechanism, now applied by
    entry rather than by call site)."""
    if sql.bound is not Bound.STATEMENT:
        return sql.tagged
    if dialect not in ("mariadb", "mysql"):
        return sql.tagged  # before the server is known (its version is the first question)
    ms = sql.limit_ms(statement_timeout_ms)
    if dialect == "mariadb":
        return f"{sql.query.tag} SET STATEMENT max_statement_time={ms / 1000:.3f} FOR {sql.text}"
    if re.match(r"\s*SELECT\b", sql.text, re.I):
        return f"{sql.query.tag} " + re.sub(r"^\s*SELECT\b", f"SELECT /*+ MAX_EXECUTION_TIME({ms}) */", sql.text, count=1, flags=re.I)
    return sql.tagged  # MySQL bounds only SELECTs server-side; the client's wait bounds the rest


# -- fragments ----------------------------------------------------------------------------
def marks(count: int) -> Fragment:
    """`?, ?, ?` for an IN list."""
    return Fragment(", ".join("?" for _ in range(count)))


def idents(names: Iterable[str]) -> Fragment:
    """`a`, `b`: a column list."""
    return Fragment(", ".join(quote_ident(n) for n in names))


def qualified(schema: str, table: str) -> Fragment:
    """`schema`.`table`"""
    return Fragment(f"{quote_ident(schema)}.{quote_ident(table)}")


def same_keys(keys: Sequence[str], left: str, right: str, first: int = 0) -> Fragment:
    """`l`.`k1` = `r`.`k1` AND ... over keys[first:] (`left`/`right` are aliases or tables)."""
    a, b = quote_ident(left), quote_ident(right)
    return Fragment(" AND ".join(f"{a}.{quote_ident(k)} = {b}.{quote_ident(k)}" for k in keys[first:]))


_COLUMN_TYPE = re.compile(r"[A-Za-z0-9_(), ']+")


def column_type(definition: str) -> Fragment:
    """A column's type as ADD COLUMN needs it ("int(11) NULL"), as the catalogue reported
    it: only letters, digits and `_(), '` pass, nothing that could end the statement."""
    if not _COLUMN_TYPE.fullmatch(definition):
        raise ValueError(f"a column type the cockpit will not splice into SQL: {definition!r}")
    return Fragment(definition)


def join_parts(parts: Sequence[Fragment]) -> Fragment:
    """Scalar expressions side by side in one SELECT, their parameters in order."""
    return Fragment(", ".join(p.text for p in parts), tuple(v for p in parts for v in p.params))


# ========================================================================================
# Connection and catalogue
# ========================================================================================
SERVER_VERSION = Query("server_version", "SELECT VERSION()", Bound.INSTANT,
                       doc="once per connection: MariaDB or MySQL, shown in the connection bar")

# One statement, three lookups glued with UNION ALL. Not a JOIN of TABLES and COLUMNS:
# MariaDB then walks COLUMNS for every table of the schema (measured: 26 ms and 4,087
# rows for 17 tables in a 200-table schema, against 1 ms and 28 rows this way). One row
# per column, no GROUP_CONCAT, so MySQL's 1 KiB group_concat_max_len can never truncate
# a column list. The third part: index leaders and primary-key columns (activity checks
# must never scan).
TABLE_FACTS = Query(
    "table_facts",
    "SELECT t.TABLE_NAME, t.TABLE_ROWS, COALESCE(t.DATA_LENGTH, 0) + COALESCE(t.INDEX_LENGTH, 0), NULL, 0 "
    "FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_NAME IN ({names}) "
    "UNION ALL "
    "SELECT c.TABLE_NAME, NULL, NULL, c.COLUMN_NAME, c.ORDINAL_POSITION "
    "FROM information_schema.COLUMNS c WHERE c.TABLE_SCHEMA = DATABASE() AND c.TABLE_NAME IN ({names}) "
    "UNION ALL "
    "SELECT s.TABLE_NAME, NULL, s.INDEX_NAME = 'PRIMARY', s.COLUMN_NAME, 100000 + s.SEQ_IN_INDEX "
    "FROM information_schema.STATISTICS s WHERE s.TABLE_SCHEMA = DATABASE() AND s.TABLE_NAME IN ({names}) "
    "AND (s.SEQ_IN_INDEX = 1 OR s.INDEX_NAME = 'PRIMARY') "
    "ORDER BY 1, 5",
    Bound.STATEMENT,
    doc="the refresh's first statement: existence, row estimate, size, columns, index leaders, primary key",
)


def table_facts(names: Sequence[str]) -> Sql:
    for name in names:
        quote_ident(name)  # a bad name is a plan bug: refuse it before any SQL mentions it
    return TABLE_FACTS.bind(names=Fragment(marks(len(names)).text, tuple(names)))


PRIMARY_KEY = Query(
    "primary_key",
    "SELECT COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? "
    "AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX",
    Bound.STATEMENT, doc="the key a dropped column is copied out by")
COLUMN_DEFINITION = Query(
    "column_definition",
    "SELECT COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
    "AND TABLE_NAME = ? AND COLUMN_NAME = ?",
    Bound.STATEMENT, doc="recorded at the quarantine so `restore` can add the column back as it was")
BASE_TABLES = Query(
    "base_tables",
    "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
    Bound.STATEMENT, doc="the full dump: every table it must hold")
SCHEMA_EXISTS = Query(
    "schema_exists", "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", Bound.STATEMENT,
    doc="the backup's scratch schema, left by a killed run?")

# ========================================================================================
# Rows: existence, counts, checksums
# ========================================================================================
HAS_ROWS = Query("has_rows", "SELECT EXISTS(SELECT 1 FROM {table} LIMIT 1)", Bound.STATEMENT, "any",
                 doc="the full dump: does this table hold rows (then its INSERTs must be in the dump)")
COUNT_ROWS = Query("count_rows", "SELECT COUNT(*) FROM {table}", Bound.STATEMENT, "any",
                   doc="exact rows: on request (the board's `e`), or of quarantined tables (with a longer limit)")
TABLE_CHECKSUM = Query("table_checksum", "CHECKSUM TABLE {table} EXTENDED", Bound.STATEMENT, floor_ms=LONG_MS,
                       doc="a quarantined table's content, which no writer can reach: the full read stalls nobody")
SCRATCH_COUNT_ROWS = Query("scratch_count_rows", "SELECT COUNT(*) FROM {table}", Bound.STATEMENT, floor_ms=LONG_MS,
                           doc="the backup's restored copy in the scratch schema (table: schema.table)")
SCRATCH_CHECKSUM = Query("scratch_checksum", "CHECKSUM TABLE {table} EXTENDED", Bound.STATEMENT, floor_ms=LONG_MS,
                         doc="the backup's restored copy in the scratch schema")


def count_rows(table: str, timeout_ms: int | None = None) -> Sql:
    return COUNT_ROWS.bind(table=table, timeout_ms=timeout_ms)


# ========================================================================================
# The refresh: one SELECT of scalar subqueries, whatever the plan's size
# ========================================================================================
REFRESH = Query("refresh", "SELECT {parts}", Bound.STATEMENT, "any",
                doc="the refresh's second statement: EXISTS per table, the flag values, capped activity counts")


def has_rows_part(table: str) -> Fragment:
    return Fragment(f"EXISTS(SELECT 1 FROM {quote_ident(table)} LIMIT 1)")


def flag_value_part(table: str, key_column: str, value_column: str, key: str) -> Fragment:
    """A scalar subquery giving a flag's value as text, matched by the database under the
    key column's collation (as the application's own lookup): NULL when no row matches,
    AMBIGUOUS_MARK when more than one does, NULL_MARK when the value itself is NULL. The
    refresh embeds one per flag; the flag read uses the same expression, so the watch and
    the guards can never match differently."""
    t, k, v = quote_ident(table), quote_ident(key_column), quote_ident(value_column)
    return Fragment(f"(SELECT CASE WHEN COUNT(*) > 1 THEN '{AMBIGUOUS_MARK}' "
                    f"ELSE MAX(COALESCE(CAST({v} AS CHAR), '{NULL_MARK}')) END FROM {t} WHERE {k} = ?)", (key,))


def _cutoff(dialect: str, minutes: int) -> Fragment:
    """The window's start by the server's own clock (the time zone the application
    writes with NOW()), the minutes as a parameter."""
    if dialect == "sqlite":
        return Fragment("datetime('now', ?)", (f"-{int(minutes)} minutes",))
    return Fragment("NOW() - INTERVAL ? MINUTE", (int(minutes),))


def activity_part(dialect: str, table: str, column: str, indexed: bool, newest_key: str | None,
                  minutes: int) -> Fragment | None:
    """THE activity query (the refresh, the watch and the `check` step all use this one):
    rows written inside the window, capped, and never depending on the table's size. On
    an indexed column a range that stops at ACTIVITY_CAP rows; on an unindexed one the
    newest RECENCY_ROWS rows by `newest_key` (the primary key's first column, read
    backwards: recent writes of an auto-increment table are there); with neither, None:
    it is not run at all (the caller says why and how to fix it)."""
    t, c = quote_ident(table), quote_ident(column)
    cutoff = _cutoff(dialect, minutes)
    if indexed:
        return Fragment(f"(SELECT COUNT(*) FROM (SELECT 1 FROM {t} WHERE {c} >= {cutoff.text} LIMIT {ACTIVITY_CAP}) recent)",
                        cutoff.params)
    if not newest_key:
        return None
    return Fragment(f"(SELECT COUNT(*) FROM (SELECT {c} AS c FROM {t} ORDER BY {quote_ident(newest_key)} DESC "
                    f"LIMIT {RECENCY_ROWS}) newest WHERE c >= {cutoff.text})", cutoff.params)


def refresh(parts: Sequence[Fragment], timeout_ms: int | None = None) -> Sql:
    return REFRESH.bind(parts=join_parts(parts), timeout_ms=timeout_ms)


CHECK_ACTIVITY = Query("check_activity", "SELECT {activity}", Bound.STATEMENT, "any",
                       doc="a `check` step's activity check: the refresh's activity part on its own")
PLAN_CHECK = Query("plan_check", "", Bound.STATEMENT, "any", verbatim=True,
                   doc="a `check` step's own query, as the plan wrote it")


def create_index_advice(table: str, column: str) -> str:
    """The fix for an unindexed activity column, as the operator would type it. Shown,
    never sent."""
    name = f"ix_{table}_{column}"[:64]
    return f"CREATE INDEX {quote_ident(name)} ON {quote_ident(table)} ({quote_ident(column)})"


# ========================================================================================
# Feature flags
# ========================================================================================
FLAG_READ = Query("flag_read", "SELECT {values}", Bound.STATEMENT, "any",
                  doc="every requested flag in one statement (the guards, the flag steps' read-back)")
FLAG_MATCHES = Query("flag_matches", "SELECT ?, {key} FROM {table} WHERE {key} = ?", Bound.STATEMENT, "any",
                     doc="`cockpit check`: the stored keys matching each flag (one SELECT per key, UNION ALL)")
FLAG_UPDATE = Query("flag_update", "UPDATE {table} SET {value} = ? WHERE {key} = ?", Bound.STATEMENT, "any",
                    doc="flags-off / flags-on: one flag, in the column's own vocabulary")


def flag_read(table: str, key_column: str, value_column: str, keys: Sequence[str]) -> Sql:
    return FLAG_READ.bind(values=join_parts([flag_value_part(table, key_column, value_column, k) for k in keys]))


def flag_matches(table: str, key_column: str, keys: Sequence[str]) -> Sql:
    parts = [FLAG_MATCHES.bind(i, k, table=table, key=key_column) for i, k in enumerate(keys)]
    return Sql(FLAG_MATCHES, " UNION ALL ".join(p.text for p in parts), tuple(v for p in parts for v in p.params))


def flag_update(table: str, key_column: str, value_column: str, value: str, key: str) -> Sql:
    return FLAG_UPDATE.bind(value, key, table=table, value=value_column, key=key_column)


# ========================================================================================
# The operator lock (engine/lock.py) and who holds things
# ========================================================================================
GET_LOCK = Query("get_lock", "SELECT GET_LOCK(?, ?)", Bound.LOCK_FUNCTION,
                 doc="one operator per target: a named lock on the cockpit's own session")
LOCK_OWNED = Query("lock_owned", "SELECT IS_USED_LOCK(?) = CONNECTION_ID()", Bound.STATEMENT,
                   doc="the heartbeat: does this session still own the lock")
RELEASE_LOCK = Query("release_lock", "SELECT RELEASE_LOCK(?)", Bound.STATEMENT)
LOCK_HOLDER = Query("lock_holder", "SELECT p.USER, p.HOST FROM information_schema.PROCESSLIST p WHERE p.ID = IS_USED_LOCK(?)",
                    Bound.STATEMENT, doc="names the other cockpit holding the operator lock")
SET_WAIT_TIMEOUT = Query("set_wait_timeout", "SET SESSION wait_timeout = ?", Bound.INSTANT,
                         doc="the lock session's idle limit, kept alive by the heartbeat")

# Who blocks a DDL, from the best source this server offers (each may be missing: a
# plugin not loaded, performance_schema off, no PROCESS privilege).
MDL_HOLDERS_PLUGIN = Query(
    "mdl_holders_plugin",
    "SELECT p.ID, p.USER, p.HOST, p.TIME, p.COMMAND, LEFT(COALESCE(p.INFO, ''), 80) "
    "FROM information_schema.METADATA_LOCK_INFO l JOIN information_schema.PROCESSLIST p ON p.ID = l.THREAD_ID "
    "WHERE l.TABLE_SCHEMA = DATABASE() AND l.TABLE_NAME = ? AND l.THREAD_ID <> CONNECTION_ID()",
    Bound.STATEMENT)
MDL_HOLDERS_PERFSCHEMA = Query(
    "mdl_holders_perfschema",
    "SELECT t.PROCESSLIST_ID, t.PROCESSLIST_USER, t.PROCESSLIST_HOST, t.PROCESSLIST_TIME, t.PROCESSLIST_COMMAND, "
    "LEFT(COALESCE(t.PROCESSLIST_INFO, ''), 80) FROM performance_schema.metadata_locks m "
    "JOIN performance_schema.threads t ON t.THREAD_ID = m.OWNER_THREAD_ID "
    "WHERE m.OBJECT_SCHEMA = DATABASE() AND m.OBJECT_NAME = ? AND m.LOCK_STATUS = 'GRANTED' "
    "AND t.PROCESSLIST_ID <> CONNECTION_ID()",
    Bound.STATEMENT)
OPEN_TRANSACTIONS = Query(
    "open_transactions",
    "SELECT p.ID, p.USER, p.HOST, p.TIME, p.COMMAND, LEFT(COALESCE(p.INFO, t.trx_query, ''), 80) "
    "FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id "
    "WHERE p.ID <> CONNECTION_ID() AND p.DB = DATABASE()",
    Bound.STATEMENT)

# ========================================================================================
# Sessions that hold locks: DDL and scripts
# ========================================================================================
SET_LOCK_WAIT = Query("set_lock_wait", "SET SESSION lock_wait_timeout = ?", Bound.INSTANT,
                      doc="before DDL or a LOCK TABLES script: give up rather than queue production")
RESET_LOCK_WAIT = Query("reset_lock_wait", "SET SESSION lock_wait_timeout = DEFAULT", Bound.INSTANT,
                        doc="the pooled session back to the server's default")
UNLOCK_TABLES = Query("unlock_tables", "UNLOCK TABLES", Bound.INSTANT)

# the quarantine and its undo
RENAME_TABLES = Query("rename_tables", "RENAME TABLE {pairs}", Bound.LOCK_WAIT,
                      doc="quarantine / restore: every table at once, atomically")
DROP_TABLE = Query("drop_table", "DROP TABLE {table}", Bound.LOCK_WAIT, "any",
                   doc="the final drop of a quarantined table, or a copied column's copy after its restore")
DROP_TABLE_IF_EXISTS = Query("drop_table_if_exists", "DROP TABLE IF EXISTS {table}", Bound.LOCK_WAIT, "any",
                             doc="a column copy that failed its verification")
COPY_TABLE_CREATE = Query("copy_table_create", "CREATE TABLE {copy} AS SELECT {keys}, {column} FROM {table} WHERE 1 = 0",
                          Bound.LOCK_WAIT, doc="the empty copy of a dropped column (CREATE ... SELECT may not run under LOCK TABLES)")
COPY_LOCK = Query("copy_lock", "LOCK TABLES {table} WRITE, {table} AS s WRITE, {copy} WRITE, {copy} AS q WRITE", Bound.LOCK_WAIT)
COPY_INSERT = Query("copy_insert", "INSERT INTO {copy} SELECT {keys}, {column} FROM {table}", Bound.STATEMENT, floor_ms=LONG_MS)
COPY_VERIFY = Query(
    "copy_verify",
    "SELECT (SELECT COUNT(*) FROM {table}) - (SELECT COUNT(*) FROM {copy}), "
    "(SELECT COUNT(*) FROM {table} AS s LEFT JOIN {copy} AS q ON {on} WHERE NOT (q.{column} <=> s.{column}))",
    Bound.STATEMENT, floor_ms=LONG_MS, doc="must be 0, 0: every row copied with its value")
DROP_COLUMN = Query("drop_column", "ALTER TABLE {table} DROP COLUMN {column}", Bound.LOCK_WAIT, "any")
ADD_COLUMN = Query("add_column", "ALTER TABLE {table} ADD COLUMN {column} {definition}", Bound.LOCK_WAIT, "any")
RESTORE_LOCK = Query("restore_lock", "LOCK TABLES {table} WRITE, {table} AS s WRITE, {copy} AS q READ", Bound.LOCK_WAIT)
RESTORE_UPDATE = Query("restore_update", "UPDATE {table} AS s JOIN {copy} AS q ON {on} SET s.{column} = q.{column}",
                       Bound.STATEMENT, floor_ms=LONG_MS)

# the backup's verification by restore, in a scratch schema beside production
DROP_SCHEMA = Query("drop_schema", "DROP DATABASE {schema}", Bound.LOCK_WAIT)
CREATE_SCHEMA = Query("create_schema", "CREATE DATABASE {schema}", Bound.LOCK_WAIT)

# ========================================================================================
# The SQLite sandbox: the same statements in its dialect
# ========================================================================================
SQLITE_OPEN_WAL = Query("sqlite_open_wal", "PRAGMA journal_mode=WAL", Bound.INSTANT, "sqlite")
SQLITE_BUSY_TIMEOUT = Query("sqlite_busy_timeout", "PRAGMA busy_timeout=5000", Bound.INSTANT, "sqlite",
                            doc="the sandbox's lock wait: what lock_wait_timeout is on MariaDB")
SQLITE_TABLE_NAMES = Query("sqlite_table_names", "SELECT name FROM sqlite_master WHERE type='table'", Bound.STATEMENT, "sqlite")
SQLITE_HAS_DBSTAT = Query("sqlite_has_dbstat", "SELECT 1 FROM dbstat LIMIT 0", Bound.STATEMENT, "sqlite")
SQLITE_TABLE_FACTS = Query(
    "sqlite_table_facts",
    "SELECT m.name, {estimate}, {size}, p.name, p.pk, "
    "EXISTS(SELECT 1 FROM pragma_index_list(m.name) il, pragma_index_info(il.name) ii WHERE ii.seqno = 0 AND ii.name = p.name) "
    "FROM sqlite_master m LEFT JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name IN ({names}) "
    "ORDER BY m.name, p.cid",
    Bound.STATEMENT, "sqlite",
    doc="rowcount estimate from ANALYZE, size from dbstat when compiled in: catalogue reads only, no scan")


def sqlite_table_facts(names: Sequence[str], has_stat1: bool, has_dbstat: bool) -> Sql:
    for name in names:
        quote_ident(name)
    estimate = Fragment("(SELECT CAST(s.stat AS INTEGER) FROM sqlite_stat1 s WHERE s.tbl = m.name LIMIT 1)"
                        if has_stat1 else "NULL")
    size = Fragment("(SELECT SUM(d.pgsize) FROM dbstat d WHERE d.name = m.name)" if has_dbstat else "NULL")
    return SQLITE_TABLE_FACTS.bind(estimate=estimate, size=size, names=Fragment(marks(len(names)).text, tuple(names)))


SQLITE_PRIMARY_KEY = Query("sqlite_primary_key", "SELECT name, pk FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk",
                           Bound.STATEMENT, "sqlite")
SQLITE_TABLE_EXISTS = Query("sqlite_table_exists", "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                            Bound.STATEMENT, "sqlite")
SQLITE_COLUMN_TYPE = Query("sqlite_column_type", "SELECT type FROM pragma_table_info(?) WHERE name = ?", Bound.STATEMENT, "sqlite")
SQLITE_BEGIN = Query("sqlite_begin", "BEGIN IMMEDIATE", Bound.LOCK_WAIT, "sqlite",
                     doc="a script's one transaction: the database-wide write lock, waited for up to busy_timeout")
SQLITE_COMMIT = Query("sqlite_commit", "COMMIT", Bound.INSTANT, "sqlite")
SQLITE_ROLLBACK = Query("sqlite_rollback", "ROLLBACK", Bound.INSTANT, "sqlite")
SQLITE_RENAME_TABLE = Query("sqlite_rename_table", "ALTER TABLE {table} RENAME TO {to}", Bound.LOCK_WAIT, "sqlite")
SQLITE_COPY_CREATE = Query("sqlite_copy_create", "CREATE TABLE {copy} AS SELECT {keys}, {column} FROM {table}",
                           Bound.LOCK_WAIT, "sqlite")
SQLITE_COPY_VERIFY = Query(
    "sqlite_copy_verify",
    "SELECT (SELECT COUNT(*) FROM {table}) - (SELECT COUNT(*) FROM {copy}), "
    "(SELECT COUNT(*) FROM {table} s LEFT JOIN {copy} q ON {on} WHERE q.{column} IS NOT s.{column})",
    Bound.STATEMENT, "sqlite", floor_ms=LONG_MS, doc="must be 0, 0: every row copied with its value")
SQLITE_RESTORE_UPDATE = Query("sqlite_restore_update", "UPDATE {table} SET {column} = (SELECT q.{column} FROM {copy} q WHERE {on})",
                              Bound.STATEMENT, "sqlite", floor_ms=LONG_MS)
SQLITE_ROWS_SHAPE = Query("sqlite_rows_shape", "SELECT * FROM {table} LIMIT 0", Bound.LOCAL, "sqlite",
                          doc="the sandbox checksum: how many columns to order by")
SQLITE_ROWS_ORDERED = Query("sqlite_rows_ordered", "SELECT * FROM {table} ORDER BY {order}", Bound.LOCAL, "sqlite",
                            doc="the sandbox checksum: every row, in an order independent of rowids")
SQLITE_SCHEMA_OF = Query("sqlite_schema_of", "SELECT sql FROM sqlite_master WHERE tbl_name IN ({names}) AND sql IS NOT NULL",
                         Bound.LOCAL, "sqlite", doc="the sandbox dump: the tables' CREATE statements and indexes")
SQLITE_LOCAL_COUNT = Query("sqlite_local_count", "SELECT COUNT(*) FROM {table}", Bound.LOCAL, "sqlite",
                           doc="the sandbox backup's restored scratch copy")
SQLITE_JOURNAL_DELETE = Query("sqlite_journal_delete", "PRAGMA journal_mode=DELETE", Bound.LOCAL, "sqlite",
                              doc="the full sandbox copy: one self-contained file")
SQLITE_INTEGRITY_CHECK = Query("sqlite_integrity_check", "PRAGMA integrity_check", Bound.LOCAL, "sqlite")
SQLITE_USER_TABLES = Query("sqlite_user_tables",
                           "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
                           Bound.LOCAL, "sqlite")


# the sandbox dump's framing (sqlite3's iterdump lines, filtered to the tables)
SQLITE_DUMP_BEGIN = "BEGIN TRANSACTION;"
SQLITE_DUMP_COMMIT = "COMMIT;"


def sqlite_dump_insert_prefix(table: str) -> str:
    """How iterdump starts a row of `table` (it double-quotes the name)."""
    quote_ident(table)
    return f'INSERT INTO "{table}" '


def is_drop_table(text: str) -> bool:
    """Whether a journalled statement is a DROP TABLE (a final drop's, begun or done)."""
    return text.startswith("DROP TABLE")


def sqlite_rows_ordered(table: str, width: int) -> Sql:
    return SQLITE_ROWS_ORDERED.bind(table=table, order=Fragment(", ".join(str(i) for i in range(1, int(width) + 1))))


# ========================================================================================
# Scripts: several statements, one per dialect
# ========================================================================================
def rename_tables(dialect: str, pairs: Sequence[tuple[str, str]]) -> tuple[Sql, ...]:
    """All pairs renamed at once: MariaDB/MySQL one RENAME TABLE (atomic, waits for the
    writers' metadata locks up to lock_wait_timeout); SQLite one statement per pair (the
    caller runs them in one transaction)."""
    if dialect == "sqlite":
        return tuple(SQLITE_RENAME_TABLE.bind(table=a, to=b) for a, b in pairs)
    text = ", ".join(f"{quote_ident(a)} TO {quote_ident(b)}" for a, b in pairs)
    return (RENAME_TABLES.bind(pairs=Fragment(text)),)


def column_copy(dialect: str, table: str, column: str, pk: Sequence[str], copy: str) -> tuple[Sql, ...]:
    """Copy a column out by primary key, verify it row by row, drop it from production
    (MariaDB: under LOCK TABLES ... WRITE on both tables, the copy created empty
    beforehand by COPY_TABLE_CREATE; SQLite: one IMMEDIATE transaction)."""
    keys = idents(pk)
    on_s = Fragment(f"s.{quote_ident(pk[0])} = q.{quote_ident(pk[0])}"
                    + "".join(f" AND s.{quote_ident(k)} = q.{quote_ident(k)}" for k in pk[1:]))
    if dialect == "sqlite":
        return (
            SQLITE_COPY_CREATE.bind(copy=copy, keys=keys, column=column, table=table),
            SQLITE_COPY_VERIFY.bind(table=table, copy=copy, on=on_s, column=column),
            DROP_COLUMN.bind(table=table, column=column),
        )
    return (
        COPY_LOCK.bind(table=table, copy=copy),
        COPY_INSERT.bind(copy=copy, keys=keys, column=column, table=table),
        COPY_VERIFY.bind(table=table, copy=copy, on=on_s, column=column),
        DROP_COLUMN.bind(table=table, column=column),
        UNLOCK_TABLES.bind(),
    )


def column_restore(dialect: str, table: str, column: str, definition: str, pk: Sequence[str], copy: str) -> tuple[Sql, ...]:
    """Put a copied-out column back: ADD COLUMN with the recorded definition, values from
    the copy by primary key, then the copy goes."""
    add = ADD_COLUMN.bind(table=table, column=column, definition=column_type(definition))
    if dialect == "sqlite":
        t = quote_ident(table)
        on = Fragment(" AND ".join(f"q.{quote_ident(k)} = {t}.{quote_ident(k)}" for k in pk))
        return (add, SQLITE_RESTORE_UPDATE.bind(table=table, column=column, copy=copy, on=on), DROP_TABLE.bind(table=copy))
    on_s = Fragment(" AND ".join(f"s.{quote_ident(k)} = q.{quote_ident(k)}" for k in pk))
    return (
        add,
        RESTORE_LOCK.bind(table=table, copy=copy),
        RESTORE_UPDATE.bind(table=table, copy=copy, on=on_s, column=column),
        UNLOCK_TABLES.bind(),
        DROP_TABLE.bind(table=copy),
    )


def adhoc(text: str, params: Sequence[Any] = (), bound: Bound | None = None) -> Sql:
    """A statement handed over as text, not by name: tests and the sandbox builder only
    (nothing in the cockpit's live path spells SQL outside this module). Tagged with the
    plain TAG; bounded only when asked (`bound`)."""
    query = ADHOC if bound is None else _AdhocQuery(ADHOC.name, "", bound, "any")
    return Sql(query, text, tuple(params))


def as_sql(sql: str | Sql, params: Sequence[Any] = ()) -> Sql:
    """A named entry as given (its parameters inside it), or text handed over by a test
    or the sandbox builder with its parameters."""
    if isinstance(sql, Sql):
        if params:
            raise ValueError(f"{sql.name}: its parameters travel inside the statement")
        return sql
    return adhoc(sql, params)


def with_limit(sql: str | Sql, params: Sequence[Any], timeout_ms: int) -> Sql:
    """`sql` under a statement time limit of `timeout_ms` (text: an adhoc SELECT bounded so)."""
    if isinstance(sql, Sql):
        stmt = as_sql(sql, params)
        return replace(stmt, timeout_ms=timeout_ms) if stmt.bound is Bound.STATEMENT else stmt
    return replace(adhoc(sql, params, bound=Bound.STATEMENT), timeout_ms=timeout_ms)


class _AdhocQuery(Query):
    @property
    def tag(self) -> str:
        return TAG


ADHOC = _AdhocQuery("adhoc", "", Bound.NONE, "any", doc="text given by a caller outside the live path")


def all_queries() -> tuple[Query, ...]:
    """Every named entry of this module (tests/test_queries.py checks each is tagged,
    bounded and named once)."""
    return tuple(v for v in globals().values() if isinstance(v, Query) and v is not ADHOC)


__all__ = ["Bound", "Fragment", "Query", "Sql", "Row", "Param", "bounded_text", "all_queries", "adhoc",
           "ACTIVITY_CAP", "RECENCY_ROWS", "AMBIGUOUS_MARK", "NULL_MARK", "LONG_MS"]
