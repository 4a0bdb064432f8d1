"""`cockpit steps PHASE [--json]`: each step with its status and, when blocked, why
(with --json also the inputs the table guards looked at)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from cockpit.commands.engine_cli import add_arguments, parse_phase, with_engine
from cockpit.engine import Engine
from cockpit.engine.labels import step_tag

if TYPE_CHECKING:
    from cockpit.probes.snapshot import Snapshot


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("steps", help="list a phase's steps with status and guards")
    parser.add_argument("phase", type=parse_phase, metavar="PHASE")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    add_arguments(parser)
    parser.set_defaults(handler=main)


async def _snapshot(engine: Engine) -> Snapshot | None:
    """One live snapshot so the preview sees live flags and rows (None when unavailable)."""
    if engine.db is None:
        return None
    from cockpit.live import LiveSystem

    return await LiveSystem(engine.plan, engine.db).refresh()


def main(args: argparse.Namespace) -> int:
    async def work(engine: Engine) -> int:
        try:
            phase = engine.plan.phase(args.phase)
        except KeyError:
            from cockpit.engine import EngineError

            raise EngineError(f"unknown phase {args.phase}") from None
        snapshot = await _snapshot(engine)
        views = engine.step_views(phase.id, snapshot)
        if args.json:
            # guard_inputs: what the table guards looked at (from this snapshot and the
            # journal: the same pure guards run over live inputs when the step executes)
            inputs = {v.step.id: await engine.guard_inputs(phase.id, v.step.id, snapshot) for v in views}
            print(json.dumps({"phase": phase.id, "steps": [
                {"id": v.step.id, "kind": v.step.kind, "title": v.step.title, "optional": v.step.optional,
                 "abort": v.step.aborts, "destructive": v.step.destructive,
                 "status": v.status, "label": v.label, "blocked_by": list(v.blocked_by), "message": v.last_message,
                 "started_at": v.started_at, "finished_at": v.finished_at, "guard_inputs": inputs[v.step.id] or None}
                for v in views]}, indent=2, default=str))
            return 0
        print(f"{phase.title}")
        for v in views:
            if v.step.aborts and v is next(x for x in views if x.step.aborts):
                print("  to undo the rollback (forward order 7 -> 10):")
            optional = " (optional)" if step_tag(v.step) == "optional" and "optional" not in v.step.title.lower() else ""
            print(f"  {v.step.id:<16} {v.step.kind:<10} {v.label:<22} {v.step.title}{optional}")
            if v.last_message:
                print(f"      {v.last_message}")
            for block in v.blocked_by:
                print(f"      blocked: {block}")
        return 0

    return with_engine(args, work, read_only=True)
