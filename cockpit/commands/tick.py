"""`cockpit tick PHASE ITEM [--before|--after] [--untick]`: a checklist item, journalled.
`cockpit tick PHASE --list` shows the item ids and what is ticked (reads only)."""

from __future__ import annotations

import argparse

from cockpit.commands.engine_cli import add_arguments, parse_phase, with_engine
from cockpit.engine import Engine, EngineError
from cockpit.engine.evidence import CLI_WAYS, JOURNAL_KINDS, journal_evidence


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("tick", help="tick (or untick) a checklist item of a phase; --list shows the items")
    parser.add_argument("phase", type=parse_phase, metavar="PHASE")
    parser.add_argument("item", metavar="ITEM", nargs="?")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--before", dest="which", action="store_const", const="before", help="the before-rollback list")
    which.add_argument("--after", dest="which", action="store_const", const="after", help="the after-rollback list")
    parser.add_argument("--untick", action="store_true")
    parser.add_argument("--note", metavar="TEXT")
    parser.add_argument("--list", action="store_true", help="list the checklist item ids and their state")
    add_arguments(parser)
    parser.set_defaults(handler=main)


def valid_ids(engine: Engine) -> str:
    return "; ".join(f"{w}: {', '.join(i.id for i in engine.plan.checklist(w))}" for w in ("before", "after"))


def _phase(engine: Engine, phase_id: int) -> None:
    try:
        engine.plan.phase(phase_id)
    except KeyError:
        raise EngineError(f"unknown phase {phase_id} (phases: {', '.join(str(p.id) for p in engine.plan.rollback_order)})") from None


def main(args: argparse.Namespace) -> int:
    if args.list:
        return with_engine(args, lambda engine: _list(engine, args), read_only=True, connect=False)
    if not args.item:
        from cockpit.commands.common import EXIT_BAD_INPUT, fail

        fail(f"name an item to tick (cockpit tick {args.phase} --list shows them)", EXIT_BAD_INPUT)

    async def work(engine: Engine) -> int:
        _phase(engine, args.phase)
        which = args.which
        if which is None:
            found = [w for w in ("before", "after") if any(i.id == args.item for i in engine.plan.checklist(w))]
            if len(found) != 1:
                raise EngineError(f"say --before or --after for \"{args.item}\"" if found
                                  else f"no checklist item \"{args.item}\" (items — {valid_ids(engine)})")
            which = found[0]
        engine.tick(args.phase, which, args.item, not args.untick, args.note)
        print(f"phase {args.phase} {which} {args.item}: {'unticked' if args.untick else 'ticked'} by {engine.operator}")
        return 0

    return with_engine(args, work, connect=False)


def _watched(engine: Engine, phase_id: int) -> tuple[bool | None, str]:
    """"Monitor for N hours": covered by the watcher's heartbeats, or not yet."""
    from cockpit.watch.coverage import watch_evidence

    watch = engine.watch()
    hours = (watch.hours if watch is not None else None) or 24.0
    return watch_evidence(engine.events(phase_id), phase_id, engine.clock(), min(hours, 24.0))


async def _list(engine: Engine, args: argparse.Namespace) -> int:
    _phase(engine, args.phase)
    ticks = engine.ticks(args.phase)
    for which in ("before", "after"):
        if args.which and which != args.which:
            continue
        print(f"{which}:")
        for item in engine.plan.checklist(which):
            tick = ticks.get((which, item.id))
            mark = f"[x] by {tick.by}" if tick and tick.ticked else "[ ]"
            print(f"  {item.id:<24} {mark:<16} {item.text}")
            if item.evidence in JOURNAL_KINDS:  # what the journal says, as the TUI's checklist shows it
                found = journal_evidence(item.evidence, engine.plan, args.phase, engine.journal, _watched(engine, args.phase),
                                         CLI_WAYS)
                if found is not None and found.text:
                    print(f"  {'':<24} evidence: {({True: 'yes', False: 'NO', None: '?'})[found.ok]}: {found.text}")
    return 0
