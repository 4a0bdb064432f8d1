"""What each phase should look like, from the journal, and what the live system says instead.

The TUI's drift rules compare one snapshot with the previous one, so a deliberate undo
(`flags-on`) reads as "the flag is on again". The watcher instead asks: given what the
journal says was done, is the live system where it should be?

- A phase is watched while the journal shows it rolled back (flags off, cron stopped).
  Rolled forward (`flags-on`, `cron-start` done) it leaves the watch; rolled back again,
  it joins.
- While one of its steps is in flight (intent journalled, no outcome yet, for less than
  `SETTLE_SECONDS`) the phase is settling: the operator is changing it, nothing is drift.
- The tables a phase's quarantine moved out of production's reach are absent BY INTENT
  from the journal alone, from the quarantine's outcome until a `restore` puts them
  back, and for good after the final drop: their absence is never an alert, and one of
  them existing again under its name is drift (someone re-created it), even when that
  happened before the watcher's first reading after the step (a baseline taken then
  would otherwise have absorbed it).
- Every step outcome `done` of a phase, whatever its kind (quarantine, backup, restore,
  the final drop, ...), is a deliberate change: the phase's table baseline (rows, other
  tables) is re-taken from the next reading, so a restore that brings tables back is
  not "table back", while rows reappearing in a restored-empty table are "refilling".

The conditions are the TUI's own rules (`detect_drift` with no previous snapshot, i.e.
"what is wrong now") plus the table rules judged against the baseline. A condition is
a state, not an event: the loop raises an alert when one appears and clears it when it
goes away, which is what makes a restart neither lose nor repeat alerts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cockpit.engine import state, table_guards
from cockpit.journal import Event
from cockpit.plan.model import Phase, Plan, Step
from cockpit.probes.drift import (
    ESTIMATE_SLACK,
    LOG_SPIKE_THRESHOLD,
    Alert,
    detect_drift,
)
from cockpit.probes.snapshot import Snapshot

from .record import AlertKey

SETTLE_SECONDS = 600.0
CONNECTION_KIND = "connection_lost"

Baseline = dict[str, tuple[bool | None, bool | None, int | None]]  # table -> (exists, has_rows, estimated rows)


@dataclass(frozen=True)
class Expectation:
    watched: frozenset[int]
    settling: frozenset[int]
    marks: dict[int, int]  # phase -> id of its last `done` step outcome (a deliberate change)
    absent: dict[int, dict[str, str]] = field(default_factory=dict)  # phase -> table -> why it must not exist

    @property
    def judged(self) -> frozenset[int]:
        return self.watched - self.settling


# Every kind `expectation` folds (its own loop, `state.journal_rolled_back` and the
# quarantine states of `absent_by_intent`): a caller may pass only these
# (`Journal.events(kinds=EXPECTED_KINDS)`) and gets the same answer as over the whole
# history. Kept beside the function so the two change together;
# tests/test_journal_kind_folds.py proves each kind here is needed and none is missing.
EXPECTED_KINDS = frozenset({"step_intent", "step_outcome", "emergency_intent", "emergency_outcome"})


def expectation(plan: Plan, events: Sequence[Event], now: float) -> Expectation:
    watched = frozenset(p.id for p in plan.phases if state.journal_rolled_back(events, p))
    in_flight: dict[tuple[int | None, str | None], float | None] = {}
    marks: dict[int, int] = {}
    emergency_at: float | None = None
    for e in events:
        if e.kind == "step_intent":
            in_flight[(e.phase, e.step)] = e.at
        elif e.kind == "step_outcome":
            in_flight[(e.phase, e.step)] = None
            if e.data.get("status") == "done" and e.phase is not None:
                marks[e.phase] = e.id
        elif e.kind == "emergency_intent":
            emergency_at = e.at
        elif e.kind == "emergency_outcome":
            emergency_at = None
    settling = {phase for (phase, _step), at in in_flight.items() if at is not None and now - at < SETTLE_SECONDS and phase is not None}
    if emergency_at is not None and now - emergency_at < SETTLE_SECONDS:
        settling |= {p.id for p in plan.phases}
    outcomes = [e for e in events if e.kind == "step_outcome"]  # all that the table states fold
    absent = {p.id: gone for p in plan.phases if (gone := absent_by_intent(p, outcomes))}
    return Expectation(watched, frozenset(settling), marks, absent)


def absent_by_intent(phase: Phase, events: Sequence[Event]) -> dict[str, str]:
    """The phase's tables that must not exist under their names, per the journal (its
    step outcomes are enough: `expectation` passes only those), with
    why: quarantined (until a restore), dropped by the final drop. An interrupted
    quarantine claims only the tables its catalogue check saw moved: the rest is for
    the operator's reconciling re-run to settle, not for the watcher to guess; so does
    a restore whose connection was lost after its RENAME may have run (the journal still
    says "quarantined" while the tables may be back by the operator's own hand)."""
    out: dict[str, str] = {}
    for step in phase.quarantine_steps:
        current = table_guards.q_state(events, phase, step)
        if current.status == "quarantined" and _restore_unsettled(events, phase, step, current.event_id or 0):
            continue
        if current.status in ("quarantined", "dropped"):
            names = {**table_guards.names_for(phase, step)[0], **(current.tables or {})}
        elif current.status == "uncertain":
            names = dict(current.tables or {})
        else:
            continue
        for table, q in names.items():
            out[table] = (f"dropped by the final drop of phase {phase.id}" if current.status == "dropped"
                          else f"quarantined as {q} in the rollback of phase {phase.id}")
    return out


def _restore_unsettled(events: Sequence[Event], phase: Phase, quarantine: Step, since: int) -> bool:
    """A restore of this quarantine ended `interrupted` (not known to have left the
    tables where they were) after the quarantine's outcome `since`."""
    restore = next((s.id for s in phase.abort_steps if s.kind == "restore" and s.protected_tables == quarantine.protected_tables),
                   "restore")
    return any(e.kind == "step_outcome" and e.phase == phase.id and e.step == restore and e.id > since
               and e.data.get("status") == "interrupted" and e.data.get("took_effect") is not False for e in events)


def baseline_of(snapshot: Snapshot, phase_id: int) -> Baseline:
    return {t.name: (t.exists, t.has_rows, t.estimated_rows) for t in snapshot.phase(phase_id).tables}


def conditions(
    snapshot: Snapshot,
    expected: Expectation,
    baselines: dict[int, Baseline],
    watched_tables: dict[int, set[str]],
    threshold: int = LOG_SPIKE_THRESHOLD,
) -> dict[AlertKey, Alert]:
    """Everything wrong right now, keyed (kind, phase, subject)."""
    found: dict[AlertKey, Alert] = {}
    for alert in detect_drift(None, snapshot, set(expected.judged), threshold, guard_tables=watched_tables):
        if alert.kind == CONNECTION_KIND:
            error = snapshot.connection.error
            alert = Alert(CONNECTION_KIND, None, alert.subject,
                          f"database unreachable: {snapshot.connection.target}{': ' + error if error else ''}", alert.at)
        if alert.phase_id is not None and alert.phase_id in expected.settling:
            continue
        found[(alert.kind, alert.phase_id, alert.subject)] = alert
    if snapshot.connection.state != "connected":
        return found  # table readings are the last good ones: judged again once back
    for phase_id in expected.judged:
        base = baselines.get(phase_id, {})  # none yet: only what the journal says must be absent is judged
        for alert in _tables(snapshot, phase_id, base, watched_tables.get(phase_id, set()), expected.absent.get(phase_id, {})):
            found[(alert.kind, alert.phase_id, alert.subject)] = alert
    return found


def _tables(snapshot: Snapshot, phase_id: int, base: Baseline, guards: set[str], absent: dict[str, str]) -> Iterable[Alert]:
    at = snapshot.taken_at
    for table in snapshot.phase(phase_id).tables:
        if table.exists is not True:
            continue
        if table.name in absent:
            yield Alert("table_back", phase_id, table.name,
                        f"table {table.name} was {absent[table.name]} and exists again under its name: someone re-created it", at)
            continue
        if table.name not in base:
            continue
        existed, had_rows, estimate = base[table.name]
        if existed is False:
            yield Alert("table_back", phase_id, table.name,
                        f"table {table.name} was gone after the rollback of phase {phase_id} and exists again", at)
            continue
        if table.name not in guards:
            continue
        if had_rows is False and table.has_rows is True:
            yield Alert("table_refilling", phase_id, table.name, f"table {table.name} was empty and has rows again", at)
        elif estimate is not None and table.estimated_rows is not None and \
                table.estimated_rows > estimate + max(1, int(estimate * ESTIMATE_SLACK)):
            yield Alert("table_refilling", phase_id, table.name,
                        f"table {table.name} is growing: about {estimate} -> {table.estimated_rows} rows since the rollback", at)
