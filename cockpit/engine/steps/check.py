"""check: a probe that must hold before the operator moves on (e.g. "no new OEM tickets").

Three forms, exactly one per step: the phase's activity check (rows written within the
window must be 0), a SQL query whose first value must equal `expect`, or an argv that
must exit 0 (no shell, bounded by a timeout so a hung probe cannot hang the cockpit).
The activity check is THE activity query the refresh and the watch run
(probes/database.activity_part: capped, index-aware, never a scan); every query carries
a server-side time limit; an activity check on a table that is gone (quarantined,
dropped) holds: no table, no writes.
"""

from __future__ import annotations

import asyncio
import shlex

from cockpit.db import queries
from cockpit.db.base import Database, TableFact
from cockpit.db.errors import DatabaseError
from cockpit.db.queries import ACTIVITY_CAP, RECENCY_ROWS, Sql
from cockpit.plan.model import ActivityCheck, CheckSpec
from cockpit.probes.database import activity_part, unindexed_warning

from ..types import Outcome
from .base import StepContext, StepKind
from .connection import connected

COMMAND_TIMEOUT_S = 60.0


def activity_statement(dialect: str, check: ActivityCheck, fact: TableFact) -> Sql | None:
    """The activity query on its own (None: it cannot run without a scan)."""
    part = activity_part(dialect, check, fact)
    return None if part is None else queries.CHECK_ACTIVITY.bind(activity=part)


def _why_not(check: ActivityCheck, fact: TableFact) -> str:
    if check.column not in fact.columns:
        return f"column {check.table}.{check.column} does not exist"
    return unindexed_warning(check, fact)


def _rows_text(recent: int) -> str:
    return f"at least {ACTIVITY_CAP} rows" if recent >= ACTIVITY_CAP else f"{recent} rows"


class CheckStep(StepKind):
    def requires_db(self, ctx: StepContext) -> bool:
        return not ctx.spec(CheckSpec).command

    async def describe(self, ctx: StepContext) -> str:
        step = ctx.spec(CheckSpec)
        if step.command:
            return f"{shlex.join(step.command)}\n-- must exit 0 within {COMMAND_TIMEOUT_S:.0f}s (no shell)"
        if step.sql:
            return f"{step.sql.strip()}\n-- the first column of the first row must equal {step.expect}"
        check = ctx.phase.activity_check(step.activity)
        db: Database | None = ctx.db
        dialect = db.dialect if db is not None else ("sqlite" if ctx.plan.target.kind == "sqlite" else "mariadb")
        fact: TableFact | None = None
        if db is not None and not ctx.scratch.get("preview"):  # a preview reads nothing
            try:
                fact = (await db.table_facts([check.table]))[check.table]
            except DatabaseError:
                fact = None
        if fact is not None and not fact.exists:
            return f"-- {check.table} does not exist (quarantined or dropped): no table, no writes\n-- must be 0: {check.text}"
        how = ""
        if fact is None:  # the indexed form; the catalogue decides at execution
            fact = TableFact(check.table, True, columns=(check.column,), indexed=(check.column,))
            how = f"\n-- shown for an indexed column; an unindexed one is read on the newest {RECENCY_ROWS} rows by primary key"
        stmt = activity_statement(dialect, check, fact)
        if stmt is None:
            return f"-- {_why_not(check, fact)}"
        return f"{stmt.render()}{how}\n-- must be 0: {check.text}"

    async def run(self, ctx: StepContext) -> Outcome:
        step = ctx.spec(CheckSpec)
        if step.command:
            return await self._command(ctx)
        try:
            db = connected(ctx)
            if step.sql:
                rows = await db.fetch_all(queries.PLAN_CHECK.verbatim_sql(step.sql))
                value = rows[0][0] if rows and rows[0] else None
                ctx.emit(f"query returned {value!r}, expected {step.expect}")
                if value is None or str(value) != str(step.expect):
                    return ctx.failed(f"check does not hold: got {value!r}, expected {step.expect}", guard="check")
                return ctx.done(f"holds: {value!r}")
            check = ctx.phase.activity_check(step.activity)
            facts = await db.table_facts([check.table])
            if not facts[check.table].exists:
                # quarantined or dropped: nothing can write to a table that is not there
                ctx.emit(f"{check.table}: no such table (quarantined or dropped)")
                return ctx.done(f"no activity: {check.table} does not exist — no table, no writes")
            stmt = activity_statement(db.dialect, check, facts[check.table])
            if stmt is None:
                return ctx.failed(f"check could not run: {_why_not(check, facts[check.table])}", guard="check")
            rows = await db.fetch_all(stmt)
            recent = int(rows[0][0] or 0) if rows else 0
        except DatabaseError as exc:
            return ctx.failed(f"check could not run: {exc}", guard="database")
        ctx.emit(f"{check.table}: {_rows_text(recent)} in the last {check.window_minutes} minutes")
        if recent:
            return ctx.failed(f"still active: {_rows_text(recent)} written to {check.table} in the last {check.window_minutes} minutes",
                              guard="check")
        return ctx.done(f"no activity: {check.text} — 0 rows")

    async def _command(self, ctx: StepContext) -> Outcome:
        argv = list(ctx.spec(CheckSpec).command)
        try:
            proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        except OSError as exc:
            return ctx.failed(f"cannot run {argv[0]}: {exc.strerror or exc}", guard="check")
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), COMMAND_TIMEOUT_S)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return ctx.failed(f"{argv[0]} did not finish within {COMMAND_TIMEOUT_S:.0f}s", guard="check")
        for line in out.decode(errors="replace").splitlines()[-20:]:
            ctx.emit(line)
        if proc.returncode != 0:
            return ctx.failed(f"{argv[0]} exited {proc.returncode}", guard="check")
        return ctx.done(f"{argv[0]} exited 0")
