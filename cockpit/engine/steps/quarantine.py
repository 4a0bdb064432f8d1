"""quarantine: take a migration's tables out of production's reach before anything is destroyed.

One RENAME moves every table of the migration to `_cockpit_q<phase>_<table>` at once. On
MariaDB/MySQL the RENAME waits for the metadata lock of any writer with an open
transaction (bounded by the plan's lock_wait_timeout), so a row committed before it
lands in the quarantined table; once renamed, no writer can reach the table under its
name, so the counts, the checksums and later the backup all describe the same frozen
data. Columns the plan drops are copied out under LOCK TABLES ... WRITE, verified row
by row, and only then dropped, inside that lock. Nothing here destroys a row: `restore`
puts everything back.
"""

from __future__ import annotations

from typing import Any, Literal

from cockpit.db.base import Database, TableFact
from cockpit.db.errors import DatabaseError, DatabaseUnavailable, LockWaitTimeout
from cockpit.faults import fault_point
from cockpit.plan.model import ColumnRef, TableStepSpec

from .. import guards, table_guards
from ..statements import (
    Script,
    ScriptCheckFailed,
    Statement,
    column_copy_script,
    copy_table_create,
    drop_if_exists,
    rename_script,
)
from ..types import GuardResult, Outcome
from .base import StepContext, StepKind
from .connection import connected


def interrupted(ctx: StepContext, what: str, took_effect: bool | None, **data: Any) -> Outcome:
    """A connection lost during DDL: the statement may or may not have run. The catalogue
    read afterwards says which; either way the step reads `interrupted — verify`."""
    if took_effect is True:
        seen = "the catalogue shows it took effect"
    elif took_effect is False:
        seen = "the catalogue shows it did not take effect"
    else:
        seen = "the catalogue could not be read"
    return Outcome("interrupted", f"connection lost during {what}: {seen} — verify, then run the step again to reconcile",
                   "interrupted", tuple(ctx.lines), {"took_effect": took_effect, **data})


def record_intent(ctx: StepContext, script: Script) -> str:
    """Journal a DDL script before it runs (the text shown and run, with the objects it
    touches): a crash or a lost connection after this line shows what may have happened."""
    statement = "; ".join(s.sql for s in script.statements)
    ctx.journal.append("step_output", phase=ctx.phase.id, step=ctx.step.id,
                       data={"statement": statement, "object": ",".join(script.objects), "state": "intent"})
    return statement


async def catalogue(ctx: StepContext, names: list[str]) -> dict[str, TableFact] | None:
    try:
        return await connected(ctx).table_facts(names)
    except DatabaseError:
        return None


# per dropped column: its copy-out script, None when the column is already gone, "unread"
# when the catalogue could not be read to build it
ColumnPlan = Script | Literal["unread"] | None


class QuarantineStep(StepKind):
    async def guards(self, ctx: StepContext) -> list[GuardResult]:
        results = [await guards.flags_off_guard(ctx.db, ctx.plan, ctx.phase)]
        inputs = await table_guards.live_inputs(connected(ctx), ctx.plan, ctx.journal.events(), ctx.phase, ctx.step, ctx.engine.clock(),
                                                measure=False, wait_s=ctx.wait_s)
        ctx.scratch["inputs"] = inputs
        return results + table_guards.quarantine_guards(inputs, ctx.phase, ctx.step)

    def scripts(self, ctx: StepContext, dialect: str,
                facts: dict[str, TableFact] | None) -> tuple[Script | None, list[tuple[ColumnRef, str, ColumnPlan]]]:
        """The RENAME of the tables still under their names, and per dropped column its
        copy-out script (None when the column is already gone)."""
        tables, copies = table_guards.names_for(ctx.phase, ctx.step)
        pairs = [(t, q) for t, q in tables.items() if facts is None or (facts[t].exists and not facts[q].exists)]
        rename = rename_script(dialect, pairs, f"quarantine {len(pairs)} table(s) in one rename") if pairs else None
        columns: list[tuple[ColumnRef, str, ColumnPlan]] = []
        for ref in ctx.spec(TableStepSpec).drop_columns:
            if ref.table in tables:
                continue
            copy = copies[f"{ref.table}.{ref.column}"]
            fact = facts.get(ref.table) if facts else None
            if facts is not None and (fact is None or ref.column not in fact.columns):
                columns.append((ref, copy, None))
                continue
            pk = ctx.scratch.get("pk", {}).get(ref.table)
            columns.append((ref, copy, column_copy_script(dialect, ref.table, ref.column, pk, copy) if pk else "unread"))
        return rename, columns

    async def describe(self, ctx: StepContext) -> str:
        db: Database | None = ctx.db
        dialect = db.dialect if db is not None else "mariadb"
        facts = None
        if db is not None:
            tables, copies = table_guards.names_for(ctx.phase, ctx.step)
            drop_columns = ctx.spec(TableStepSpec).drop_columns
            try:
                facts = await db.table_facts([*tables, *tables.values(), *copies.values(), *(c.table for c in drop_columns)])
                ctx.scratch["pk"] = {c.table: await db.primary_key(c.table) for c in drop_columns if facts[c.table].exists}
            except DatabaseError:
                facts = None
        rename, columns = self.scripts(ctx, dialect, facts)
        lines = [rename.describe() if rename else "-- every table is already quarantined or absent: nothing to rename"]
        if dialect != "sqlite":
            lines.append(f"-- waits for writers' open transactions up to lock_wait_timeout {ctx.plan.target.lock_wait_timeout_s}s; "
                         "their committed rows end up in the quarantine")
        for ref, copy, script in columns:
            if script is None:
                lines.append(f"-- {ref.table}.{ref.column} is absent: nothing to copy")
                continue
            if not isinstance(script, Script):
                lines.append(f"-- {ref.table}.{ref.column}: copied out to {copy} by primary key under LOCK TABLES ... WRITE, "
                             "verified row by row, then dropped (the catalogue could not be read to show the statements)")
                continue
            if dialect != "sqlite":
                pk = tuple(ctx.scratch.get("pk", {}).get(ref.table, ()))
                lines.append(copy_table_create(ref.table, ref.column, pk, copy).describe())
            lines.append(script.describe())
        lines.append("-- then exact counts and checksums of the quarantined tables are journalled; `restore` undoes all of it")
        return "\n".join(lines)

    async def run(self, ctx: StepContext) -> Outcome:
        db = connected(ctx)
        tables, copies = table_guards.names_for(ctx.phase, ctx.step)
        names = [*tables, *tables.values(), *copies.values(), *(c.table for c in ctx.spec(TableStepSpec).drop_columns)]
        facts = await db.table_facts(names)
        both = [t for t, q in tables.items() if facts[t].exists and facts[q].exists]
        if both:
            return ctx.failed(f"both the table and its quarantine exist for {', '.join(both)}: nothing renamed", guard="catalogue")
        rename, _ = self.scripts(ctx, db.dialect, facts)
        for table, q in tables.items():
            if not facts[table].exists and facts[q].exists:
                ctx.emit(f"{table}: already quarantined as {q}")
            elif not facts[table].exists:
                ctx.emit(f"{table}: absent, nothing to quarantine")
        if rename is not None:
            statement = record_intent(ctx, rename)
            await fault_point("quarantine.after_intent")
            try:
                await rename.run(db)
            except LockWaitTimeout as exc:
                ctx.emit(f"blocked: {exc}")
                return ctx.failed(f"blocked by a lock, nothing renamed: {exc}", guard="lock_wait")
            except DatabaseUnavailable:
                after = await catalogue(ctx, names)
                pairs = zip(rename.objects, [tables[o] for o in rename.objects], strict=True)
                moved = None if after is None else all(not after[a].exists and after[b].exists for a, b in pairs)
                data = {"quarantined": {t: tables[t] for t in rename.objects}} if moved else {}
                return interrupted(ctx, "the RENAME", moved, **data)
            await fault_point("quarantine.after_rename")
            ctx.emit(f"renamed in one statement: {', '.join(f'{t} -> {tables[t]}' for t in rename.objects)}", state="done",
                     statement=statement)
        facts = await db.table_facts(names)
        quarantined = {t: q for t, q in tables.items() if facts[q].exists}
        columns: list[dict[str, Any]] = []
        for ref in ctx.spec(TableStepSpec).drop_columns:
            if ref.table in tables:
                continue
            copy = copies[f"{ref.table}.{ref.column}"]
            outcome = await self._column(ctx, ref, copy, facts)
            if isinstance(outcome, Outcome):
                return outcome
            if outcome is not None:
                columns.append(outcome)
        counts: dict[str, int] = {}
        checksums: dict[str, str] = {}
        for name in (*quarantined.values(), *(c["copy"] for c in columns)):
            counts[name] = await db.exact_count(name, timeout_ms=max(ctx.plan.target.statement_timeout_ms, 600_000))
            checksums[name] = await db.table_checksum(name)
            ctx.emit(f"{name}: {counts[name]} rows, checksum {checksums[name][:16]}")
        summary = ", ".join(f"{n}: {c}" for n, c in counts.items()) or "nothing present"
        return ctx.done(f"quarantined ({summary}); `restore` puts it back, the final drop waits for the watch",
                        quarantined=quarantined, counts=counts, checksums=checksums, columns=columns)

    async def _column(self, ctx: StepContext, ref: ColumnRef, copy: str,
                      facts: dict[str, TableFact]) -> dict[str, Any] | Outcome | None:
        db = connected(ctx)
        fact = facts.get(ref.table)
        if fact is None or not fact.exists or ref.column not in fact.columns:
            if facts.get(copy) is not None and facts[copy].exists:
                ctx.emit(f"{ref.table}.{ref.column}: already copied out to {copy}")
                previous = next((c for c in self._recorded_columns(ctx) if c["copy"] == copy), None)
                return previous or {"table": ref.table, "column": ref.column, "copy": copy, "definition": "", "pk": []}
            ctx.emit(f"{ref.table}.{ref.column}: absent, nothing to copy")
            return None
        if facts.get(copy) is not None and facts[copy].exists:
            return ctx.failed(f"{copy} already exists while {ref.table}.{ref.column} is still there: resolve by hand", guard="catalogue")
        pk = await db.primary_key(ref.table)
        if not pk:
            return ctx.failed(f"{ref.table} has no primary key: its {ref.column} cannot be copied out row by row", guard="catalogue")
        definition = await db.column_definition(ref.table, ref.column) or ""
        if db.dialect != "sqlite":
            await db.ddl(copy_table_create(ref.table, ref.column, pk, copy).entry)
        script = column_copy_script(db.dialect, ref.table, ref.column, pk, copy)
        record = {"table": ref.table, "column": ref.column, "copy": copy, "definition": definition, "pk": list(pk)}
        ctx.journal.append("step_output", phase=ctx.phase.id, step=ctx.step.id,
                           data={"statement": script.describe(), "object": f"{ref.table}.{ref.column}", "state": "intent",
                                 "column_copy": record})
        try:
            await script.run(db)
        except ScriptCheckFailed as exc:
            await self._drop_quietly(ctx, copy)
            return ctx.failed(f"the copy of {ref.table}.{ref.column} does not match, nothing dropped: {exc}", guard="verify")
        except LockWaitTimeout as exc:
            await self._drop_quietly(ctx, copy)
            return ctx.failed(f"blocked by a lock on {ref.table}, column kept: {exc}", guard="lock_wait")
        except DatabaseUnavailable:
            after = await catalogue(ctx, [ref.table, copy])
            took = None if after is None else (ref.column not in after[ref.table].columns)
            return interrupted(ctx, f"the copy-out of {ref.table}.{ref.column}", took)
        ctx.emit(f"{ref.table}.{ref.column}: copied out to {copy} under a write lock, verified, dropped", state="done",
                 object=f"{ref.table}.{ref.column}")
        return record

    def _recorded_columns(self, ctx: StepContext) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for event in ctx.journal.events(ctx.phase.id):
            if event.step == ctx.step.id and event.kind == "step_output" and event.data.get("column_copy"):
                out.append(event.data["column_copy"])
        return out

    async def _drop_quietly(self, ctx: StepContext, table: str) -> None:
        try:
            await connected(ctx).ddl(drop_if_exists(table).entry)
        except DatabaseError:
            pass


__all__ = ["QuarantineStep", "Statement", "interrupted", "catalogue"]
