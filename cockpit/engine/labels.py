"""How a step is tagged wherever steps are listed (the TUI's phase screen, `cockpit steps`).

An abort step undoes the rollback (it runs in forward order, 7 -> 10) and an optional
step may be skipped; a step that is both is shown as abort, the stronger warning. The
status of a step is labelled by `cockpit.engine.types.status_label` ("interrupted —
verify"), which both views use too.
"""

from __future__ import annotations

from typing import Literal

from cockpit.plan.model import Step

StepTag = Literal["abort", "optional", ""]

# the TUI's step column is narrow: the short form of each tag
SHORT_TAG: dict[StepTag, str] = {"abort": "abort", "optional": "opt", "": ""}


def step_tag(step: Step) -> StepTag:
    """"abort", "optional" or "" for a plain step."""
    if step.aborts:
        return "abort"
    if step.optional:
        return "optional"
    return ""
