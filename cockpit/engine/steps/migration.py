"""The plan's migration step, in its final form: the DROP of the quarantined tables.

By the time this runs the tables have been out of production's reach since the
quarantine, so nothing can still be writing to them. The guards (engine/table_guards.py)
hold it until the watch window has passed, until no run of the phase's jobs is in
flight, and until every quarantined table with rows is covered by a backup verified by
restore whose checksum still equals the table's — measured live, right before the
first DROP. A connection lost during a DROP reads `interrupted — verify`, reconciled
from the catalogue; running the step again drops only what is left.
"""

from __future__ import annotations

from cockpit.db.errors import DatabaseError, DatabaseUnavailable, LockWaitTimeout
from cockpit.faults import fault_point

from .. import table_guards
from ..statements import drop_script
from ..types import GuardResult, Outcome
from .base import StepContext, StepKind
from .connection import connected
from .quarantine import catalogue, interrupted


class MigrationStep(StepKind):
    async def guards(self, ctx: StepContext) -> list[GuardResult]:
        inputs = await table_guards.live_inputs(connected(ctx), ctx.plan, ctx.journal.events(), ctx.phase, ctx.step, ctx.engine.clock(),
                                                measure=True, wait_s=ctx.wait_s)
        ctx.scratch["inputs"] = inputs
        return table_guards.drop_guards(inputs, ctx.phase, ctx.step)

    def _names(self, ctx: StepContext) -> tuple[str, ...]:
        current = table_guards.q_state(ctx.journal.events(), ctx.phase, ctx.step)
        if current.held or current.status == "dropped":
            return current.quarantined_names
        tables, copies = table_guards.names_for(ctx.phase, ctx.phase.quarantine_for(ctx.step) or ctx.step)
        return (*tables.values(), *copies.values())

    async def describe(self, ctx: StepContext) -> str:
        lines = [drop_script(name).describe() for name in self._names(ctx)]
        lines.append("-- only the quarantined copies are dropped; production's tables were renamed away by the quarantine")
        lines.append(f"-- one statement at a time, lock_wait_timeout {ctx.plan.target.lock_wait_timeout_s}s each; "
                     f"offered after the {ctx.plan.watch.hours:g} h watch")
        return "\n".join(lines)

    async def run(self, ctx: StepContext) -> Outcome:
        db = connected(ctx)
        names = list(self._names(ctx))
        current = table_guards.q_state(ctx.journal.events(), ctx.phase, ctx.step)
        backups = [b for b in ctx.scratch["inputs"].backup_files or {}]
        dropped: dict[str, int] = {}
        # the rollback log speaks of production's tables, not of their quarantine names
        original = {q: t for t, q in (current.tables or {}).items()}
        original.update({c["copy"]: f"{c['table']}.{c['column']}" for c in current.columns})
        for name in names:
            facts = await db.table_facts([name])
            if not facts[name].exists:
                ctx.emit(f"skip: {name} is absent")
                continue
            script = drop_script(name)
            statement = script.statements[0].sql
            rows = int((current.counts or {}).get(name) or 0)
            ctx.journal.append("step_output", phase=ctx.phase.id, step=ctx.step.id,
                               data={"statement": statement, "object": name, "state": "intent"})
            await fault_point("drop.after_intent")
            try:
                await script.run(db)
            except LockWaitTimeout as exc:
                ctx.emit(f"blocked: {statement}: {exc}")
                return ctx.failed(f"blocked by a lock on {name}, stopped there: {exc}", guard="lock_wait", dropped=dropped)
            except DatabaseUnavailable:
                after = await catalogue(ctx, [name])
                return interrupted(ctx, statement, None if after is None else not after[name].exists, dropped=dropped)
            except DatabaseError as exc:
                ctx.emit(f"failed: {statement}: {exc}")
                return ctx.failed(f"{statement} failed: {exc}", guard="database", dropped=dropped)
            await fault_point("drop.after_drop")
            dropped[name] = rows
            ctx.emit(f"{statement}: done ({rows} rows, kept in the verified backup)" if rows else f"{statement}: done (empty)",
                     statement=statement, object=name, table=original.get(name, name), state="done", rows=rows)
        facts = await db.table_facts(names)
        left = [n for n in names if facts[n].exists]
        if left:
            return ctx.failed("still present after the drop: " + ", ".join(left), guard="verify", dropped=dropped)
        kept = ", ".join(f"{k}: {v} rows" for k, v in dropped.items() if v) or "no rows: every table was empty"
        return ctx.done(f"quarantined tables dropped ({kept})", dropped=dropped, backup=backups[0] if backups else None)
