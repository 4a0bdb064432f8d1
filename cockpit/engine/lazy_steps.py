"""The step kinds, loaded on first use rather than when the engine is imported.

Importing every step kind pulls in the crontab editor, croniter, the dump and restore
machinery: none of it is needed to open the engine and paint the board, and all of it
delayed the cockpit's first frame. `StepKinds` imports `engine/steps/` on the first
check or run, then keeps one instance per kind for the engine's life.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cockpit.plan.model import Step

from .stepkind import StepKind

if TYPE_CHECKING:
    from .steps.cron import CronStep


class StepKinds:
    """One engine's step kinds: each built once, on first use, and kept.

    Kinds own their state (the cron step's planned change), so they must outlive one
    call; and the engine may hold several plans' worth of phases, so they are keyed by
    the step's kind (flags_off, cron_stop, ...), one instance serving every phase."""

    def __init__(self) -> None:
        self._kinds: dict[str, StepKind] = {}

    def __call__(self, step: Step) -> StepKind:
        kind = self._kinds.get(step.kind)
        if kind is None:
            from .steps import kind_for  # the first check or run pays for the import, once

            kind = self._kinds[step.kind] = kind_for(step)
        return kind

    def loaded(self, kind: str) -> StepKind | None:
        """The instance for `kind` if one was built (None: never used by this engine)."""
        return self._kinds.get(kind)

    def cron(self, step: Step) -> CronStep:
        """The cron kind of a cron step, typed (tests and the TUI ask it for its planned change)."""
        from .steps.cron import CronStep

        kind = self(step)
        if not isinstance(kind, CronStep):
            raise TypeError(f"step {step.id} is a {step.kind} step, not a cron step")
        return kind
