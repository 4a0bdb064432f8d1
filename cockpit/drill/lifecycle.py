"""The plan's own lifecycle: quarterly drills, the review date, the emergency contacts.

The plan asks to "test rollback procedures in staging quarterly" and carries a
`next_review` date and a contact list whose entries ship as `[Contact]`. None of that
helps at 3 a.m. unless it is on the screen before it is needed, so the board shows it
and `cockpit check` warns about it. Pure functions: the caller passes the clock."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cockpit.plan.model import Plan

from .record import Drill, active_drill, drills

if TYPE_CHECKING:  # the journal module (sqlite3) is not needed to draw the board
    from cockpit.journal import Event

DRILL_CADENCE_DAYS = 90  # "quarterly"
_PLACEHOLDER = re.compile(r"^\s*(\[[^\]]*\]|tbd|todo|n/?a|-+|\?+)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Lifecycle:
    last_drill: Drill | None  # the last finished drill
    drill: Drill | None  # the drill running now
    drill_overdue: bool
    review_overdue_since: str  # the plan's next_review date when it has passed, else ""
    contacts: tuple[tuple[str, str], ...]
    placeholders: tuple[str, ...]  # roles whose contact is still a placeholder


def is_placeholder(contact: str) -> bool:
    return bool(_PLACEHOLDER.fullmatch(contact or ""))


def placeholder_roles(plan: Plan) -> tuple[str, ...]:
    return tuple(role for role, contact in plan.meta.contacts if is_placeholder(contact))


def review_overdue_since(plan: Plan, now: float) -> str:
    """The `next_review` date (as written) when today is past it; "" otherwise or unparsable."""
    text = (plan.meta.next_review or "").strip()
    try:
        due = dt.date.fromisoformat(text)
    except ValueError:
        return ""
    return text if dt.date.fromtimestamp(now) > due else ""


def lifecycle(plan: Plan, events: Iterable[Event], now: float) -> Lifecycle:
    events = list(events)
    finished = [d for d in drills(events) if not d.active]
    last = finished[-1] if finished else None
    overdue = last is None or (now - (last.ended_at or last.started_at)) > DRILL_CADENCE_DAYS * 86400
    return Lifecycle(last, active_drill(events), overdue, review_overdue_since(plan, now), plan.meta.contacts,
                     placeholder_roles(plan))


def check_warnings(plan: Plan, now: float) -> list[str]:
    """What `cockpit check` warns about (a warning, not a failure: the plan still runs)."""
    warnings = []
    roles = placeholder_roles(plan)
    if roles:
        warnings.append(f"emergency contact still a placeholder: {', '.join(roles)} (set [[plan.contacts]] in {plan.path.name})")
    if not plan.meta.contacts:
        warnings.append(f"no emergency contacts in the plan (add [[plan.contacts]] to {plan.path.name})")
    since = review_overdue_since(plan, now)
    if since:
        warnings.append(f"plan review overdue since {since} (plan next_review)")
    return warnings


def _date(at: float) -> str:
    return dt.datetime.fromtimestamp(at).strftime("%Y-%m-%d")


def summary_lines(state: Lifecycle) -> list[tuple[str, str]]:
    """(text, severity) lines for the board: severity "" plain, "warning", "drill"."""
    lines: list[tuple[str, str]] = []
    if state.last_drill is not None:
        d = state.last_drill
        verdict = d.verdict or "no verdict"
        last = f"last drill {_date(d.ended_at or d.started_at)}: {verdict}"
    else:
        last = "no drill recorded"
    warnings = []
    if state.drill_overdue:
        warnings.append("quarterly drill overdue")
    if state.review_overdue_since:
        warnings.append(f"plan review overdue since {state.review_overdue_since}")
    lines.append((" · ".join([last, *warnings]), "warning" if warnings else ""))
    return lines


def contacts_line(state: Lifecycle) -> str:
    if not state.contacts:
        return "call: no emergency contacts in the plan"
    return "call " + " · ".join(f"{role} {contact}" for role, contact in state.contacts)


def print_check_warnings(plan: Plan) -> None:
    """`cockpit check`'s lifecycle lines: warnings, which do not change its exit code."""
    import time

    for warning in check_warnings(plan, time.time()):
        print(f"warn  {warning}")
