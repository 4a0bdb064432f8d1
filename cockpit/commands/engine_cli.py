"""The CLI's way into the engine: load the plan, open the engine, run, always close.

CLI glue (argparse, exit codes, way-out hints), so it lives with the commands: the
engine knows nothing of the CLI (layers point one way, DESIGN.md).

Kept here so every engine command shares one error mapping: bad input exit 2, refusal
exit 1, unreachable source exit 3 — each as one line on stderr.

Two rules live here because every engine command passes through:
- a command that can act (`read_only=False`) must have its plan named (`--config` or
  `COCKPIT_CONFIG`), see `commands.common.load_config`;
- a read-only command writes nothing: when the target has no journal yet, it reads an
  empty in-memory one instead of creating the file (and a read-only engine journals no
  session start or end).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable

from cockpit.commands.common import (
    CONFIG_HELP,
    EXIT_BAD_INPUT,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    fail,
    load_config,
    reading_plan,
)
from cockpit.engine import Engine, EngineError, EngineRefused
from cockpit.engine.types import Outcome
from cockpit.journal import JournalError
from cockpit.operator import operator_name


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="F", help=CONFIG_HELP)
    parser.add_argument("--operator", metavar="NAME", help="who runs this (default: $SUDO_USER or $USER)")


def with_engine(args: argparse.Namespace, work: Callable[[Engine], Awaitable[int]], *, read_only: bool = False,
                connect: bool = True) -> int:
    plan = load_config(getattr(args, "config", None), acting=not read_only)
    if read_only:
        plan = reading_plan(plan)

    async def main() -> int:
        engine = await Engine.open(plan, operator=operator_name(getattr(args, "operator", None)), read_only=read_only, connect=connect)
        try:
            return await work(engine)
        finally:
            await engine.close()

    try:
        return asyncio.run(main())
    except EngineError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    except EngineRefused as exc:
        fail(str(exc), EXIT_REFUSED)
    except JournalError as exc:
        fail(str(exc), EXIT_REFUSED)


# How to get past a guard, by guard name: a refusal must name the way out.
WAY_OUT = {
    "order": "roll the later phases back first, or add --override REASON (journalled)",
    "prerequisites": "run the steps it names first (cockpit steps PHASE lists them)",
    "data": "run the phase's backup step first (cockpit run PHASE backup --execute)",
    "flags_off": "run the phase's flags-off step first",
    "confirm": "add --confirm with the token it names",
    "read_only": "wait for the other operator to finish (the lock holder is named above)",
    "busy": "wait for the running step to finish",
    "database": "check the connection (cockpit check), then retry",
    "in_flight": "wait for the job to finish, or pass --wait SECONDS",
    "running": "wait for the job to finish, or pass --wait SECONDS",
    "lock_wait": "another session holds a lock on the table: wait for it (cockpit status), then run again",
    "dump_tool": "install mariadb-dump or mysqldump",
    "watch_window": "wait until the watch has passed (`restore` is the way back meanwhile), "
                    "or add --override REASON (journalled) to drop earlier",
    "tables": "put the tables back first (cockpit run PHASE restore --execute)",
    "catalogue": "resolve the name clash by hand (cockpit steps PHASE --json shows what the catalogue holds)",
}

# The quarantine guard refuses for several reasons; the way out depends on which.
QUARANTINE_WAY_OUT = (
    ("run quarantine", "run the phase's quarantine step first (cockpit run PHASE quarantine --execute --confirm PHASE)"),
    ("interrupted", "run quarantine again to reconcile (cockpit run PHASE quarantine --execute --confirm PHASE)"),
    ("already quarantined", ("back it up (cockpit run PHASE backup --execute) and drop after the watch, "
                             "or put it back (cockpit run PHASE restore --execute)")),
)


def _one_way_out(guard: str, message: str) -> str:
    if guard == "quarantine":
        return next((hint for cue, hint in QUARANTINE_WAY_OUT if cue in message), "")
    hint = WAY_OUT.get(guard, "")
    if not hint and "running" in message and "cron" in guard:
        hint = WAY_OUT["running"]
    return hint


def way_out(guard: str | None, message: str = "") -> str:
    """Short hints naming what to do about a refusal; '' when there is none to give.

    A refusal by several guards reads "g1: why; g2: why" (engine._execute): every guard
    named there gets its own hint, so an operator past the first is not refused again
    without having been told the second way out."""
    if not guard:
        return ""
    parts = [(guard, message)]
    if message.startswith(f"{guard}: "):
        parts = []
        for chunk in message.split("; "):
            name, sep, detail = chunk.partition(": ")
            if sep and name.isidentifier():
                parts.append((name, detail))
            elif parts:
                parts[-1] = (parts[-1][0], parts[-1][1] + "; " + chunk)
    hints: list[str] = []
    for name, detail in parts:
        hint = _one_way_out(name, detail)
        if hint and hint not in hints:
            hints.append(hint)
    return "; ".join(hints)


def outcome_exit(outcome: Outcome) -> int:
    """Print a non-done outcome as one stderr line and map it to the exit code."""
    if outcome.status == "done":
        return 0
    code = EXIT_UNREACHABLE if outcome.unreachable else EXIT_REFUSED
    guard = f" [{outcome.guard}]" if outcome.guard else ""
    hint = way_out(outcome.guard, outcome.message)
    hint = f" — {hint}" if hint and outcome.status == "refused" else ""
    fail(f"{outcome.status}{guard}: {outcome.message}{hint}", code)


PHASE_ID_RANGE = (1, 9999)  # the plan loader's range; a 20-digit id overflowed SQLite


def parse_phase(value: str) -> int:
    try:
        phase = int(str(value).lower().removeprefix("phase").strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a phase id: {value!r}") from None
    low, high = PHASE_ID_RANGE
    if not low <= phase <= high:
        raise argparse.ArgumentTypeError(f"not a phase id: {value!r} (phase ids are {low}-{high})")
    return phase
