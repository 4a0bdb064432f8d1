"""`cockpit log PHASE --reason … --resolution …`: append the phase's Markdown log entry
(to the drill log while a drill runs; an identical entry is never written twice)."""

from __future__ import annotations

import argparse

from cockpit.commands.engine_cli import add_arguments, parse_phase, with_engine
from cockpit.engine import Engine, EngineError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("log", help="append the rollback log entry for a phase")
    parser.add_argument("phase", type=parse_phase, metavar="PHASE")
    parser.add_argument("--reason", required=True, help="why the phase was rolled back")
    parser.add_argument("--resolution", required=True, help="how it was resolved")
    parser.add_argument("--preview", action="store_true", help="print the entry without writing it")
    add_arguments(parser)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    from cockpit.drill import logbook

    async def work(engine: Engine) -> int:
        try:
            engine.plan.phase(args.phase)
        except KeyError:
            raise EngineError(f"unknown phase {args.phase} (phases: {', '.join(str(p.id) for p in engine.plan.rollback_order)})") from None
        if not args.reason.strip() or not args.resolution.strip():
            raise EngineError("--reason and --resolution must not be empty")
        entry = logbook.preview(engine, args.phase, args.reason, args.resolution)
        if args.preview:
            print(entry, end="")
            return 0
        result = logbook.append(engine, args.phase, args.reason, args.resolution)
        print(entry, end="")
        print(f"appended to {result.path}" if result.written else f"already in {result.path}: the identical entry was not written again")
        return 0

    return with_engine(args, work, read_only=args.preview, connect=False)
