"""Live evidence next to a checklist tick.

A tick is the operator's word; the evidence is what the system says. Showing both side by
side catches the 3 a.m. "yes I turned the flags off" when one is still on. Pure
functions over a snapshot, the journal's events and the watch: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cockpit.probes.snapshot import LogReading, PhaseSnapshot
from cockpit.text import clean

EVIDENCE_LIMIT = 300

LOG_EVENT_KINDS = frozenset({"log_written", "log_appended", "log_append", "rollback_log"})


@dataclass(frozen=True)
class Evidence:
    ok: bool | None  # None: cannot tell (no reading, source unreachable)
    text: str

    def __post_init__(self) -> None:
        # names in the text (flag keys, job ids, paths) come from the plan and live system
        object.__setattr__(self, "text", clean(self.text, limit=EVIDENCE_LIMIT))


def spike(reading: LogReading) -> bool:
    """A spike: the last minute well above the recent average (and more than a trickle)."""
    earlier = reading.rate_per_minute[:-1] if reading.rate_per_minute else ()
    baseline = (sum(earlier) / len(earlier)) if earlier else 0.0
    return reading.matches_last_minute >= 3 and reading.matches_last_minute > 2 * baseline


def evidence_for(kind: str, phase_id: int, snap: PhaseSnapshot | None, events: Iterable[Any], watch: Any, now: float) -> Evidence:
    events = list(events)
    if kind == "backup":
        backups = [e for e in events if e.kind == "backup_verified" and e.phase == phase_id]
        if backups:
            return Evidence(True, "verified backup in journal")
        return Evidence(False, "no verified backup yet")
    if kind == "log_written":
        if any(e.kind in LOG_EVENT_KINDS and e.phase == phase_id for e in events):
            return Evidence(True, "log entry appended")
        return Evidence(False, "no log entry yet")
    if kind == "watch":
        from cockpit.watch.coverage import watch_evidence  # hours covered and gaps, from the watcher's heartbeats

        hours = getattr(watch, "hours", None) or 24.0
        return Evidence(*watch_evidence(events, phase_id, now, min(hours, 24.0)))
    if snap is None:
        return Evidence(None, "no live reading")
    if kind == "flags_off":
        if any(f.state == "unknown" or f.freshness.stale for f in snap.flags):
            return Evidence(None, "flags unknown")
        on = [f.key for f in snap.flags if f.state == "on"]
        return Evidence(False, f"on: {', '.join(on)}") if on else Evidence(True, "all flags off")
    if kind == "cron_stopped":
        if any(c.state == "unknown" for c in snap.cron):
            return Evidence(None, "cron unknown")
        enabled = [c.id for c in snap.cron if c.state == "enabled"]
        running = [r.pid for c in snap.cron for r in c.running]
        if enabled:
            return Evidence(False, f"enabled: {', '.join(enabled)}")
        if running:
            return Evidence(False, f"still running: pid {', '.join(map(str, running))}")
        return Evidence(True, "no job enabled or running" if snap.cron else "no cron jobs")
    if kind == "no_active_users":
        if not snap.activity:
            return Evidence(None, "no activity reading")
        if any(a.recent_rows is None for a in snap.activity):
            return Evidence(None, "activity unknown")
        busy = [f"{a.recent_rows} rows/{a.window_minutes}m" for a in snap.activity if a.recent_rows]
        return Evidence(False, "active: " + ", ".join(busy)) if busy else Evidence(True, "no recent activity")
    if kind == "error_logs":
        if not snap.logs:
            return Evidence(None, "no error log configured")
        refused = [r.freshness.error for r in snap.logs if not r.exists and r.freshness.error and "not watched" in r.freshness.error]
        if refused:
            return Evidence(None, refused[0])
        missing = [r.path for r in snap.logs if not r.exists]
        spiking = [r for r in snap.logs if spike(r)]
        if spiking:
            return Evidence(False, f"spike: {spiking[0].matches_last_minute}/min")
        rate = sum(r.matches_last_minute for r in snap.logs)
        if missing and len(missing) == len(snap.logs):
            return Evidence(None, "log file not found")
        return Evidence(True, f"no spike ({rate}/min)")
    return Evidence(None, "")
