"""flags_off / flags_on: the safest lever, so it re-reads after writing.

Execution reads the live state first (an interrupted run may already have switched a
flag: that is reported as "already off", not done twice), writes only what differs, and
reads every flag back: a write the backend silently ignored must fail the step.
"""

from __future__ import annotations

import shlex

from cockpit.db.errors import DatabaseError
from cockpit.db.sql import quote_ident
from cockpit.plan.model import FlagStore
from cockpit.probes.flags import FlagError

from ..types import Outcome
from .base import StepContext, StepKind


def flag_statement(store: FlagStore, key: str, on: bool) -> str:
    """The exact write for one flag, as shown in the dry-run."""
    if store.backend == "command":
        argv = [a.replace("{flag}", key).replace("{value}", "1" if on else "0") for a in store.set_command]
        return shlex.join(argv)
    return (
        f"UPDATE {quote_ident(store.table)} SET {quote_ident(store.value_column)} = {1 if on else 0} "
        f"WHERE {quote_ident(store.key_column)} = '{key}';  -- value in the column's own vocabulary (1/0, true/false, on/off)"
    )


async def switch_flags(ctx: StepContext, flags: tuple[str, ...], on: bool) -> tuple[dict[str, str], list[str]]:
    """Set each flag as wanted, read back; returns (final state per flag, problems)."""
    from cockpit.probes.flags import read_flags, set_flag

    wanted = "on" if on else "off"
    store = ctx.plan.flag_store
    before = await read_flags(ctx.db, store, flags)
    for key in flags:
        current = before[key].state if key in before else "unknown"
        if current == wanted or (not on and current == "missing"):
            ctx.emit(f"{key}: already {current}")
            continue
        await set_flag(ctx.db, store, key, on)
        ctx.emit(f"{key}: {current} -> set {wanted}")
    after = await read_flags(ctx.db, store, flags)
    final = {key: after[key].state if key in after else "unknown" for key in flags}
    problems = [f"{key} reads {state}" for key, state in final.items() if not (state == wanted or (not on and state == "missing"))]
    return final, problems


class FlagsStep(StepKind):
    def __init__(self, on: bool) -> None:
        self.on = on

    async def describe(self, ctx: StepContext) -> str:
        store = ctx.plan.flag_store
        lines = [flag_statement(store, key, self.on) for key in ctx.phase.flags]
        lines.append(f"-- then read every flag back; the step fails unless each reads {'on' if self.on else 'off'}")
        return "\n".join(lines)

    async def run(self, ctx: StepContext) -> Outcome:
        try:
            final, problems = await switch_flags(ctx, ctx.phase.flags, self.on)
        except DatabaseError as exc:
            return ctx.failed(f"flag write failed: {exc}", guard="database")
        except FlagError as exc:
            return ctx.failed(f"flag write failed: {exc}", guard="verify")
        if problems:
            return ctx.failed("read-back disagrees: " + "; ".join(problems), guard="verify", flags=final)
        wanted = "on" if self.on else "off"
        return ctx.done(f"all {wanted} (read back): " + ", ".join(ctx.phase.flags), flags=final)
