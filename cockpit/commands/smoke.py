"""`cockpit smoke [--phase N] [--json] [--record]`: the plan's HTTP smoke checks, now.

Read-only by default. `--record` journals the results as the evidence of the
after-checklist's "Verify system functionality" (so it needs the plan named, like every
command that writes). Exit 0 all passed, 1 one failed, 2 the plan declares none."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from cockpit.commands.common import EXIT_BAD_INPUT, fail
from cockpit.commands.engine_cli import add_arguments, parse_phase, with_engine
from cockpit.engine import Engine

if TYPE_CHECKING:
    from cockpit.probes.smoke import SmokeResult


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("smoke", help="run the plan's HTTP smoke checks (platform and a phase's)")
    parser.add_argument("--phase", type=parse_phase, metavar="N", help="also this phase's own checks")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--record", action="store_true", help="journal the results as checklist evidence")
    add_arguments(parser)
    parser.set_defaults(handler=main)


def record(engine: Engine, phase_id: int | None, results: list[SmokeResult]) -> None:
    """Journal one smoke run (the checklist's evidence reads the latest per phase)."""
    engine.journal.append("smoke", phase=phase_id, data={"ok": all(r.ok for r in results),
                                                        "results": [r.to_json() for r in results]})


def main(args: argparse.Namespace) -> int:
    from cockpit.plan.smoke import smoke_checks
    from cockpit.probes.smoke import run_smoke, summary
    from cockpit.text import clean

    async def work(engine: Engine) -> int:
        if args.phase is not None:
            try:
                engine.plan.phase(args.phase)
            except KeyError:
                fail(f"unknown phase {args.phase}", EXIT_BAD_INPUT)
        checks = smoke_checks(engine.plan, args.phase)
        if not checks:
            fail(f"{engine.plan.path.name} declares no [[smoke]] checks" + (f" for phase {args.phase}" if args.phase else ""),
                 EXIT_BAD_INPUT)
        results = await run_smoke(checks)
        if args.record:
            record(engine, args.phase, results)
        if args.json:
            print(json.dumps({"ok": all(r.ok for r in results), "results": [r.to_json() for r in results]}, indent=2))
        else:
            for r in results:
                scope = f"phase {r.phase}" if r.phase else "platform"
                print(f"{'ok  ' if r.ok else 'FAIL'}  {clean(r.id):<20} {scope:<9} {clean(r.detail)}  "
                      f"({r.seconds * 1000:.0f} ms)  {clean(r.url)}")
            print(summary(results))
        return 0 if all(r.ok for r in results) else 1

    return with_engine(args, work, read_only=not args.record, connect=False)
