"""`cockpit run PHASE STEP`: dry-run by default (exactly what would run, and the guards);
`--execute` runs it, and a destructive step also needs `--confirm <phase id>`."""

from __future__ import annotations

import argparse

from cockpit.commands.engine_cli import add_arguments, outcome_exit, parse_phase, with_engine
from cockpit.engine import Engine
from cockpit.text import clean


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("run", help="dry-run (default) or execute one step")
    parser.add_argument("phase", type=parse_phase, metavar="PHASE")
    parser.add_argument("step", metavar="STEP")
    parser.add_argument("--execute", action="store_true", help="run it (default: dry-run only)")
    parser.add_argument("--confirm", metavar="TOKEN", help="typed confirmation for a destructive step: the phase id, or PHASE:TABLE,... "
                        "when the plan says to keep tables the step removes (the dry-run says which)")
    parser.add_argument("--override", metavar="REASON",
                        help="go past an overridable guard (reverse order, the watch window before a final drop, "
                             "in-flight cron runs); the reason is journalled. Guards that protect rows never give way")
    parser.add_argument("--note", metavar="TEXT", help="a note journalled with the step")
    parser.add_argument("--wait", metavar="SECONDS", type=float, default=0.0,
                        help="wait up to SECONDS for in-flight runs of the phase's jobs (cron-stop, quarantine, drop)")
    add_arguments(parser)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    async def work(engine: Engine) -> int:
        if not args.execute:
            dry = await engine.dry_run(args.phase, args.step)
            print(f"DRY RUN — Phase {dry.phase_id}, step {dry.step_id}: {dry.title}")
            print(dry.text)
            for warning in dry.warnings:
                print(f"WARNING: {clean(warning)}")
            print("Guards:")
            for guard in dry.guards:
                print(f"  [{'ok' if guard.ok else 'NO'}] {guard.name}: {guard.detail}")
            if dry.confirm_token:
                print(f"Destructive: execute with --execute --confirm {dry.confirm_token}")
            if dry.would_refuse:
                first = next(g for g in dry.guards if not g.ok)
                return outcome_exit_dry(first.name, first.detail)
            return 0
        outcome = await engine.execute(args.phase, args.step, confirm=args.confirm, override_reason=args.override,
                                       note=args.note, on_output=lambda line: print(f"  {line}", flush=True), wait_s=args.wait)
        if outcome.status == "done":
            print(f"done: {outcome.message}")
        return outcome_exit(outcome)

    return with_engine(args, work, read_only=not args.execute)


def outcome_exit_dry(guard: str, detail: str) -> int:
    from cockpit.engine.types import Outcome

    return outcome_exit(Outcome("refused", f"would refuse: {detail}", guard))
