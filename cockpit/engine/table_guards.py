"""One guard model for the steps that move a phase's tables: quarantine, backup, final
drop, restore, and the undo steps that must not turn a feature on against missing tables.

The guards are pure functions over one `GuardInputs` value. The value is filled either
LIVE (at execution, under the operator lock; for the final drop the quarantined tables
are counted and checksummed and the backup file re-hashed right then) or from the
latest SNAPSHOT and the journal (for the preview while the operator browses: no file
I/O, no query). Both paths run the very same guard functions, so the preview cannot
disagree with the execution about what a guard means, only about how fresh its inputs are.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from cockpit.db.queries import is_drop_table
from cockpit.journal import Event
from cockpit.plan.model import ColumnRef, Phase, Plan, Step, TableStepSpec

if TYPE_CHECKING:
    from cockpit.db.base import Database
    from cockpit.probes.snapshot import ProcessRun, Snapshot

from . import state
from .statements import quarantine_name
from .types import GuardResult

QUARANTINE = "quarantine"
IN_FLIGHT = "in_flight"
WATCH = "watch_window"
DATA = "data"
CATALOGUE = "catalogue"
TABLES = "tables"


@dataclass(frozen=True)
class GuardInputs:
    """Everything the table guards look at. `source` says where it came from; a field
    left None was not read (the guard then says so rather than guess)."""

    source: str  # "live" | "snapshot"
    now: float
    events: Sequence[Event] = field(repr=False)
    watch_hours: float = 24.0
    in_flight: tuple[str, ...] | None = None  # "pid 123 (x.php, started 12:00:01)"
    present: dict[str, bool | None] | None = None  # catalogue: table -> exists
    columns: dict[str, tuple[str, ...]] | None = None  # catalogue: table -> its columns
    counts: dict[str, int | None] | None = None  # quarantined table -> exact rows now (None: absent)
    checksums: dict[str, str | None] | None = None  # quarantined table -> content checksum now
    backup_files: dict[str, tuple[int | None, str | None] | None] | None = None  # path -> (size, sha256) now, None when missing

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("events", None)
        return out


def _drop_columns(step: Step) -> tuple[ColumnRef, ...]:
    return step.drop_columns if isinstance(step, TableStepSpec) else ()


def names_for(phase: Phase, step: Step) -> tuple[dict[str, str], dict[str, str]]:
    """(table -> quarantine name, "table.column" -> copy table name) for a quarantine step;
    a step of a kind that names no tables quarantines nothing."""
    if not isinstance(step, TableStepSpec):
        return {}, {}
    tables = {t: quarantine_name(phase.id, t) for t in step.protected_tables
              if t in step.drop_tables or t in step.guard_tables}
    columns = {f"{c.table}.{c.column}": quarantine_name(phase.id, c.table, c.column)
               for c in step.drop_columns if c.table not in tables}
    return tables, columns


def q_state(events: Sequence[Event], phase: Phase, step: Step) -> state.QuarantineState:
    """The quarantine state of the tables `step` works on."""
    quarantine = phase.quarantine_for(step)
    if quarantine is None:
        return state.QuarantineState("none")
    drop = next((s.id for s in phase.steps if s.kind == "migration" and s.protected_tables == quarantine.protected_tables), "drop")
    restore = next((s.id for s in phase.abort_steps if s.kind == "restore" and s.protected_tables == quarantine.protected_tables),
                   "restore")
    return state.quarantine_state(events, phase, quarantine.id, drop, restore)


def _clock(at: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(at)) if at else "?"


# -- pure guards ------------------------------------------------------------------------
def in_flight_guard(inputs: GuardInputs) -> GuardResult:
    if inputs.in_flight is None:
        return GuardResult(IN_FLIGHT, True, "in-flight runs not read in this preview; checked when run", overridable=True)
    if inputs.in_flight:
        return GuardResult(IN_FLIGHT, False, "runs of the phase's jobs still in flight: " + ", ".join(inputs.in_flight)
                           + " (--wait SECONDS to wait, --override REASON to go ahead)", overridable=True)
    return GuardResult(IN_FLIGHT, True, "no run of the phase's jobs in flight", overridable=True)


def quarantine_guards(inputs: GuardInputs, phase: Phase, step: Step) -> list[GuardResult]:
    """Before the RENAME: not already quarantined, and no name clash in the catalogue."""
    results = [in_flight_guard(inputs)]
    current = q_state(inputs.events, phase, step)
    if current.status == "quarantined":
        results.append(GuardResult(QUARANTINE, False, f"already quarantined at {_clock(current.at)}: back up and drop, or restore"))
    elif current.status == "dropped":
        results.append(GuardResult(QUARANTINE, False, "the quarantined tables were already dropped"))
    tables, columns = names_for(phase, step)
    if inputs.present is not None:
        clash = [t for t, q in tables.items() if inputs.present.get(t) and inputs.present.get(q)]
        known = inputs.columns or {}
        clash += [c for c, q in columns.items() if inputs.present.get(q) and c.split(".")[1] in known.get(c.split(".")[0], ())]
        if clash:
            results.append(GuardResult(CATALOGUE, False, "both the table and its quarantine exist for " + ", ".join(clash)
                                       + ": resolve by hand before quarantining"))
        else:
            results.append(GuardResult(CATALOGUE, True,
                                       "quarantine names free" + (" (catalogue read live)" if inputs.source == "live" else "")))
    return results


def backup_guards(inputs: GuardInputs, phase: Phase, step: Step) -> list[GuardResult]:
    """A backup of a migration's tables is taken from the quarantine, which holds frozen data."""
    if phase.quarantine_for(step) is None:
        return []
    current = q_state(inputs.events, phase, step)
    if current.status == "quarantined":
        return [GuardResult(QUARANTINE, True, f"tables quarantined at {_clock(current.at)}: the dump reads frozen data")]
    if current.status == "uncertain":
        return [GuardResult(QUARANTINE, False, "the last quarantine or drop was interrupted: run quarantine again to reconcile")]
    if current.status == "dropped":
        return [GuardResult(QUARANTINE, False, "the quarantined tables were already dropped")]
    quarantine = phase.quarantine_for(step)
    return [GuardResult(QUARANTINE, False,
                        f"run {quarantine.id if quarantine else 'quarantine'} first: a backup is taken from the quarantined tables")]


def drop_guards(inputs: GuardInputs, phase: Phase, step: Step) -> list[GuardResult]:
    """The final DROP of the quarantined tables: the watch window has passed (or an
    override says why not), nothing in flight, and every table with rows has a backup
    verified by restore after the quarantine whose checksum still equals the table's."""
    current = q_state(inputs.events, phase, step)
    if current.status != "quarantined":
        why = {"none": "nothing is quarantined: run quarantine first",
               "uncertain": "the last quarantine or drop was interrupted: run quarantine again to reconcile",
               "dropped": "already dropped"}[current.status]
        return [GuardResult(QUARANTINE, False, why)]
    results = [GuardResult(QUARANTINE, True, f"quarantined at {_clock(current.at)}")]
    ends = (current.at or 0) + inputs.watch_hours * 3600
    if inputs.now < ends:
        results.append(GuardResult(WATCH, False, f"the {inputs.watch_hours:g} h watch since the quarantine ends {_clock(ends)}; "
                                   "until then `restore` is the way back (--override REASON to drop earlier)", overridable=True))
    else:
        results.append(GuardResult(WATCH, True, f"the {inputs.watch_hours:g} h watch ended {_clock(ends)}", overridable=True))
    results.append(in_flight_guard(inputs))
    results.append(data_guard(inputs, phase, current))
    return results


def data_guard(inputs: GuardInputs, phase: Phase, current: state.QuarantineState) -> GuardResult:
    """Every quarantined table that holds rows now must equal, by exact count AND
    checksum, a backup verified by restore after the quarantine, whose file still hashes
    as verified. Count-neutral changes (UPDATE, DELETE + INSERT) change the checksum.
    A table that is empty now loses nothing when dropped."""
    problems: list[str] = []
    covered: dict[str, list[str]] = {}
    backups = state.backups_after(inputs.events, current.event_id, phase.id)
    # a drop interrupted half-way: what its DROP statements already removed is not "missing"
    started = {e.data.get("object") for e in inputs.events if e.kind == "step_output" and e.phase == phase.id
               and e.id > (current.event_id or 0) and is_drop_table(str(e.data.get("statement", "")))}
    for name in current.quarantined_names:
        if inputs.present is not None and inputs.present.get(name) is False:
            if name not in started:
                problems.append(f"{name} is missing from the catalogue")
            continue
        latest = next((b for b in backups if name in b.data.get("tables", [])), None)
        if inputs.counts is not None and name in inputs.counts:
            rows_now, sum_now = inputs.counts.get(name), (inputs.checksums or {}).get(name)
        elif latest is not None:  # preview: the newest backup's record stands for the table
            rows_now, sum_now = (latest.data.get("rows") or {}).get(name), (latest.data.get("checksums") or {}).get(name)
        else:
            rows_now, sum_now = (current.counts or {}).get(name), (current.checksums or {}).get(name)
        if not rows_now:
            continue  # empty: nothing to keep
        why_not: list[str] = []
        for backup in backups:
            if name not in backup.data.get("tables", []):
                continue
            rows_then = (backup.data.get("rows") or {}).get(name)
            if rows_then != rows_now or (backup.data.get("checksums") or {}).get(name) != sum_now:
                why_not.append(f"changed since the backup of {backup.data.get('path')}: {rows_then} -> {rows_now} rows"
                               + (", checksum differs" if rows_then == rows_now else ""))
                continue
            path = backup.data.get("path", "")
            if inputs.backup_files is not None:
                now = inputs.backup_files.get(path)
                if now is None:
                    why_not.append(f"{path} is missing")
                    continue
                if tuple(now) != (backup.data.get("size"), backup.data.get("sha256")):
                    why_not.append(f"{path} changed since it was verified")
                    continue
            covered.setdefault(path, []).append(f"{name}: {rows_now}")
            break
        else:
            problems.append(f"{name} has {rows_now} rows and no backup verified by restore after the quarantine holds them"
                            + (f" ({why_not[0]})" if why_not else ""))
    if problems:
        return GuardResult(DATA, False, "; ".join(problems))
    how = "" if inputs.source == "live" else " (as recorded; re-counted, checksummed and re-hashed when run)"
    if not covered:
        return GuardResult(DATA, True, "every quarantined table is empty" + how)
    return GuardResult(DATA, True, "rows kept in verified backups: " + "; ".join(f"{p} ({', '.join(n)})" for p, n in covered.items()) + how)


def restore_guards(inputs: GuardInputs, phase: Phase, step: Step) -> list[GuardResult]:
    current = q_state(inputs.events, phase, step)
    if current.status == "dropped":
        return [GuardResult(QUARANTINE, False, "the quarantined tables were dropped: restore them from the verified backup "
                            f"{current.dropped_backup or '(see the journal)'} by hand")]
    if not current.held:
        return [GuardResult(QUARANTINE, False, "nothing is quarantined")]
    results = [GuardResult(QUARANTINE, True, f"quarantined at {_clock(current.at)}")]
    if inputs.present is not None:
        originals, quarantined = tuple(current.tables or {}), tuple((current.tables or {}).values())
        if originals and all(inputs.present.get(t) for t in originals) and not any(inputs.present.get(q) for q in quarantined):
            # a restore whose connection was lost after its RENAME ran: finish the columns, record it
            return [*results, GuardResult(TABLES, True, "the tables are already back under their names (catalogue)")]
        back = [t for t in (current.tables or {}) if inputs.present.get(t)]
        back += [f"{c['table']}.{c['column']}" for c in current.columns if c["column"] in (inputs.columns or {}).get(c["table"], ())]
        if back:
            results.append(GuardResult(TABLES, False, f"a table or column of that name exists again: {', '.join(back)}; "
                                       "nothing is renamed over it"))
        else:
            results.append(GuardResult(TABLES, True, "the original names are free"))
    return results


def abort_table_guard(inputs: GuardInputs, phase: Phase, step: Step) -> GuardResult | None:
    """flags-on / cron-start must not turn a feature on against tables it cannot reach."""
    for quarantine in phase.quarantine_steps:
        current = q_state(inputs.events, phase, quarantine)
        restore = next((s.id for s in phase.abort_steps if s.kind == "restore"), "restore")
        if current.held:
            return GuardResult(TABLES, False, f"phase {phase.id}'s tables are quarantined: run `{restore}` first")
        if current.status == "dropped":
            originals = tuple(current.tables or ())
            if inputs.present is None or not originals or not all(inputs.present.get(t) for t in originals):
                return GuardResult(TABLES, False, f"phase {phase.id}'s tables were dropped: restore them from the verified backup "
                                   f"{current.dropped_backup or '(see the journal)'} first")
    return None


# -- filling the inputs ----------------------------------------------------------------------
def _describe_runs(runs: dict[str, tuple[ProcessRun, ...]]) -> tuple[str, ...]:
    return tuple(f"pid {run.pid} ({script}, started {time.strftime('%H:%M:%S', time.localtime(run.started_at))})"
                 for script, found in runs.items() for run in found)


def snapshot_inputs(plan: Plan, events: Sequence[Event], phase: Phase, step: Step, snapshot: Snapshot | None, now: float) -> GuardInputs:
    """From the latest snapshot and the journal: no query, no file I/O."""
    present: dict[str, bool | None] | None = None
    columns: dict[str, tuple[str, ...]] | None = None
    runs: tuple[str, ...] | None = None
    if snapshot is not None:
        try:
            live = snapshot.phase(phase.id)
        except KeyError:
            live = None
        if live is not None:
            present = {t.name: t.exists for t in live.tables}
            columns = {t.name: t.columns for t in live.tables}
            for name in q_state(events, phase, step).quarantined_names:
                present.setdefault(name, True)  # the snapshot does not list quarantine tables
            runs = tuple(f"pid {r.pid} ({c.script}, started {time.strftime('%H:%M:%S', time.localtime(r.started_at))})"
                         for c in live.cron for r in c.running)
    # counts, checksums and backup hashes as the journal recorded them (at the quarantine,
    # at verification): the live values are measured only when the step runs
    current = q_state(events, phase, step)
    counts: dict[str, int | None] | None = dict(current.counts) if current.counts is not None else None
    checksums: dict[str, str | None] | None = dict(current.checksums) if current.checksums is not None else None
    files: dict[str, tuple[int | None, str | None] | None] | None = {
        b.data.get("path", ""): (b.data.get("size"), b.data.get("sha256"))
        for b in state.backups_after(events, current.event_id, phase.id)} if current.held else None
    return GuardInputs("snapshot", now, events, plan.watch.hours, runs, present, columns, counts, checksums, files)


async def live_inputs(db: Database, plan: Plan, events: Sequence[Event], phase: Phase, step: Step, now: float, *,
                      measure: bool, wait_s: float = 0.0) -> GuardInputs:
    """Read now: the catalogue for the originals and their quarantine names, in-flight runs
    (waiting up to `wait_s` for them), and with `measure` the exact counts and checksums of
    the quarantined tables and the hashes of the backup files that may cover them."""
    from cockpit.probes.processes import find_runs, wait_for_exit

    from .guards import sha256_of

    scripts = [job.script for job in phase.cron]
    runs = await asyncio.to_thread(find_runs, scripts) if scripts else {}
    if wait_s > 0 and any(runs.values()):
        await asyncio.to_thread(wait_for_exit, [r.pid for found in runs.values() for r in found], wait_s, 0.25)
        runs = await asyncio.to_thread(find_runs, scripts)
    quarantine = phase.quarantine_for(step) or step
    tables, copies = names_for(phase, quarantine)
    current = q_state(events, phase, step)
    names = [*tables, *tables.values(), *copies.values(), *(c.table for c in _drop_columns(quarantine)), *current.quarantined_names]
    facts = await db.table_facts(names) if names else {}
    present: dict[str, bool | None] = {n: f.exists for n, f in facts.items()}
    columns = {n: f.columns for n, f in facts.items()}
    counts: dict[str, int | None] | None = None
    checksums: dict[str, str | None] | None = None
    files: dict[str, tuple[int | None, str | None] | None] | None = None
    if measure and current.held:
        counts, checksums = {}, {}
        for name in current.quarantined_names:
            if present.get(name):
                counts[name] = await db.exact_count(name, timeout_ms=max(plan.target.statement_timeout_ms, 600_000))
                checksums[name] = await db.table_checksum(name)
            else:
                counts[name] = checksums[name] = None
        files = {}
        for backup in state.backups_after(events, current.event_id, phase.id):
            path = backup.data.get("path", "")
            try:
                from pathlib import Path

                files[path] = (Path(path).stat().st_size, await asyncio.to_thread(sha256_of, Path(path)))
            except OSError:
                files[path] = None
    return GuardInputs("live", now, events, plan.watch.hours, _describe_runs(runs), present, columns, counts, checksums, files)
