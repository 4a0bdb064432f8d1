"""check: a probe that must hold before the operator moves on (e.g. "no new OEM tickets").

Three forms, exactly one per step: the phase's activity check (rows written within the
window must be 0), a SQL query whose first value must equal `expect`, or an argv that
must exit 0 (no shell, bounded by a timeout so a hung probe cannot hang the cockpit).
Every query carries a server-side time limit (fetch_all_bounded); an activity check on
a table that is gone (quarantined, dropped) holds: no table, no writes.
"""

from __future__ import annotations

import asyncio
import shlex

from cockpit.db.errors import DatabaseError
from cockpit.db.sql import quote_ident
from cockpit.plan.model import ActivityCheck

from ..types import Outcome
from .base import StepContext, StepKind

COMMAND_TIMEOUT_S = 60.0


def activity_sql(dialect: str, check: ActivityCheck) -> tuple[str, tuple]:
    """Rows written inside the window; the window is computed by the server's clock."""
    table, column = quote_ident(check.table), quote_ident(check.column)
    if dialect == "sqlite":
        return (f"SELECT COUNT(*) FROM {table} WHERE {column} >= datetime('now', ?)", (f"-{int(check.window_minutes)} minutes",))
    return (f"SELECT COUNT(*) FROM {table} WHERE {column} >= NOW() - INTERVAL ? MINUTE", (int(check.window_minutes),))


class CheckStep(StepKind):
    def requires_db(self, ctx: StepContext) -> bool:
        return not ctx.step.command

    async def describe(self, ctx: StepContext) -> str:
        step = ctx.step
        if step.command:
            return f"{shlex.join(step.command)}\n-- must exit 0 within {COMMAND_TIMEOUT_S:.0f}s (no shell)"
        if step.sql:
            return f"{step.sql.strip()}\n-- the first column of the first row must equal {step.expect}"
        check = ctx.phase.activity_check(step.activity)
        dialect = ctx.db.dialect if ctx.db is not None else ctx.plan.target.kind
        sql, params = activity_sql(dialect, check)
        return f"{sql}  -- params {params}\n-- must be 0: {check.text}"

    async def run(self, ctx: StepContext) -> Outcome:
        step = ctx.step
        if step.command:
            return await self._command(ctx)
        try:
            if step.sql:
                rows = await ctx.db.fetch_all_bounded(step.sql)
                value = rows[0][0] if rows and rows[0] else None
                ctx.emit(f"query returned {value!r}, expected {step.expect}")
                if value is None or str(value) != str(step.expect):
                    return ctx.failed(f"check does not hold: got {value!r}, expected {step.expect}", guard="check")
                return ctx.done(f"holds: {value!r}")
            check = ctx.phase.activity_check(step.activity)
            facts = await ctx.db.table_facts([check.table])
            if not facts[check.table].exists:
                # quarantined or dropped: nothing can write to a table that is not there
                ctx.emit(f"{check.table}: no such table (quarantined or dropped)")
                return ctx.done(f"no activity: {check.table} does not exist — no table, no writes")
            sql, params = activity_sql(ctx.db.dialect, check)
            rows = await ctx.db.fetch_all_bounded(sql, params)
            recent = int(rows[0][0] or 0) if rows else 0
        except DatabaseError as exc:
            return ctx.failed(f"check could not run: {exc}", guard="database")
        ctx.emit(f"{check.table}: {recent} rows in the last {check.window_minutes} minutes")
        if recent:
            return ctx.failed(f"still active: {recent} rows written to {check.table} in the last {check.window_minutes} minutes",
                              guard="check")
        return ctx.done(f"no activity: {check.text} — 0 rows")

    async def _command(self, ctx: StepContext) -> Outcome:
        argv = list(ctx.step.command)
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
