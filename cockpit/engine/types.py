"""The values the engine hands to its views (TUI, CLI, report).

All frozen: a view can hold one across refreshes without the engine changing it under
its feet, and every one of them can be rebuilt from the journal alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cockpit.plan.model import Step
from cockpit.plan.record import Record

DATABASE = "database"  # the guard of every "needs the database and it is unreachable" refusal (CLI exit 3)

STATUSES = ("pending", "ready", "blocked", "running", "done", "failed", "refused", "interrupted")


def status_label(status: str) -> str:
    """How a status is shown: an interrupted step must never read as merely "stopped"."""
    return "interrupted — verify" if status == "interrupted" else status


@dataclass(frozen=True, eq=False, repr=False)
class GuardResult(Record):
    """One guard's verdict on a step: passed or not, and why."""

    name: str
    ok: bool
    detail: str
    overridable: bool = False


@dataclass(frozen=True, eq=False, repr=False)
class StepView(Record):
    """A step as the views show it: its status from the journal and what blocks it."""

    step: Step
    status: str
    blocked_by: tuple[str, ...] = ()
    last_message: str = ""
    started_at: float | None = None
    finished_at: float | None = None

    @property
    def label(self) -> str:
        return status_label(self.status)


@dataclass(frozen=True, eq=False, repr=False)
class DryRun(Record):
    """What a step would do, shown before the operator confirms it."""

    phase_id: int | None
    step_id: str
    title: str
    text: str
    guards: tuple[GuardResult, ...]
    destructive: bool
    confirm_token: str | None
    would_refuse: bool
    # "the plan says: Keep X (…) — this step drops x": contradictions of the plan (plan/keep.py)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False, repr=False)
class Outcome(Record):
    """How a step ended (done, failed, refused), as journalled."""

    status: str  # done | failed | refused
    message: str
    guard: str | None = None
    output: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def unreachable(self) -> bool:
        """A refusal because a live source could not be read (CLI exit code 3)."""
        return self.status == "refused" and self.guard == DATABASE


@dataclass(frozen=True, eq=False, repr=False)
class PhaseProgress(Record):
    """A phase's rollback progress against its time budget."""

    phase_id: int
    started_at: float | None
    finished_at: float | None
    elapsed_s: float | None
    budget_minutes: float
    status: str  # not started | in progress | rolled back


@dataclass(frozen=True, eq=False, repr=False)
class TickState(Record):
    """A checklist item's tick: who ticked it, when, and their note."""

    ticked: bool
    by: str
    at: float
    note: str | None = None


@dataclass(frozen=True, eq=False, repr=False)
class AlertRecord(Record):
    """An alert from the journal, open until acknowledged."""

    event_id: int
    at: float
    kind: str
    phase_id: int | None
    subject: str
    message: str


@dataclass(frozen=True, eq=False, repr=False)
class WatchState(Record):
    """The watch after a rollback: when it started and when it ends."""

    started_at: float
    ends_at: float
    phase_id: int | None
    hours: float


@dataclass(frozen=True, eq=False, repr=False)
class EmergencyWarning(Record):
    """What a view must say about an emergency rollback that did not finish (engine.
    emergency_warning). `running`: an intent with no outcome yet, young enough to be in
    flight; it turns into "interrupted" with the clock alone, so a view showing it
    must redraw as time passes."""

    text: str
    running: bool = False
