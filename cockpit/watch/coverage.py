"""How much of "Monitor for 24 hours" really happened, per phase, from the heartbeats.

The checklist item is evidence only if someone (the watcher) was looking: a segment
between two heartbeats counts for a phase when the phase was watched and the database
answered. A watcher that died (heartbeats stop, then a restart) or a database that did
not answer is a gap, listed with its times, so "24 h" never hides a night unwatched.
Pure function of the journal and a clock.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from cockpit.journal import Event

from .record import Heartbeat, heartbeat_of, watch_period

WATCHER_DOWN = "watcher down"
DB_UNREACHABLE = "database unreachable"


@dataclass(frozen=True)
class Gap:
    start: float
    end: float
    reason: str
    ongoing: bool = False

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def describe(self) -> str:
        fmt = "%m-%d %H:%M"
        end = "now" if self.ongoing else time.strftime(fmt, time.localtime(self.end))
        return f"{self.reason} {time.strftime(fmt, time.localtime(self.start))}–{end}"


@dataclass(frozen=True)
class PhaseCoverage:
    phase_id: int
    covered_seconds: float
    required_hours: float
    first_at: float | None
    gaps: tuple[Gap, ...]
    watching: bool  # a live watcher is covering the phase right now

    @property
    def covered_hours(self) -> float:
        return self.covered_seconds / 3600

    @property
    def complete(self) -> bool:
        return self.covered_seconds >= self.required_hours * 3600

    def to_json(self) -> dict[str, object]:
        return {
            "phase": self.phase_id, "covered_hours": round(self.covered_hours, 3), "required_hours": self.required_hours,
            "complete": self.complete, "watching": self.watching, "first_at": self.first_at,
            "gaps": [{"start": g.start, "end": g.end, "reason": g.reason, "ongoing": g.ongoing} for g in self.gaps],
        }


# The kinds `coverage` (and `watch_evidence`) folds: the watcher's heartbeats and goodbyes,
# and whether a watch period runs (`watch_period`: its start and end; an extension
# moves its end time, which coverage does not read). tests/test_journal_kind_folds.py
# proves each kind here is needed and none is missing.
COVERAGE_KINDS = frozenset({"watch_heartbeat", "watch_start", "watch_end"})


def coverage(events: Iterable[Event], phase_id: int, now: float, required_hours: float = 24.0) -> PhaseCoverage:
    events = list(events)
    covered = 0.0
    gaps: list[Gap] = []
    first: float | None = None
    prev: Heartbeat | None = None
    last_seen: float | None = None  # the last moment the phase was known covered or in a gap

    def gap(start: float, end: float, reason: str, ongoing: bool = False) -> None:
        if end <= start:
            return
        if gaps and gaps[-1].reason == reason and abs(gaps[-1].end - start) < 1e-6:
            gaps[-1] = Gap(gaps[-1].start, end, reason, ongoing)
        else:
            gaps.append(Gap(start, end, reason, ongoing))

    for e in events:
        if e.kind == "watch_end" and prev is not None:
            if phase_id in prev.phases:
                if prev.db == "connected":
                    covered += max(0.0, e.at - prev.at)
                else:
                    gap(prev.at, e.at, DB_UNREACHABLE)
                last_seen = e.at
            prev = None
            continue
        if e.kind != "watch_heartbeat":
            continue
        beat = heartbeat_of(e)
        if phase_id in beat.phases and first is None:
            first = beat.at
        if prev is None or beat.pid != prev.pid:
            # a new watcher run: the time since the phase was last covered was unwatched
            if last_seen is not None and phase_id in beat.phases:
                gap(last_seen, beat.at, WATCHER_DOWN)
        elif phase_id in prev.phases:
            span = beat.at - prev.at
            if span > max(2.5 * prev.interval, prev.interval + 10):
                gap(prev.at, beat.at, WATCHER_DOWN)
            elif prev.db == "connected":
                covered += span
            else:
                gap(prev.at, beat.at, DB_UNREACHABLE)
        if phase_id in beat.phases:
            last_seen = beat.at
        prev = beat

    watching = False
    period = watch_period(events)
    if prev is not None and phase_id in prev.phases:
        if now - prev.at <= prev.stale_after():
            watching = True
            if prev.db == "connected":
                covered += max(0.0, now - prev.at)
            else:
                gap(prev.at, now, DB_UNREACHABLE, ongoing=True)
        elif period is not None and period.running:
            gap(prev.at, now, WATCHER_DOWN, ongoing=True)
    return PhaseCoverage(phase_id, covered, required_hours, first, tuple(gaps), watching)


def watch_evidence(events: Iterable[Event], phase_id: int, now: float, required_hours: float) -> tuple[bool | None, str]:
    """The checklist's "Monitor for N hours": (ok, text). ok is True once the hours are
    covered, None while a watch is under way, False when nothing watched the phase."""
    cov = coverage(events, phase_id, now, required_hours)
    if cov.first_at is None:
        return False, "not watched yet"
    gaps = f"; {len(cov.gaps)} gap(s): " + ", ".join(g.describe() for g in cov.gaps[:3]) if cov.gaps else ""
    text = f"watched {cov.covered_hours:.1f} h of {required_hours:g} h{gaps}"
    if cov.complete:
        return True, text
    if not cov.watching:
        return None, text + " (no watcher running)"
    return None, text
