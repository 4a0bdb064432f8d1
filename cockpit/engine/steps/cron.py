"""cron_stop / cron_start: crontab edits through cockpit/cron/edit.py.

The change shown in the dry-run is the change applied: the engine keeps the planned
CronChange, and `apply` refuses (nothing written) if the crontab's text moved since it
was read — someone else's edit is never overwritten. Commenting the line stops future
runs only, so in-flight runs of the scripts are reported, and waited for when asked.
"""

from __future__ import annotations

import asyncio

from cockpit.cron.edit import CronChange, apply, plan_start, plan_stop
from cockpit.cron.errors import CronChanged, CronError
from cockpit.faults import fault_point

from ..types import GuardResult, Outcome
from .base import StepContext, StepKind


def in_flight(ctx: StepContext) -> list[str]:
    from cockpit.probes.processes import find_runs

    runs = find_runs(job.script for job in ctx.phase.cron)
    return [f"pid {run.pid} ({script}, {run.elapsed():.0f}s)" for script, found in runs.items() for run in found]


class CronStep(StepKind):
    needs_db = False

    def __init__(self, stop: bool) -> None:
        self.stop = stop

    def plan_change(self, ctx: StepContext) -> CronChange:
        planner = plan_stop if self.stop else plan_start
        return planner(ctx.plan, ctx.phase, now=ctx.engine.clock())

    async def guards(self, ctx: StepContext) -> list[GuardResult]:
        try:
            change = ctx.engine.planned_cron_change(ctx.phase.id, ctx.step.id) or self.plan_change(ctx)
        except CronError as exc:
            return [GuardResult("crontab", False, str(exc))]
        ctx.scratch["change"] = change
        if change.refusal:  # a start that would restore nothing (job disabled by someone else)
            return [GuardResult("crontab", False, change.refusal)]
        return [GuardResult("crontab", True, f"{change.label} readable (sha256 {change.fingerprint[:12]})")]

    async def describe(self, ctx: StepContext) -> str:
        try:
            change = self.plan_change(ctx)
        except CronError as exc:
            return f"-- cannot read the crontab: {exc}"
        ctx.engine.remember_cron_change(ctx.phase.id, ctx.step.id, change)
        text = change.dry_run()
        if self.stop:
            runs = in_flight(ctx)
            text += "\nIn-flight runs now: " + (", ".join(runs) if runs else "none")
            text += "\n-- commenting a line stops future runs only; use --wait SECONDS to wait for in-flight runs"
        return text

    async def run(self, ctx: StepContext) -> Outcome:
        change: CronChange = ctx.scratch["change"]
        try:
            result = apply(change, ctx.plan.paths.backup_dir)
        except CronChanged as exc:
            ctx.engine.forget_cron_change(ctx.phase.id, ctx.step.id)
            return Outcome("refused", str(exc), "crontab_changed", tuple(ctx.lines))
        except CronError as exc:
            return ctx.failed(str(exc), guard="crontab")
        await fault_point("cron.after_edit")
        ctx.engine.forget_cron_change(ctx.phase.id, ctx.step.id)
        for edit in change.edits:
            ctx.emit(f"{edit.job_id}: {edit.before!r} -> {edit.after!r}")
        if result.backup_path:
            ctx.emit(f"crontab backup: {result.backup_path}")
        states = ", ".join(f"{job}: {st}" for job, st in result.states)
        verb = "stopped" if self.stop else "started"
        if not self.stop:
            return ctx.done(f"cron {verb} ({states})", states=dict(result.states))
        runs = in_flight(ctx)
        if runs and ctx.wait_s > 0:
            from cockpit.probes.processes import find_runs, wait_for_exit

            pids = [run.pid for found in find_runs(j.script for j in ctx.phase.cron).values() for run in found]
            ctx.emit(f"waiting up to {ctx.wait_s:.0f}s for {len(pids)} in-flight run(s)")
            left = await asyncio.to_thread(wait_for_exit, pids, ctx.wait_s, 0.5)
            runs = [f"pid {pid}" for pid in left]
        if runs:
            ctx.emit("still running: " + ", ".join(runs))
            return ctx.done(f"cron {verb} ({states}); {len(runs)} run(s) still in flight: {', '.join(runs)}",
                            states=dict(result.states), in_flight=runs)
        return ctx.done(f"cron {verb} ({states}); no run in flight", states=dict(result.states))
