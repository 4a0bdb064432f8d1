"""`cockpit tui`: the interactive cockpit on a real system (and `run_tui`, shared with `cockpit demo`).

What must happen before the terminal switches to full-screen mode happens here: the
config refusal (a state-changing TUI without --config refuses as one line, in `main`)
and the MySQL password prompt, if one is needed. The engine and the live system are
opened by the app itself, behind its first frame (tui/app.py), so a slow database delays
the data, never the board. A journal or lock that cannot be opened shows inside the app
and is repeated here as one plain line (exit 1) once the app has left. Whatever way the
app leaves (`q`, SIGHUP when SSH drops, an error), the engine is closed so the journal
records the end of the session.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from cockpit.commands.common import (
    EXIT_REFUSED,
    add_common_arguments,
    fail,
    load_config,
    operator_name,
    reading_plan,
)
from cockpit.plan import Plan

if TYPE_CHECKING:
    from cockpit.db.options import ConnectionSettings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("tui", help="the interactive cockpit (default command)")
    add_common_arguments(parser, operator=True)
    parser.add_argument("--read-only", action="store_true", help="look without acting (no lock taken)")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    from cockpit.tui import gc_pause

    gc_pause.pause()  # until the first frame with live data (tui/gc_pause.py)
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
    """Run the app until it exits; it opens the engine and the live system after its
    first frame and closes them on leaving. `welcome` is shown as a notice once the
    board is up (e.g. where the sandbox lives)."""
    from cockpit.tui import gc_pause

    gc_pause.pause()  # until the first frame with live data (a no-op when `main` already did)
    if read_only:
        plan = reading_plan(plan)  # looking never creates a journal
    settings = connection_settings(plan)
    return asyncio.run(_run(plan, read_only, operator_name(operator), clock, auto_refresh, welcome, settings))


def connection_settings(plan: Plan) -> ConnectionSettings | None:
    """A MySQL target's connection settings, resolved now: a password prompt (when no
    option file or MYSQL_PWD gives one) must run before the app owns the terminal.
    None for the sandbox."""
    if plan.target.kind != "mysql":
        return None
    from cockpit.db.options import resolve_settings

    return resolve_settings(plan.target, interactive=True)


async def _run(plan: Plan, read_only: bool, operator: str, clock: Callable[[], float] | None, auto_refresh: bool,
               welcome: str = "", settings: ConnectionSettings | None = None) -> int:
    import time

    from cockpit.tui import gc_pause
    from cockpit.tui.app import CockpitApp

    app = CockpitApp(plan, clock=clock or time.time, auto_refresh=auto_refresh, read_only=read_only, operator=operator,
                     settings=settings)
    app.welcome = welcome  # read by the board on mount
    try:
        result = await app.run_async()
    finally:
        gc_pause.resume()  # the app resumes it after its first frame with live data; not if it died starting
        await app.close_session()  # already done on unmount; not when the app died starting
    if app.session_error:
        fail(f"cannot open the cockpit: {app.session_error}", EXIT_REFUSED)
    return int(result or 0)
