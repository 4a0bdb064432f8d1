"""Evidence next to a checklist tick, derived here so every view (the TUI's checklist,
`cockpit tick --list`) says the same thing.

A tick is the operator's word; the evidence is what the system and the journal say.
Showing both side by side catches the 3 a.m. "yes I turned the flags off" when one is
still on. Pure functions over a snapshot and the journal's events: no I/O.

The watch's coverage ("monitor for 24 hours") is judged by `cockpit.watch.coverage`, a
layer above this one: callers pass its verdict in as `watched`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cockpit.journal import Event, Journal
from cockpit.plan.model import Plan
from cockpit.plan.smoke import smoke_checks
from cockpit.probes.snapshot import LogReading, PhaseSnapshot
from cockpit.text import clean

EVIDENCE_LIMIT = 300

LOG_EVENT_KINDS = frozenset({"log_written", "log_appended", "log_append", "rollback_log"})
# the evidence kinds the journal alone decides (no live reading needed)
JOURNAL_KINDS = frozenset({"backup", "log_written", "watch", "smoke"})


@dataclass(frozen=True)
class Ways:
    """How the view showing the evidence takes a full dump or runs the smoke checks:
    the TUI names its keys, the CLI its commands."""

    full_dump: str  # who takes a full dump, e.g. "b"
    smoke: str  # the sentence that says how to run the smoke checks


TUI_WAYS = Ways(full_dump="b", smoke="press s to run the smoke checks")
CLI_WAYS = Ways(full_dump="cockpit backup-full", smoke="cockpit smoke --record runs the smoke checks")


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


def _size(n: object) -> str:
    """Bytes as the board writes them (1.5G); "?" when the journal did not say."""
    if not isinstance(n, (int, float)):
        return "?"
    value = float(n)
    for unit in ("B", "K", "M", "G"):
        if abs(value) < 1024:
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}T"


def backup_scope(plan: Plan, phase_id: int, events: Iterable[Event], found: Evidence,
                 full_dumps: Sequence[Event] = (), ways: Ways = TUI_WAYS) -> Evidence:
    """"Backup database (full dump)": a journalled full dump of the whole database
    (`cockpit backup-full`, `b`) when there is one; else say whether the phase's verified
    dump covers every table of the plan or only the phase's own, so a phase dump is never
    taken for the full one."""
    if full_dumps:
        last = full_dumps[-1].data
        return Evidence(True, f"full dump verified: {last.get('path')} ({last.get('tables')} tables, "
                              f"{_size(last.get('size'))})")
    dumps = [e for e in events if e.kind == "backup_verified" and e.phase == phase_id]
    if not dumps:
        return Evidence(found.ok, f"{found.text}; {ways.full_dump} takes a full dump")
    tables = set(dumps[-1].data.get("tables", []))
    everything = set(plan.all_tables)
    if everything and everything <= tables:
        return Evidence(True, f"full dump verified ({len(tables)} tables)")
    return Evidence(None, f"phase {phase_id}'s {len(tables)} tables only, not a full dump ({len(everything)} tables; "
                          f"{ways.full_dump} takes one)")


def smoke_evidence(plan: Plan, phase_id: int, events: Iterable[Event], ways: Ways = TUI_WAYS) -> Evidence:
    """"Verify system functionality": the latest recorded smoke run for this phase (or the
    platform), with its time; `s` (or `cockpit smoke --record`) runs the checks again."""
    if not smoke_checks(plan, phase_id):
        return Evidence(None, "no smoke checks in the plan")
    runs = [e for e in events if e.kind == "smoke" and e.phase in (None, phase_id)]
    if not runs:
        return Evidence(None, ways.smoke)
    last = runs[-1]
    results = last.data.get("results", [])
    failed = [r for r in results if not r.get("ok")]
    when = time.strftime("%H:%M", time.localtime(last.at))
    if failed:
        first = failed[0]
        return Evidence(False, f"{first.get('id')}: {first.get('detail')} ({when})")
    return Evidence(True, f"{len(results)}/{len(results)} smoke checks passed {when}")


def journal_evidence(kind: str, plan: Plan, phase_id: int, journal: Journal,
                     watched: tuple[bool | None, str] | None = None, ways: Ways = TUI_WAYS) -> Evidence | None:
    """The evidence the journal alone decides (see JOURNAL_KINDS), or None for a kind
    that needs a live reading. Each kind reads only its own events (filtered in SQL by
    the journal): the checklist redraws this for every item of a day-long watch."""
    if kind == "backup":
        ours = journal.events(phase_id, kinds=("backup_verified",))
        found = Evidence(True, "verified backup in journal") if ours else Evidence(False, "no verified backup yet")
        return backup_scope(plan, phase_id, ours, found, journal.events(kinds=("full_backup_verified",)), ways)
    if kind == "log_written":
        if journal.events(phase_id, kinds=LOG_EVENT_KINDS):
            return Evidence(True, "log entry appended")
        return Evidence(False, "no log entry yet")
    if kind == "watch":
        return Evidence(*watched) if watched is not None else Evidence(None, "watch coverage not read")
    if kind == "smoke":
        return smoke_evidence(plan, phase_id, journal.events(kinds=("smoke",)), ways)
    return None


def live_evidence(kind: str, snap: PhaseSnapshot | None) -> Evidence:
    """The evidence a live reading decides: flags off, cron stopped, nobody active, quiet logs."""
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


def evidence_for(kind: str, plan: Plan, phase_id: int, snap: PhaseSnapshot | None, journal: Journal,
                 watched: tuple[bool | None, str] | None = None) -> Evidence:
    """One checklist item's evidence: from the journal when it decides, else the live reading."""
    found = journal_evidence(kind, plan, phase_id, journal, watched)
    return found if found is not None else live_evidence(kind, snap)
