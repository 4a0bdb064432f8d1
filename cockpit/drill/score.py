"""Scoring a drill: per phase the time against the plan's budget, each step's time, the
refusals met and how they were resolved, the checklist items left unticked, a verdict.

Pure functions over the drill's slice of the journal (see record.py), so the score of a
finished drill never changes and `drill report` on another machine reads the same."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from cockpit.engine import state, table_guards
from cockpit.journal import Event
from cockpit.plan.model import Phase, Plan

from .record import Drill, drill_events

PASS = "pass"
FINDINGS = "pass with findings"
FAIL = "fail"
INCOMPLETE = "incomplete"


@dataclass(frozen=True)
class StepScore:
    step: str
    title: str
    status: str
    attempts: int
    seconds: float | None  # intent to outcome of the last run


@dataclass(frozen=True)
class Refusal:
    step: str
    guard: str
    message: str
    resolution: str  # how the operator got past it, or "unresolved"
    resolved: bool


@dataclass(frozen=True)
class PhaseScore:
    phase: int
    name: str
    budget_minutes: float
    minutes: float | None
    within_budget: bool | None
    completed: bool
    steps: list[StepScore] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)
    unticked: list[str] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)
    # where the phase's tables are at the drill's end (quarantine → backup → final drop):
    # "" when the phase has no tables to move or they were never touched
    tables: str = ""


@dataclass(frozen=True)
class DrillScore:
    drill: int
    target: str
    operator: str
    staging: bool
    started_at: float
    ended_at: float | None
    verdict: str
    findings: list[str]
    phases: list[PhaseScore]
    not_attempted: list[int]
    emergency: list[str]

    def to_json(self) -> dict[str, object]:
        return {"schema": 1, **asdict(self)}


def _step_scores(events: Sequence[Event], phase: Phase) -> list[StepScore]:
    scores = []
    for step in phase.all_steps:
        runs = [e for e in events if e.phase == phase.id and e.step == step.id and e.kind in ("step_intent", "step_outcome")]
        if not runs:
            continue
        record = state.step_record(events, phase.id, step.id)
        attempts = sum(1 for e in runs if e.kind == "step_intent") + sum(
            1 for e in runs if e.kind == "step_outcome" and e.data.get("status") == "refused" and not e.data.get("intent_id"))
        seconds = None
        if record.started_at is not None and record.finished_at is not None and record.finished_at >= record.started_at:
            seconds = record.finished_at - record.started_at
        scores.append(StepScore(step.id, step.title, record.status or "not run", attempts, seconds))
    return scores


def _refused_guards(refusal: Event) -> set[str]:
    """Every guard a refusal names: the first in `guard`, the others in "g: why; g: why"."""
    first = str(refusal.data.get("guard") or "")
    names = {first}
    message = str(refusal.data.get("message", ""))
    if message.startswith(f"{first}: "):
        names |= {chunk.partition(": ")[0] for chunk in message.split("; ") if ": " in chunk}
    return names


def _resolution(events: Sequence[Event], refusal: Event) -> tuple[str, bool]:
    """What came after a refusal: an override of the same step past a guard that refused
    it (with its reason), the same step done later (naming what ran in between), or nothing.
    An override of another step or another guard does not resolve this refusal."""
    later = [e for e in events if e.id > refusal.id]
    between: list[str] = []
    guards = _refused_guards(refusal)
    for event in later:
        if (event.kind == "override" and event.phase == refusal.phase and event.step == refusal.step
                and event.data.get("guard") in guards):
            return f"overridden by {event.operator}: {event.data.get('reason', '')}", True
        if event.kind == "step_outcome" and event.data.get("status") == "done":
            if event.phase == refusal.phase and event.step == refusal.step:
                after = f" after {', '.join(between)}" if between else ""
                return f"done{after}", True
            between.append(f"{event.step}" if event.phase == refusal.phase else f"{event.phase}/{event.step}")
        if event.kind == "emergency_outcome" and event.data.get("status") == "done":
            between.append("the emergency rollback")
    return "unresolved", False


def _deferred_drop(events: Sequence[Event], phase: Phase, refusal: Event) -> str | None:
    """A final drop refused only by the watch window, on tables still quarantined at the
    drill's end, was not a wrong turn: the plan marks the drop optional and the cockpit
    offers it after the watch. Returns how to read it, or None when it does not apply."""
    step = next((s for s in phase.all_steps if s.id == refusal.step), None)
    if step is None or step.kind != "migration" or not step.optional or phase.quarantine_for(step) is None:
        return None
    if refusal.data.get("guard") != table_guards.WATCH or _refused_guards(refusal) != {table_guards.WATCH}:
        return None
    if not table_guards.q_state(events, phase, step).held:
        return None
    return "left for after the watch (the final drop is optional; `restore` is the way back meanwhile)"


def _tables(events: Sequence[Event], phase: Phase) -> tuple[str, list[str]]:
    """Where the phase's tables ended the drill, and what in that is a finding."""
    words: list[str] = []
    findings: list[str] = []
    for quarantine in phase.quarantine_steps:
        if not any(e.phase == phase.id and e.step == quarantine.id for e in events):
            continue
        current = table_guards.q_state(events, phase, quarantine)
        if current.status == "quarantined":
            backed = bool(state.backups_after(events, current.event_id, phase.id))
            rows = sum((current.counts or {}).values())
            words.append("quarantined, " + ("backup verified by restore" if backed else "no verified backup")
                         + "; final drop after the watch")
            if rows and not backed:
                findings.append(f"phase {phase.id}: {rows} quarantined rows without a backup verified by restore")
        elif current.status == "dropped":
            words.append("quarantined and dropped" + (f" (kept in {current.dropped_backup})" if current.dropped_backup else ""))
        elif current.status == "uncertain":
            words.append("quarantine interrupted — verify")  # the interrupted step is a finding already
        else:
            words.append("restored under their names")
    return "; ".join(words), findings


def _phase_score(plan: Plan, events: Sequence[Event], phase: Phase) -> PhaseScore:
    progress = state.phase_progress(events, phase, events[-1].at if events else 0.0)
    minutes = None if progress.elapsed_s is None else progress.elapsed_s / 60
    completed = progress.status == "rolled back"
    refusals = []
    for event in events:
        if event.phase == phase.id and event.kind == "step_outcome" and event.data.get("status") == "refused":
            resolution, resolved = _resolution(events, event)
            if not resolved:
                deferred = _deferred_drop(events, phase, event)
                if deferred:
                    resolution, resolved = deferred, True
            refusals.append(Refusal(event.step or "", str(event.data.get("guard") or ""), str(event.data.get("message", "")),
                                    resolution, resolved))
    overrides = [f"{e.data.get('guard')}: {e.data.get('reason', '')}" for e in events if e.kind == "override" and e.phase == phase.id]
    ticks = state.ticks(events, phase.id)
    unticked = [f"{which}: {item.id}" for which in ("before", "after") for item in plan.checklist(which)
                if not (ticks.get((which, item.id)) and ticks[(which, item.id)].ticked)]
    interrupted = [s.id for s in phase.all_steps if state.step_record(events, phase.id, s.id).status == "interrupted"]
    tables, _ = _tables(events, phase)
    return PhaseScore(
        phase.id, phase.name, phase.budget_minutes, None if minutes is None else round(minutes, 2),
        None if minutes is None or not completed else minutes <= phase.budget_minutes, completed,
        _step_scores(events, phase), refusals, overrides, unticked, interrupted, tables,
    )


def score(plan: Plan, events: Sequence[Event], drill: Drill) -> DrillScore:
    mine = drill_events(events, drill)
    touched = {e.phase for e in mine if e.phase is not None and e.kind in ("step_intent", "step_outcome", "override", "tick", "untick")}
    phases = [_phase_score(plan, mine, p) for p in plan.rollback_order if p.id in touched]
    emergency = [f"{e.data.get('status')}: {e.data.get('message', '')}" for e in mine if e.kind == "emergency_outcome"]
    findings: list[str] = []
    failed = False
    for p in phases:
        if not p.completed:
            failed = True
            findings.append(f"phase {p.phase} not rolled back")
        if p.interrupted:
            failed = True
            findings.append(f"phase {p.phase}: interrupted {', '.join(p.interrupted)}")
        if p.within_budget is False:
            findings.append(f"phase {p.phase} over budget ({p.minutes:.1f} of ~{p.budget_minutes:g} minutes)")
        unresolved = [r for r in p.refusals if not r.resolved]
        if unresolved:
            findings.append(f"phase {p.phase}: {len(unresolved)} refusal(s) unresolved")
        if p.overrides:
            findings.append(f"phase {p.phase}: {len(p.overrides)} override(s)")
        if p.unticked:
            findings.append(f"phase {p.phase}: {len(p.unticked)} checklist item(s) unticked")
        findings.extend(_tables(mine, plan.phase(p.phase))[1])
    if not phases:
        verdict = INCOMPLETE
        findings.append("no phase was attempted")
    elif failed:
        verdict = FAIL
    else:
        verdict = FINDINGS if findings else PASS
    return DrillScore(drill.number, drill.target, drill.operator, drill.staging, drill.started_at, drill.ended_at, verdict,
                      findings, phases, [p.id for p in plan.rollback_order if p.id not in touched], emergency)


def _when(at: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(at)) if at is not None else "running"


def _secs(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min"


def _md(text: str) -> str:
    """Plan strings, messages and reasons are untrusted: one line, no table breakers."""
    from cockpit.text import clean

    return " ".join(clean(str(text)).split()).replace("|", "\\|")


def to_markdown(result: DrillScore) -> str:
    where = "staging" if result.staging else "sandbox"
    lines = [
        f"## Drill Report — drill {result.drill}",
        "",
        f"- **Verdict:** {result.verdict.upper()}",
        f"- **Target:** {_md(result.target)} ({where})",
        f"- **Operator:** {_md(result.operator)}",
        f"- **Started:** {_when(result.started_at)} · **Ended:** {_when(result.ended_at)}",
        "",
    ]
    if result.findings:
        lines += ["**Findings:**", *[f"- {_md(f)}" for f in result.findings], ""]
    for p in result.phases:
        took = "-" if p.minutes is None else f"{p.minutes:.1f} min"
        budget = "" if p.within_budget is None else (" — within budget" if p.within_budget else " — OVER BUDGET")
        lines += [f"### Phase {p.phase} — {_md(p.name)}", "",
                  f"Time: {took} of ~{p.budget_minutes:g} minutes{budget}; {'rolled back' if p.completed else 'NOT rolled back'}", "",
                  "| step | status | attempts | time |", "| --- | --- | --- | --- |"]
        lines += [f"| {_md(s.step)} | {s.status} | {s.attempts} | {_secs(s.seconds)} |" for s in p.steps]
        lines.append("")
        if p.refusals:
            lines += ["Refusals met:",
                      *[f"- {_md(r.step)} [{_md(r.guard)}]: {_md(r.message)} → {_md(r.resolution)}" for r in p.refusals], ""]
        if p.overrides:
            lines += ["Overrides:", *[f"- {_md(o)}" for o in p.overrides], ""]
        if p.interrupted:
            lines += [f"Interrupted: {', '.join(p.interrupted)}", ""]
        if p.tables:
            lines += [f"Tables: {_md(p.tables)}", ""]
        lines += [f"Checklist left unticked: {', '.join(p.unticked) if p.unticked else 'none'}", ""]
    if result.emergency:
        lines += ["Emergency rollback:", *[f"- {_md(e)}" for e in result.emergency], ""]
    if result.not_attempted:
        lines += [f"Not attempted: {', '.join(f'phase {n}' for n in result.not_attempted)}", ""]
    return "\n".join(lines)
