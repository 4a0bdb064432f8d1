"""`cockpit backup-full [--config F] [--execute]`: the full dump of the target database
that the before-checklist asks for ("Backup database (full dump)").

Dry-run by default: the exact command (the credential file shown as a placeholder) and
the output path, nothing written. --execute takes and verifies the dump under the
operator lock (refused from a read-only cockpit) and journals it.
"""

from __future__ import annotations

import argparse

from cockpit.commands.engine_cli import add_arguments, outcome_exit, with_engine
from cockpit.engine import Engine


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("backup-full", help="dump the whole target database (dry-run unless --execute)")
    parser.add_argument("--execute", action="store_true", help="take and verify the dump, and journal it")
    add_arguments(parser)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    from cockpit.engine.full_dump import describe, run_full_dump

    async def work(engine: Engine) -> int:
        if not args.execute:
            text, out = describe(engine.plan, engine.db, engine.clock())
            print(f"DRY RUN — full dump of {engine.plan.target.label}")
            print(text)
            print(f"output: {out}")
            print("Execute with --execute")
            return 0
        outcome = await run_full_dump(engine, on_output=lambda line: print(f"  {line}", flush=True))
        if outcome.status == "done":
            print(f"done: {outcome.message}")
        return outcome_exit(outcome)

    return with_engine(args, work, read_only=not args.execute)
