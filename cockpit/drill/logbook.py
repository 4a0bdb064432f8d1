"""The rollback log as the operator writes it: drills kept apart, nothing logged twice,
nothing the journal knows left out.

`report.render_entry` (the plan's template, filled from the journal) stays the one
renderer; this module decides where an entry goes and what it must also say:
- during a drill the entry is headed as a drill and appended to the drill log next to
  the rollback log (`ROLLBACK_LOG.drill.md`), never to the production log;
- appending the identical entry twice (ctrl+s pressed twice, a retried command) writes it
  once;
- the emergency rollback (a plan-wide event with no phase) and every step that was
  interrupted — even when a later run finished it — are listed under Issues Encountered.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cockpit.engine import state
from cockpit.journal import Event
from cockpit.plan.model import Phase, Plan

from .ports import DrillEngine
from .record import Drill, active_drill

DRILL_HEADING = "# Drill Log\n\nRehearsals of the rollback plan; none of these entries is a production rollback.\n"
ISSUES = "**Issues Encountered:**"


@dataclass(frozen=True)
class Appended:
    path: Path
    written: bool  # False: the identical entry was already there


def drill_log_path(plan: Plan) -> Path:
    """`ROLLBACK_LOG.md` -> `ROLLBACK_LOG.drill.md`, in the same folder."""
    log = plan.log.file
    return log.with_name(f"{log.stem}.drill{log.suffix or '.md'}")


def _clock(at: float) -> str:
    return time.strftime("%H:%M", time.localtime(at))


def extra_issues(events: Sequence[Event], phase: Phase) -> list[str]:
    """What report.issues does not list: emergency rollbacks (no phase) and interrupted
    runs that a later run superseded."""
    found: list[str] = []
    for event in events:
        if event.kind == "emergency_outcome":
            found.append(f"emergency rollback by {event.operator} at {_clock(event.at)}: "
                         f"{event.data.get('status', '')}: {event.data.get('message', '')}")
        elif event.kind == "emergency_intent" and not any(
                e.kind == "emergency_outcome" and e.data.get("intent_id") == event.id for e in events):
            found.append(f"emergency rollback by {event.operator} at {_clock(event.at)} interrupted — verify the flags")
    closed = {e.data.get("intent_id") for e in events if e.kind == "step_outcome"}
    for event in events:
        if (event.kind == "step_intent" and event.phase == phase.id and event.id not in closed
                and state.step_record(events, phase.id, event.step or "").status != "interrupted"):
            found.append(f"step {event.step} interrupted at {_clock(event.at)} (run again later)")
    return found


def render(plan: Plan, events: Sequence[Event], phase: Phase, reason: str, resolution: str, drill: Drill | None) -> str:
    """The entry as it will be written: report.render_entry plus the issues above, headed
    as a drill during one."""
    from cockpit.report import render_entry

    entry = render_entry(plan, events, phase, reason, resolution)
    extra = [" ".join(i.split()) for i in extra_issues(events, phase)]
    lines = entry.rstrip("\n").split("\n")
    if extra:
        for index, line in enumerate(lines):
            if line.startswith(ISSUES):
                current = line[len(ISSUES):].strip()
                joined = "; ".join(extra) if current in ("", "None") else f"{current}; {'; '.join(extra)}"
                lines[index] = f"{ISSUES} {joined}"
    if drill is not None:
        title = f"## Drill Log Entry — drill {drill.number} ({'staging' if drill.staging else 'sandbox'}, not a production rollback)"
        if lines and lines[0].startswith("## "):
            lines[0] = title
        else:
            lines.insert(0, title)
    return "\n".join(lines) + "\n"


def preview(engine: DrillEngine, phase_id: int, reason: str, resolution: str) -> str:
    events = engine.journal.events()
    return render(engine.plan, events, engine.plan.phase(phase_id), reason, resolution, active_drill(events))


def _append(path: Path, heading: str, entry: str) -> bool:
    """Append unless the identical entry is already in the file; fsync'd (audit trail)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    if entry.strip() and "\n" + entry in existing:
        return False
    with open(path, "a", encoding="utf-8") as handle:
        if not existing:
            handle.write(heading)
        handle.write("\n" + entry)
        handle.flush()
        os.fsync(handle.fileno())
    return True


def append(engine: DrillEngine, phase_id: int, reason: str, resolution: str) -> Appended:
    """Append the phase's entry to the rollback log (or the drill log during a drill) and
    journal it. Refuses (EngineRefused) read-only, or when the journal shows no rollback."""
    from cockpit.engine import EngineRefused
    from cockpit.report import HEADING

    if engine.read_only:
        raise EngineRefused(f"read-only: {engine.read_only_reason}")
    plan: Plan = engine.plan
    phase = plan.phase(phase_id)
    events = engine.journal.events()
    if not state.phase_started(events, phase.id) and not any(e.kind == "emergency_outcome" for e in events):
        # the log is the audit trail: an entry for a rollback that never ran would lie
        raise EngineRefused(f"phase {phase.id} has no rollback in the journal: nothing to log")
    drill = active_drill(events)
    entry = render(plan, events, phase, reason, resolution, drill)
    path = drill_log_path(plan) if drill is not None else plan.log.file
    written = _append(path, DRILL_HEADING if drill is not None else HEADING, entry)
    if written:
        engine.journal.append("log_written", phase=phase.id, data={"path": str(path), "reason": reason, "resolution": resolution,
                                                                   "drill": drill.number if drill else None})
    return Appended(path, written)

