"""The typed confirmation of a destructive step, decided here and not in a view.

A destructive step is confirmed by typing the phase id ("8"). When the plan contradicts
itself — a note says "Keep OEM scan rules table" while the step destroys oem_scan_rule —
the operator must also type the tables the note keeps: "8:oem_scan_rule" (several are
comma-separated, in any order). Typing a table name cannot happen by muscle memory, and
it forces the operator to read which table the plan wanted kept.
"""

from __future__ import annotations

from cockpit.plan.model import Phase, Step

# The emergency rollback's word: every flag of every phase off is confirmed by typing it.
EMERGENCY_TOKEN = "EMERGENCY"


def confirm_token(phase: Phase, step: Step) -> str:
    """Exactly what to type to run `step`."""
    if not step.kept_by_note:
        return str(phase.id)
    return f"{phase.id}:{','.join(step.kept_tables)}"


def confirm_matches(phase: Phase, step: Step, given: str | None) -> bool:
    """The phase id, then (if the step destroys what a note keeps) every such table, no
    other; spaces around the separators and the tables' order do not matter."""
    text = (given or "").strip()
    if not step.kept_by_note:
        return text == str(phase.id)
    head, sep, rest = text.partition(":")
    if not sep or head.strip() != str(phase.id):
        return False
    names = [name.strip() for name in rest.split(",") if name.strip()]
    return len(names) == len(set(names)) and set(names) == set(step.kept_tables)


def emergency_confirm_matches(given: str | None) -> bool:
    """The emergency rollback runs only on the exact word, spaces around it aside."""
    return (given or "").strip() == EMERGENCY_TOKEN


def emergency_refusal() -> str:
    """The one line a wrong or missing emergency token gets."""
    return f"type {EMERGENCY_TOKEN} to confirm the emergency rollback"


def confirm_refusal(phase: Phase, step: Step) -> str:
    """The one line a wrong or missing token gets: what to type, and why."""
    token = confirm_token(phase, step)
    if not step.kept_by_note:
        return f"destructive step: type the phase id {phase.id} to confirm"
    kept = ", ".join(step.kept_tables)
    return (f"destructive step that removes what the plan says to keep ({kept}): "
            f"type {token} to confirm")


def kept_warnings(step: Step) -> tuple[str, ...]:
    """One line per table a note keeps while this step destroys it."""
    verb = "drops" if step.kind == "migration" else "takes out of production"
    return tuple(f"the plan says: {note} — this step {verb} {name}" for name, note in step.kept_by_note)


def contradiction_lines(phases: tuple[Phase, ...]) -> list[str]:
    """`cockpit check`'s warnings: one line per table a note keeps while the phase's
    rollback SQL drops it, with the token that its destructive steps will ask for."""
    lines = []
    for phase in phases:
        for step in phase.steps:
            if step.kind != "migration":
                continue
            asking = [s.id for s in phase.steps if s.kind in ("quarantine", "migration") and s.kept_by_note
                      and s.protected_tables == step.protected_tables]
            for name, note in step.kept_by_note:
                lines.append(f"phase {phase.id}: the plan says \"{note}\" but its rollback SQL drops {name} "
                             f"({'/'.join(asking)} ask for {confirm_token(phase, step)})")
    return lines
