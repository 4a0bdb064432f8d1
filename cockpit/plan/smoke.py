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

They are kept in `Plan.extra["smoke"]` so the plan model stays as it is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KEY = "smoke"


@dataclass(frozen=True)
class SmokeCheck:
    id: str
    url: str
    status: int = 200
    contains: str = ""
    phase: int | None = None  # None: the whole platform
    timeout_s: float = 5.0


def parse_smoke(readers: list[Any], phase_ids: set[int], loader: Any) -> tuple[SmokeCheck, ...]:
    """Validate `[[smoke]]` tables with the loader's readers (errors name file:line)."""
    checks: list[SmokeCheck] = []
    seen: set[str] = set()
    for r in readers:
        check_id = r.line("id", required=True)
        url = r.line("url", required=True)
        if not url.startswith(("http://", "https://")):
            loader.fail((*r.path, "url"), f"smoke \"{check_id}\": url must start with http:// or https://")
        phase = r.whole("phase", (0, 9999), default=0) or None
        if phase is not None and phase not in phase_ids:
            loader.fail((*r.path, "phase"), f"smoke \"{check_id}\": no phase {phase} in the plan")
        if check_id in seen:
            loader.fail((*r.path, "id"), f"smoke \"{check_id}\": duplicate id")
        seen.add(check_id)
        checks.append(SmokeCheck(check_id, url, r.whole("status", (100, 599), default=200), r.text("contains"), phase,
                                 float(r.number("timeout_s", (0.1, 120), default=5))))
        r.done()
    return tuple(checks)


def smoke_checks(plan: Any, phase_id: int | None = None) -> tuple[SmokeCheck, ...]:
    """The platform's checks plus, with `phase_id`, that phase's own."""
    checks: tuple[SmokeCheck, ...] = tuple((getattr(plan, "extra", None) or {}).get(KEY, ()))
    return tuple(c for c in checks if c.phase is None or c.phase == phase_id)
