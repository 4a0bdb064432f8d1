"""The guards every step kind shares: reverse order, prerequisites, flags off.

(The guards of the steps that move tables — quarantine, backup, final drop, restore —
live in table_guards.py as pure functions over one inputs value.)

Each guard answers from LIVE data at the moment it is asked (plus the journal), never
from a snapshot taken earlier: the snapshot is what the operator looked at, the live
read is what is true when the DROP runs. `preview_*` variants answer from a snapshot
for the step list, which must stay free of I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cockpit.db.errors import DatabaseError
from cockpit.journal import Event
from cockpit.plan.model import Phase, Plan, Step
from cockpit.probes.flags import FlagError, counts_as_off
from cockpit.probes.snapshot import Snapshot

from . import state
from .types import DATABASE as DATABASE
from .types import GuardResult

ORDER = "order"
PREREQUISITES = "prerequisites"
FLAGS_OFF = "flags_off"
DATA = "data"


async def live_flag_states(db: Any, plan: Plan, flags: tuple[str, ...]) -> dict[str, str]:
    """Flag key -> on/off/missing/ambiguous/unknown, read now with the database's own key
    matching (one `WHERE key = ?` per flag, under the column's collation)."""
    from cockpit.probes.flags import is_ambiguous, read_flags

    readings = await read_flags(db, plan.flag_store, flags)
    out = {}
    for key in flags:
        reading = readings.get(key)
        out[key] = "unknown" if reading is None else "ambiguous" if is_ambiguous(reading) else reading.state
    return out


def _flags_all_off(states: dict[str, str]) -> bool:
    """Every flag read as off. Missing, ambiguous and unknown never count as off: the
    application's default applies to a missing flag, and that default may be on."""
    return bool(states) and all(counts_as_off(value) for value in states.values())


def _cron_all_stopped_live(plan: Plan, phase: Phase) -> bool:
    """No job of the phase is enabled in the crontab right now: flags off alone leave the
    phase's background jobs writing, which is not rolled back."""
    if not phase.cron:
        return True
    from cockpit.probes.cron import read_cron

    readings = read_cron(plan)
    return all(readings[job.id].state not in ("enabled", "unknown") for job in phase.cron if job.id in readings)


async def order_guard(events: Sequence[Event], plan: Plan, phase: Phase, db: Any | None) -> GuardResult:
    """Reverse order: a later phase must be rolled back — in the journal, or live (every
    flag off and no cron job of it enabled, e.g. after an emergency rollback and a
    hand-edited crontab)."""
    if state.phase_started(events, phase.id):
        return GuardResult(ORDER, True, f"phase {phase.id} already started", overridable=True)
    pending: list[str] = []
    for later in plan.later_phases(phase):
        if state.journal_rolled_back(events, later):
            continue
        if db is not None and later.flags:
            try:
                if _flags_all_off(await live_flag_states(db, plan, later.flags)) and _cron_all_stopped_live(plan, later):
                    continue
            except (DatabaseError, FlagError):
                pass
        pending.append(str(later.id))
    if pending:
        return GuardResult(ORDER, False, f"phase(s) {', '.join(pending)} not rolled back yet (reverse order 10 -> 7)", overridable=True)
    return GuardResult(ORDER, True, "every later phase is rolled back", overridable=True)


def preview_order_guard(events: Sequence[Event], plan: Plan, phase: Phase, snapshot: Snapshot | None) -> GuardResult:
    if state.phase_started(events, phase.id):
        return GuardResult(ORDER, True, f"phase {phase.id} already started", overridable=True)
    pending = []
    for later in plan.later_phases(phase):
        if state.journal_rolled_back(events, later):
            continue
        if snapshot is not None:
            try:
                flags = {f.key: f.state for f in snapshot.phase(later.id).flags}
            except KeyError:
                flags = {}
            try:
                cron_running = any(c.state == "enabled" for c in snapshot.phase(later.id).cron)
            except KeyError:
                cron_running = bool(later.cron)
            if _flags_all_off(flags) and not cron_running:
                continue
        pending.append(str(later.id))
    if pending:
        return GuardResult(ORDER, False, f"phase(s) {', '.join(pending)} not rolled back yet", overridable=True)
    return GuardResult(ORDER, True, "every later phase is rolled back", overridable=True)


def abort_order_guard(events: Sequence[Event], plan: Plan, phase: Phase) -> GuardResult:
    """Undoing a rollback goes the other way (7 -> 10): a phase's features come back only
    while every earlier phase it builds on is live again."""
    held = [str(p.id) for p in sorted(plan.phases, key=lambda p: p.id) if p.id < phase.id and state.journal_rolled_back(events, p)]
    if held:
        return GuardResult(ORDER, False, f"phase(s) {', '.join(held)} still rolled back: undo them first (forward order 7 -> 10)",
                           overridable=True)
    return GuardResult(ORDER, True, "no earlier phase is rolled back", overridable=True)


def prerequisite_guard(events: Sequence[Event], phase: Phase, step: Step) -> GuardResult:
    """Within a phase: the quarantine only after flags_off (and cron_stop when the phase
    has cron); the later table steps follow from the quarantine (engine/table_guards.py)."""
    if step.kind != "quarantine":
        return GuardResult(PREREQUISITES, True, "none")
    missing = []
    if state.flags_off_at(events, phase) is None:
        missing.append(next((s.id for s in phase.steps if s.kind == "flags_off"), "flags_off"))
    if phase.cron and not state.cron_stopped(events, phase):
        missing.append(next((s.id for s in phase.steps if s.kind == "cron_stop"), "cron_stop"))
    if missing:
        return GuardResult(PREREQUISITES, False, f"run {', '.join(missing)} first")
    return GuardResult(PREREQUISITES, True, "flags off and cron stopped (journal)")


async def flags_off_guard(db: Any, plan: Plan, phase: Phase) -> GuardResult:
    """Feature flags first: read every flag of the phase now."""
    try:
        states = await live_flag_states(db, plan, phase.flags)
    except (DatabaseError, FlagError) as exc:
        return GuardResult(FLAGS_OFF, False, f"cannot read the flags: {exc}")
    on = [key for key, value in states.items() if not counts_as_off(value)]
    if on:
        return GuardResult(FLAGS_OFF, False, "not read as off: " + ", ".join(f"{k} ({states[k]})" for k in on))
    return GuardResult(FLAGS_OFF, True, "all off (read live): " + ", ".join(phase.flags))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
