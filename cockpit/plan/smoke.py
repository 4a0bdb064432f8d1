"""Smoke checks declared by the plan: "Verify system functionality" with evidence.

The after-rollback checklist asks to verify that the system works; a bare tick says only
that someone believed it did. A plan may declare HTTP checks, for the whole platform or
for one phase:

    [[smoke]]
    id = "login"
    url = "https://app.example/login"
    status = 200              # expected HTTP status (default 200)
    contains = "Sign in"      # optional: text the body must contain
    phase = 9                 # optional: only this phase's checks; absent = the platform
    timeout_s = 5             # connect + read bound (default 5)

The loader reads them into `Plan.smoke` (see loader.py `_smoke`)."""

from __future__ import annotations

from .model import Plan, SmokeCheck

__all__ = ["SmokeCheck", "smoke_checks"]


def smoke_checks(plan: Plan, phase_id: int | None = None) -> tuple[SmokeCheck, ...]:
    """The platform's checks plus, with `phase_id`, that phase's own."""
    return tuple(c for c in plan.smoke if c.phase is None or c.phase == phase_id)
