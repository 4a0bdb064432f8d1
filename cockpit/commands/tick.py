"""`cockpit tick PHASE ITEM [--before|--after] [--untick]`: a checklist item, journalled."""

from __future__ import annotations

import argparse

from cockpit.engine import Engine, EngineError
from cockpit.engine.session import add_arguments, parse_phase, with_engine


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("tick", help="tick (or untick) a checklist item of a phase")
    parser.add_argument("phase", type=parse_phase, metavar="PHASE")
    parser.add_argument("item", metavar="ITEM")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--before", dest="which", action="store_const", const="before", help="the before-rollback list")
    which.add_argument("--after", dest="which", action="store_const", const="after", help="the after-rollback list")
    parser.add_argument("--untick", action="store_true")
    parser.add_argument("--note", metavar="TEXT")
    add_arguments(parser)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    async def work(engine: Engine) -> int:
        which = args.which
        if which is None:
            found = [w for w in ("before", "after") if any(i.id == args.item for i in engine.plan.checklist(w))]
            if len(found) != 1:
                raise EngineError(f"say --before or --after for \"{args.item}\"" if found else f"no checklist item \"{args.item}\"")
            which = found[0]
        try:
            engine.plan.phase(args.phase)
        except KeyError:
            raise EngineError(f"unknown phase {args.phase}") from None
        engine.tick(args.phase, which, args.item, not args.untick, args.note)
        print(f"phase {args.phase} {which} {args.item}: {'unticked' if args.untick else 'ticked'} by {engine.operator}")
        return 0

    return with_engine(args, work, connect=False)
