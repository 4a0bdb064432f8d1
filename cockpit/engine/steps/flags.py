"""flags_off / flags_on: the safest lever, so it re-reads after writing.

The write for each flag is a value (`FlagWrite`) computed from a live read by ONE
function, `plan_flag_write`: the dry-run prints its `render()`, the execution journals
that same rendering and runs that same object. So the text shown can never differ from
what runs (the UPDATE carries its parameters, in the column's own vocabulary: '0',
'off', 'False' ... as the stored value uses it; the command backend shows its argv).

Execution reads the live state first (an interrupted run may already have switched a
flag: that is reported as "already off", not done twice), writes only what differs, and
reads every flag back: a write the backend silently ignored must fail the step. A flag
whose key matches no row (missing) or more than one row (ambiguous) is never written and
never counts as off: the step fails and says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from cockpit.db import queries
from cockpit.db.base import Database
from cockpit.db.errors import DatabaseError
from cockpit.db.statement import Command, Statement
from cockpit.faults import fault_point
from cockpit.plan.model import FlagStore
from cockpit.probes.flags import FlagError, command_argv, is_ambiguous, read_flags, run_command
from cockpit.probes.snapshot import FlagReading

from ..types import Outcome
from .base import StepContext, StepKind

# How a flag is written back: in the vocabulary the table already uses, so the PHP side
# that parses it keeps understanding it.
_VOCABULARIES = (("1", "0"), ("true", "false"), ("on", "off"), ("yes", "no"))


def encode_value(raw: str | None, on: bool) -> str:
    """The new value in the same vocabulary (and letter case) as the current one; '1'/'0'
    when the current value is numeric, NULL or not one we know."""
    text = (raw or "").strip()
    for on_word, off_word in _VOCABULARIES:
        if text.lower() in (on_word, off_word) and not text.isdigit():
            word = on_word if on else off_word
            return word.upper() if text.isupper() else word.capitalize() if text[:1].isupper() else word
    return "1" if on else "0"


@dataclass(frozen=True)
class FlagWrite:
    """What setting one flag means right now: an action to run, nothing (already as
    wanted), or a refusal (missing / ambiguous key)."""

    key: str
    wanted: str  # "on" | "off"
    before: FlagReading
    action: Statement | Command | None = None
    refusal: str | None = None

    def render(self) -> str:
        if self.refusal:
            return f"-- {self.key}: REFUSED: {self.refusal}"
        if self.action is None:
            return f"-- {self.key}: already {self.wanted} (reads {self.before.raw!r}), nothing to write"
        return self.action.render()


def plan_flag_write(store: FlagStore, reading: FlagReading, on: bool) -> FlagWrite:
    """The one place a flag write is decided, from a reading of the flag."""
    wanted = "on" if on else "off"
    key = reading.key
    if reading.state == wanted:
        return FlagWrite(key, wanted, reading)
    if store.backend == "command":
        return FlagWrite(key, wanted, reading, Command(command_argv(store.set_command, key, "1" if on else "0")))
    if reading.state == "missing":
        return FlagWrite(key, wanted, reading, refusal=f"no row of {store.table} matches {key!r}; a missing flag is not "
                                                       f"{wanted} and the cockpit never inserts one (add the row, then re-run)")
    if is_ambiguous(reading):
        return FlagWrite(key, wanted, reading, refusal=f"{key!r} matches more than one row of {store.table} under the "
                                                       "column's collation; fix the table (cockpit check lists them)")
    statement = Statement(queries.flag_update(store.table, store.key_column, store.value_column, encode_value(reading.raw, on), key))
    return FlagWrite(key, wanted, reading, statement)


async def apply_flag_write(db: Database | None, store: FlagStore, write: FlagWrite) -> FlagReading:
    """Run the write's action and read the flag back; FlagError (or DatabaseError) unless
    the store now reports the wanted state."""
    if write.refusal:
        raise FlagError(f"flag {write.key}: {write.refusal}")
    if isinstance(write.action, Command):
        await run_command(write.action.argv, what=f"setting flag {write.key} {write.wanted}")
    elif isinstance(write.action, Statement):
        if db is None:
            raise FlagError("the sql flag store needs a database connection")
        await write.action.run(db)
    after = (await read_flags(db, store, [write.key]))[write.key]
    if after.state != write.wanted:
        error = f" ({after.freshness.error})" if after.freshness.error else ""
        raise FlagError(f"flag {write.key} reads {after.state} (raw {after.raw!r}) after setting it {write.wanted}{error}")
    return after


async def set_flag(db: Database | None, store: FlagStore, key: str, on: bool) -> FlagReading:
    """Read one flag live, write it if needed (same plan as the dry-run shows), read back."""
    reading = (await read_flags(db, store, [key]))[key]
    return await apply_flag_write(db, store, plan_flag_write(store, reading, on))


def _shown_state(reading: FlagReading) -> str:
    return "ambiguous" if is_ambiguous(reading) else reading.state


async def switch_flags(ctx: StepContext, flags: tuple[str, ...], on: bool) -> tuple[dict[str, str], list[str]]:
    """Set each flag as wanted, read back; returns (final state per flag, problems)."""
    wanted = "on" if on else "off"
    store = ctx.plan.flag_store
    before = await read_flags(ctx.db, store, flags)
    problems: dict[str, str] = {}  # key -> why it is not as wanted (the first reason found)
    for key in flags:
        write = plan_flag_write(store, before[key], on)
        current = _shown_state(before[key])
        if write.refusal:
            ctx.emit(f"{key}: {current}: not written: {write.refusal}")
            problems[key] = f"{key}: {write.refusal}"
            continue
        if write.action is None:
            ctx.emit(f"{key}: already {current}")
            continue
        ctx.emit(f"{key}: {current} -> set {wanted}: {write.action.render()}", statement=write.action.render())
        try:
            await apply_flag_write(ctx.db, store, write)
            await fault_point("flags.after_update")
        except FlagError as exc:
            problems[key] = str(exc)
    after = await read_flags(ctx.db, store, flags)
    final = {key: _shown_state(after[key]) for key in flags}
    for key, state in final.items():
        if state != wanted:
            problems.setdefault(key, f"{key} reads {state}")
        else:
            problems.pop(key, None)  # e.g. someone fixed it meanwhile: the read-back decides
    return final, list(problems.values())


async def planned_writes(ctx: StepContext, flags: tuple[str, ...], on: bool) -> tuple[list[FlagWrite] | None, str]:
    """The writes a dry-run shows, and where their readings came from. A preview (the
    TUI's cursor moving) uses the latest snapshot and does no I/O; otherwise live."""
    store = ctx.plan.flag_store
    if ctx.scratch.get("preview"):
        snapshot = ctx.scratch.get("snapshot")
        if snapshot is None:
            return None, "no snapshot yet"
        readings: dict[str, FlagReading] = {}
        for phase in snapshot.phases:
            for reading in phase.flags:
                readings[reading.key] = reading
        missing = [k for k in flags if k not in readings]
        if missing:
            return None, f"not in the snapshot: {', '.join(missing)}"
        return [plan_flag_write(store, readings[k], on) for k in flags], "from the latest snapshot"
    if store.backend == "sql" and ctx.db is None:
        return None, "database not connected"
    live = await read_flags(ctx.db, store, flags)
    return [plan_flag_write(store, live[k], on) for k in flags], "from a live read"


def describe_writes(store: FlagStore, flags: tuple[str, ...], on: bool, writes: list[FlagWrite] | None, source: str) -> list[str]:
    wanted = "on" if on else "off"
    if writes is None:
        return [f"-- set {', '.join(flags)} {wanted}: each value is read live at execution and written in the "
                f"column's own vocabulary ({source}); the exact statements are journalled as they run"]
    lines = [f"-- values {source}; re-read at execution, journalled as run"]
    lines += [write.render() for write in writes]
    return lines


class FlagsStep(StepKind):
    def __init__(self, on: bool) -> None:
        self.on = on

    async def describe(self, ctx: StepContext) -> str:
        store = ctx.plan.flag_store
        try:
            writes, source = await planned_writes(ctx, ctx.phase.flags, self.on)
        except (DatabaseError, FlagError) as exc:
            writes, source = None, f"cannot read them now: {exc}"
        lines = describe_writes(store, ctx.phase.flags, self.on, writes, source)
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
            return ctx.failed("not all flags are " + ("on" if self.on else "off") + ": " + "; ".join(problems),
                              guard="verify", flags=final)
        wanted = "on" if self.on else "off"
        return ctx.done(f"all {wanted} (read back): " + ", ".join(ctx.phase.flags), flags=final)
