"""The CLI's way into the engine: load the plan, open the engine, run, always close.

Kept here so every engine command shares one error mapping: bad input exit 2, refusal
exit 1, unreachable source exit 3 — each as one line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Awaitable, Callable

from cockpit.commands.common import EXIT_BAD_INPUT, EXIT_REFUSED, EXIT_UNREACHABLE, fail, load_config, operator_name
from cockpit.journal import JournalError

from .engine import Engine, EngineError, EngineRefused
from .types import Outcome


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="F", help="the plan file (default: ./phases.toml)")
    parser.add_argument("--operator", metavar="NAME", help="who runs this (default: $SUDO_USER or $USER)")


def with_engine(args: argparse.Namespace, work: Callable[[Engine], Awaitable[int]], *, read_only: bool = False,
                connect: bool = True) -> int:
    plan = load_config(getattr(args, "config", None))

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


def outcome_exit(outcome: Outcome) -> int:
    """Print a non-done outcome as one stderr line and map it to the exit code."""
    if outcome.status == "done":
        return 0
    code = EXIT_UNREACHABLE if outcome.unreachable else EXIT_REFUSED
    guard = f" [{outcome.guard}]" if outcome.guard else ""
    fail(f"{outcome.status}{guard}: {outcome.message}", code)


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


