"""Starting and ending a drill, shared by `cockpit drill` and the board's `D` key."""

from __future__ import annotations

from pathlib import Path

from cockpit.engine import state
from cockpit.plan.model import Plan

from .logbook import drill_log_path
from .ports import DrillEngine
from .record import DRILL_KINDS, Drill, active_drill, drills, find_drill
from .score import DrillScore, score, to_markdown


class DrillRefused(Exception):
    """The drill cannot start or end; the message names why and what to do."""


def start(engine: DrillEngine, staging: bool = False) -> tuple[Drill, list[str]]:
    """Journal a drill_start; returns the drill and notices for the operator.

    A drill runs on a sandbox (the plan says `sandbox = true`) or, said explicitly with
    `staging`, on a staging database; never silently on production."""
    plan = engine.plan
    if engine.read_only:
        raise DrillRefused(f"read-only: {engine.read_only_reason}")
    if not plan.sandbox and not staging:
        raise DrillRefused(f"{plan.target.label} is not a sandbox: drill on a sandbox (cockpit sandbox init DIR) "
                           f"or say --staging if this target is a staging database")
    # the drill markers and the phases' first attempts only (SQL-filtered): starting a
    # drill next to a long journal reads a handful of rows, not the whole history
    events = engine.journal.events(kinds=DRILL_KINDS)
    running = active_drill(events)
    if running is not None:
        raise DrillRefused(f"drill {running.number} is still running (started by {running.operator}): end it first with cockpit drill end")
    notices = []
    attempts = engine.journal.events(kinds=state.PHASE_STARTED_KINDS)
    started = [p.id for p in plan.rollback_order if state.phase_started(attempts, p.id)]
    if started:
        notices.append(f"this target's journal already shows phase(s) {', '.join(map(str, started))} started: "
                       f"for a clean score drill on a fresh sandbox (cockpit sandbox init DIR)")
    number = len(drills(events)) + 1
    engine.journal.append("drill_start", data={"drill": number, "staging": bool(staging or not plan.sandbox)})
    drill = active_drill(engine.journal.events(kinds=DRILL_KINDS))
    assert drill is not None
    return drill, notices


def report_path(plan: Plan, number: int) -> Path:
    """Next to the drill log: ROLLBACK_LOG.drill-3-report.md."""
    log = drill_log_path(plan)
    return log.with_name(f"{plan.log.file.stem}.drill-{number}-report.md")


def write_report(plan: Plan, result: DrillScore) -> Path:
    path = report_path(plan, result.drill)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(to_markdown(result), encoding="utf-8")
    tmp.replace(path)
    return path


def end(engine: DrillEngine) -> tuple[DrillScore, Path]:
    """Score the running drill, journal its end with the verdict, write its report."""
    if engine.read_only:
        raise DrillRefused(f"read-only: {engine.read_only_reason}")
    journal = engine.journal
    running = active_drill(journal.events(kinds=DRILL_KINDS))
    if running is None:
        raise DrillRefused("no drill is running (start one with cockpit drill start)")
    # a drill is scored on its own events (an id range), never on the history before it
    provisional = score(engine.plan, journal.span(running.start_id), running)
    journal.append("drill_end", data={"drill": running.number, "verdict": provisional.verdict})
    finished = find_drill(journal.events(kinds=DRILL_KINDS), running.number)
    assert finished is not None
    result = score(engine.plan, journal.span(finished.start_id, finished.end_id), finished)
    return result, write_report(engine.plan, result)


def report(engine: DrillEngine, number: int | None) -> DrillScore:
    drill = find_drill(engine.journal.events(kinds=DRILL_KINDS), number)
    if drill is None:
        raise DrillRefused(f"no drill {number} in the journal" if number is not None
                           else "no drill in the journal yet (cockpit drill start)")
    return score(engine.plan, engine.journal.span(drill.start_id, drill.end_id), drill)
