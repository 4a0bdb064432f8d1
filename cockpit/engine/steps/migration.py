"""migration: the plan's rollback DDL, the one step that can destroy data.

Guards re-checked at execution, in this order: every flag of the phase off (read live),
every protected table counted exactly now (bounded; a timeout refuses) and empty or
backed up after the flags went off. Statements then run one at a time, each journalled
before and after, so an interruption shows exactly which DROP may have happened; the
rows each DROP destroyed go to the journal for the log's Data Loss field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cockpit.db.errors import DatabaseError, LockWaitTimeout
from cockpit.db.sql import quote_ident
from cockpit.plan.model import Step

from .. import guards
from ..types import GuardResult, Outcome
from .base import StepContext, StepKind


@dataclass(frozen=True)
class Statement:
    sql: str | None  # None: nothing to run (a column already absent on a backend without IF EXISTS)
    object: str  # "table" or "table.column"
    table: str
    note: str = ""


def build_statements(step: Step, dialect: str, facts: dict[str, Any] | None) -> list[Statement]:
    """Columns first, then tables, as the plan writes them. MariaDB has DROP COLUMN IF
    EXISTS; MySQL and SQLite do not, so there the column's existence is checked first."""
    out: list[Statement] = []
    for ref in step.drop_columns:
        table, column = quote_ident(ref.table), quote_ident(ref.column)
        name = f"{ref.table}.{ref.column}"
        if dialect == "mariadb":
            out.append(Statement(f"ALTER TABLE {table} DROP COLUMN IF EXISTS {column}", name, ref.table))
            continue
        fact = (facts or {}).get(ref.table)
        if facts is not None and (fact is None or not fact.exists or ref.column not in fact.columns):
            out.append(Statement(None, name, ref.table, f"{name} is absent: nothing to drop"))
        else:
            out.append(Statement(f"ALTER TABLE {table} DROP COLUMN {column}", name, ref.table))
    for name in step.drop_tables:
        out.append(Statement(f"DROP TABLE IF EXISTS {quote_ident(name)}", name, name))
    return out


class MigrationStep(StepKind):
    async def guards(self, ctx: StepContext) -> list[GuardResult]:
        results = [await guards.flags_off_guard(ctx.db, ctx.plan, ctx.phase)]
        check = await guards.data_guard(ctx.db, ctx.journal.events(), ctx.phase, ctx.step)
        ctx.scratch["counts"] = check.counts
        ctx.scratch["backup"] = check.backup_path
        results.append(check.result)
        return results

    async def describe(self, ctx: StepContext) -> str:
        dialect = ctx.db.dialect if ctx.db is not None else "mariadb"
        facts = None
        if ctx.db is not None and dialect != "mariadb":
            try:
                facts = await ctx.db.table_facts(ctx.step.protected_tables)
            except DatabaseError:
                facts = None
        lines = []
        for statement in build_statements(ctx.step, dialect, facts):
            lines.append(f"{statement.sql};" if statement.sql else f"-- {statement.note}")
        if not facts and dialect != "mariadb":
            lines.append("-- (MySQL/SQLite: each column's existence is checked first)")
        lines.append(f"-- one statement at a time, lock_wait_timeout {ctx.plan.target.lock_wait_timeout_s}s each")
        return "\n".join(lines)

    async def run(self, ctx: StepContext) -> Outcome:
        db = ctx.db
        counts: dict[str, int | None] = ctx.scratch.get("counts", {})
        try:
            facts = await db.table_facts(ctx.step.protected_tables)
        except DatabaseError as exc:
            return ctx.failed(f"cannot read the catalogue: {exc}", guard="database")
        moved = await self._rows_moved(ctx, counts, [t for t in counts if facts.get(t) and facts[t].exists])
        if moved:
            return ctx.failed(f"rows changed since the guard counted ({moved}); nothing was dropped — run again to re-check", guard="data")
        dropped: dict[str, int] = {}
        for statement in build_statements(ctx.step, db.dialect, facts):
            if statement.sql is None:
                ctx.emit(f"skip: {statement.note}")
                continue
            fact = facts.get(statement.table)
            if fact is None or not fact.exists:
                ctx.emit(f"skip: {statement.table} is absent")
                continue
            if statement.table in counts:
                # the last moment before this statement: a writer that slipped in stops us here
                moved = await self._rows_moved(ctx, counts, [statement.table])
                if moved:
                    return ctx.failed(f"rows changed since the guard counted ({moved}); stopped before {statement.sql}", guard="data", dropped=dropped)
            rows = int(counts.get(statement.table) or 0)
            if statement.object != statement.table and statement.object.split(".", 1)[1] not in fact.columns:
                rows = 0  # MariaDB's IF EXISTS on a column that is already gone destroys nothing
            ctx.journal.append("step_output", phase=ctx.phase.id, step=ctx.step.id,
                               data={"statement": statement.sql, "object": statement.object, "state": "intent"})
            try:
                await db.ddl(statement.sql)
            except LockWaitTimeout as exc:
                ctx.emit(f"blocked: {statement.sql}: {exc}")
                return ctx.failed(f"blocked by a lock on {statement.table}, stopped there: {exc}", guard="lock_wait", dropped=dropped)
            except DatabaseError as exc:
                ctx.emit(f"failed: {statement.sql}: {exc}")
                return ctx.failed(f"{statement.sql} failed: {exc}", guard="database", dropped=dropped)
            dropped[statement.object] = rows
            ctx.emit(f"{statement.sql}: done ({rows} rows)", statement=statement.sql, object=statement.object, state="done", rows=rows)
        return await self._verify(ctx, dropped)

    async def _rows_moved(self, ctx: StepContext, counts: dict[str, int | None], tables: list[str]) -> str:
        """Exact counts again (bounded) against what the guard counted: the guard and the
        DDL are separate statements, and rows that arrived in between have no backup."""
        moved = []
        for table in tables:
            now = await ctx.db.exact_count(table)
            if now != int(counts.get(table) or 0):
                moved.append(f"{table}: {counts.get(table) or 0} -> {now}")
        return ", ".join(moved)

    async def _verify(self, ctx: StepContext, dropped: dict[str, int]) -> Outcome:
        try:
            facts = await ctx.db.table_facts(ctx.step.protected_tables)
        except DatabaseError as exc:
            return ctx.failed(f"statements ran but could not verify: {exc}", guard="verify", dropped=dropped)
        left = [t for t in ctx.step.drop_tables if facts.get(t) and facts[t].exists]
        left += [f"{c.table}.{c.column}" for c in ctx.step.drop_columns if facts.get(c.table) and c.column in facts[c.table].columns]
        if left:
            return ctx.failed("still present after the migration: " + ", ".join(left), guard="verify", dropped=dropped)
        lost = {k: v for k, v in dropped.items() if v}
        summary = ", ".join(f"{k}: {v} rows" for k, v in lost.items()) if lost else "no rows lost"
        return ctx.done(f"migration applied and verified ({summary})", dropped=dropped, backup=ctx.scratch.get("backup"))
