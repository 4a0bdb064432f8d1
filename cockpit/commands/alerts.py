"""`cockpit alerts [--json] [--all]` and `cockpit ack ID`: the watch's alerts, from the journal.

Every TUI and CLI reads the same rows, so an ack from any of them (journalled with who
and when) shows everywhere. Acknowledging is not an action on production: it needs no
operator lock and works while another cockpit holds it.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cockpit.commands.common import EXIT_BAD_INPUT, fail, load_config, operator_name
from cockpit.text import clean

if TYPE_CHECKING:  # the journal is imported lazily: the CLI's start-up stays light
    from cockpit.journal import Event


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listing = subparsers.add_parser("alerts", help="the watch's alerts (open ones; --all for acknowledged too)")
    listing.add_argument("--config", metavar="F", help="the plan file (default: ./phases.toml)")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.add_argument("--all", action="store_true", help="include acknowledged alerts")
    listing.set_defaults(handler=list_main)
    ack = subparsers.add_parser("ack", help="acknowledge an alert (journalled with who and when)")
    ack.add_argument("id", metavar="ID", help="the alert's number, as `cockpit alerts` shows it")
    ack.add_argument("--config", metavar="F", help="the plan file (default: ./phases.toml)")
    ack.add_argument("--operator", metavar="NAME", help="who acknowledges (default: $SUDO_USER or $USER)")
    ack.set_defaults(handler=ack_main)


def _stamp(at: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at)) if at else "-"


def list_main(args: argparse.Namespace) -> int:
    from cockpit.journal import Journal
    from cockpit.watch.record import (
        ALERT_VIEW_KINDS,
        WATCH_PERIOD_KINDS,
        WATCHER_KINDS,
        alert_views,
        live_watcher,
        watch_period,
    )

    plan = load_config(args.config)
    now = time.time()
    events: Sequence[Event] = []
    if Path(plan.paths.journal).exists():  # read-only: never create a journal to list nothing
        journal = Journal(plan.paths.journal, plan.target.label, operator_name())
        try:  # the kinds the three folds read (SQL-filtered), not a long watch's whole history
            events = journal.events(kinds=ALERT_VIEW_KINDS | WATCH_PERIOD_KINDS | WATCHER_KINDS)
        finally:
            journal.close()
    views = [v for v in alert_views(events) if args.all or v.open]
    period = watch_period(events)
    beat = live_watcher(events, now)
    if args.json:
        print(json.dumps({
            "target": plan.target.label,
            "watch": None if period is None else {
                "started_at": period.started_at, "ends_at": period.ends_at, "hours": period.hours,
                "running": period.running and period.ends_at > now, "ended_at": period.ended_at, "end_reason": period.end_reason,
            },
            "watcher": None if beat is None else {
                "pid": beat.pid, "host": beat.host, "heartbeat_at": beat.at, "heartbeat_age": round(beat.age(now), 1),
                "phases": list(beat.phases), "database": beat.db,
            },
            "alerts": [v.to_json() for v in views],
        }, indent=2))
        return 0
    if beat is not None:
        print(f"watcher: pid {beat.pid} on {clean(beat.host)}, heartbeat {beat.age(now):.0f}s ago, "
              f"watching phase(s) {', '.join(map(str, beat.phases)) or 'none'}, database {beat.db}")
    elif period is not None and period.running and period.ends_at > now:
        print("watcher: NOT RUNNING although a watch is in force (start it: cockpit watch --detach)")
    else:
        print("watcher: none")
    if period is not None and period.running:
        print(f"watch: {period.hours:g} h, ends {_stamp(period.ends_at)}")
    if not views:
        print("no open alerts" if not args.all else "no alerts")
        return 0
    for v in views:
        phase = f"phase {v.phase_id}" if v.phase_id is not None else "-"
        extra = []
        if v.cleared_at:
            extra.append(f"cleared {_stamp(v.cleared_at)}: {clean(v.clear_note)}")
        if v.acked_at:
            extra.append(f"acknowledged by {clean(v.acked_by or '?')} {_stamp(v.acked_at)}")
        tail = f"  [{'; '.join(extra)}]" if extra else ""
        print(f"#{v.id}  {_stamp(v.at)}  {phase}  {v.kind}  {clean(v.message)}{tail}")
    return 0


def ack_main(args: argparse.Namespace) -> int:
    from cockpit.journal import Journal
    from cockpit.watch.record import ALERT_VIEW_KINDS, alert_views

    plan = load_config(args.config)
    try:
        alert_id = int(str(args.id).lstrip("#"))
    except ValueError:
        fail(f"an alert id is a number, got {args.id!r}", EXIT_BAD_INPUT)
    if not Path(plan.paths.journal).exists():
        fail(f"no alert #{alert_id} (no journal yet)", EXIT_BAD_INPUT)
    who = operator_name(args.operator)
    journal = Journal(plan.paths.journal, plan.target.label, who)
    try:
        view = next((v for v in alert_views(journal.events(kinds=ALERT_VIEW_KINDS)) if v.id == alert_id), None)
        if view is None:
            fail(f"no alert #{alert_id} for {plan.target.label} (cockpit alerts lists them)", EXIT_BAD_INPUT)
        if view.acked_at is not None:
            print(f"alert #{alert_id} was already acknowledged by {clean(view.acked_by or '?')} at {_stamp(view.acked_at)}")
            return 0
        journal.append("alert_ack", data={"event_id": alert_id})
    finally:
        journal.close()
    print(f"acknowledged alert #{alert_id} ({view.kind}: {clean(view.message)}) as {who}")
    return 0
