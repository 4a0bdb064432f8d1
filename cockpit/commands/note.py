"""`cockpit note TEXT [--phase N]`: an operator note, journalled (it feeds the log's Issues)."""

from __future__ import annotations

import argparse

from cockpit.commands.engine_cli import add_arguments, parse_phase, with_engine
from cockpit.engine import Engine, EngineError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("note", help="journal a note",
                                   epilog='a note that starts with "-" goes after "--": cockpit note --phase 10 -- "-5 rows"')
    parser.add_argument("text", metavar="TEXT")
    parser.add_argument("--phase", type=parse_phase, metavar="N")
    add_arguments(parser)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    async def work(engine: Engine) -> int:
        try:
            engine.note(args.text, args.phase)
        except KeyError:
            raise EngineError(f"unknown phase {args.phase}") from None
        print("noted")
        return 0

    return with_engine(args, work, connect=False)
