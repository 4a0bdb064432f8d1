"""The one snapshot type every view reads.

A probe never returns a bare value: each reading carries when it was fetched and, when
the source went away, since when it is stale and why. The operator must be able to tell
"the flag is off" from "the flag was off 3 minutes ago, before we lost the database".
`to_json()` is the documented shape of `cockpit status --json` (see README).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from cockpit.plan.record import Record

SCHEMA_VERSION = 1


@dataclass(frozen=True, eq=False, repr=False)
class Freshness(Record):
    """When a value was read, and whether it still reflects the live system."""

    fetched_at: float | None = None
    stale_since: float | None = None
    error: str | None = None

    @property
    def stale(self) -> bool:
        return self.stale_since is not None or self.fetched_at is None

    def age(self, now: float | None = None) -> float | None:
        if self.fetched_at is None:
            return None
        return max(0.0, (now or time.time()) - self.fetched_at)

    def went_stale(self, at: float, error: str) -> Freshness:
        return replace(self, stale_since=self.stale_since or at, error=error)


@dataclass(frozen=True, eq=False, repr=False)
class FlagReading(Record):
    """One feature flag as read from the flag store."""

    key: str
    state: str  # on | off | missing | unknown
    raw: str | None = None
    freshness: Freshness = field(default_factory=Freshness)


@dataclass(frozen=True, eq=False, repr=False)
class ProcessRun(Record):
    """A run of a cron job's script that is executing right now."""

    pid: int
    user: str
    started_at: float
    cmdline: str

    def elapsed(self, now: float | None = None) -> float:
        return max(0.0, (now or time.time()) - self.started_at)


@dataclass(frozen=True, eq=False, repr=False)
class CronReading(Record):
    """One cron job as found in the crontab, with its runs executing now."""

    id: str
    script: str
    # enabled | disabled_by_cockpit | disabled_other | absent | unknown
    state: str
    schedule: str = ""
    line: str = ""
    next_run: float | None = None
    running: tuple[ProcessRun, ...] = ()
    freshness: Freshness = field(default_factory=Freshness)


@dataclass(frozen=True, eq=False, repr=False)
class TableReading(Record):
    """One table's presence and size (estimates unless `exact_rows` says otherwise)."""

    name: str
    exists: bool | None  # None: unknown (source unreachable)
    has_rows: bool | None = None
    estimated_rows: int | None = None
    size_bytes: int | None = None
    exact_rows: int | None = None
    exact_at: float | None = None
    columns: tuple[str, ...] = ()
    freshness: Freshness = field(default_factory=Freshness)

    @property
    def state(self) -> str:
        if self.exists is None:
            return "unknown"
        if not self.exists:
            return "absent"
        if self.has_rows is None:
            return "present"
        return "rows" if self.has_rows else "empty"


@dataclass(frozen=True, eq=False, repr=False)
class ActivityReading(Record):
    """One activity check's reading: rows written inside its window."""

    id: str
    text: str
    recent_rows: int | None  # rows written inside the window; None when unknown
    window_minutes: int
    freshness: Freshness = field(default_factory=Freshness)
    # how it was read: "" through an index on the column; "newest N rows by key" when the
    # column has no index (never a scan of the table); the check is refused otherwise
    method: str = ""

    @property
    def active(self) -> bool | None:
        return None if self.recent_rows is None else self.recent_rows > 0


@dataclass(frozen=True, eq=False, repr=False)
class LogReading(Record):
    """One error log's match counts, per minute and in total."""

    path: str
    pattern: str
    exists: bool
    matches_last_minute: int = 0
    matches_total: int = 0
    rate_per_minute: tuple[int, ...] = ()  # oldest first, one bucket per minute
    last_matches: tuple[str, ...] = ()
    freshness: Freshness = field(default_factory=Freshness)


@dataclass(frozen=True, eq=False, repr=False)
class PhaseSnapshot(Record):
    """Everything read for one phase, and the state derived from it."""

    id: int
    name: str
    state: str  # live | partly rolled back | rolled back | unknown
    flags: tuple[FlagReading, ...]
    cron: tuple[CronReading, ...]
    tables: tuple[TableReading, ...]
    columns: tuple[tuple[str, str, bool | None], ...] = ()  # (table, column, exists)
    activity: tuple[ActivityReading, ...] = ()
    logs: tuple[LogReading, ...] = ()


@dataclass(frozen=True, eq=False, repr=False)
class HostReading(Record):
    """The machine the cockpit runs on: load, memory, disks, its own cost."""

    load_1m: float
    load_5m: float
    cpu_percent: float
    memory_percent: float
    disks: tuple[tuple[str, float, float], ...]  # (path, free bytes, percent used)
    own_cpu_percent: float
    own_rss_bytes: int
    notes: tuple[str, ...] = ()  # e.g. a configured disk path that does not exist
    freshness: Freshness = field(default_factory=Freshness)


@dataclass(frozen=True, eq=False, repr=False)
class ConnectionReading(Record):
    """The state of the link to the target database."""

    target: str
    state: str  # connected | lost | connecting | unconfigured
    server: str = ""  # e.g. "MariaDB 10.11.6" or "SQLite 3.40"
    error: str | None = None
    lost_since: float | None = None
    next_retry_at: float | None = None
    queries_last_refresh: int = 0
    notices: tuple[str, ...] = ()  # e.g. a permission error on one query, shown once


@dataclass(frozen=True, eq=False, repr=False)
class Snapshot(Record):
    """One refresh's readings of the whole system, taken at `taken_at`."""

    taken_at: float
    target: str
    connection: ConnectionReading
    phases: tuple[PhaseSnapshot, ...]
    host: HostReading | None = None
    refresh_seconds: float = 0.0

    def phase(self, phase_id: int) -> PhaseSnapshot:
        for phase in self.phases:
            if phase.id == phase_id:
                return phase
        raise KeyError(phase_id)

    def to_json(self) -> dict[str, Any]:
        """The stable shape printed by `cockpit status --json`."""
        data = asdict(self)
        data["schema"] = SCHEMA_VERSION
        return data


def derive_phase_state(flags: tuple[FlagReading, ...], cron: tuple[CronReading, ...]) -> str:
    """A phase is `rolled back` once nothing of it runs: every flag read off and
    no cron job enabled; `live` while every flag is on and every job enabled; anything
    between is `partly rolled back`. Unknown or missing readings (a missing flag takes the
    application's default, maybe on) make the whole state unknown, so a lost connection
    or an absent row can never show as rolled back."""
    if any(f.state in ("unknown", "missing") or f.freshness.stale_since is not None for f in flags):
        return "unknown"  # a stale "off" read before the connection dropped proves nothing now
    if any(c.state == "unknown" for c in cron):
        return "unknown"
    running = [f.state == "on" for f in flags] + [c.state == "enabled" for c in cron]
    if not running:
        return "unknown"
    if all(running):
        return "live"
    if not any(running) and not any(c.running for c in cron):
        return "rolled back"
    return "partly rolled back"
