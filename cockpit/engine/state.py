"""Journal -> everything the cockpit shows about the rollback itself.

Pure functions over a list of events: no clock but the one passed in, no I/O. That is
what makes a restart exact — the same journal always yields the same ticks, statuses,
timings, alerts and watch — and what lets a read-only second cockpit show the same
picture as the one acting.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cockpit.journal import Event
from cockpit.plan.model import Phase, Plan

from .types import AlertRecord, EmergencyWarning, PhaseProgress, TickState, WatchState

if TYPE_CHECKING:
    from cockpit.probes.snapshot import Snapshot


@dataclass(frozen=True)
class StepRecord:
    """What the journal says about one step; `status` None means never attempted."""

    status: str | None
    message: str = ""
    started_at: float | None = None
    finished_at: float | None = None
    last_intent_id: int | None = None


# The kinds last_emergency folds: the emergency's intent and outcome, and the steps'
# outcomes (a later deliberate flags-on step settles an unfinished emergency).
EMERGENCY_KINDS = frozenset({"emergency_intent", "emergency_outcome", "step_outcome"})


@dataclass(frozen=True)
class EmergencyRecord:
    """The last emergency rollback by the journal. `status`: "done", "failed" (flags not
    off, read back), or "unfinished": an intent with no outcome — running now, or its
    process died between its first and its last flag, so some flags may be off and
    some not. `settled`: a phase's flags-on step completed after it (the operator turned
    flags back on deliberately: the emergency's aim no longer stands)."""

    intent_id: int
    at: float
    operator: str
    status: str
    message: str = ""
    settled: bool = False


def last_emergency(plan: Plan, events: Sequence[Event]) -> EmergencyRecord | None:
    flags_on = {(p.id, s.id) for p in plan.phases for s in p.all_steps if s.kind == "flags_on"}
    last: EmergencyRecord | None = None
    for e in events:
        if e.kind == "emergency_intent":
            last = EmergencyRecord(e.id, e.at, e.operator, "unfinished")
        elif last is None:
            continue
        elif e.kind == "emergency_outcome" and last.status == "unfinished" and e.data.get("intent_id", last.intent_id) == last.intent_id:
            last = EmergencyRecord(last.intent_id, last.at, last.operator, str(e.data.get("status", "failed")),
                                   str(e.data.get("message", "")))
        elif e.kind == "step_outcome" and (e.phase, e.step) in flags_on and e.data.get("status") == "done":
            last = EmergencyRecord(last.intent_id, last.at, last.operator, last.status, last.message, settled=True)
    return last


# An emergency's intent with no outcome is "running" this long when some other process may
# be running it (seen read-only, or by `cockpit status`), then "interrupted": its flags are
# switched in seconds.
EMERGENCY_SETTLE_S = 60.0


def emergency_warning(plan: Plan, last: EmergencyRecord | None, snapshot: Snapshot | None, now: float, *,
                      running_here: bool = False, may_run_elsewhere: bool = True,
                      rerun: str = "press !") -> EmergencyWarning | None:
    """What every view (the board, `cockpit status`) must say about the last emergency
    rollback, or None when it needs no word: done, running in this process (its screen
    shows it), settled by a deliberate flags-on since, or every one of its flags now read
    `off`. Otherwise FAILED (flags read back not off), or INTERRUPTED — an intent with no
    outcome and no process that can still finish it (`may_run_elsewhere` is False: the
    caller holds the operator lock; or the intent is older than EMERGENCY_SETTLE_S): it
    died between its first and its last flag, so some may be off and some not. The live
    flags decide whether it still matters; the journal says why. `rerun`: how to run it
    again where the text is shown (a key in the TUI, a command in the CLI)."""
    from cockpit.probes.flags import counts_as_off

    if last is None or last.status == "done" or last.settled or running_here:
        return None
    on = list(dict.fromkeys(f.key for p in (snapshot.phases if snapshot is not None else ()) for f in p.flags
                            if f.key in plan.emergency.flags and not counts_as_off(f.state)))
    if snapshot is not None and not on:
        return None
    when = time.strftime("%H:%M:%S", time.localtime(last.at))
    # the action first: at 80 columns the banner is cut after three lines, the flags
    # (each also on its phase's card) last
    still = f" · {len(on)} flag(s) not off: {', '.join(on)}" if on else ""
    if last.status == "unfinished":
        if may_run_elsewhere and now - last.at < EMERGENCY_SETTLE_S:
            return EmergencyWarning(f"EMERGENCY ROLLBACK RUNNING since {when} by {last.operator}{still}", running=True)
        return EmergencyWarning(f"EMERGENCY ROLLBACK INTERRUPTED at {when} by {last.operator}: "
                                f"{rerun} to run it again (safe to repeat){still}")
    return EmergencyWarning(f"EMERGENCY ROLLBACK FAILED at {when} by {last.operator}: {rerun} to retry{still}")


def step_record(events: Sequence[Event], phase_id: int | None, step_id: str) -> StepRecord:
    """Pair intents with outcomes. An intent with no outcome after it is `interrupted`:
    the process died mid-action and nobody knows whether the effect happened. A refusal
    changes nothing live, so it never hides an earlier `done` or `interrupted`."""
    status: str | None = None
    message = ""
    started: float | None = None
    finished: float | None = None
    intent_id: int | None = None
    prior: str | None = None  # the status before the current run's intent
    for event in events:
        if event.phase != phase_id or event.step != step_id:
            continue
        if event.kind == "step_intent":
            prior = status
            status, message, started, finished, intent_id = "interrupted", "interrupted — verify the live state", event.at, None, event.id
        elif event.kind == "step_outcome":
            outcome = event.data.get("status", "failed")
            if outcome == "refused":
                before = prior if event.data.get("intent_id") == intent_id and intent_id is not None and status == "interrupted" else status
                if before in ("done", "interrupted"):
                    status = before
                    continue
            status = outcome
            message = event.data.get("message", "")
            finished = event.at
            if outcome == "refused":
                started = None
    return StepRecord(status, message, started, finished, intent_id)


PHASE_STARTED_KINDS = frozenset({"step_intent", "override"})  # the kinds phase_started reads


def phase_started(events: Sequence[Event], phase_id: int) -> bool:
    """A phase has started once any of its steps was attempted or an override opened it."""
    return any(e.phase == phase_id and e.kind in PHASE_STARTED_KINDS for e in events)


def flags_off_event(events: Sequence[Event], phase: Phase) -> Event | None:
    """The event at which the phase's flags last went off (its flags_off step or an
    emergency that covered all of them), unless a later flags_on turned them back on.
    "After the flags went off" is judged by journal order (event id), not by clocks."""
    flags_off_steps = {s.id for s in phase.all_steps if s.kind == "flags_off"}
    flags_on_steps = {s.id for s in phase.all_steps if s.kind == "flags_on"}
    found: Event | None = None
    for event in events:
        if event.kind == "step_outcome" and event.phase == phase.id and event.data.get("status") == "done":
            if event.step in flags_off_steps:
                found = event
            elif event.step in flags_on_steps:
                found = None
        elif event.kind == "emergency_outcome":
            results = event.data.get("flags", {})
            if phase.flags and all(results.get(flag) == "off" for flag in phase.flags):
                found = event
    return found


def flags_off_at(events: Sequence[Event], phase: Phase) -> float | None:
    found = flags_off_event(events, phase)
    return found.at if found else None


def cron_stopped(events: Sequence[Event], phase: Phase) -> bool:
    """True when the phase has no cron_stop step or its last cron change was a stop."""
    stops = {s.id for s in phase.all_steps if s.kind == "cron_stop"}
    starts = {s.id for s in phase.all_steps if s.kind == "cron_start"}
    if not stops:
        return True
    state = False
    for event in events:
        if event.kind == "step_outcome" and event.phase == phase.id and event.data.get("status") == "done":
            if event.step in stops:
                state = True
            elif event.step in starts:
                state = False
    return state


def journal_rolled_back(events: Sequence[Event], phase: Phase) -> bool:
    """The journal shows the phase's flags off and its cron stopped."""
    return flags_off_at(events, phase) is not None and cron_stopped(events, phase)


def verified_backups(events: Sequence[Event], phase_id: int | None = None) -> list[Event]:
    return [e for e in events if e.kind == "backup_verified" and (phase_id is None or e.phase == phase_id)]


def ticks(events: Sequence[Event], phase_id: int) -> dict[tuple[str, str], TickState]:
    """The latest tick/untick per (which, item) of one phase."""
    state: dict[tuple[str, str], TickState] = {}
    for event in events:
        if event.phase == phase_id and event.kind in ("tick", "untick"):
            key = (event.data.get("which", "before"), event.data.get("item", ""))
            state[key] = TickState(event.kind == "tick", event.operator, event.at, event.data.get("note"))
    return state


def open_alerts(events: Sequence[Event]) -> list[AlertRecord]:
    acknowledged = {e.data.get("event_id") for e in events if e.kind == "alert_ack"}
    return [
        AlertRecord(e.id, e.at, e.data.get("kind", ""), e.phase, e.data.get("subject", ""), e.data.get("message", ""))
        for e in events
        if e.kind == "alert" and e.id not in acknowledged
    ]


def watch(events: Sequence[Event]) -> WatchState | None:
    """The watch in force: the last watch_start not followed by a watch_end."""
    current: WatchState | None = None
    for event in events:
        if event.kind == "watch_start":
            hours = float(event.data.get("hours", 24))
            current = WatchState(event.at, event.at + hours * 3600, event.phase, hours)
        elif event.kind == "watch_extend" and current is not None:  # `cockpit watch --extend H`
            more = float(event.data.get("hours", 0))
            current = WatchState(current.started_at, current.ends_at + more * 3600, current.phase_id, current.hours + more)
        elif event.kind == "watch_end":
            current = None
    return current


def phase_span(events: Sequence[Event], phase_id: int) -> tuple[float | None, float | None]:
    """First step intent and last step outcome of the phase: the operator's working time."""
    intents = [e.at for e in events if e.phase == phase_id and e.kind == "step_intent"]
    outcomes = [e.at for e in events if e.phase == phase_id and e.kind == "step_outcome" and e.data.get("status") != "refused"]
    start = min(intents) if intents else None
    end = max(outcomes) if outcomes else None
    if start is not None and end is not None and end < start:
        end = None
    return start, end


def phase_progress(events: Sequence[Event], phase: Phase, now: float) -> PhaseProgress:
    """Rolled back once every required (non-optional) step is done; the clock stops then."""
    start, end = phase_span(events, phase.id)
    required = [s for s in phase.steps if not s.optional]
    done = all(step_record(events, phase.id, s.id).status == "done" for s in required)
    if start is None:
        return PhaseProgress(phase.id, None, None, None, phase.budget_minutes, "not started")
    if done:
        return PhaseProgress(phase.id, start, end, (end or now) - start, phase.budget_minutes, "rolled back")
    return PhaseProgress(phase.id, start, None, now - start, phase.budget_minutes, "in progress")


def operators(events: Sequence[Event], phase_id: int) -> list[str]:
    """Who acted on the phase, in order of first action."""
    names: list[str] = []
    for event in events:
        if event.phase == phase_id and event.kind in ("step_intent", "override") and event.operator not in names:
            names.append(event.operator)
    return names


def drop_counts(events: Sequence[Event], phase_id: int) -> dict[str, int]:
    """Rows per table (or table.column) the final drop removed from the database (kept in
    the verified backup), named as production knew them."""
    counts: dict[str, int] = {}
    for event in events:
        if event.phase == phase_id and event.kind == "step_output" and event.data.get("state") == "done" and "object" in event.data:
            counts[event.data.get("table") or event.data["object"]] = int(event.data.get("rows", 0))
    return counts


def plan_phase_ids(plan: Plan) -> list[int]:
    return [p.id for p in plan.rollback_order]


@dataclass(frozen=True)
class QuarantineState:
    """Where a migration's tables are, by the journal.

    `status`: "none" (never quarantined, or restored), "quarantined", "uncertain" (a
    RENAME whose connection was lost: the catalogue decides, run quarantine again to
    reconcile), "dropped" (the final drop ran). `tables` maps each original table to its
    quarantine name; `counts`/`checksums` are keyed by quarantine name, as measured
    right after the rename; `columns` lists the column copies (table, column, copy,
    definition, pk)."""

    status: str
    event_id: int | None = None
    at: float | None = None
    tables: dict[str, str] | None = None
    counts: dict[str, int] | None = None
    checksums: dict[str, str] | None = None
    columns: tuple[dict[str, Any], ...] = ()  # JSON objects from the journal
    dropped_backup: str | None = None

    @property
    def held(self) -> bool:
        """The tables are out of production's reach and not yet final-dropped."""
        return self.status in ("quarantined", "uncertain")

    @property
    def quarantined_names(self) -> tuple[str, ...]:
        return (*(self.tables or {}).values(), *(c["copy"] for c in self.columns))


def quarantine_state(events: Sequence[Event], phase: Phase, quarantine_step: str, drop_step: str, restore_step: str) -> QuarantineState:
    """Fold the outcomes of the three steps that move a phase's tables, in journal order."""
    current = QuarantineState("none")
    for event in events:
        if event.kind != "step_outcome" or event.phase != phase.id:
            continue
        status = event.data.get("status")
        if event.step == quarantine_step:
            if status == "done":
                current = QuarantineState(
                    "quarantined", event.id, event.at, dict(event.data.get("quarantined") or {}),
                    {k: int(v) for k, v in (event.data.get("counts") or {}).items()},
                    dict(event.data.get("checksums") or {}), tuple(event.data.get("columns") or ()))
            elif status == "interrupted" and current.status != "quarantined":
                current = QuarantineState("uncertain", event.id, event.at, dict(event.data.get("quarantined") or {}))
        elif event.step == restore_step and status == "done":
            current = QuarantineState("none", event.id, event.at)
        elif event.step == drop_step and status == "done" and current.held:
            current = QuarantineState("dropped", event.id, event.at, current.tables, current.counts, current.checksums,
                                      current.columns, event.data.get("backup"))
        # an interrupted drop or restore leaves the state as it was: running that step again
        # reads the catalogue and finishes what the lost statement did not
    return current


def backups_after(events: Sequence[Event], event_id: int | None, phase_id: int) -> list[Event]:
    """Verified backups of the phase journalled after `event_id` (the quarantine), newest first."""
    return [e for e in reversed(verified_backups(events, phase_id)) if event_id is not None and e.id > event_id]
