"""What every step kind shares: the context it runs in and the three things it must do.

A kind is a guard list, a dry-run text and an execution that re-checks and verifies,
kept together so the text shown to the operator cannot drift from what actually runs.

These two live outside `engine/steps/` on purpose: importing that package loads every
kind (the crontab editor, the dump and restore machinery), which the engine needs only
when a step is checked or run, not to open and paint the board (issue 14). The engine
imports this module at once and the kinds lazily (`lazy_steps.StepKinds`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from cockpit.db.base import Database
from cockpit.db.errors import DatabaseUnavailable
from cockpit.journal import Journal
from cockpit.plan.model import Phase, Plan, Step, StepSpec

from .types import GuardResult, Outcome

if TYPE_CHECKING:
    from .engine import Engine

SpecT = TypeVar("SpecT", bound=StepSpec)


@dataclass
class StepContext:
    """One check or run of one step: built per call, unlike the kind, which lives as long
    as its engine."""

    engine: Engine
    phase: Phase
    step: Step
    on_output: Callable[[str], None] | None = None
    wait_s: float = 0.0
    note: str | None = None
    lines: list[str] = field(default_factory=list)
    # guard findings the execution reuses, per kind (e.g. the facts a guard read); a bag
    # of the kinds' own values, so its values are theirs to type
    scratch: dict[str, Any] = field(default_factory=dict)

    @property
    def plan(self) -> Plan:
        return self.engine.plan

    def spec(self, kind: type[SpecT]) -> SpecT:
        """This step's plan spec as its kind's own type. The engine routes a step to the
        kind named by its `kind`, so a mismatch is a routing bug: fail loudly, never run a
        step with another kind's (absent) fields."""
        if not isinstance(self.step, kind):
            raise TypeError(f"step {self.step.id} is a {self.step.kind} step, not {kind.__name__}")
        return self.step

    @property
    def db(self) -> Database | None:
        """The target database while it is reachable, else None."""
        return self.engine.db

    def require_db(self) -> Database:
        """The target database, or DatabaseUnavailable naming why not (the engine turns
        it into a `database` refusal or failure): for code past the guards, which refuse
        first when the database is needed and down."""
        db = self.engine.db
        if db is None:
            raise DatabaseUnavailable(self.engine.session.unreachable().detail)
        return db

    @property
    def journal(self) -> Journal:
        return self.engine.journal

    def emit(self, line: str, **data: Any) -> None:
        """Show a line to the operator and journal it with the step, before moving on."""
        self.lines.append(line)
        self.journal.append("step_output", phase=self.phase.id, step=self.step.id, data={"line": line, **data})
        if self.on_output is not None:
            self.on_output(line)

    async def emit_async(self, line: str, **data: Any) -> None:
        """`emit` with the journal write in a worker thread (the threading rule, session.py):
        the line is on disk before it is shown, as with `emit`."""
        self.lines.append(line)
        await self.journal.append_async("step_output", phase=self.phase.id, step=self.step.id, data={"line": line, **data})
        if self.on_output is not None:
            self.on_output(line)

    def done(self, message: str, **data: Any) -> Outcome:
        return Outcome("done", message, None, tuple(self.lines), data)

    def failed(self, message: str, guard: str | None = None, **data: Any) -> Outcome:
        return Outcome("failed", message, guard, tuple(self.lines), data)


class StepKind:
    """Base for a kind; `needs_db` kinds refuse with exit-3 semantics when the database is down.

    One instance per kind per engine, kept for the engine's life: a kind may carry what
    it learnt in one call into the next (the cron step keeps the change its dry-run
    showed, so that change is the one applied)."""

    needs_db = True

    def requires_db(self, ctx: StepContext) -> bool:
        return self.needs_db

    async def guards(self, ctx: StepContext) -> list[GuardResult]:
        return []

    async def describe(self, ctx: StepContext) -> str:
        raise NotImplementedError

    async def run(self, ctx: StepContext) -> Outcome:
        raise NotImplementedError


__all__ = ["StepContext", "StepKind"]
