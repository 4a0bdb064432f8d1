"""`cockpit emergency [--execute --confirm EMERGENCY]`: every emergency flag off in one action."""

from __future__ import annotations

import argparse

from cockpit.commands.engine_cli import add_arguments, outcome_exit, with_engine
from cockpit.engine import Engine


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("emergency", help="turn every flag off (dry-run unless --execute)")
    parser.add_argument("--execute", action="store_true", help="do it (needs --confirm EMERGENCY)")
    parser.add_argument("--confirm", metavar="TOKEN", help="type EMERGENCY")
    add_arguments(parser)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    async def work(engine: Engine) -> int:
        if not args.execute:
            dry = await engine.emergency_dry_run()
            print(f"DRY RUN — {dry.title}")
            print(dry.text)
            for guard in dry.guards:
                print(f"  [{'ok' if guard.ok else 'NO'}] {guard.name}: {guard.detail}")
            print(f"Execute with --execute --confirm {dry.confirm_token}")
            return 3 if dry.would_refuse else 0
        outcome = await engine.emergency_execute(confirm=args.confirm, on_output=lambda line: print(f"  {line}", flush=True))
        if outcome.status == "done":
            print(f"done: {outcome.message}")
        return outcome_exit(outcome)

    return with_engine(args, work, read_only=not args.execute)
