"""Which journal events belong to which drill.

A drill is the span between a `drill_start` and its `drill_end` in one target's journal.
Membership is derived from the event ids, not stamped into each event by its writer:
every process appending to the journal (a CLI call, the TUI, a detached watch started
before the drill) goes through SQLite's single writer lock, so ids are the commit order,
and an event is in the drill exactly when its id lies between the two markers. A
stamping writer would need every process — including ones started before `drill start`
and older versions — to know about the drill at the moment it appends, and a process
that does not would silently leave its events out of the score. Journal rows are scoped
to a target, so events of another target can never fall into the range.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the journal module (sqlite3) is not needed to draw the board
    from cockpit.journal import Event


@dataclass(frozen=True)
class Drill:
    number: int
    start_id: int
    started_at: float
    operator: str
    staging: bool
    target: str
    end_id: int | None = None
    ended_at: float | None = None
    verdict: str = ""

    @property
    def active(self) -> bool:
        return self.end_id is None

    @property
    def label(self) -> str:
        return f"drill {self.number}"

    def contains(self, event: Event) -> bool:
        return event.id >= self.start_id and (self.end_id is None or event.id <= self.end_id)


# The kinds `drills` (and so `active_drill`, `find_drill`, `lifecycle`) folds: a caller
# may pass only these (`Journal.events(kinds=DRILL_KINDS)`) and gets the same drills.
DRILL_KINDS = frozenset({"drill_start", "drill_end"})


def drills(events: Iterable[Event]) -> list[Drill]:
    """Every drill of the journal, oldest first; the last may still be running."""
    found: list[Drill] = []
    for event in events:
        if event.kind == "drill_start":
            number = int(event.data.get("drill", len(found) + 1))
            found.append(Drill(number, event.id, event.at, event.operator, bool(event.data.get("staging")), event.target))
        elif event.kind == "drill_end" and found and found[-1].active:
            last = found[-1]
            found[-1] = Drill(last.number, last.start_id, last.started_at, last.operator, last.staging, last.target,
                              event.id, event.at, str(event.data.get("verdict", "")))
    return found


def active_drill(events: Iterable[Event]) -> Drill | None:
    found = drills(events)
    return found[-1] if found and found[-1].active else None


def find_drill(events: Iterable[Event], number: int | None) -> Drill | None:
    """Drill `number`, or the latest one when None."""
    found = drills(events)
    if number is None:
        return found[-1] if found else None
    return next((d for d in found if d.number == number), None)


def drill_events(events: Iterable[Event], drill: Drill) -> list[Event]:
    return [e for e in events if drill.contains(e)]


def drill_of(event: Event, known: list[Drill]) -> int | None:
    """The number of the drill an event belongs to, or None (what `journal --json` can show)."""
    for drill in known:
        if drill.contains(event):
            return drill.number
    return None
