"""The Markdown rollback log: one entry per rolled-back phase, from the plan's template.

Every field the operator did not type comes from the journal (when, who, how long, what
was lost, what went wrong), so the audit trail cannot flatter the rollback. The file is
append-only: earlier entries are never rewritten, only a heading is added to a new file.

Values are text the cockpit did not write (notes, refusal messages quoting another
session's SQL, plan names, the operator's reason): each is cleaned of control characters
and escape sequences and Markdown-escaped (`cockpit.text.md_escape`), so a value can
neither clear the terminal of whoever `cat`s the log nor inject links, images or HTML.
The journal keeps the original text.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from pathlib import Path

from cockpit.engine import state
from cockpit.journal import Event
from cockpit.plan.model import Phase, Plan
from cockpit.text import clean, md_escape

HEADING = "# Rollback Log\n"


def _local(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(at))


def _minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _budget(value: float) -> str:
    return f"{value:g}"


def duration_text(events: Sequence[Event], phase: Phase) -> str:
    start, end = state.phase_span(events, phase.id)
    budget = f"budget ~{_budget(phase.budget_minutes)} minutes"
    if start is None:
        return f"not started ({budget})"
    if end is None:
        return f"unfinished ({budget})"
    return f"{_minutes(end - start)} ({budget})"


def data_loss_text(events: Sequence[Event], phase: Phase) -> str:
    """"Yes — table: n rows, ..." when the migration destroyed rows, naming the backup."""
    lost = {name: rows for name, rows in state.drop_counts(events, phase.id).items() if rows}
    if not lost:
        return "No"
    parts = ", ".join(f"{name}: {rows} row{'s' if rows != 1 else ''}" for name, rows in lost.items())
    backups = [e.data.get("path") for e in state.verified_backups(events, phase.id)]
    where = f" (backup: {backups[-1]})" if backups else " (no backup recorded)"
    return f"Yes — {parts}{where}"


def issues(events: Sequence[Event], phase: Phase) -> list[str]:
    """Refusals, failures, overrides, interruptions, alerts and notes, in journal order."""
    found: list[str] = []
    aborts = {s.id for s in phase.all_steps if s.aborts}
    for step in phase.all_steps:
        if state.step_record(events, phase.id, step.id).status == "interrupted":
            found.append(f"step {step.id} interrupted — verify")
    for event in events:
        if event.phase != phase.id:
            continue
        if event.kind == "step_outcome" and event.step in aborts and event.data.get("status") == "done":
            found.append(f"rollback undone by {event.operator}: {event.step}: {event.data.get('message', '')}")
        elif event.kind == "step_outcome" and event.data.get("status") in ("refused", "failed"):
            guard = event.data.get("guard")
            by = f" by {guard}" if guard else ""
            found.append(f"step {event.step} {event.data['status']}{by}: {event.data.get('message', '')}")
        elif event.kind == "override":
            found.append(f"override of {event.data.get('guard')} by {event.operator}: {event.data.get('reason', '')}")
        elif event.kind == "alert":
            found.append(f"alert {event.data.get('kind', '')}: {event.data.get('message', '')}")
        elif event.kind == "note":
            found.append(f"note by {event.operator}: {event.data.get('text', '')}")
    return found


def _one_line(text: str) -> str:
    """Whitespace collapsed AFTER cleaning: collapsing first would glue an escape sequence
    to the next word across what was a line break, and removing it would eat a letter."""
    return " ".join(clean(text, multiline=True).split())


def render_entry(plan: Plan, events: Sequence[Event], phase: Phase, reason: str, resolution: str) -> str:
    """The filled template for one phase (not written anywhere)."""
    start, _ = state.phase_span(events, phase.id)
    listed = issues(events, phase)
    values = {
        "Date": _local(start) if start is not None else "not started",
        "Phase": f"Phase {phase.id} — {phase.name}",
        "Reason": _one_line(reason) or "(not given)",
        "Rolled Back By": ", ".join(state.operators(events, phase.id)) or "(nobody)",
        "Duration": duration_text(events, phase),
        "Data Loss": data_loss_text(events, phase),
        "Issues Encountered": "; ".join(_one_line(i) for i in listed) if listed else "None",
        "Resolution": _one_line(resolution) or "(not given)",
    }
    lines = []
    for line in clean(plan.log.template, multiline=True).strip("\n").splitlines():
        match = re.match(r"^\*\*([^*]+):\*\*", line)
        if match and match.group(1) in values:
            line = f"**{match.group(1)}:** {md_escape(values[match.group(1)])}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def append_entry(plan: Plan, path: Path, entry: str) -> Path:
    """Append (never rewrite); a new file starts with the heading. fsync'd: it is the audit trail."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or path.stat().st_size == 0
    with open(path, "a", encoding="utf-8") as handle:
        if new:
            handle.write(HEADING)
        handle.write("\n" + entry)
        handle.flush()
        os.fsync(handle.fileno())
    return path
