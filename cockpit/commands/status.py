"""`cockpit status`: one snapshot of all live state, for a human or (--json) for a script."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from cockpit.commands.common import EXIT_OK, EXIT_UNREACHABLE, add_common_arguments, load_config
from cockpit.probes.snapshot import Snapshot
from cockpit.text import clean

if TYPE_CHECKING:
    from cockpit.plan.model import Plan


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("status", help="one snapshot of all live state")
    add_common_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the snapshot as JSON (documented in the README)")
    parser.set_defaults(handler=main)


async def take_snapshot(plan: Plan) -> Snapshot:
    """Open the target, refresh once, close. A lost database is a state in the snapshot."""
    from cockpit.db import open_database
    from cockpit.live import LiveSystem

    db = open_database(plan.target)
    live = LiveSystem(plan, db)
    try:
        return await live.refresh()
    finally:
        await live.close()
        await db.close()


def _lock_holder_alive(plan: Plan) -> bool:
    """Whether a cockpit may hold the operator lock now, read from the lock file's holder
    (never by taking the lock: a cockpit starting at that instant would find it taken). A
    holder on this host whose process is gone is nobody; one on another host may be alive."""
    from cockpit.engine.lock import OperatorLock

    holder = OperatorLock(Path(plan.paths.journal)).holder()
    if holder is None:
        return False
    if holder.host != socket.gethostname():
        return True
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def emergency_line(plan: Plan, snapshot: Snapshot) -> str | None:
    """The board's emergency banner (engine.state.emergency_warning) for the journal as it
    stands, read-only. An unfinished emergency may still be running in a cockpit that holds
    the operator lock (RUNNING for its first minute); with no live holder it was cut short.
    Never creates a journal."""
    from cockpit.engine import state
    from cockpit.journal import Journal, JournalError
    from cockpit.operator import operator_name

    if not Path(plan.paths.journal).exists():
        return None
    try:
        journal = Journal(plan.paths.journal, plan.target.label, operator_name())
    except JournalError:
        return None  # `status` reads the live system; the journal's own problems are other commands' to say
    try:
        last = state.last_emergency(plan, journal.events(kinds=state.EMERGENCY_KINDS))
    finally:
        journal.close()
    warning = state.emergency_warning(plan, last, snapshot, time.time(), may_run_elsewhere=_lock_holder_alive(plan),
                                      rerun="run `cockpit emergency --execute --confirm EMERGENCY`")
    return None if warning is None else clean(warning.text, limit=1000)


def main(args: argparse.Namespace) -> int:
    plan = load_config(args.config)
    snapshot = asyncio.run(take_snapshot(plan))
    if args.json:
        print(json.dumps(snapshot.to_json(), indent=2, sort_keys=True))
    else:
        warning = emergency_line(plan, snapshot)
        if warning:
            print(warning)
        print(render_text(snapshot))
    if snapshot.connection.state == "lost":
        print(f"cockpit: database unreachable: {snapshot.connection.error or snapshot.target} (values are stale or unknown)",
              file=sys.stderr)
        return EXIT_UNREACHABLE
    return EXIT_OK


def _age(at: float | None, now: float) -> str:
    if at is None:
        return "never"
    seconds = max(0, int(now - at))
    return f"{seconds}s ago" if seconds < 120 else f"{seconds // 60}m ago"


def render_text(snapshot: Snapshot) -> str:
    """A plain-text board: what an operator pastes into the incident channel."""
    now = snapshot.taken_at
    conn = snapshot.connection
    lines = [f"target: {snapshot.target}  ({conn.server or conn.state})  at {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(now))}"]
    if conn.state != "connected" and conn.state != "unconfigured":
        lost = f" since {_age(conn.lost_since, now)}" if conn.lost_since else ""
        lines.append(f"  DATABASE {conn.state.upper()}{lost}: {conn.error or ''} — values below are stale")
    for notice in conn.notices:
        lines.append(f"  notice: {notice}")
    for phase in snapshot.phases:
        lines.append("")
        lines.append(f"Phase {phase.id}: {phase.name} — {phase.state}")
        for flag in phase.flags:
            stale = f" (stale, {_age(flag.freshness.fetched_at, now)})" if flag.freshness.stale and flag.state != "unknown" else ""
            lines.append(f"  flag  {flag.key:<40} {flag.state}{stale}")
        for job in phase.cron:
            running = "".join(f" running pid {r.pid} for {int(r.elapsed(now))}s" for r in job.running)
            lines.append(f"  cron  {job.script:<40} {job.state}{running}")
        for table in phase.tables:
            rows = ""
            if table.exact_rows is not None:
                rows = f" {table.exact_rows} rows (exact, {_age(table.exact_at, now)})"
            elif table.estimated_rows is not None and table.state == "rows":
                rows = f" ~{table.estimated_rows} rows"
            stale = " (stale)" if table.freshness.stale and table.exists is not None else ""
            lines.append(f"  table {table.name:<40} {table.state}{rows}{stale}")
        for table_name, column, exists in phase.columns:
            state = "unknown" if exists is None else ("present" if exists else "absent")
            lines.append(f"  column {table_name + '.' + column:<39} {state}")
        for check in phase.activity:
            value = "unknown" if check.recent_rows is None else ("ACTIVE" if check.active else "quiet")
            lines.append(f"  activity {check.id:<37} {value} ({check.text})")
    return "\n".join(lines)
