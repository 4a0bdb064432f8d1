"""`cockpit watch`: the headless 24-48 h watch (foreground for systemd, --detach otherwise).

    cockpit watch [--config F] [--hours H] [--drill]   run in the foreground until the end
    cockpit watch --detach [...]                        start in the background, print its pid
    cockpit watch --stop                                 signal the running watcher to end
    cockpit watch --extend H                             lengthen the watch in force by H hours

One watcher per target (a flock'd pidfile next to the journal); a second refuses and
names the first. The watcher never takes the operator lock.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from cockpit.commands.common import (
    EXIT_BAD_INPUT,
    EXIT_REFUSED,
    fail,
    load_config,
    operator_name,
)
from cockpit.plan import Plan

if TYPE_CHECKING:  # imported where used: `cockpit watch --stop` stays light
    from cockpit.journal import Journal
    from cockpit.watch.loop import WatchSettings
    from cockpit.watch.notifier import Notifier

MAX_HOURS = 24 * 14


def _hours(value: str) -> float:
    try:
        hours = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of hours: {value!r}") from None
    if not 0 < hours <= MAX_HOURS:
        raise argparse.ArgumentTypeError(f"hours must be between 0 and {MAX_HOURS}, got {value}")
    return hours


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if seconds < 0:
        raise argparse.ArgumentTypeError(f"seconds must be >= 0, got {value}")
    return seconds


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("watch", help="the headless 24-48 h watch after a rollback")
    parser.add_argument("--config", metavar="F", help="the plan file (default: ./phases.toml)")
    parser.add_argument("--hours", type=_hours, metavar="H", help="length of a new watch (default: the plan's [watch] hours)")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--detach", action="store_true", help="run in the background; print its pid and log file")
    what.add_argument("--stop", action="store_true", help="stop the running watcher (it journals watch_end)")
    what.add_argument("--extend", type=_hours, metavar="H", help="lengthen the watch in force by H hours")
    parser.add_argument("--drill", action="store_true", help="a drill: notify the test channel (COCKPIT_NOTIFY_TEST_URLS) or nobody")
    parser.add_argument("--operator", metavar="NAME", help="who runs this (default: $SUDO_USER or $USER)")
    parser.add_argument("--refresh", type=_seconds, metavar="S", help="seconds between refreshes (default: the plan's refresh_seconds)")
    parser.add_argument("--heartbeat", type=_seconds, metavar="S", help="seconds between journalled heartbeats (default 60)")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    plan = load_config(args.config)
    from cockpit.watch.pidfile import pidfile_path

    pidfile = pidfile_path(plan.paths.journal, plan.target.label)
    who = operator_name(args.operator)
    if args.stop:
        return _stop(plan, pidfile, who)
    if args.extend:
        return _extend(plan, args.extend, who)
    return _start(plan, args, pidfile, who)


def _settings(plan: Plan, args: argparse.Namespace) -> WatchSettings:
    from cockpit.watch.loop import WatchSettings

    def env(name: str) -> float | None:
        value = os.environ.get(name)
        if not value:
            return None
        try:
            return float(value)
        except ValueError:
            fail(f"{name} must be a number of seconds, got {value!r}", EXIT_BAD_INPUT)

    refresh = args.refresh if args.refresh is not None else env("COCKPIT_WATCH_REFRESH")
    heartbeat = args.heartbeat if args.heartbeat is not None else env("COCKPIT_WATCH_HEARTBEAT")
    return WatchSettings(
        hours=float(args.hours or plan.watch.hours),
        refresh=float(plan.watch.refresh_seconds if refresh is None else refresh),
        heartbeat=float(60.0 if heartbeat is None else heartbeat),
        drill=bool(args.drill),
        config=Path(plan.path).resolve(),
    )


def _notifiers(plan: Plan, journal: Journal | None) -> tuple[Notifier | None, Notifier | None]:
    from cockpit.watch.notifier import (
        Notifier,
        NotifyConfigError,
        NotifySettings,
        read_urls,
    )

    settings = NotifySettings.from_env()
    try:
        urls = read_urls(os.environ.get("COCKPIT_NOTIFY_URLS"), getattr(plan.watch, "notify_urls_file", None))
        test_urls = read_urls(os.environ.get("COCKPIT_NOTIFY_TEST_URLS"), None)
        main = Notifier(urls, journal, settings) if urls else None
        test = Notifier(test_urls, journal, settings) if test_urls else None
    except NotifyConfigError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    return main, test


def _start(plan: Plan, args: argparse.Namespace, pidfile: Path, who: str) -> int:
    from cockpit.watch.pidfile import WatcherLock, running_holder

    settings = _settings(plan, args)
    holder = running_holder(pidfile)
    if holder is not None:
        fail(f"a watcher already runs for {plan.target.label}: {holder.describe()} (cockpit watch --stop ends it)", EXIT_REFUSED)
    _notifiers(plan, None)  # refuse a world-readable URL file before detaching, with the same line
    if args.detach:
        return _detach(plan, args, settings, pidfile, who)
    lock = WatcherLock(pidfile)
    holder = lock.acquire(str(settings.config))
    if holder is not None:
        fail(f"a watcher already runs for {plan.target.label}: {holder.describe()} (cockpit watch --stop ends it)", EXIT_REFUSED)
    try:
        return asyncio.run(_run(plan, settings, pidfile, who))
    finally:
        lock.release()


async def _run(plan: Plan, settings: WatchSettings, pidfile: Path, who: str) -> int:
    from cockpit.db import open_database
    from cockpit.journal import Journal, JournalError
    from cockpit.live import LiveSystem
    from cockpit.watch.loop import Watcher
    from cockpit.watch.sdnotify import SystemdNotifier

    try:
        journal = Journal(plan.paths.journal, plan.target.label, who)
    except JournalError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    notifier, test_notifier = _notifiers(plan, journal)
    db = open_database(plan.target) if plan.target.kind else None
    live = LiveSystem(plan, db)  # not connected yet: the probe connects, and reconnects with backoff
    systemd = SystemdNotifier()
    watcher = Watcher(plan, settings, journal, live, notifier=notifier, test_notifier=test_notifier,
                      systemd=systemd, pidfile=pidfile)
    try:
        return await watcher.run()
    finally:
        await live.close()
        if db is not None:
            await db.close()
        journal.close()
        systemd.close()


def _detach(plan: Plan, args: argparse.Namespace, settings: WatchSettings, pidfile: Path, who: str) -> int:
    from cockpit.watch.spawn import log_path, spawn_detached

    child = ["--hours", f"{settings.hours:g}", "--operator", who,
             "--refresh", f"{settings.refresh:g}", "--heartbeat", f"{settings.heartbeat:g}"]
    if settings.drill:
        child.append("--drill")
    log = log_path(plan.target.label)
    result = spawn_detached(Path(plan.path).resolve(), child, pidfile, log)
    if not result.ok:
        fail(result.detail, EXIT_REFUSED)
    # the pid alone on stdout (PID=$(cockpit watch --detach)); the words on stderr
    print(f"cockpit: watcher started: pid {result.pid} (log {result.log}){'; ' + result.detail if result.detail else ''}",
          file=sys.stderr)
    print(result.pid)
    return 0


def _stop(plan: Plan, pidfile: Path, who: str) -> int:
    from cockpit.journal import Journal
    from cockpit.watch.loop import stop_request_path
    from cockpit.watch.pidfile import running_holder
    from cockpit.watch.record import WATCH_PERIOD_KINDS, watch_period

    holder = running_holder(pidfile)
    if holder is None:
        if not Path(plan.paths.journal).exists():
            fail("no watch is running", EXIT_REFUSED)
        journal = Journal(plan.paths.journal, plan.target.label, who)
        try:
            period = watch_period(journal.events(kinds=WATCH_PERIOD_KINDS))
            if period is None or not period.running:
                fail("no watch is running", EXIT_REFUSED)
            journal.append("watch_end", data={"reason": f"stopped by {who} while no watcher ran"})
        finally:
            journal.close()
        print("no watcher process was running; the watch is ended in the journal")
        return 0
    if holder.host != socket.gethostname():
        fail(f"the watcher runs on another host: {holder.describe()}; stop it there", EXIT_REFUSED)
    stop_request_path(pidfile).write_text(who, encoding="utf-8")
    try:
        os.kill(holder.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    except PermissionError:
        fail(f"not allowed to signal the watcher ({holder.describe()})", EXIT_REFUSED)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if running_holder(pidfile) is None:
            print(f"watcher stopped (pid {holder.pid})")
            return 0
        time.sleep(0.05)
    fail(f"the watcher ({holder.describe()}) did not stop within 20 s", EXIT_REFUSED)


def _extend(plan: Plan, hours: float, who: str) -> int:
    from cockpit.journal import Journal
    from cockpit.watch.record import WATCH_PERIOD_KINDS, watch_period

    if not Path(plan.paths.journal).exists():
        fail("no watch to extend (start one with cockpit watch)", EXIT_REFUSED)
    journal = Journal(plan.paths.journal, plan.target.label, who)
    try:
        period = watch_period(journal.events(kinds=WATCH_PERIOD_KINDS))
        if period is None or not period.running or period.ends_at <= time.time():
            fail("no watch to extend (start one with cockpit watch)", EXIT_REFUSED)
        journal.append("watch_extend", data={"hours": float(hours)})
        ends = period.ends_at + hours * 3600
    finally:
        journal.close()
    print(f"watch extended by {hours:g} h: now {period.hours + hours:g} h, ends {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(ends))}")
    return 0
