"""The engine: runs one step at a time with its guards, and derives all state from the journal.

Execution order for every action, and why:
1. refuse at once when read-only (another operator holds the lock) or the typed
   confirmation of a destructive step does not match;
2. evaluate the guards against LIVE data (reverse order, prerequisites, the kind's own);
   a refusal is journalled so the rollback log can list it;
3. journal the intent (committed, fsync'd) — only then touch anything;
4. run, verify, journal the outcome.
A process killed between 3 and 4 leaves an intent without an outcome, which every later
cockpit shows as `interrupted — verify`, never as done.

The Engine holds a Session (session.py: journal, locks, connection, reconnect, lock loss)
and keeps the steps, guards, dry-runs, execution and derived state. Its properties
`journal`, `db`, `read_only`, ... read through to the session.

Threading rule: the synchronous methods below do blocking I/O (each journal write is a
committed, fsync'd transaction; derived state reads the journal file when it changed).
From an event loop, call their `*_async` counterparts (`tick_async`, `note_async`,
`record_alert_async`, `acknowledge_alert_async`, `start_watch_async`, `events_async`,
`step_views_async`, ...), which run the same method in a worker thread
(`asyncio.to_thread`), so a slow disk never stalls the UI. The `async` actions (execute,
emergency_execute) write their override/intent/outcome records with
`Journal.append_async`, each awaited before the next step of the action, so the order
"intent on disk, then act" holds exactly as before. Still inline: a step kind's output
lines (`StepContext.emit`; `emit_async` is the threaded form for kinds to adopt) and the
session's own start/end/lock-lost records (session.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from cockpit.db.base import Database
from cockpit.db.errors import DatabaseError
from cockpit.db.options import ConnectionSettings
from cockpit.journal import Event, Journal
from cockpit.plan.model import Phase, Plan, Step

from . import state, table_guards
from .confirm import (
    EMERGENCY_TOKEN,
    confirm_matches,
    confirm_refusal,
    confirm_token,
    emergency_confirm_matches,
    emergency_refusal,
    kept_warnings,
)
from .errors import EngineError
from .errors import EngineRefused as EngineRefused  # re-exported: callers import both from here
from .memo import derived
from .session import Session
from .types import AlertRecord, DryRun, EmergencyWarning, GuardResult, Outcome, PhaseProgress, StepView, TickState, WatchState

if TYPE_CHECKING:  # imported where a step is checked or run: opening the engine needs none of them
    from cockpit.plan.model import FlagStore
    from cockpit.probes.drift import Alert
    from cockpit.probes.snapshot import Snapshot

    from .lazy_steps import StepKinds
    from .lock import ServerLock
    from .stepkind import StepContext


class Engine:
    """One per cockpit process: runs steps with guards, derives all state from the journal.

    Blocking methods have `*_async` counterparts for event-loop callers (see the module
    docstring: the threading rule)."""

    def __init__(self, plan: Plan, session: Session) -> None:
        self.plan = plan
        self.session = session
        self._running: tuple[int | None, str] | None = None
        self._emergency_running = False  # this process is between an emergency's intent and its outcome

    @cached_property
    def kinds(self) -> StepKinds:
        """The step kinds, each built on first use and kept for the engine's life (kinds own
        their state). Imported here, not with the engine: the TUI opens the engine behind its
        first frame and draws its first reading before any step is checked or run."""
        from .lazy_steps import StepKinds

        return StepKinds()

    # -- lifecycle ----------------------------------------------------------------------
    @classmethod
    async def open(cls, plan: Plan, *, operator: str, read_only: bool = False, interactive: bool = False,
                   clock: Callable[[], float] = time.time, connect: bool = True,
                   settings: ConnectionSettings | None = None) -> Engine:
        """Open the session (journal, database if reachable, operator lock unless
        read-only: Session.open) and the engine over it."""
        session = await Session.open(plan, operator=operator, read_only=read_only, interactive=interactive,
                                     clock=clock, connect=connect, settings=settings)
        return cls(plan, session)

    async def close(self) -> None:
        """Idempotent: the session ends (Session.close)."""
        await self.session.close()

    # -- the session, read through (callers in commands/, tui/, watch/, drill/ use these) --
    @property
    def journal(self) -> Journal:
        return self.session.journal

    @property
    def database(self) -> Database | None:
        """The target's Database for the whole session, connected or not (the live probe shares it)."""
        return self.session.database

    @property
    def db(self) -> Database | None:
        """The target's Database while reachable, else None (steps needing it refuse)."""
        return self.session.db

    @property
    def db_error(self) -> str:
        return self.session.db_error

    @property
    def operator(self) -> str:
        return self.session.operator

    @property
    def clock(self) -> Callable[[], float]:
        return self.session.clock

    @property
    def read_only(self) -> bool:
        return self.session.read_only

    @property
    def read_only_reason(self) -> str:
        return self.session.read_only_reason

    @property
    def lock_lost(self) -> str | None:
        return self.session.lock_lost

    @property
    def lock_listeners(self) -> list[Callable[[str], None]]:
        return self.session.lock_listeners

    @property
    def closed(self) -> bool:
        return self.session.closed

    @property
    def _closed(self) -> bool:  # read by the TUI (tui/app.py) before it records an alert
        return self.session.closed

    @property
    def _server_lock(self) -> ServerLock | None:  # read by tests/faults/test_lock_loss.py
        return self.session._server_lock

    async def verify_lock(self) -> bool:
        return await self.session.verify_lock()

    def lock_fresh(self) -> bool:
        return self.session.lock_fresh()

    def memo_state(self) -> tuple[object, ...]:
        """What besides the journal a derivation may read (memo.py): the step running now,
        whether the database is reachable (a step needing it shows blocked), read-only mode."""
        return (self._running, self.db is None, self.db_error, self.read_only)

    # -- lookups ------------------------------------------------------------------------
    def _resolve(self, phase_id: int, step_id: str) -> tuple[Phase, Step]:
        try:
            phase = self.plan.phase(phase_id)
        except (KeyError, ValueError):
            raise EngineError(f"unknown phase {phase_id} (phases: {', '.join(str(p.id) for p in self.plan.rollback_order)})") from None
        try:
            return phase, phase.step(step_id)
        except KeyError:
            raise EngineError(f"phase {phase.id} has no step \"{step_id}\" (steps: {', '.join(s.id for s in phase.all_steps)})") from None

    def events(self, phase_id: int | None = None) -> Sequence[Event]:
        return self.journal.events(phase_id)

    # -- guards ---------------------------------------------------------------------------
    async def _guards(self, ctx: StepContext) -> list[GuardResult]:
        from . import guards

        await self.session.reconnect()
        kind = self.kinds(ctx.step)
        events = self.journal.events()
        results: list[GuardResult] = []
        db_ok = True
        if kind.requires_db(ctx) and self.db is None:
            db_ok = False
            results.append(self.session.unreachable())
        if ctx.step.kind == "restore":
            # putting tables back never harms: it is allowed in any order
            results.append(GuardResult(guards.ORDER, True, "restore is allowed in any order", overridable=True))
        elif ctx.step.aborts:
            results.append(guards.abort_order_guard(events, self.plan, ctx.phase))
        else:
            results.append(await guards.order_guard(events, self.plan, ctx.phase, self.db))
        results.append(guards.prerequisite_guard(events, ctx.phase, ctx.step))
        if db_ok:
            try:
                results.extend(await kind.guards(ctx))
                if ctx.step.kind in ("flags_on", "cron_start"):
                    results.extend(await self._abort_table_guard(ctx, events))
            except DatabaseError as exc:
                results.append(GuardResult(guards.DATABASE, False, f"live check failed: {exc}"))
        return results

    async def _abort_table_guard(self, ctx: StepContext, events: Sequence[Event]) -> list[GuardResult]:
        """flags-on / cron-start refused while the phase's tables are quarantined or dropped."""
        if not ctx.phase.quarantine_steps:
            return []
        db = self.db
        if db is not None:
            inputs = await table_guards.live_inputs(db, self.plan, events, ctx.phase, ctx.phase.quarantine_steps[0],
                                                    self.clock(), measure=False)
        else:
            inputs = table_guards.snapshot_inputs(self.plan, events, ctx.phase, ctx.phase.quarantine_steps[0], None, self.clock())
        found = table_guards.abort_table_guard(inputs, ctx.phase, ctx.step)
        return [found] if found else [GuardResult(table_guards.TABLES, True, "the phase's tables are in place")]

    async def guard_inputs(self, phase_id: int, step_id: str, snapshot: Snapshot | None = None, *, live: bool = False) -> dict[str, Any]:
        """The inputs the table guards of a step look at, as JSON (for `steps --json`)."""
        phase, step = self._resolve(phase_id, step_id)
        if step.kind not in ("quarantine", "backup", "migration", "restore", "flags_on", "cron_start") or not phase.quarantine_steps:
            return {}
        events = self.journal.events()
        target = step if step.kind in ("quarantine", "migration", "restore", "backup") else phase.quarantine_steps[0]
        db = self.db
        if live and db is not None:
            inputs = await table_guards.live_inputs(db, self.plan, events, phase, target, self.clock(),
                                                    measure=step.kind == "migration")
        else:
            inputs = table_guards.snapshot_inputs(self.plan, events, phase, target, snapshot, self.clock())
        data = inputs.as_json()
        data["quarantine"] = table_guards.q_state(events, phase, target).status
        return data

    async def dry_run(self, phase_id: int, step_id: str, *, preview: bool = False,
                      snapshot: Snapshot | None = None) -> DryRun:
        """What the step would run and what its guards say. Live by default (exact
        counts on the guard tables, flags read back), as before a run. With `preview` the
        guards come from `snapshot` and the journal instead: the TUI shows a dry-run as the
        cursor moves, and browsing the step list must not count production tables."""
        from .stepkind import StepContext

        phase, step = self._resolve(phase_id, step_id)
        ctx = StepContext(self, phase, step)
        if preview:  # describe() must not read production either (steps/flags.py)
            ctx.scratch.update(preview=True, snapshot=snapshot)
        kind = self.kinds(step)
        if preview:
            blocks = self._preview_blocks(self.journal.events(), phase, step, snapshot)
            results = [GuardResult(name.strip(), False, detail.strip()) for name, _, detail in (b.partition(":") for b in blocks)]
            if not results:
                results = [GuardResult("preview", True, "nothing blocks it in the latest snapshot; re-checked live when run")]
        else:
            results = await self._guards(ctx)
        try:
            text = await kind.describe(ctx)
        except DatabaseError as exc:
            text = f"-- cannot describe against the live database: {exc}"
        return DryRun(
            phase_id=phase.id, step_id=step.id, title=step.title, text=text, guards=tuple(results),
            destructive=step.destructive, confirm_token=confirm_token(phase, step) if step.destructive else None,
            would_refuse=any(not g.ok for g in results), warnings=kept_warnings(step),
        )

    # -- execution ------------------------------------------------------------------------
    async def execute(self, phase_id: int, step_id: str, *, confirm: str | None = None, override_reason: str | None = None,
                      note: str | None = None, on_output: Callable[[str], None] | None = None, wait_s: float = 0.0) -> Outcome:
        phase, step = self._resolve(phase_id, step_id)
        if self.read_only:
            return Outcome("refused", f"read-only: {self.read_only_reason}", "read_only")
        if self._running is not None:
            return Outcome("refused", f"step {self._running[1]} of phase {self._running[0]} is still running", "busy")
        if step.destructive and not confirm_matches(phase, step, confirm):
            return Outcome("refused", confirm_refusal(phase, step), "confirm")
        from .stepkind import StepContext

        ctx = StepContext(self, phase, step, on_output=on_output, wait_s=wait_s, note=note)
        self._running = (phase.id, step.id)
        try:
            return await self._execute(ctx, override_reason)
        finally:
            self._running = None

    async def _execute(self, ctx: StepContext, override_reason: str | None) -> Outcome:
        from cockpit.faults import fault_point

        phase, step = ctx.phase, ctx.step
        results = await self._guards(ctx)
        if not await self.verify_lock():  # lock taken elsewhere on reconnect, or lost (lock.py)
            return Outcome("refused", f"read-only: {self.read_only_reason}", "read_only")
        reason = (override_reason or "").strip()
        # an overridable guard (reverse order, the watch window, in-flight runs) gives way to
        # a journalled reason; a guard that protects rows (data, catalogue) never does
        overridable = [g for g in results if not g.ok and g.overridable]
        if overridable and reason:
            for guard in overridable:
                await self.journal.append_async("override", phase=phase.id, step=step.id,
                                                data={"guard": guard.name, "detail": guard.detail, "reason": reason})
            results = [g for g in results if g not in overridable]
        failing = [g for g in results if not g.ok]
        if failing:
            first = failing[0]
            message = failing[0].detail if len(failing) == 1 else "; ".join(f"{g.name}: {g.detail}" for g in failing)
            await self.journal.append_async("step_outcome", phase=phase.id, step=step.id,
                                            data={"status": "refused", "guard": first.name, "message": message})
            return Outcome("refused", message, first.name)
        intent = await self.journal.append_async("step_intent", phase=phase.id, step=step.id,
                                                 data={"kind": step.kind, "title": step.title, "note": ctx.note})
        await fault_point("step.after_intent")
        try:
            outcome = await self.kinds(step).run(ctx)
        except DatabaseError as exc:
            outcome = ctx.failed(f"database error: {exc}", guard="database")
        except Exception as exc:  # noqa: BLE001 - any failure must still close the intent in the journal
            outcome = ctx.failed(f"{exc.__class__.__name__}: {exc}", guard="error")
        await fault_point("step.before_outcome")
        data = {"status": outcome.status, "message": outcome.message, "guard": outcome.guard, "intent_id": intent}
        data.update({k: v for k, v in outcome.data.items() if k not in data})
        if ctx.note:
            data["note"] = ctx.note
        await self.journal.append_async("step_outcome", phase=phase.id, step=step.id, data=data)
        return outcome

    # -- emergency --------------------------------------------------------------------------
    async def emergency_dry_run(self) -> DryRun:
        """The writes, computed from a live read by the same function the execution uses."""
        from cockpit.probes.flags import FlagError, read_flags

        from . import guards
        from .steps.flags import FlagWrite, describe_writes, plan_flag_write

        flags = self.plan.emergency.flags
        store = self.plan.flag_store
        await self.session.reconnect()
        results: list[GuardResult] = []
        writes: list[FlagWrite] | None = None
        source = "database not connected"
        db = self.db
        if db is None and store.backend == "sql":
            results.append(self.session.unreachable())
        else:
            if db is not None:
                results.append(GuardResult(guards.DATABASE, True, db.server_label))
            try:
                live = await read_flags(db, store, flags)
                writes, source = [plan_flag_write(store, live[k], False) for k in flags], "from a live read"
            except (DatabaseError, FlagError) as exc:
                source = f"cannot read them now: {exc}"
        text = "\n".join(describe_writes(store, flags, False, writes, source))
        text += "\n-- each flag is read back; one failing flag does not stop the others"
        return DryRun(None, "emergency", self.plan.emergency.title, text, tuple(results), False, EMERGENCY_TOKEN,
                      any(not g.ok for g in results))

    async def emergency_execute(self, *, confirm: str | None = None, on_output: Callable[[str], None] | None = None) -> Outcome:
        """Every emergency flag off in one action, each read back, the result per flag
        journalled. Only `off` read back counts: a missing or ambiguous key is reported
        as not off, and the others are still switched."""
        if self.read_only:
            return Outcome("refused", f"read-only: {self.read_only_reason}", "read_only")
        if not emergency_confirm_matches(confirm):
            return Outcome("refused", emergency_refusal(), "confirm")
        await self.session.reconnect()
        if not await self.verify_lock():
            return Outcome("refused", f"read-only: {self.read_only_reason}", "read_only")
        store = self.plan.flag_store
        db = self.db
        if db is None and store.backend == "sql":
            refusal = self.session.unreachable()
            return Outcome("refused", refusal.detail, refusal.name)
        flags = self.plan.emergency.flags
        lines: list[str] = []

        def say(line: str) -> None:
            lines.append(line)
            if on_output is not None:
                on_output(line)

        self._emergency_running = True
        try:
            return await self._emergency_flags_off(db, store, flags, say, lines)
        finally:
            self._emergency_running = False

    async def _emergency_flags_off(self, db: Database | None, store: FlagStore, flags: Sequence[str],
                                   say: Callable[[str], None], lines: list[str]) -> Outcome:
        """The emergency's effect, between its journalled intent and outcome."""
        from cockpit.faults import fault_point
        from cockpit.probes.flags import FlagError, is_ambiguous, read_flags

        from .steps.flags import apply_flag_write, plan_flag_write

        intent = await self.journal.append_async("emergency_intent", data={"flags": list(flags)})
        await fault_point("emergency.after_intent")
        results: dict[str, str] = {}
        statements: dict[str, str] = {}
        for key in flags:
            try:
                reading = (await read_flags(db, store, (key,)))[key]
                write = plan_flag_write(store, reading, False)
                if write.action is not None:
                    statements[key] = write.action.render()
                after = await apply_flag_write(db, store, write)
                results[key] = after.state
            except (DatabaseError, FlagError) as exc:
                try:
                    now = (await read_flags(db, store, (key,)))[key]
                    results[key] = "ambiguous" if is_ambiguous(now) else now.state
                except (DatabaseError, FlagError):
                    results[key] = "unknown"
                say(f"{key}: not off: {exc}")
                continue
            say(f"{key}: {results[key]}" + (f" ({statements[key]})" if key in statements else " (already)"))
        bad = [k for k, v in results.items() if v != "off"]
        status = "failed" if bad else "done"
        message = f"not off: {', '.join(f'{k} ({results[k]})' for k in bad)}" if bad else f"all {len(flags)} flags off (read back)"
        await self.journal.append_async("emergency_outcome", data={"status": status, "message": message, "flags": results,
                                                                   "statements": statements, "intent_id": intent})
        return Outcome(status, message, "verify" if bad else None, tuple(lines), {"flags": results})

    @derived(state.EMERGENCY_KINDS)
    def last_emergency(self) -> state.EmergencyRecord | None:
        return state.last_emergency(self.plan, self.journal.events())

    def emergency_warning(self, snapshot: Snapshot | None) -> EmergencyWarning | None:
        """What every view must say about the last emergency rollback (state.emergency_warning).
        This cockpit holding the operator lock, no other one can be finishing it: an
        unfinished one not running here was cut short."""
        return state.emergency_warning(self.plan, self.last_emergency(), snapshot, self.clock(),
                                       running_here=self._emergency_running, may_run_elsewhere=self.read_only)

    # -- derived state ------------------------------------------------------------------------
    @derived()
    def step_views(self, phase_id: int, snapshot: Snapshot | None = None) -> list[StepView]:
        """Status of each step from the journal; for steps not yet run, a guard preview
        from the snapshot (no I/O: this runs on every refresh)."""
        phase = self.plan.phase(phase_id)
        events = self.journal.events()
        views = []
        for step in phase.all_steps:
            record = state.step_record(events, phase.id, step.id)
            blocked = self._preview_blocks(events, phase, step, snapshot)
            if self._running == (phase.id, step.id):
                status = "running"
            elif record.status:
                status = record.status
            elif blocked:
                status = "blocked"
            elif snapshot is None and self.kinds(step).needs_db and step.kind in ("migration", "quarantine"):
                status = "pending"
            else:
                status = "ready"
            views.append(StepView(step, status, tuple(blocked) if status != "done" else (), record.message,
                                  record.started_at, record.finished_at))
        return views

    def _preview_blocks(self, events: Sequence[Event], phase: Phase, step: Step, snapshot: Snapshot | None) -> list[str]:
        from cockpit.probes.flags import counts_as_off

        from . import guards
        from .stepkind import StepContext

        blocks = []
        if step.aborts:
            order = guards.abort_order_guard(events, self.plan, phase)
        else:
            order = guards.preview_order_guard(events, self.plan, phase, snapshot)
        if not order.ok:
            blocks.append(f"order: {order.detail}")
        prereq = guards.prerequisite_guard(events, phase, step)
        if not prereq.ok:
            blocks.append(f"prerequisites: {prereq.detail}")
        if step.kind == "quarantine" and snapshot is not None:
            try:
                live = snapshot.phase(phase.id)
            except KeyError:
                live = None
            if live is not None:
                on = [f.key for f in live.flags if not counts_as_off(f.state)]
                if on:
                    blocks.append(f"flags_off: still on or unknown: {', '.join(on)}")
        blocks += self._table_blocks(events, phase, step, snapshot)
        if self.db is None and self.kinds(step).requires_db(StepContext(self, phase, step)):
            refusal = self.session.unreachable()
            blocks.append(f"{refusal.name}: {refusal.detail}")
        return blocks

    def _table_blocks(self, events: Sequence[Event], phase: Phase, step: Step, snapshot: Snapshot | None) -> list[str]:
        """The table guards, evaluated over the snapshot and the journal: the same pure
        functions the execution runs over live inputs, with no query and no file I/O."""
        if not phase.quarantine_steps:
            return []
        if step.kind in ("flags_on", "cron_start"):
            inputs = table_guards.snapshot_inputs(self.plan, events, phase, phase.quarantine_steps[0], snapshot, self.clock())
            found = table_guards.abort_table_guard(inputs, phase, step)
            return [f"{found.name}: {found.detail}"] if found else []
        functions = {"quarantine": table_guards.quarantine_guards, "backup": table_guards.backup_guards,
                     "migration": table_guards.drop_guards, "restore": table_guards.restore_guards}
        if step.kind not in functions:
            return []
        inputs = table_guards.snapshot_inputs(self.plan, events, phase, step, snapshot, self.clock())
        return [f"{g.name}: {g.detail}" for g in functions[step.kind](inputs, phase, step) if not g.ok]

    @derived(clocked=True)
    def phase_progress(self, phase_id: int) -> PhaseProgress:
        return state.phase_progress(self.journal.events(), self.plan.phase(phase_id), self.clock())

    @derived()
    def table_custody(self, phase_id: int) -> dict[str, str]:
        """Where the phase's moved tables are by the journal: original name -> "quarantined"
        (renamed away, `restore` puts it back), "dropped" (the final drop ran; the verified
        backup keeps it) or "uncertain" (a quarantine interrupted). Tables never moved, or
        restored, are absent from the answer: the catalogue alone says where they are."""
        phase = self.plan.phase(phase_id)
        events = self.journal.events()
        custody: dict[str, str] = {}
        for quarantine in phase.quarantine_steps:
            current = table_guards.q_state(events, phase, quarantine)
            if current.status == "none":
                continue
            names = current.tables or dict(table_guards.names_for(phase, quarantine)[0])
            for table in names:
                custody[table] = current.status
            for column in current.columns:
                custody[f"{column['table']}.{column['column']}"] = current.status
        return custody

    # -- operator records -----------------------------------------------------------------------
    def tick(self, phase_id: int, which: str, item_id: str, ticked: bool, note: str | None = None) -> None:
        self.session.writable()
        phase = self.plan.phase(phase_id)
        if which not in ("before", "after"):
            raise EngineError(f"checklist must be before or after, not {which!r}")
        items = {item.id for item in self.plan.checklist(which)}
        if item_id not in items:
            raise EngineError(f"no \"{item_id}\" in the {which} checklist (items: {', '.join(sorted(items))})")
        self.journal.append("tick" if ticked else "untick", phase=phase.id, data={"which": which, "item": item_id, "note": note})

    @derived(frozenset({"tick", "untick"}))
    def ticks(self, phase_id: int) -> dict[tuple[str, str], TickState]:
        return state.ticks(self.journal.events(phase_id), phase_id)

    def note(self, text: str, phase_id: int | None = None) -> None:
        self.session.writable()
        if not text.strip():
            raise EngineError("a note needs text")
        if phase_id is not None:
            phase_id = self.plan.phase(phase_id).id
        self.journal.append("note", phase=phase_id, data={"text": text.strip()})

    def record_alert(self, alert: Alert) -> int:
        """Journal a drift alert; a read-only cockpit shows it but does not write (returns 0),
        nor does one whose session has ended (a refresh landing during shutdown)."""
        if self.read_only or self.closed:
            return 0
        at = alert.at or self.clock()
        return self.journal.append("alert", phase=alert.phase_id, data={
            "kind": alert.kind, "subject": alert.subject, "message": alert.message, "at": at,
        })

    def acknowledge_alert(self, event_id: int) -> None:
        self.session.writable()
        self.journal.append("alert_ack", data={"event_id": int(event_id)})

    @derived(frozenset({"alert", "alert_ack"}))
    def open_alerts(self) -> list[AlertRecord]:
        return state.open_alerts(self.journal.events())

    def start_watch(self, phase_id: int | None, hours: float) -> None:
        self.session.writable()
        self.journal.append("watch_start", phase=phase_id, data={"hours": float(hours)})

    @derived()
    def watch(self) -> WatchState | None:
        return state.watch(self.journal.events())

    # -- the threading rule: the blocking methods above, run in a worker thread ---------------
    # Each does exactly what its synchronous namesake does (same checks, same refusals,
    # same fsync'd journal write), off the event loop's thread.
    async def tick_async(self, phase_id: int, which: str, item_id: str, ticked: bool, note: str | None = None) -> None:
        await asyncio.to_thread(self.tick, phase_id, which, item_id, ticked, note)

    async def note_async(self, text: str, phase_id: int | None = None) -> None:
        await asyncio.to_thread(self.note, text, phase_id)

    async def record_alert_async(self, alert: Alert) -> int:
        return await asyncio.to_thread(self.record_alert, alert)

    async def acknowledge_alert_async(self, event_id: int) -> None:
        await asyncio.to_thread(self.acknowledge_alert, event_id)

    async def start_watch_async(self, phase_id: int | None, hours: float) -> None:
        await asyncio.to_thread(self.start_watch, phase_id, hours)

    async def events_async(self, phase_id: int | None = None) -> Sequence[Event]:
        return await asyncio.to_thread(self.events, phase_id)

    async def step_views_async(self, phase_id: int, snapshot: Snapshot | None = None) -> list[StepView]:
        return await asyncio.to_thread(self.step_views, phase_id, snapshot)

    async def phase_progress_async(self, phase_id: int) -> PhaseProgress:
        return await asyncio.to_thread(self.phase_progress, phase_id)

    async def table_custody_async(self, phase_id: int) -> dict[str, str]:
        return await asyncio.to_thread(self.table_custody, phase_id)

    async def ticks_async(self, phase_id: int) -> dict[tuple[str, str], TickState]:
        return await asyncio.to_thread(self.ticks, phase_id)

    async def open_alerts_async(self) -> list[AlertRecord]:
        return await asyncio.to_thread(self.open_alerts)

    async def watch_async(self) -> WatchState | None:
        return await asyncio.to_thread(self.watch)
