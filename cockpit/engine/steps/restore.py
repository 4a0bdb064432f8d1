"""restore: the way back from a quarantine, until the final drop.

One RENAME puts every quarantined table back under its name (refused if a table of that
name exists again: nothing is ever renamed over production's data), then each copied-out
column is added back and filled from its copy by primary key. After the final drop this
step refuses and names the verified backup to restore from instead.
"""

from __future__ import annotations

from collections.abc import Mapping

from cockpit.db.base import Database
from cockpit.db.errors import DatabaseError, DatabaseUnavailable, LockWaitTimeout
from cockpit.faults import fault_point

from .. import table_guards
from ..state import QuarantineState
from ..statements import Script, ScriptCheckFailed, column_restore_script, rename_script
from ..types import GuardResult, Outcome
from .base import StepContext, StepKind
from .connection import connected
from .quarantine import catalogue, interrupted, record_intent


class RestoreStep(StepKind):
    async def guards(self, ctx: StepContext) -> list[GuardResult]:
        inputs = await table_guards.live_inputs(connected(ctx), ctx.plan, ctx.journal.events(), ctx.phase, ctx.step, ctx.engine.clock(),
                                                measure=False)
        ctx.scratch["inputs"] = inputs
        return table_guards.restore_guards(inputs, ctx.phase, ctx.step)

    def _scripts(self, ctx: StepContext, dialect: str,
                 present: Mapping[str, bool | None] | None) -> tuple[QuarantineState, Script | None, list[Script]]:
        current = table_guards.q_state(ctx.journal.events(), ctx.phase, ctx.step)
        pairs = [(q, t) for t, q in (current.tables or {}).items() if present is None or present.get(q)]
        rename = rename_script(dialect, pairs, f"restore {len(pairs)} table(s) in one rename") if pairs else None
        columns = [column_restore_script(dialect, c["table"], c["column"], c["definition"] or "TEXT NULL", tuple(c["pk"]), c["copy"])
                   for c in current.columns if present is None or present.get(c["copy"])]
        return current, rename, columns

    async def describe(self, ctx: StepContext) -> str:
        db: Database | None = ctx.db
        dialect = db.dialect if db is not None else "mariadb"
        _, rename, columns = self._scripts(ctx, dialect, None)
        lines = [rename.describe()] if rename else []
        lines += [script.describe() for script in columns]
        return "\n".join(lines) or "-- nothing is quarantined"

    async def run(self, ctx: StepContext) -> Outcome:
        db = connected(ctx)
        present = ctx.scratch["inputs"].present
        current, rename, columns = self._scripts(ctx, db.dialect, present)
        if rename is not None:
            statement = record_intent(ctx, rename)
            try:
                await rename.run(db)
            except LockWaitTimeout as exc:
                return ctx.failed(f"blocked by a lock, nothing renamed: {exc}", guard="lock_wait")
            except DatabaseUnavailable:
                names = [*(current.tables or {}), *(current.tables or {}).values()]
                after = await catalogue(ctx, names)
                back = None if after is None else all(after[t].exists for t in (current.tables or {}))
                return interrupted(ctx, "the restoring RENAME", back)
            await fault_point("restore.after_rename")
            names_back = {q: t for t, q in (current.tables or {}).items()}
            ctx.emit(f"renamed back in one statement: {', '.join(f'{q} -> {names_back[q]}' for q in rename.objects)}",
                     state="done", statement=statement)
        for script in columns:
            try:
                await script.run(db)
            except (LockWaitTimeout, ScriptCheckFailed) as exc:
                return ctx.failed(f"{script.title} stopped: {exc}", guard="lock_wait")
            except DatabaseUnavailable:
                return interrupted(ctx, script.title, None)
            except DatabaseError as exc:
                return ctx.failed(f"{script.title} failed: {exc}", guard="database")
            ctx.emit(f"{script.title}: done", state="done")
        facts = await db.table_facts([*(current.tables or {}), *(c["table"] for c in current.columns)])
        missing = [t for t in (current.tables or {}) if not facts[t].exists]
        missing += [f"{c['table']}.{c['column']}" for c in current.columns if c["column"] not in facts[c["table"]].columns]
        if missing:
            return ctx.failed("not back after the restore: " + ", ".join(missing), guard="verify")
        names = [*(current.tables or {}), *(f"{c['table']}.{c['column']}" for c in current.columns)]
        return ctx.done("restored under the original names: " + ", ".join(names))
