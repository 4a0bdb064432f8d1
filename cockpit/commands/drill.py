"""`cockpit drill start [--staging]` · `drill end` · `drill report [ID] [--json]`: marked,
scored rehearsals of the rollback (the plan: "test rollback procedures in staging quarterly")."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from cockpit.commands.common import EXIT_BAD_INPUT, fail
from cockpit.commands.engine_cli import add_arguments, with_engine
from cockpit.engine import Engine

if TYPE_CHECKING:
    from cockpit.drill.score import DrillScore


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("drill", help="start, end and score a drill (a marked rehearsal)")
    actions = parser.add_subparsers(dest="drill_action", metavar="ACTION", required=True)
    start = actions.add_parser("start", help="mark the start of a drill; everything journalled until `drill end` belongs to it")
    start.add_argument("--staging", action="store_true", help="the target is a staging database, not a sandbox")
    add_arguments(start)
    start.set_defaults(handler=main_start)
    end = actions.add_parser("end", help="end the running drill, score it and write its report")
    add_arguments(end)
    end.set_defaults(handler=main_end)
    report = actions.add_parser("report", help="print a drill's score (the latest by default) and write it as Markdown")
    report.add_argument("drill_id", nargs="?", type=int, metavar="ID")
    report.add_argument("--json", action="store_true", help="the score as JSON")
    add_arguments(report)
    report.set_defaults(handler=main_report)


def _refused(exc: Exception) -> int:
    fail(str(exc), 1)


def main_start(args: argparse.Namespace) -> int:
    from cockpit.drill.control import DrillRefused, start

    async def work(engine: Engine) -> int:
        try:
            drill, notices = start(engine, staging=args.staging)
        except DrillRefused as exc:
            return _refused(exc)
        for notice in notices:
            print(f"cockpit: {notice}", file=sys.stderr)
        print(f"drill {drill.number} started on {engine.plan.target.label} by {drill.operator}; "
              f"end it with: cockpit drill end --config {engine.plan.path}")
        return 0

    return with_engine(args, work, connect=False)


def _summary(result: DrillScore) -> str:
    lines = [f"drill {result.drill}: {result.verdict.upper()}"]
    for p in result.phases:
        took = "-" if p.minutes is None else f"{p.minutes:.1f}"
        lines.append(f"  phase {p.phase}: {took} of ~{p.budget_minutes:g} min, {len(p.refusals)} refusal(s), "
                     f"{len(p.unticked)} unticked, {'rolled back' if p.completed else 'NOT rolled back'}")
    lines += [f"  finding: {f}" for f in result.findings]
    return "\n".join(lines)


def main_end(args: argparse.Namespace) -> int:
    from cockpit.drill.control import DrillRefused, end

    async def work(engine: Engine) -> int:
        try:
            result, path = end(engine)
        except DrillRefused as exc:
            return _refused(exc)
        print(_summary(result))
        print(f"report: {path}")
        return 0

    return with_engine(args, work, connect=False)


def main_report(args: argparse.Namespace) -> int:
    from cockpit.drill.control import DrillRefused, report, write_report
    from cockpit.drill.score import to_markdown

    if args.drill_id is not None and args.drill_id < 1:
        fail(f"not a drill id: {args.drill_id}", EXIT_BAD_INPUT)

    async def work(engine: Engine) -> int:
        try:
            result = report(engine, args.drill_id)
        except DrillRefused as exc:
            fail(str(exc), EXIT_BAD_INPUT)
        if args.json:
            print(json.dumps(result.to_json(), indent=2, sort_keys=True))
        else:
            print(to_markdown(result))
        path = write_report(engine.plan, result)
        print(f"cockpit: report written to {path}", file=sys.stderr)
        return 0

    return with_engine(args, work, read_only=True, connect=False)
