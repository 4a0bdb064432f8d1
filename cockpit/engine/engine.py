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
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from cockpit.db.errors import DatabaseError
from cockpit.faults import fault_point
from cockpit.journal import Event, Journal
from cockpit.plan.model import Phase, Plan, Step
from cockpit.probes.snapshot import Snapshot

from . import guards, state, table_guards
from .confirm import confirm_matches, confirm_refusal, confirm_token, kept_warnings
from .lock import OperatorLock, ServerLock, server_lock_holder, server_lock_name
from .memo import derived

if TYPE_CHECKING:
    from .steps import StepContext, kind_for
else:  # the step kinds load on first use: not needed for the first frame
    from .lazy_steps import StepContext, kind_for
from .types import AlertRecord, DryRun, GuardResult, Outcome, PhaseProgress, StepView, TickState, WatchState

PAUSE_HOOK = "COCKPIT_TEST_PAUSE_AFTER_INTENT"
EMERGENCY_TOKEN = "EMERGENCY"


class EngineError(Exception):
    """Bad input (unknown phase, step or checklist item): CLI exit 2."""


class EngineRefused(Exception):
    """A write refused, e.g. a tick from a read-only cockpit; the message names why."""


async def _pause_for_tests() -> None:
    """Test hook: `COCKPIT_TEST_PAUSE_AFTER_INTENT=<seconds>` sleeps right after an intent
    is journalled, so a test can SIGKILL the process mid-action. Unset in production."""
    value = os.environ.get(PAUSE_HOOK)
    if value:
        await asyncio.sleep(float(value))


class Engine:
    """One per cockpit process: runs steps with guards, derives all state from the journal."""

    def __init__(self, plan: Plan, journal: Journal, db: Any | None, operator: str, *, read_only: bool,
                 read_only_reason: str, lock: OperatorLock | None, clock: Callable[[], float], db_error: str = "",
                 server_lock: ServerLock | None = None, database: Any | None = None) -> None:
        self.plan = plan
        self.journal = journal
        # `database` is the target's Database object for the whole session, connected or
        # not; `db` is that object while it is connected, else None (steps needing it refuse).
        self.database = database if database is not None else db
        self.db = db
        self.operator = operator
        self.read_only = read_only
        self.read_only_reason = read_only_reason
        self.clock = clock
        self.db_error = db_error
        self._lock = lock
        self._server_lock = server_lock
        self._running: tuple[int | None, str] | None = None
        self._cron_changes: dict[tuple[int, str], Any] = {}
        self._closed = False
        self._session_open = False
        # why the operator lock was lost while this cockpit held it (None: not lost);
        # the TUI registers a listener to show it the moment it happens
        self.lock_lost: str | None = None
        self.lock_listeners: list[Callable[[str], None]] = []

    # -- lifecycle ----------------------------------------------------------------------
    @classmethod
    async def open(cls, plan: Plan, *, operator: str, read_only: bool = False, interactive: bool = False,
                   clock: Callable[[], float] = time.time, connect: bool = True, settings: Any = None) -> Engine:
        """Journal always; database if reachable (else db None, and steps needing it refuse);
        the operator lock unless read-only (held elsewhere -> read-only naming the holder).
        `settings`: connection settings resolved beforehand (the TUI asks for a password
        before it takes the terminal, then opens the engine behind its first frame)."""
        journal = Journal(plan.paths.journal, plan.target.label, operator, clock=clock)
        db, db_error, candidate = None, "", None
        if connect:
            from cockpit.db import open_database

            candidate = open_database(plan.target, interactive=interactive, settings=settings)
            try:
                await candidate.connect()
                db = candidate
            except DatabaseError as exc:
                db_error = str(exc)
        reason = "--read-only" if read_only else ""
        lock: OperatorLock | None = None
        server_lock: ServerLock | None = None
        if not read_only:
            lock = OperatorLock(plan.paths.journal)
            holder = lock.acquire(operator, clock)
            if holder is not None:
                read_only, reason, lock = True, holder.describe(), None
            elif db is not None and db.dialect != "sqlite":
                server_lock, problem = await cls._take_server_lock(db, plan)
                if server_lock is None:
                    lock.release()
                    lock = None
                    read_only, reason = True, problem
        engine = cls(plan, journal, db, operator, read_only=read_only, read_only_reason=reason, lock=lock, clock=clock,
                     db_error=db_error, server_lock=server_lock, database=candidate)
        if not read_only:
            journal.append("session_start", data={"pid": os.getpid(), "host": socket.gethostname()})
            engine._session_open = True
            engine._start_heartbeat()
        return engine

    @staticmethod
    async def _take_server_lock(db: Any, plan: Plan) -> tuple[ServerLock | None, str]:
        """The server lock on its own session, or None and why (held elsewhere, or the
        lock session could not be opened: acting without it would be acting blind)."""
        name = server_lock_name(plan.target.database)
        server_lock = ServerLock(db, name)
        try:
            got = await server_lock.acquire()
        except DatabaseError as exc:
            await server_lock.release()
            return None, f"cannot take the operator lock on the database ({name}): {exc}"
        if got:
            return server_lock, ""
        return None, f"lock held by {await server_lock_holder(db, name)} on the database ({name})"

    # -- the operator lock, kept alive and verified ---------------------------------------
    def _start_heartbeat(self) -> None:
        if self._server_lock is not None:
            self._server_lock.start_heartbeat(self._on_lock_lost)

    async def verify_lock(self) -> bool:
        """True when this cockpit may act right now: not read-only, and the server lock
        (if this target has one) is proven to be this session's. A loss turns the
        cockpit read-only at once and is journalled."""
        if self.read_only:
            return False
        if self._server_lock is None:
            return True
        if await self._server_lock.verify():
            return True
        self._on_lock_lost(self._server_lock.lost or "lost")
        return False

    def _on_lock_lost(self, why: str) -> None:
        if self.lock_lost is not None:
            return
        name = self._server_lock.name if self._server_lock is not None else server_lock_name(self.plan.target.database)
        self.lock_lost = why
        self.read_only = True
        self.read_only_reason = (f"operator lock lost ({name}: {why}); another cockpit may act now — "
                                 "restart the cockpit to take the lock again")
        try:
            self.journal.append("lock_lost", data={"name": name, "reason": why, "pid": os.getpid()})
        except Exception:  # noqa: BLE001 - a journal failure must not hide the loss: read-only stands
            pass
        if self._lock is not None:  # the local half goes too: this cockpit no longer acts
            self._lock.release()
            self._lock = None
        for listener in list(self.lock_listeners):
            try:
                listener(self.read_only_reason)
            except Exception:  # noqa: BLE001 - a view's failure must not undo the read-only switch
                pass

    def lock_fresh(self) -> bool:
        """For the journal-only writes (tick, note, watch): synchronous, so they cannot
        ask the server; they require a proof of ownership no older than three heartbeats."""
        if self._server_lock is None:
            return True
        return self._server_lock.verified_within(max(3 * self._server_lock.heartbeat_s, 15.0))

    async def close(self) -> None:
        """Idempotent: session end journalled, server lock, connection and lock file released."""
        if self._closed:
            return
        self._closed = True
        if self._session_open:
            try:
                self.journal.append("session_end")
            except Exception:  # noqa: BLE001 - closing must never mask the real exit path
                pass
        if self._server_lock is not None:
            await self._server_lock.release()
            self._server_lock = None
        if self.database is not None:
            await self.database.close()
        self.db = self.database = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        self.journal.close()

    async def _reconnect(self) -> None:
        """Before any check or action: a database that was unreachable at start, or went
        away since, is tried again (the live probe shares the same object and may already
        have reconnected it). Coming back, the server lock is taken again — if another
        cockpit took it meanwhile, this one turns read-only rather than act beside it."""
        if self.database is None:
            return
        if not self.database.connected:
            try:
                await self.database.connect()
            except DatabaseError as exc:
                self.db, self.db_error = None, str(exc)
                return
        if self.db is None:
            self.db, self.db_error = self.database, ""
            # first acquisition only (the database was down when this cockpit opened): a
            # lock once held and lost is never re-taken here, the cockpit is read-only then
            if (not self.read_only and self._lock is not None and self._server_lock is None
                    and self.lock_lost is None and self.db.dialect != "sqlite"):
                server_lock, problem = await self._take_server_lock(self.db, self.plan)
                if server_lock is not None:
                    self._server_lock = server_lock
                    self._start_heartbeat()
                else:
                    self.read_only, self.read_only_reason = True, problem
                    self._lock.release()
                    self._lock = None

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

    # -- cron change cache: the dry-run's change is the one applied ------------------------
    def planned_cron_change(self, phase_id: int, step_id: str) -> Any | None:
        return self._cron_changes.get((phase_id, step_id))

    def remember_cron_change(self, phase_id: int, step_id: str, change: Any) -> None:
        self._cron_changes[(phase_id, step_id)] = change

    def forget_cron_change(self, phase_id: int, step_id: str) -> None:
        self._cron_changes.pop((phase_id, step_id), None)

    # -- guards ---------------------------------------------------------------------------
    async def _guards(self, ctx: StepContext) -> list[GuardResult]:
        await self._reconnect()
        kind = kind_for(ctx.step)
        events = self.journal.events()
        results: list[GuardResult] = []
        db_ok = True
        if kind.requires_db(ctx) and self.db is None:
            db_ok = False
            results.append(GuardResult(guards.DATABASE, False, f"database unreachable: {self.db_error or 'not connected'}"))
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
        if self.db is not None:
            inputs = await table_guards.live_inputs(self.db, self.plan, events, ctx.phase, ctx.phase.quarantine_steps[0],
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
        if live and self.db is not None:
            inputs = await table_guards.live_inputs(self.db, self.plan, events, phase, target, self.clock(),
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
        phase, step = self._resolve(phase_id, step_id)
        ctx = StepContext(self, phase, step)
        if preview:  # describe() must not read production either (steps/flags.py)
            ctx.scratch.update(preview=True, snapshot=snapshot)
        kind = kind_for(step)
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
        ctx = StepContext(self, phase, step, on_output=on_output, wait_s=wait_s, note=note)
        self._running = (phase.id, step.id)
        try:
            return await self._execute(ctx, override_reason)
        finally:
            self._running = None

    async def _execute(self, ctx: StepContext, override_reason: str | None) -> Outcome:
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
                self.journal.append("override", phase=phase.id, step=step.id,
                                    data={"guard": guard.name, "detail": guard.detail, "reason": reason})
            results = [g for g in results if g not in overridable]
        failing = [g for g in results if not g.ok]
        if failing:
            first = failing[0]
            message = failing[0].detail if len(failing) == 1 else "; ".join(f"{g.name}: {g.detail}" for g in failing)
            self.journal.append("step_outcome", phase=phase.id, step=step.id,
                                data={"status": "refused", "guard": first.name, "message": message})
            return Outcome("refused", message, first.name)
        intent = self.journal.append("step_intent", phase=phase.id, step=step.id,
                                     data={"kind": step.kind, "title": step.title, "note": ctx.note})
        await _pause_for_tests()
        await fault_point("step.after_intent")
        try:
            outcome = await kind_for(step).run(ctx)
        except DatabaseError as exc:
            outcome = ctx.failed(f"database error: {exc}", guard="database")
        except Exception as exc:  # noqa: BLE001 - any failure must still close the intent in the journal
            outcome = ctx.failed(f"{exc.__class__.__name__}: {exc}", guard="error")
        await fault_point("step.before_outcome")
        data = {"status": outcome.status, "message": outcome.message, "guard": outcome.guard, "intent_id": intent}
        data.update({k: v for k, v in outcome.data.items() if k not in data})
        if ctx.note:
            data["note"] = ctx.note
        self.journal.append("step_outcome", phase=phase.id, step=step.id, data=data)
        return outcome

    # -- emergency --------------------------------------------------------------------------
    async def emergency_dry_run(self) -> DryRun:
        """The writes, computed from a live read by the same function the execution uses."""
        from cockpit.probes.flags import FlagError, read_flags

        from .steps.flags import describe_writes, plan_flag_write

        flags = self.plan.emergency.flags
        store = self.plan.flag_store
        await self._reconnect()
        results = []
        writes, source = None, "database not connected"
        if self.db is None and store.backend == "sql":
            results.append(GuardResult(guards.DATABASE, False, f"database unreachable: {self.db_error or 'not connected'}"))
        else:
            if self.db is not None:
                results.append(GuardResult(guards.DATABASE, True, self.db.server_label))
            try:
                live = await read_flags(self.db, store, flags)
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
        from cockpit.probes.flags import FlagError, is_ambiguous, read_flags

        from .steps.flags import apply_flag_write, plan_flag_write

        if self.read_only:
            return Outcome("refused", f"read-only: {self.read_only_reason}", "read_only")
        if (confirm or "").strip() != EMERGENCY_TOKEN:
            return Outcome("refused", f"type {EMERGENCY_TOKEN} to confirm the emergency rollback", "confirm")
        await self._reconnect()
        if not await self.verify_lock():
            return Outcome("refused", f"read-only: {self.read_only_reason}", "read_only")
        store = self.plan.flag_store
        if self.db is None and store.backend == "sql":
            return Outcome("refused", f"database unreachable: {self.db_error or 'not connected'}", guards.DATABASE)
        flags = self.plan.emergency.flags
        lines: list[str] = []

        def say(line: str) -> None:
            lines.append(line)
            if on_output is not None:
                on_output(line)

        intent = self.journal.append("emergency_intent", data={"flags": list(flags)})
        await _pause_for_tests()
        await fault_point("emergency.after_intent")
        results: dict[str, str] = {}
        statements: dict[str, str] = {}
        for key in flags:
            try:
                reading = (await read_flags(self.db, store, (key,)))[key]
                write = plan_flag_write(store, reading, False)
                if write.action is not None:
                    statements[key] = write.action.render()
                after = await apply_flag_write(self.db, store, write)
                results[key] = after.state
            except (DatabaseError, FlagError) as exc:
                try:
                    now = (await read_flags(self.db, store, (key,)))[key]
                    results[key] = "ambiguous" if is_ambiguous(now) else now.state
                except (DatabaseError, FlagError):
                    results[key] = "unknown"
                say(f"{key}: not off: {exc}")
                continue
            say(f"{key}: {results[key]}" + (f" ({statements[key]})" if key in statements else " (already)"))
        bad = [k for k, v in results.items() if v != "off"]
        status = "failed" if bad else "done"
        message = f"not off: {', '.join(f'{k} ({results[k]})' for k in bad)}" if bad else f"all {len(flags)} flags off (read back)"
        self.journal.append("emergency_outcome", data={"status": status, "message": message, "flags": results,
                                                       "statements": statements, "intent_id": intent})
        return Outcome(status, message, "verify" if bad else None, tuple(lines), {"flags": results})

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
            elif snapshot is None and kind_for(step).needs_db and step.kind in ("migration", "quarantine"):
                status = "pending"
            else:
                status = "ready"
            views.append(StepView(step, status, tuple(blocked) if status != "done" else (), record.message,
                                  record.started_at, record.finished_at))
        return views

    def _preview_blocks(self, events: Sequence[Event], phase: Phase, step: Step, snapshot: Snapshot | None) -> list[str]:
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
                on = [f.key for f in live.flags if not guards.counts_as_off(f.state)]
                if on:
                    blocks.append(f"flags_off: still on or unknown: {', '.join(on)}")
        blocks += self._table_blocks(events, phase, step, snapshot)
        if self.db is None and kind_for(step).requires_db(StepContext(self, phase, step)):
            blocks.append(f"database: unreachable{': ' + self.db_error if self.db_error else ''}")
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
    def _writable(self) -> None:
        if self._closed:
            # the session ended (quit, hang-up, watchdog): `session_end` is its last word
            raise EngineRefused("the cockpit's session has ended")
        if self.read_only:
            raise EngineRefused(f"read-only: {self.read_only_reason}")
        if not self.lock_fresh():
            raise EngineRefused("the operator lock has not been verified recently (its heartbeat is not running); "
                                "retry in a moment or restart the cockpit")

    def tick(self, phase_id: int, which: str, item_id: str, ticked: bool, note: str | None = None) -> None:
        self._writable()
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
        self._writable()
        if not text.strip():
            raise EngineError("a note needs text")
        if phase_id is not None:
            phase_id = self.plan.phase(phase_id).id
        self.journal.append("note", phase=phase_id, data={"text": text.strip()})

    def record_alert(self, alert: Any) -> int:
        """Journal a drift alert; a read-only cockpit shows it but does not write (returns 0),
        nor does one whose session has ended (a refresh landing during shutdown)."""
        if self.read_only or self._closed:
            return 0
        at = getattr(alert, "at", None) or self.clock()
        return self.journal.append("alert", phase=getattr(alert, "phase_id", None), data={
            "kind": alert.kind, "subject": alert.subject, "message": alert.message, "at": at,
        })

    def acknowledge_alert(self, event_id: int) -> None:
        self._writable()
        self.journal.append("alert_ack", data={"event_id": int(event_id)})

    @derived(frozenset({"alert", "alert_ack"}))
    def open_alerts(self) -> list[AlertRecord]:
        return state.open_alerts(self.journal.events())

    def start_watch(self, phase_id: int | None, hours: float) -> None:
        self._writable()
        self.journal.append("watch_start", phase=phase_id, data={"hours": float(hours)})

    @derived()
    def watch(self) -> WatchState | None:
        return state.watch(self.journal.events())
