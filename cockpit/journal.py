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

import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

KINDS = frozenset(
    {
        "session_start", "session_end", "tick", "untick",
        "step_intent", "step_output", "step_outcome", "override", "note",
        "alert", "alert_ack", "watch_start", "watch_end", "backup_verified",
        "log_written", "emergency_intent", "emergency_outcome",
        "lock_lost",  # the operator lock vanished under a running cockpit (engine/lock.py)
        "drill_start", "drill_end",  # a marked drill: everything journalled between belongs to it
        "smoke",  # smoke check results, recorded as checklist evidence
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
"""

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


class Journal:
    """One target's history in one SQLite file, safe to read from other processes."""

    def __init__(self, path: Path, target: str, operator: str, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.target = target
        self.operator = operator
        self.clock = clock
        self._seen: list[Event] = []  # every event read so far, in id order
        self._seen_id = 0
        # the TUI writes from worker threads while the UI thread reads: one connection,
        # one cache, so both go through this lock (SQLite alone would not guard the cache)
        self._lock = threading.Lock()
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
                cursor = self._db.execute(
                    "INSERT INTO event (target, at, kind, operator, phase, step, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (self.target, float(self.clock()), kind, operator or self.operator, phase, step, payload),
                )
        except sqlite3.Error as exc:
            raise JournalError(f"cannot write the journal {self.path}: {exc}") from None
        return int(cursor.lastrowid)

    def events(self, phase: int | None = None, kinds: Iterable[str] | None = None) -> list[Event]:
        """This target's events, oldest first; optionally one phase's and/or some kinds.

        The journal is append-only, so only rows newer than the last one seen are read
        (including rows another cockpit appended): views call this on every redraw of a
        day-long watch, and re-reading the whole history each time would grow with it."""
        with self._lock:
            try:
                rows = self._db.execute(
                    "SELECT id, at, kind, operator, phase, step, data, target FROM event WHERE target = ? AND id > ? ORDER BY id",
                    (self.target, self._seen_id),
                ).fetchall()
            except sqlite3.Error as exc:
                raise JournalError(f"cannot read the journal {self.path}: {exc}") from None
            for r in rows:
                self._seen.append(Event(id=r[0], at=r[1], kind=r[2], operator=r[3], phase=r[4], step=r[5], data=json.loads(r[6] or "{}"), target=r[7]))
            if rows:
                self._seen_id = rows[-1][0]
            seen = list(self._seen)
        wanted = frozenset(kinds or ())
        return [e for e in seen if (phase is None or e.phase == phase) and (not wanted or e.kind in wanted)]

    def close(self) -> None:
        try:
            self._db.close()
        except sqlite3.Error:
            pass
