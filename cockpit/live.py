"""All live state in one refresh: the database facts, flags, cron, in-flight runs, host, logs.

`LiveSystem` is what the TUI polls and what `cockpit status` prints once. It owns the
long-lived probes (the database probe keeps the last good values and its reconnect
backoff; the host probe keeps the previous CPU counters; the log watch keeps file offsets;
the crontab reader reads a user crontab again only when the spool moved), so a refresh
only reads what changed and never loads the database.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from cockpit.cron.source import CrontabReader
from cockpit.db.base import Database
from cockpit.plan import Plan
from cockpit.probes.cron import read_cron
from cockpit.probes.database import DatabaseFacts, DatabaseProbe
from cockpit.probes.drift import Alert, detect_drift
from cockpit.probes.flags import read_flags
from cockpit.probes.host import HostProbe
from cockpit.probes.logs import LogWatch
from cockpit.probes.snapshot import (
    ConnectionReading,
    CronReading,
    FlagReading,
    Freshness,
    HostReading,
    LogReading,
    PhaseSnapshot,
    Snapshot,
    TableReading,
    derive_phase_state,
)


class LiveSystem:
    """Long-lived probes over one target; `refresh()` returns a complete Snapshot."""

    def __init__(self, plan: Plan, db: Database | None, clock: Callable[[], float] = time.time) -> None:
        self.plan = plan
        self.db = db
        self.clock = clock
        self.database = DatabaseProbe(db) if db is not None else None
        self.host = HostProbe()
        self.logs = LogWatch(plan)
        self.crontab = CrontabReader(plan.cron_source)
        self.last: Snapshot | None = None
        self.alerts_since_last: list[Alert] = []
        self._refresh_lock = asyncio.Lock()
        # Refilling alerts watch the tables a rollback empties or drops, not tables that
        # only lose a column (assignment_plan_node keeps growing in normal operation).
        self._watched_tables = {
            phase.id: {t for step in phase.migration_steps for t in (*step.guard_tables, *step.drop_tables)}
            for phase in plan.phases
        }

    # the phases a view's journal says are rolled back (set by the TUI before each refresh);
    # None: judge by the previous snapshot's live state
    expected_rolled_back: set[int] | None = None

    async def refresh(self, rolled_back: set[int] | None = None) -> Snapshot:
        """One full refresh. Concurrent callers wait for the running one rather than
        doubling the load on production."""
        async with self._refresh_lock:
            started = time.perf_counter()
            # the host side (process scan, crontab, logs: a worker thread) runs while the
            # database answers: neither waits for the other, so the first snapshot of a
            # session comes after the slower of the two, not after both
            (facts, flags), (cron, host, logs) = await asyncio.gather(
                self._database_side(), asyncio.to_thread(self._read_host_side))
            snapshot = self._assemble(facts, flags, cron, host, logs, time.perf_counter() - started)
            previous_rolled_back = rolled_back
            if previous_rolled_back is None and self.last is not None:
                # a view's first snapshot raises nothing (its open alerts are in the journal)
                previous_rolled_back = self.expected_rolled_back
            if previous_rolled_back is None and self.last is not None:
                previous_rolled_back = {p.id for p in self.last.phases if p.state == "rolled back"}
            self.alerts_since_last = detect_drift(self.last, snapshot, previous_rolled_back or set(), guard_tables=self._watched_tables)
            self.last = snapshot
            return snapshot

    async def exact_count(self, table: str) -> int:
        """An exact COUNT(*) on request, bounded by the plan's statement time limit."""
        if self.database is None:
            raise RuntimeError("no database is configured for this target")
        return await self.database.exact_count(table)

    async def close(self) -> None:
        self.logs.close()

    def _read_host_side(self) -> tuple[dict[str, CronReading], HostReading, dict[int, tuple[LogReading, ...]]]:
        """Crontab, processes, host health and log files: blocking file and /proc reads,
        done in one worker-thread hop per refresh."""
        return read_cron(self.plan, reader=self.crontab.read), self.host.read(self.plan.paths.host_disks), self.logs.poll()

    async def _database_side(self) -> tuple[DatabaseFacts | None, dict[str, FlagReading]]:
        facts = await self._database_facts()
        return facts, await self._flags(facts)

    async def _database_facts(self) -> DatabaseFacts | None:
        if self.database is None:
            return None
        return await self.database.refresh(self.plan)

    async def _flags(self, facts: DatabaseFacts | None) -> dict[str, FlagReading]:
        """The sql backend's flags arrive with the database facts (same query); the
        command backend runs its get command per flag, off the event loop."""
        if self.plan.flag_store.backend == "sql":
            return dict(facts.flags) if facts is not None else {}
        return await read_flags(self.db, self.plan.flag_store, self.plan.all_flags)

    def _assemble(self, facts: DatabaseFacts | None, flags: dict[str, FlagReading], cron: dict[str, CronReading],
                  host: HostReading, logs: dict[int, tuple[LogReading, ...]], elapsed: float) -> Snapshot:
        now = self.clock()
        if facts is not None:
            connection = facts.connection
        else:
            connection = ConnectionReading(target=self.plan.target.label, state="unconfigured")
        phases = []
        for phase in self.plan.rollback_order:
            flag_readings = tuple(flags.get(key) or FlagReading(key=key, state="unknown", freshness=Freshness(error="not read"))
                                  for key in phase.flags)
            cron_readings = tuple(cron.get(job.id) or CronReading(id=job.id, script=job.script, state="unknown") for job in phase.cron)
            tables = tuple(
                (facts.tables.get(name) if facts is not None else None) or TableReading(name=name, exists=None)
                for name in phase.tables
            )
            columns = tuple(
                (ref.table, ref.column, facts.columns.get((ref.table, ref.column)) if facts is not None else None)
                for ref in phase.columns
            )
            activity = tuple(facts.activity[(phase.id, a.id)] for a in phase.activity
                             if facts is not None and (phase.id, a.id) in facts.activity)
            phases.append(
                PhaseSnapshot(
                    id=phase.id,
                    name=phase.name,
                    state=derive_phase_state(flag_readings, cron_readings),
                    flags=flag_readings,
                    cron=cron_readings,
                    tables=tables,
                    columns=columns,
                    activity=activity,
                    logs=tuple(logs.get(phase.id, ())),
                )
            )
        return Snapshot(
            taken_at=now,
            target=self.plan.target.label,
            connection=connection,
            phases=tuple(phases),
            host=host,
            refresh_seconds=round(elapsed, 4),
        )
