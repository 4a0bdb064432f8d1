"""manual: a code-rollback task done outside the cockpit; the operator confirms it."""

from __future__ import annotations

from ..types import Outcome
from .base import StepContext, StepKind


class ManualStep(StepKind):
    needs_db = False

    async def describe(self, ctx: StepContext) -> str:
        return (
            f"Manual task (done outside the cockpit): {ctx.step.title}\n"
            "Executing records that you confirm it is done; a journal note can say how."
        )

    async def run(self, ctx: StepContext) -> Outcome:
        suffix = f" — {ctx.note}" if ctx.note else ""
        return ctx.done(f"confirmed by {ctx.engine.operator}{suffix}")
