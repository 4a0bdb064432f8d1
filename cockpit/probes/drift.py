"""Alerts from one snapshot to the next: something rolled back is coming back to life.

After a rollback the operator watches for 24-48h; nobody stares at every row for that
long. Drift turns changes into alerts, raised once on the transition (not on every
refresh while the condition holds), so a flag someone switched back on, a cron line
re-enabled or a dropped table recreated is seen the minute it happens.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from cockpit.probes.snapshot import PhaseSnapshot, Snapshot, TableReading

KINDS = (
    "flag_on",
    "cron_enabled",
    "table_back",
    "table_refilling",
    "activity",
    "log_spike",
    "connection_lost",
    "connection_restored",
    "process_running",
)
LOG_SPIKE_THRESHOLD = 10
# information_schema row estimates wander by several percent on InnoDB without a single
# write; growth inside this slack is not called "refilling".
ESTIMATE_SLACK = 0.10


@dataclass(frozen=True)
class Alert:
    """A change the watch noticed that nobody journalled (or a lost connection)."""

    kind: str
    phase_id: int | None  # None for alerts about the connection itself
    subject: str
    message: str
    at: float


def detect_drift(
    previous: Snapshot | None,
    current: Snapshot,
    rolled_back: set[int],
    log_spike_threshold: int = LOG_SPIKE_THRESHOLD,
    guard_tables: Mapping[int, Collection[str]] | None = None,
) -> list[Alert]:
    """Alerts for what changed between `previous` and `current`.

    Flag, cron, table, activity and process alerts concern only phases in `rolled_back`
    (a live phase is supposed to have its flags on). Error-log spikes and the connection
    are reported for every phase. `guard_tables` limits refilling alerts to each phase's
    guard tables; without it every table of a rolled-back phase is watched."""
    alerts: list[Alert] = []
    at = current.taken_at
    alerts += _connection(previous, current, at)
    for phase in current.phases:
        before = _phase(previous, phase.id)
        if phase.id in rolled_back:
            guards = None if guard_tables is None else set(guard_tables.get(phase.id, ()))
            alerts += _flags(phase, before, at)
            alerts += _cron(phase, before, at)
            alerts += _tables(phase, before, at, guards)
            alerts += _activity(phase, before, at)
            alerts += _processes(phase, before, at)
        alerts += _logs(phase, before, at, log_spike_threshold)
    return alerts


def _phase(snapshot: Snapshot | None, phase_id: int) -> PhaseSnapshot | None:
    if snapshot is None:
        return None
    try:
        return snapshot.phase(phase_id)
    except KeyError:
        return None


T = TypeVar("T")
K = TypeVar("K")


def _by_key(items: Iterable[T] | None, key: Callable[[T], K]) -> dict[K, T]:
    return {} if items is None else {key(item): item for item in items}


def _connection(previous: Snapshot | None, current: Snapshot, at: float) -> list[Alert]:
    now = current.connection
    was = previous.connection.state if previous is not None else None
    if now.state == "lost" and was != "lost":
        why = f": {now.error}" if now.error else ""
        return [Alert("connection_lost", None, now.target, f"lost the connection to {now.target}{why}", at)]
    if now.state == "connected" and was == "lost":
        return [Alert("connection_restored", None, now.target, f"connection to {now.target} restored", at)]
    return []


def _flags(phase: PhaseSnapshot, before: PhaseSnapshot | None, at: float) -> list[Alert]:
    old = _by_key(before.flags if before else None, lambda f: f.key)
    alerts = []
    for flag in phase.flags:
        prior = old.get(flag.key)
        if flag.state == "on" and (prior is None or prior.state != "on"):
            alerts.append(Alert("flag_on", phase.id, flag.key, f"phase {phase.id} is rolled back but flag {flag.key} is on again", at))
    return alerts


def _cron(phase: PhaseSnapshot, before: PhaseSnapshot | None, at: float) -> list[Alert]:
    old = _by_key(before.cron if before else None, lambda c: c.id)
    alerts = []
    for job in phase.cron:
        prior = old.get(job.id)
        if job.state == "enabled" and (prior is None or prior.state != "enabled"):
            alerts.append(Alert("cron_enabled", phase.id, job.id,
                                f"phase {phase.id} is rolled back but cron job {job.id} is enabled again: {job.line}", at))
    return alerts


def _processes(phase: PhaseSnapshot, before: PhaseSnapshot | None, at: float) -> list[Alert]:
    old = _by_key(before.cron if before else None, lambda c: c.id)
    alerts = []
    for job in phase.cron:
        prior = old.get(job.id)
        seen = {run.pid for run in prior.running} if prior is not None else set()
        new = [run for run in job.running if run.pid not in seen]
        if new:
            pids = ", ".join(str(run.pid) for run in new)
            alerts.append(Alert("process_running", phase.id, job.script,
                                f"phase {phase.id} is rolled back but {job.script} is running (pid {pids})", at))
    return alerts


def _tables(phase: PhaseSnapshot, before: PhaseSnapshot | None, at: float, guards: set[str] | None) -> list[Alert]:
    old: dict[str, TableReading] = _by_key(before.tables if before else None, lambda t: t.name)
    alerts = []
    for table in phase.tables:
        prior = old.get(table.name)
        if prior is None or table.exists is not True:
            continue
        if prior.exists is False:
            alerts.append(Alert("table_back", phase.id, table.name,
                                f"table {table.name} was dropped in the rollback of phase {phase.id} and exists again", at))
            continue
        if guards is not None and table.name not in guards:
            continue
        if prior.has_rows is False and table.has_rows is True:
            alerts.append(Alert("table_refilling", phase.id, table.name, f"table {table.name} was empty and has rows again", at))
        elif _grew(prior.estimated_rows, table.estimated_rows):
            alerts.append(Alert("table_refilling", phase.id, table.name,
                                f"table {table.name} is growing: about {prior.estimated_rows} -> {table.estimated_rows} rows", at))
    return alerts


def _grew(before: int | None, now: int | None) -> bool:
    if before is None or now is None:
        return False
    return now > before + max(1, int(before * ESTIMATE_SLACK))


def _activity(phase: PhaseSnapshot, before: PhaseSnapshot | None, at: float) -> list[Alert]:
    old = _by_key(before.activity if before else None, lambda a: a.id)
    alerts = []
    for check in phase.activity:
        prior = old.get(check.id)
        if check.active and (prior is None or not prior.active):
            alerts.append(Alert("activity", phase.id, check.id, f"phase {phase.id} is rolled back but {check.recent_rows} rows were "
                                f"written in the last {check.window_minutes} min ({check.text})", at))
    return alerts


def _logs(phase: PhaseSnapshot, before: PhaseSnapshot | None, at: float, threshold: int) -> list[Alert]:
    old = _by_key(before.logs if before else None, lambda r: (r.path, r.pattern))
    alerts = []
    for log in phase.logs:
        prior = old.get((log.path, log.pattern))
        spiking = log.matches_last_minute > threshold
        was = prior is not None and prior.matches_last_minute > threshold
        if spiking and not was:
            alerts.append(Alert("log_spike", phase.id, log.path, f"{log.matches_last_minute} errors matching /{log.pattern}/ in "
                                f"{log.path} in the last minute (threshold {threshold})", at))
    return alerts
