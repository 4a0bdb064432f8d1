"""`cockpit journal [--json] [--phase N]`: what happened, in order.

The journal keeps the original bytes of every note, message and SQL text; this view
cleans each line (`cockpit.text.clean`), so a note holding escape sequences cannot clear
the screen or retitle the terminal of whoever reads the history. `--json` escapes
control characters by itself (JSON string rules) and keeps the text exact.
"""

from __future__ import annotations

import argparse
import json
import time

from cockpit.commands.engine_cli import add_arguments, parse_phase, with_engine
from cockpit.engine import Engine
from cockpit.text import clean


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("journal", help="print the journal in order")
    parser.add_argument("--json", action="store_true", help="one JSON array of events")
    parser.add_argument("--phase", type=parse_phase, metavar="N", help="only this phase's events")
    add_arguments(parser)
    parser.set_defaults(handler=main)


LINE_LIMIT = 4000  # one event per line; a megabyte-long log line is cut, not printed


def describe(data: dict[str, object]) -> str:
    for key in ("message", "text", "line", "reason", "statement"):
        if data.get(key):
            prefix = f"{data['status']}: " if key == "message" and data.get("status") else ""
            return prefix + str(data[key])
    return " ".join(f"{k}={v}" for k, v in sorted(data.items()) if v not in (None, "", [], {}))


def main(args: argparse.Namespace) -> int:
    async def work(engine: Engine) -> int:
        events = engine.events(args.phase)
        if args.json:
            from cockpit.drill.record import DRILL_KINDS, drill_of, drills  # each event's drill, by id range (issue 12)

            known = drills(engine.journal.events(kinds=DRILL_KINDS))
            print(json.dumps([{**e.to_json(), "drill": drill_of(e, known)} for e in events], indent=2))
            return 0
        for e in events:
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.at))
            where = f"phase {e.phase}" if e.phase is not None else "-"
            step = f" {e.step}" if e.step else ""
            line = f"#{e.id:<5} {when} {e.operator:<10} {e.kind:<17} {where}{step}  {describe(e.data)}"
            print(clean(line, limit=LINE_LIMIT))
        return 0

    return with_engine(args, work, read_only=True, connect=False)
