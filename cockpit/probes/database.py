"""The cheap, honest refresh of everything the cockpit reads from the database.

The cockpit polls production for a day or two, so a refresh must cost the server almost
nothing: exactly two statements whatever the plan's size. The first reads the catalogue
(`table_facts`: existence, row estimate, size, columns); the second is one SELECT of
scalar subqueries over the tables that exist — `EXISTS(... LIMIT 1)` per table, the
flag values, and activity counts capped at 100 rows. A whole-table COUNT(*) never runs
here; it runs only on request (`exact_count`), under the statement time limit.

Losing the database is a state, not a crash: the probe keeps the last good values,
marks them stale with the reason, and reconnects with capped exponential backoff.
A permission error on one part (one table) marks just those readings and raises one
notice; everything else keeps refreshing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..db import queries
from ..db.base import Database, TableFact
from ..db.errors import DatabaseUnavailable, QueryError
from ..db.queries import ACTIVITY_CAP, RECENCY_ROWS, Fragment, Row
from ..plan.model import ActivityCheck, FlagStore, Phase, Plan
from .flags import flag_value_part, reading_from_raw
from .snapshot import (
    ActivityReading,
    ConnectionReading,
    FlagReading,
    Freshness,
    TableReading,
)

BACKOFF_START_S = 1.0
BACKOFF_CAP_S = 30.0
DENIED_RETRY_S = 300.0  # a part refused (permission, time limit) is retried this often, not every tick
REFRESH_TIMEOUT_MS = 2000  # the refresh statement is abandoned by the server past this: an
# activity check on an unindexed column of a big table must not scan production every tick

ActivityKey = tuple[int, str]  # (phase id, activity check id)


@dataclass(frozen=True)
class DatabaseFacts:
    """One refresh's worth of database readings."""

    taken_at: float
    connection: ConnectionReading
    tables: dict[str, TableReading] = field(default_factory=dict)
    columns: dict[tuple[str, str], bool | None] = field(default_factory=dict)
    flags: dict[str, FlagReading] = field(default_factory=dict)
    activity: dict[ActivityKey, ActivityReading] = field(default_factory=dict)

    def for_phase(self, phase: Phase) -> dict[str, tuple[object, ...]]:
        """The readings of one phase in plan order, ready for a PhaseSnapshot."""
        unknown = Freshness(error=self.connection.error)
        return {
            "flags": tuple(self.flags.get(k, FlagReading(k, "unknown", freshness=unknown)) for k in phase.flags),
            "tables": tuple(self.tables.get(t, TableReading(t, None, freshness=unknown)) for t in phase.tables),
            "columns": tuple((c.table, c.column, self.columns.get((c.table, c.column))) for c in phase.columns),
            "activity": tuple(
                self.activity.get((phase.id, a.id), ActivityReading(a.id, a.text, None, a.window_minutes, unknown))
                for a in phase.activity
            ),
        }


@dataclass
class _Part:
    """One scalar subquery of the combined statement and where its value goes."""

    key: str  # "table:t" | "flag:k" | "activity:7:id"
    expression: Fragment


class DatabaseProbe:
    """Long-lived, one per target: it owns the reconnect schedule, the last good values,
    the exact counts taken on request and the set of parts refused for permission."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time, refresh_timeout_ms: int = REFRESH_TIMEOUT_MS) -> None:
        self.db = db
        self.clock = clock
        self.refresh_timeout_ms = refresh_timeout_ms
        self._last: DatabaseFacts | None = None
        self._exact: dict[str, tuple[int, float]] = {}
        self._denied: dict[str, tuple[str, float]] = {}  # part key -> (message, when)
        self._delay = BACKOFF_START_S
        self._lost_since: float | None = None
        self._next_retry: float | None = None
        self._error: str | None = None

    # -- public -------------------------------------------------------------------------
    async def refresh(self, plan: Plan) -> DatabaseFacts:
        now = self.clock()
        if not self.db.connected:
            if self._next_retry is not None and now < self._next_retry:
                return self._stale(plan, now)
            try:
                await self.db.connect()
            except DatabaseUnavailable as exc:
                return self._lost(plan, now, str(exc))
        before = self.db.queries
        try:
            facts = await self._read(plan, now)
        except DatabaseUnavailable as exc:
            await self.db.close()
            return self._lost(plan, now, str(exc))
        self._delay = BACKOFF_START_S
        self._lost_since = self._next_retry = self._error = None
        facts = replace(facts, connection=replace(facts.connection, queries_last_refresh=self.db.queries - before))
        self._last = facts
        return facts

    async def exact_count(self, table: str, timeout_ms: int | None = None) -> int:
        """COUNT(*) on request, bounded by the target's statement limit; the result shows
        in every later reading of the table (with its time) until the table changes."""
        if not self.db.connected:
            await self.db.connect()
        try:
            count = await self.db.exact_count(table, timeout_ms)
        except DatabaseUnavailable:
            await self.db.close()
            raise
        self._exact[table] = (count, self.clock())
        return count

    @property
    def last(self) -> DatabaseFacts | None:
        return self._last

    # -- the two statements -------------------------------------------------------------
    async def _read(self, plan: Plan, now: float) -> DatabaseFacts:
        store = plan.flag_store
        wanted = list(plan.all_tables)
        use_flags = store.backend == "sql"
        if use_flags and store.table not in wanted:
            wanted.append(store.table)
        notices: list[str] = []
        fresh = Freshness(fetched_at=now)
        try:
            catalogue = await self.db.table_facts(wanted)
        except QueryError as exc:
            return self._all_failed(plan, now, f"catalogue read failed: {exc}")

        parts = self._parts(plan, catalogue, now)
        values, errors = await self._combined(parts, now)
        for key, message in errors.items():
            notices.append(f"{key.split(':', 1)[1]}: {message}")

        tables: dict[str, TableReading] = {}
        for name in plan.all_tables:
            fact = catalogue[name]
            tables[name] = self._table_reading(fact, values, errors, fresh)
        columns: dict[tuple[str, str], bool | None] = {
            (c.table, c.column): c.column in catalogue[c.table].columns for phase in plan.phases for c in phase.columns
        }
        flags: dict[str, FlagReading] = {}
        if use_flags:
            flag_fact = catalogue[store.table]
            flag_problem = self._flag_table_problem(flag_fact, store)
            for key in plan.all_flags:
                part = f"flag:{key}"
                if flag_problem:
                    flags[key] = FlagReading(key, "unknown", None, Freshness(fetched_at=now, error=flag_problem))
                elif part in errors:
                    flags[key] = FlagReading(key, "unknown", None, Freshness(fetched_at=now, error=errors[part]))
                else:
                    raw = values.get(part)
                    flags[key] = reading_from_raw(key, raw, raw is not None, now)
            if flag_problem:
                notices.append(flag_problem)
        activity: dict[ActivityKey, ActivityReading] = {}
        for phase in plan.phases:
            for check in phase.activity:
                reading = activity[(phase.id, check.id)] = self._activity_reading(phase.id, check, catalogue, values, errors, now)
                if reading.method == "not checked" and reading.freshness.error:
                    notices.append(reading.freshness.error)
        connection = ConnectionReading(
            target=self.db.target.label,
            state="connected",
            server=self.db.server_label,
            notices=tuple(dict.fromkeys(notices)),
        )
        return DatabaseFacts(now, connection, tables, columns, flags, activity)

    def _parts(self, plan: Plan, catalogue: dict[str, TableFact], now: float) -> list[_Part]:
        parts: list[_Part] = []
        for name in plan.all_tables:
            if catalogue[name].exists:
                parts.append(_Part(f"table:{name}", queries.has_rows_part(name)))
        store = plan.flag_store
        if store.backend == "sql" and not self._flag_table_problem(catalogue[store.table], store):
            for key in plan.all_flags:
                parts.append(_Part(f"flag:{key}", flag_value_part(store, key)))
        for phase in plan.phases:
            for check in phase.activity:
                expression = activity_part(self.db.dialect, check, catalogue[check.table])
                if expression is not None:
                    parts.append(_Part(f"activity:{phase.id}:{check.id}", expression))
        # parts refused for permission stay out until their retry time, keeping a
        # refresh at two statements instead of re-failing every tick
        keep = []
        for part in parts:
            denied = self._denied.get(part.key)
            if denied and now - denied[1] < DENIED_RETRY_S:
                continue
            self._denied.pop(part.key, None)
            keep.append(part)
        return keep

    async def _combined(self, parts: list[_Part], now: float) -> tuple[dict[str, Any], dict[str, str]]:
        errors = {key: message for key, (message, _) in self._denied.items()}
        if not parts:
            return {}, errors
        try:
            row = await self._select(parts)
            return dict(zip((p.key for p in parts), row, strict=False)), errors
        except DatabaseUnavailable:
            raise
        except QueryError:
            pass
        # One part spoiled the statement: find which, part by part (this only happens
        # once per problem, the culprits are then left out until DENIED_RETRY_S).
        values: dict[str, Any] = {}
        for part in parts:
            try:
                values[part.key] = (await self._select([part]))[0]
            except DatabaseUnavailable:
                raise
            except QueryError as exc:
                self._denied[part.key] = (str(exc), now)
                errors[part.key] = str(exc)
        return values, errors

    async def _select(self, parts: list[_Part]) -> Row:
        rows = await self.db.fetch_all(queries.refresh([p.expression for p in parts], self.refresh_timeout_ms))
        return rows[0]

    # -- readings -------------------------------------------------------------------------
    def _table_reading(self, fact: TableFact, values: dict[str, Any], errors: dict[str, str], fresh: Freshness) -> TableReading:
        if not fact.exists:
            self._exact.pop(fact.name, None)
            return TableReading(fact.name, False, freshness=fresh)
        part = f"table:{fact.name}"
        has_rows = None if part not in values else bool(values[part])
        exact = self._exact.get(fact.name)
        if exact and has_rows is False and exact[0] > 0:
            exact = None  # the table was emptied since the count: the count is history
        return TableReading(
            name=fact.name,
            exists=True,
            has_rows=has_rows,
            estimated_rows=fact.estimated_rows,
            size_bytes=fact.size_bytes,
            exact_rows=exact[0] if exact else None,
            exact_at=exact[1] if exact else None,
            columns=fact.columns,
            freshness=replace(fresh, error=errors.get(part)),
        )

    def _activity_reading(self, phase_id: int, check: ActivityCheck, catalogue: dict[str, TableFact],
                          values: dict[str, Any], errors: dict[str, str], now: float) -> ActivityReading:
        key = f"activity:{phase_id}:{check.id}"
        fact = catalogue[check.table]
        if not fact.exists:
            # no table, nobody writing to it: a dropped feature is a quiet feature
            return ActivityReading(check.id, check.text, 0, check.window_minutes, Freshness(fetched_at=now))
        if check.column not in fact.columns:
            error = f"column {check.table}.{check.column} does not exist"
            return ActivityReading(check.id, check.text, None, check.window_minutes, Freshness(fetched_at=now, error=error))
        method = "" if check.column in fact.indexed else f"newest {RECENCY_ROWS} rows by key"
        if method and not recency_key(self.db.dialect, fact):
            return ActivityReading(check.id, check.text, None, check.window_minutes,
                                   Freshness(fetched_at=now, error=unindexed_warning(check, fact)), method="not checked")
        if key in errors or key not in values:
            return ActivityReading(check.id, check.text, None, check.window_minutes,
                                   Freshness(fetched_at=now, error=errors.get(key)), method=method)
        recent = min(int(values[key]), ACTIVITY_CAP)
        return ActivityReading(check.id, check.text, recent, check.window_minutes, Freshness(fetched_at=now), method=method)

    @staticmethod
    def _flag_table_problem(fact: TableFact, store: FlagStore) -> str | None:
        if not fact.exists:
            return f"flag table {store.table} does not exist"
        missing = [c for c in (store.key_column, store.value_column) if c not in fact.columns]
        if missing:
            return f"flag table {store.table} lacks column {', '.join(missing)}"
        return None

    def _all_failed(self, plan: Plan, now: float, error: str) -> DatabaseFacts:
        """A QueryError on the catalogue itself: connected, but nothing could be read."""
        stale = self._stale(plan, now, error=error)
        connection = ConnectionReading(self.db.target.label, "connected", self.db.server_label, error=error, notices=(error,))
        return replace(stale, connection=connection)

    # -- loss and staleness ----------------------------------------------------------------
    def _lost(self, plan: Plan, now: float, error: str) -> DatabaseFacts:
        if self._lost_since is None:
            self._lost_since = now
            self._delay = BACKOFF_START_S
        else:
            self._delay = min(self._delay * 2, BACKOFF_CAP_S)
        self._next_retry = now + self._delay
        self._error = error
        return self._stale(plan, now)

    def _stale(self, plan: Plan, now: float, error: str | None = None) -> DatabaseFacts:
        """The last good values, each marked stale since the loss, with the reason."""
        error = error or self._error or "not connected"
        since = self._lost_since or now

        def gone(f: Freshness) -> Freshness:
            return f.went_stale(since, error)

        connection = ConnectionReading(
            target=self.db.target.label,
            state="lost" if self._lost_since is not None else "connecting",
            server=self._last.connection.server if self._last else "",
            error=error,
            lost_since=self._lost_since,
            next_retry_at=self._next_retry,
            queries_last_refresh=0,
        )
        last = self._last
        if last is None:
            unknown = Freshness(stale_since=since, error=error)
            return DatabaseFacts(
                now,
                connection,
                tables={t: TableReading(t, None, freshness=unknown) for t in plan.all_tables},
                columns={(c.table, c.column): None for p in plan.phases for c in p.columns},
                flags={k: FlagReading(k, "unknown", freshness=unknown) for k in plan.all_flags} if plan.flag_store.backend == "sql" else {},
                activity={(p.id, a.id): ActivityReading(a.id, a.text, None, a.window_minutes, unknown)
                          for p in plan.phases for a in p.activity},
            )
        return DatabaseFacts(
            now,
            connection,
            tables={k: replace(v, freshness=gone(v.freshness)) for k, v in last.tables.items()},
            columns=dict(last.columns),
            flags={k: replace(v, freshness=gone(v.freshness)) for k, v in last.flags.items()},
            activity={k: replace(v, freshness=gone(v.freshness)) for k, v in last.activity.items()},
        )


def recency_key(dialect: str, fact: TableFact) -> tuple[str, ...]:
    """The key the newest rows are found by: the primary key (SQLite's rowid without one)."""
    if fact.primary_key:
        return fact.primary_key
    return ("rowid",) if dialect == "sqlite" else ()


def activity_part(dialect: str, check: ActivityCheck, fact: TableFact) -> Fragment | None:
    """The one activity query (queries.activity_part) for `check` on a table as the
    catalogue describes it: None when it cannot run (table or column absent, or an
    unindexed column of a table without a key, which only a scan could answer). The
    refresh embeds it; the `check` step runs it on its own."""
    if not fact.exists or check.column not in fact.columns:
        return None
    key = recency_key(dialect, fact)
    return queries.activity_part(dialect, check.table, check.column, check.column in fact.indexed,
                                 key[0] if key else None, check.window_minutes)


def create_index_sql(check: ActivityCheck) -> str:
    """The fix for an unindexed activity column, as the operator would type it."""
    return queries.create_index_advice(check.table, check.column)


def unindexed_warning(check: ActivityCheck, fact: TableFact) -> str:
    return (f"activity check {check.id} not run: {check.table}.{check.column} has no index and the table no primary key, "
            f"so it could only be answered by a scan; fix: {create_index_sql(check)}")


def activity_index_results(plan: Plan, catalogue: dict[str, TableFact]) -> list[tuple[str, bool, str]]:
    """For `cockpit check`: every activity column without an index, how it is read
    instead (newest rows by key) or that it is not checked, and the CREATE INDEX that
    fixes it. Indexed columns are summed up in one line."""
    results: list[tuple[str, bool, str]] = []
    checked = 0
    for phase in plan.phases:
        for check in phase.activity:
            fact = catalogue.get(check.table)
            if fact is None or not fact.exists or check.column not in fact.columns:
                continue
            checked += 1
            if check.column in fact.indexed:
                continue
            has_key = bool(fact.primary_key) or plan.target.kind == "sqlite"
            how = (f"read on the newest {RECENCY_ROWS} rows by primary key" if has_key
                   else "NOT CHECKED (no primary key either: it would scan the table)")
            # a warning, not a failure: the target is reachable and usable (exit 0)
            results.append((f"activity index {check.table}.{check.column}", True,
                            f"WARNING not indexed: {how}; fix: {create_index_sql(check)}"))
    if checked and not results:
        results.append(("activity indexes", True, f"all {checked} activity columns indexed"))
    return results
