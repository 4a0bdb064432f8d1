"""One reading per plan cron job: its crontab state, next run and in-flight runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from cockpit.cron import scan
from cockpit.cron.errors import CronError
from cockpit.cron.source import CronText, read_crontab
from cockpit.plan.model import Plan
from cockpit.probes.processes import find_runs
from cockpit.probes.snapshot import CronReading, Freshness, ProcessRun

UNKNOWN = "unknown"


def read_cron(plan: Plan, now: float | None = None, text: CronText | None = None,
              reader: Callable[[], CronText] | None = None) -> dict[str, CronReading]:
    """Readings keyed by job id, in rollback order. An unreadable crontab makes every job
    `unknown` (never `absent`: a job we cannot see might still be scheduled), but the
    process table is still read so a running sync is shown regardless. `reader`: how to
    read the crontab (the live system's CrontabReader); a fresh read_crontab by default."""
    now = time.time() if now is None else now
    jobs = plan.all_cron_jobs
    runs = find_runs(job.script for job in jobs)
    error: str | None = None
    if text is None:
        try:
            text = reader() if reader is not None else read_crontab(plan.cron_source)
        except CronError as exc:
            error = str(exc)
    readings: dict[str, CronReading] = {}
    for job in jobs:
        running: tuple[ProcessRun, ...] = runs.get(job.script, ())
        if text is None:
            readings[job.id] = CronReading(
                id=job.id,
                script=job.script,
                state=UNKNOWN,
                schedule=job.schedule,
                running=running,
                freshness=Freshness(fetched_at=None, stale_since=now, error=error),
            )
            continue
        state, line = scan.job_state(job, text.lines)
        schedule = line.schedule if line is not None else job.schedule
        readings[job.id] = CronReading(
            id=job.id,
            script=job.script,
            state=state,
            schedule=schedule,
            line=line.raw.strip() if line is not None else "",
            next_run=next_run(schedule, now) if state == scan.ENABLED else None,
            running=running,
            freshness=Freshness(fetched_at=text.read_at),
        )
    return readings


_NEXT: dict[tuple[str, int, int, int], tuple[float, float]] = {}  # (schedule, zone) -> (computed at, next run)


def next_run(schedule: str, now: float) -> float | None:
    """Next time cron would start the job (cron works in local time); None for schedules
    that have no next time, such as @reboot.

    The answer is the first start strictly after `now`, so one computed at t0 holds for
    every now in [t0, answer): a refresh every 5 s reuses it (croniter costs ~0.3 ms a
    job) until the run comes due. Keyed on the local zone too (a changed TZ recomputes)."""
    key = (schedule, time.timezone, time.altzone, time.daylight)
    cached = _NEXT.get(key)
    if cached is not None and cached[0] <= now < cached[1]:
        return cached[1]
    try:
        start = datetime.fromtimestamp(now).astimezone()
        from croniter import croniter  # loaded on first use: ~50 ms of start-up

        answer = float(croniter(schedule, start).get_next(float))
    except (ValueError, KeyError, TypeError, ArithmeticError):  # CroniterError is a ValueError
        return None
    if len(_NEXT) >= 256:  # schedules come from the plan and the crontab: few; never unbounded
        _NEXT.clear()
    _NEXT[key] = (now, answer)
    return answer
