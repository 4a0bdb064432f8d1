"""The journal: the durable, append-only record of everything the cockpit did.

Everything the cockpit shows about the rollback itself (ticks, step statuses, timings,
open alerts, the watch) is derived from these rows, never from process memory, so a
`kill -9`, a dropped SSH session or a reboot resumes exactly where the operator was.
That only holds if a row is on disk before the action it announces starts, hence SQLite
in WAL mode with `synchronous=FULL` and one committed transaction per append.

Rows are scoped to a target key (`plan.target.label`): a journal file shared by a
sandbox drill and production can never mix their histories. Credentials never reach
this file: callers pass only names, counts, paths and operator-typed text.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

KINDS = frozenset(
    {
        "session_start", "session_end", "tick", "untick",
        "step_intent", "step_output", "step_outcome", "override", "note",
        "alert", "alert_ack", "watch_start", "watch_end", "backup_verified",
        "log_written", "emergency_intent", "emergency_outcome",
        "lock_lost",  # the operator lock vanished under a running cockpit (engine/lock.py)
        "drill_start", "drill_end",  # a marked drill: everything journalled between belongs to it
        "smoke",  # smoke check results, recorded as checklist evidence
        # the whole database dumped for the before-checklist (engine/full_dump.py): intent, then outcome
        "full_backup_intent", "full_backup_verified", "full_backup_failed",
        # the headless watcher (cockpit/watch): a second writer process, observer only
        "watch_heartbeat", "watch_extend", "watch_baseline", "alert_clear", "notify_sent", "notify_failed",
    }
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS event (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    target   TEXT    NOT NULL,
    at       REAL    NOT NULL,
    kind     TEXT    NOT NULL,
    operator TEXT    NOT NULL,
    phase    INTEGER,
    step     TEXT,
    data     TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS event_target_phase ON event (target, phase, id);
CREATE INDEX IF NOT EXISTS event_target_kind ON event (target, kind, id);
CREATE INDEX IF NOT EXISTS event_target_id ON event (target, id);
"""

# Kinds that pile up over a long watch (output lines, notes, ticks, alerts, sessions,
# heartbeats) and that the per-phase rollback state (step statuses, order, prerequisites,
# backups, the watch in force) never reads. Everything else is a STATE kind: any kind
# added to KINDS later is a state kind unless it is listed here, so a new kind can never
# be silently missing from the derived state.
BULK_KINDS = frozenset(
    {
        "step_output", "note", "tick", "untick", "alert", "alert_ack",
        "session_start", "session_end", "log_written",
        "heartbeat", "watch_heartbeat", "watcher_heartbeat",
    }
)
STATE_KINDS = KINDS - BULK_KINDS

# Set by the derived-state memo (engine/memo.py) around one derivation: a plain
# `events()` inside it reads only these kinds. Context-local, so another thread or task
# reading the journal at the same moment still gets the whole history.
_SCOPE: contextvars.ContextVar[frozenset[str] | None] = contextvars.ContextVar("journal_scope", default=None)

_SECRET_KEYS = ("password", "passwd", "pwd", "secret", "token_value")


class JournalError(Exception):
    """The journal cannot be opened or written; acting without it would be unrecorded."""


@dataclass(frozen=True)
class Event:
    id: int
    at: float
    kind: str
    operator: str
    phase: int | None
    step: str | None
    data: dict[str, Any] = field(default_factory=dict)
    target: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "at": self.at, "kind": self.kind, "operator": self.operator,
            "phase": self.phase, "step": self.step, "data": self.data, "target": self.target,
        }


def _scrub(data: dict[str, Any]) -> dict[str, Any]:
    """Refuse to persist anything keyed like a credential: a bug upstream must not leak one."""
    for key in data:
        if any(secret in key.lower() for secret in _SECRET_KEYS):
            raise JournalError(f"refusing to journal a field named {key!r}")
    return data


class EventView(Sequence[Event]):
    """A read-only, fixed-length view of an append-only event list: O(1) to make, so a
    view per redraw costs nothing whatever the journal's length. Appends after it was
    made are not in it (its length is fixed), which is what a caller deriving state
    from one consistent moment wants."""

    __slots__ = ("_items", "_length")

    def __init__(self, items: list[Event], length: int | None = None) -> None:
        self._items = items
        self._length = len(items) if length is None else length

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> Event: ...
    @overload
    def __getitem__(self, index: slice) -> list[Event]: ...
    def __getitem__(self, index: int | slice) -> Event | list[Event]:
        if isinstance(index, slice):
            return [self._items[i] for i in range(*index.indices(self._length))]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("event index out of range")
        return self._items[index]

    def __iter__(self) -> Iterator[Event]:
        return itertools.islice(self._items, self._length)

    def __reversed__(self) -> Iterator[Event]:
        items = self._items
        return (items[i] for i in range(self._length - 1, -1, -1))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (EventView, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __repr__(self) -> str:
        return f"EventView({list(self)!r})"

    @property
    def last_id(self) -> int:
        return self._items[self._length - 1].id if self._length else 0


class _Selection:
    """One SQL-filtered slice of the history (all events, one phase's, or some kinds'),
    cached in id order and extended from `id > last_id` only. Events of a kinds
    selection are also indexed by phase, so one phase's derivation scans only its own."""

    def __init__(self, sql: str, params: tuple[Any, ...]) -> None:
        self.sql = sql  # one of the constant _SELECT_* statements; its last parameter is the last id seen
        self.params = params
        self.items: list[Event] = []
        self.by_phase: dict[int | None, list[Event]] = {}
        self.last_id = 0
        self.seen: tuple[int, int] | None = None  # the journal's change signal when last brought up to date

    def extend(self, events: list[Event]) -> None:
        for event in events:
            self.items.append(event)
            self.by_phase.setdefault(event.phase, []).append(event)
        if events:
            self.last_id = events[-1].id


# Constant statements only: values (target, phase, kinds as a JSON array, ids) are all
# bound parameters, and each filter is served by an index.
_SELECT = "SELECT id, at, kind, operator, phase, step, data, target FROM event WHERE target = ? "
_SELECT_ALL = _SELECT + "AND id > ? ORDER BY id"
_SELECT_PHASE = _SELECT + "AND phase = ? AND id > ? ORDER BY id"
# a few kinds among many: their own index, not a walk over every newer event
_SELECT_KINDS = _SELECT.replace("FROM event", "FROM event INDEXED BY event_target_kind") + (
    "AND kind IN (SELECT value FROM json_each(?)) AND id > ? ORDER BY id")
_BOUNDS = "AND id < coalesce(?, 9223372036854775807) AND id > coalesce(?, 0) ORDER BY id DESC LIMIT ?"
_SPAN = _SELECT + "AND id >= ? AND id <= coalesce(?, 9223372036854775807) ORDER BY id"
_WINDOW = _SELECT + _BOUNDS
_WINDOW_PHASE = _SELECT + "AND phase = ? " + _BOUNDS
_WINDOW_KINDS = _SELECT + "AND kind IN (SELECT value FROM json_each(?)) " + _BOUNDS
_WINDOW_PHASE_KINDS = _SELECT + "AND phase = ? AND kind IN (SELECT value FROM json_each(?)) " + _BOUNDS


def _event(row: tuple[Any, ...]) -> Event:
    return Event(id=row[0], at=row[1], kind=row[2], operator=row[3], phase=row[4], step=row[5],
                 data=json.loads(row[6] or "{}"), target=row[7])


class Journal:
    """One target's history in one SQLite file, safe to read from other processes.

    Threading rule: every method blocks (an append is a committed, fsync'd transaction;
    a read may hit the file) and may be called from any thread, one lock serialising the
    connection and the cache. On an event loop's thread use the `*_async` counterparts
    (`append_async`, `events_async`, `window_async`, `count_async`), which run the same
    method in a worker thread: a slow disk must not freeze the UI.

    Reads never grow with the history on a refresh: every selection (all events, one
    phase, some kinds) is filtered in SQL, cached, and extended with rows newer than the
    last one it saw; `events()` returns an O(1) read-only view of that cache. The full
    history is loaded only by a caller that asks for it (the report, a live guard); the
    board's derived state reads the few state kinds only (see STATE_KINDS)."""

    def __init__(self, path: Path, target: str, operator: str, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.target = target
        self.operator = operator
        self.clock = clock
        self._selections: dict[tuple[int | None, frozenset[str] | None], _Selection] = {}
        # bumped by this connection's own appends: SQLite's `data_version` moves only for
        # other connections' commits (see `_signal`)
        self._appended = 0
        self._newest: tuple[tuple[int, int], int] | None = None  # (signal, newest id) of the last `last_id` read
        # the TUI writes from worker threads while the UI thread reads: one connection,
        # one cache, so both go through this lock (SQLite alone would not guard the cache)
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), timeout=10, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise JournalError(f"cannot open the journal {self.path}: {exc}") from None

    def append(self, kind: str, *, phase: int | None = None, step: str | None = None,
               data: dict[str, Any] | None = None, operator: str | None = None) -> int:
        """Write one event and commit it before returning its id: the caller may act only after."""
        if kind not in KINDS:
            raise ValueError(f"unknown journal event kind {kind!r}")
        payload = json.dumps(_scrub(dict(data or {})), sort_keys=True, default=str)
        try:
            with self._lock:
                try:
                    cursor = self._db.execute(
                        "INSERT INTO event (target, at, kind, operator, phase, step, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (self.target, float(self.clock()), kind, operator or self.operator, phase, step, payload),
                    )
                finally:  # even a failed insert may have changed something: never trust the caches after it
                    self._appended += 1
        except sqlite3.Error as exc:
            raise JournalError(f"cannot write the journal {self.path}: {exc}") from None
        return int(cursor.lastrowid or 0)

    async def append_async(self, kind: str, *, phase: int | None = None, step: str | None = None,
                           data: dict[str, Any] | None = None, operator: str | None = None) -> int:
        """`append` in a worker thread: the event is committed and fsync'd when this returns."""
        return await asyncio.to_thread(self.append, kind, phase=phase, step=step, data=data, operator=operator)

    # -- cached, incremental reads ---------------------------------------------------------
    def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise JournalError(f"cannot read the journal {self.path}: {exc}") from None

    def _signal(self) -> tuple[int, int]:
        """What moves whenever the file may hold a new row: SQLite's `data_version` (it
        changes when ANOTHER connection — a CLI `cockpit note`, the watcher — commits;
        one pragma, no table read) and this connection's own append counter. Read it
        BEFORE the query it guards: a commit landing between the two moves it again, so
        the next call reads once more rather than missing a row. Call with the lock held."""
        rows = self._query("PRAGMA data_version", ())
        return int(rows[0][0]), self._appended

    def signal(self) -> tuple[int, int]:
        """The change signal (`_signal`): equal between two calls only if no connection
        committed anything to the file in between. One pragma: what a view that redraws
        every second checks before deriving anything from the journal."""
        with self._lock:
            return self._signal()

    def _selection(self, phase: int | None, kinds: frozenset[str] | None) -> _Selection:
        """The cached selection, brought up to date with rows newer than its last one
        (including rows another cockpit appended). When nothing was committed since its
        last read (`_signal` unchanged), no table is read at all: a tick that finds the
        journal unchanged costs one pragma. Call with the lock held."""
        key = (phase, kinds)
        selection = self._selections.get(key)
        if selection is None:
            if kinds is not None:  # (a phase of a kinds selection is served by its by_phase index)
                selection = _Selection(_SELECT_KINDS, (self.target, json.dumps(sorted(kinds))))
            elif phase is not None:
                selection = _Selection(_SELECT_PHASE, (self.target, phase))
            else:
                selection = _Selection(_SELECT_ALL, (self.target,))
            self._selections[key] = selection
        signal = self._signal()
        if selection.seen == signal:
            return selection
        rows = self._query(selection.sql, (*selection.params, selection.last_id))
        if rows:
            selection.extend([_event(r) for r in rows])
        selection.seen = signal
        return selection

    def events(self, phase: int | None = None, kinds: Iterable[str] | None = None) -> EventView:
        """This target's events, oldest first; optionally one phase's and/or some kinds.

        Returns a read-only view (a Sequence, compares equal to a list of the same
        events), never a copy: views call this on every redraw of a day-long watch.
        Filtering happens in SQL, and only rows newer than the last one seen are read."""
        wanted = frozenset(kinds) if kinds else _SCOPE.get()
        with self._lock:
            if wanted:
                selection = self._selection(None, wanted)
                items = selection.items if phase is None else selection.by_phase.get(phase, [])
            else:
                items = self._selection(phase, None).items
            return EventView(items)

    async def events_async(self, phase: int | None = None, kinds: Iterable[str] | None = None) -> EventView:
        """`events` in a worker thread. The derived-state scope (`scoped`) is context-local
        and `asyncio.to_thread` copies the context, so a scoped caller stays scoped."""
        return await asyncio.to_thread(self.events, phase, kinds)

    @property
    def last_id(self) -> int:
        """The id of this target's newest event on disk (0 for none): one indexed read,
        or none at all when nothing was committed since the last one (`_signal`)."""
        with self._lock:
            signal = self._signal()
            if self._newest is not None and self._newest[0] == signal:
                return self._newest[1]
            rows = self._query("SELECT id FROM event WHERE target = ? ORDER BY id DESC LIMIT 1", (self.target,))
            newest = int(rows[0][0]) if rows else 0
            self._newest = (signal, newest)
        return newest

    def version(self, kinds: Iterable[str] | None = None) -> int:
        """The newest event id among `kinds` (all kinds when None), after reading any new
        rows: what a memo of state derived from those kinds is keyed on. One pragma when
        no connection committed since the last call (the board's 1 s tick)."""
        wanted = frozenset(kinds) if kinds else None
        with self._lock:
            if wanted is None:
                return self.last_id
            return self._selection(None, wanted).last_id

    def release(self, kinds: Iterable[str]) -> None:
        """Forget the cached selection of `kinds` (the next read starts it afresh): a
        reader that needs some kinds once — a watcher reading every alert at its start —
        does not keep those rows for a 48-hour run."""
        with self._lock:
            self._selections.pop((None, frozenset(kinds)), None)

    @contextlib.contextmanager
    def scoped(self, kinds: Iterable[str]) -> Iterator[None]:
        """Within the block, `events()` without `kinds` reads only `kinds` (this thread or
        task only): derived state that never looks at bulk kinds needs no bulk rows."""
        token = _SCOPE.set(frozenset(kinds))
        try:
            yield
        finally:
            _SCOPE.reset(token)

    # -- windows for the journal screen ----------------------------------------------------
    def window(self, limit: int = 500, *, before_id: int | None = None, after_id: int | None = None,
               phase: int | None = None, kinds: Iterable[str] | None = None) -> list[Event]:
        """At most `limit` events, newest first, filtered in SQL: the latest (no bound),
        the page older than `before_id`, or everything newer than `after_id`. Reads only
        the rows returned, whatever the history's length (an index serves every filter)."""
        wanted = json.dumps(sorted(frozenset(kinds))) if kinds else None
        bounds = (before_id, after_id, int(limit))
        with self._lock:
            if phase is None and wanted is None:
                rows = self._query(_WINDOW, (self.target, *bounds))
            elif wanted is None:
                rows = self._query(_WINDOW_PHASE, (self.target, phase, *bounds))
            elif phase is None:
                rows = self._query(_WINDOW_KINDS, (self.target, wanted, *bounds))
            else:
                rows = self._query(_WINDOW_PHASE_KINDS, (self.target, phase, wanted, *bounds))
        return [_event(r) for r in rows]

    def span(self, first_id: int, last_id: int | None = None) -> list[Event]:
        """Every event from `first_id` to `last_id` (to the newest when None), oldest first:
        one id range of the primary key, not cached — what a drill's score reads (its own
        events only, however long the history before it)."""
        with self._lock:
            rows = self._query(_SPAN, (self.target, int(first_id), last_id))
        return [_event(r) for r in rows]

    def count(self, phase: int | None = None, *, up_to: int | None = None) -> int:
        """How many events (of one phase; with ids up to `up_to`): an index-only count,
        for the journal screen's title. Bounded by an id, the answer never changes once
        that id is committed (ids are committed in order), however much is appended."""
        bound = 9_223_372_036_854_775_807 if up_to is None else up_to
        with self._lock:
            if phase is None:
                return int(self._query("SELECT COUNT(*) FROM event WHERE target = ? AND id <= ?", (self.target, bound))[0][0])
            return int(self._query("SELECT COUNT(*) FROM event WHERE target = ? AND phase = ? AND id <= ?",
                                   (self.target, phase, bound))[0][0])

    async def window_async(self, limit: int = 500, *, before_id: int | None = None, after_id: int | None = None,
                           phase: int | None = None, kinds: Iterable[str] | None = None) -> list[Event]:
        """`window` in a worker thread."""
        return await asyncio.to_thread(self.window, limit, before_id=before_id, after_id=after_id, phase=phase, kinds=kinds)

    async def count_async(self, phase: int | None = None, *, up_to: int | None = None) -> int:
        """`count` in a worker thread."""
        return await asyncio.to_thread(self.count, phase, up_to=up_to)

    def close(self) -> None:
        try:
            self._db.close()
        except sqlite3.Error:
            pass
