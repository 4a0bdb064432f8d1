"""`cockpit tui`: the interactive cockpit on a real system (and `run_tui`, shared with `cockpit demo`).

The engine is opened before the terminal switches to full-screen mode so that a
journal that cannot be opened is reported as one plain line, and closed after the app
leaves (normally, on `q`, or on SIGHUP when SSH drops) so the journal records the end of
the session.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable

from cockpit.commands.common import EXIT_REFUSED, add_common_arguments, fail, load_config, operator_name
from cockpit.plan import Plan


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("tui", help="the interactive cockpit (default command)")
    add_common_arguments(parser, operator=True)
    parser.add_argument("--read-only", action="store_true", help="look without acting (no lock taken)")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    plan = load_config(args.config, acting=not args.read_only)
    return run_tui(plan, read_only=args.read_only, operator=getattr(args, "operator", None))


def run_tui(
    plan: Plan,
    read_only: bool = False,
    operator: str | None = None,
    *,
    clock: Callable[[], float] | None = None,
    auto_refresh: bool = True,
    welcome: str = "",
) -> int:
    """Open the engine and the live system, run the app until it exits, close them again.
    `welcome` is shown as a notice once the board is up (e.g. where the sandbox lives)."""
    if read_only:
        from cockpit.commands.engine_cli import reading_plan

        plan = reading_plan(plan)  # looking never creates a journal
    return asyncio.run(_run(plan, read_only, operator_name(operator), clock, auto_refresh, welcome))


async def _run(plan: Plan, read_only: bool, operator: str, clock: Callable[[], float] | None, auto_refresh: bool,
               welcome: str = "") -> int:
    import time

    from cockpit.engine import Engine
    from cockpit.live import LiveSystem
    from cockpit.tui.app import CockpitApp

    try:
        engine = await Engine.open(plan, operator=operator, read_only=read_only, interactive=True, clock=clock or time.time)
    except Exception as exc:  # e.g. an unwritable journal: acting unrecorded is not an option
        fail(f"cannot open the cockpit: {exc}", EXIT_REFUSED)
    live = LiveSystem(plan, engine.database, clock=clock or time.time)  # reconnects by itself
    try:
        app = CockpitApp(plan, engine=engine, live=live, clock=clock or time.time, auto_refresh=auto_refresh)
        app.welcome = welcome  # type: ignore[attr-defined]  # read by the board on mount
        result = await app.run_async()
    finally:
        await live.close()
        await engine.close()
    return int(result or 0)
