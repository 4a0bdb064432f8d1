"""cron_stop / cron_start: crontab edits through cockpit/cron/edit.py.

The change shown in the dry-run is the change applied: the kind keeps the planned
CronChange (one instance per engine, engine/lazy_steps.py), and `apply` refuses (nothing
written) if the crontab's text moved since it was read — someone else's edit is never
overwritten. Commenting the line stops future runs only, so in-flight runs of the
scripts are reported, and waited for when asked.
"""

from __future__ import annotations

import asyncio

from cockpit.cron.edit import CronChange, apply, plan_start, plan_stop
from cockpit.cron.errors import CronChanged, CronError
from cockpit.faults import fault_point

from ..types import GuardResult, Outcome
from .base import StepContext, StepKind

_CHANGE = "change"  # the scratch key: the change the guards checked is the one run applies


def in_flight(ctx: StepContext) -> list[str]:
    from cockpit.probes.processes import find_runs

    runs = find_runs(job.script for job in ctx.phase.cron)
    return [f"pid {run.pid} ({script}, {run.elapsed():.0f}s)" for script, found in runs.items() for run in found]


class CronStep(StepKind):
    needs_db = False

    def __init__(self, stop: bool) -> None:
        self.stop = stop
        # the change each (phase, step) dry-run showed, until it is applied or refused
        self._planned: dict[tuple[int, str], CronChange] = {}

    # -- the planned change: the dry-run's, kept for the execution -----------------------
    def planned(self, phase_id: int, step_id: str) -> CronChange | None:
        """The change the last dry-run of this step showed and no run has used yet."""
        return self._planned.get((phase_id, step_id))

    def _remember(self, ctx: StepContext, change: CronChange) -> None:
        self._planned[(ctx.phase.id, ctx.step.id)] = change

    def _forget(self, ctx: StepContext) -> None:
        self._planned.pop((ctx.phase.id, ctx.step.id), None)

    def plan_change(self, ctx: StepContext) -> CronChange:
        planner = plan_stop if self.stop else plan_start
        return planner(ctx.plan, ctx.phase, now=ctx.engine.clock())

    # -- the kind ---------------------------------------------------------------------------
    async def guards(self, ctx: StepContext) -> list[GuardResult]:
        try:
            planned = self.planned(ctx.phase.id, ctx.step.id)
            change = planned if planned is not None else await asyncio.to_thread(self.plan_change, ctx)
        except CronError as exc:
            return [GuardResult("crontab", False, str(exc))]
        ctx.scratch[_CHANGE] = change
        if change.refusal:  # a start that would restore nothing (job disabled by someone else)
            return [GuardResult("crontab", False, change.refusal)]
        return [GuardResult("crontab", True, f"{change.label} readable (sha256 {change.fingerprint[:12]})")]

    async def describe(self, ctx: StepContext) -> str:
        try:  # `crontab -l` is a child process: never on the event loop
            change = await asyncio.to_thread(self.plan_change, ctx)
        except CronError as exc:
            return f"-- cannot read the crontab: {exc}"
        self._remember(ctx, change)
        text = change.dry_run()
        if self.stop:
            runs = await asyncio.to_thread(in_flight, ctx)  # a scan of every process's command line
            text += "\nIn-flight runs now: " + (", ".join(runs) if runs else "none")
            text += "\n-- commenting a line stops future runs only; use --wait SECONDS to wait for in-flight runs"
        return text

    async def run(self, ctx: StepContext) -> Outcome:
        change = ctx.scratch.get(_CHANGE)
        if not isinstance(change, CronChange):  # run() is only ever called after guards()
            return ctx.failed("no crontab change was checked before running", guard="crontab")
        try:
            result = await asyncio.to_thread(apply, change, ctx.plan.paths.backup_dir)
        except CronChanged as exc:
            self._forget(ctx)
            return Outcome("refused", str(exc), "crontab_changed", tuple(ctx.lines))
        except CronError as exc:
            return ctx.failed(str(exc), guard="crontab")
        await fault_point("cron.after_edit")
        self._forget(ctx)
        for edit in change.edits:
            ctx.emit(f"{edit.job_id}: {edit.before!r} -> {edit.after!r}")
        if result.backup_path:
            ctx.emit(f"crontab backup: {result.backup_path}")
        states = ", ".join(f"{job}: {st}" for job, st in result.states)
        verb = "stopped" if self.stop else "started"
        if not self.stop:
            return ctx.done(f"cron {verb} ({states})", states=dict(result.states))
        runs = await asyncio.to_thread(in_flight, ctx)
        if runs and ctx.wait_s > 0:
            from cockpit.probes.processes import find_runs, wait_for_exit

            found_runs = await asyncio.to_thread(find_runs, [j.script for j in ctx.phase.cron])
            pids = [run.pid for found in found_runs.values() for run in found]
            ctx.emit(f"waiting up to {ctx.wait_s:.0f}s for {len(pids)} in-flight run(s)")
            left = await asyncio.to_thread(wait_for_exit, pids, ctx.wait_s, 0.5)
            runs = [f"pid {pid}" for pid in left]
        if runs:
            ctx.emit("still running: " + ", ".join(runs))
            return ctx.done(f"cron {verb} ({states}); {len(runs)} run(s) still in flight: {', '.join(runs)}",
                            states=dict(result.states), in_flight=runs)
        return ctx.done(f"cron {verb} ({states}); no run in flight", states=dict(result.states))
