"""Two TUIs and the CLI attached to one running watcher see the same alerts, and an ack
from any of them (journalled with who) shows in all the others. Alert text from the
live system is plain text: a `[/]` in it cannot break the screen."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from cockpit.journal import Journal
from cockpit.plan import load_plan
from cockpit.tui.app import CockpitApp
from cockpit.tui.screens.watch import WatchScreen
from tests.fixtures.tui import settle
from tests.watch_support import (
    WatcherProcess,
    alerts_of,
    cli,
    events,
    run_steps,
    set_flag_sqlite,
    wait_for,
    watch_env,
)

NASTY = "PHP Fatal error [/] in [b]dashboard[/b] \x1b[31mred\x07"


async def _rows(app: CockpitApp, pilot) -> int:
    """What the screen shows after the app notices the journal moved (its next poll would)."""
    app.journal_changed()
    await settle(pilot)
    return app.screen.query_one("#alerts").row_count


async def test_two_tuis_and_the_cli_share_alerts_and_acks(sandbox: Path, tmp_path: Path) -> None:
    plan = load_plan(sandbox)
    await asyncio.to_thread(run_steps, sandbox, 10, "flags-off", "cron-stop")
    env = watch_env(tmp_path)
    watcher = WatcherProcess(sandbox, env)
    try:
        await asyncio.to_thread(watcher.wait_output, "watch: started")
        set_flag_sqlite(plan.target.path, "enable_production_dashboard", 1)
        await asyncio.to_thread(wait_for, lambda: alerts_of(sandbox, "flag_on"), 10)
        journal = Journal(plan.paths.journal, plan.target.label, "watcher")  # an alert quoting a log line
        nasty_id = journal.append("alert", phase=10, data={"kind": "log_spike", "subject": "logs/error.log", "message": NASTY})
        journal.close()
        flag_id = alerts_of(sandbox, "flag_on")[0].id

        alice = CockpitApp(load_plan(sandbox), operator="alice", auto_refresh=False)
        bob = CockpitApp(load_plan(sandbox), operator="bob", auto_refresh=False)
        async with alice.run_test(size=(100, 30)) as pa, bob.run_test(size=(100, 30)) as pb:
            await settle(pa)
            await settle(pb)
            assert bob.read_only, "the second TUI attaches read-only"
            for app, pilot in ((alice, pa), (bob, pb)):
                await pilot.press("w")  # a watcher runs: the screen opens at once, no offer to start
                await settle(pilot)
                assert isinstance(app.screen, WatchScreen)
                assert "Watcher" in str(app.screen.query_one("#watch-header").render())
                assert await _rows(app, pilot) == 2
                app.refresh_now()  # a poll: follows the watcher (alert count, no alerts of its own)
                await settle(pilot)
                assert app.open_alert_count == 2

            listed = json.loads((await asyncio.to_thread(cli, sandbox, "alerts", "--json", env=env)).stdout)
            assert sorted(a["id"] for a in listed["alerts"]) == sorted([flag_id, nasty_id])
            assert listed["watcher"]["pid"] == watcher.proc.pid

            # bob (read-only) acknowledges the top row: the newest, the log line
            await pb.press("a")
            await settle(pb)
            ack = events(sandbox, "alert_ack")
            assert [(e.data["event_id"], e.operator) for e in ack] == [(nasty_id, "bob")]
            assert await _rows(alice, pa) == 1
            assert await _rows(bob, pb) == 1

            # the CLI acknowledges the other; both TUIs show none open
            acked = await asyncio.to_thread(cli, sandbox, "ack", str(flag_id), "--operator", "carol", env=env)
            assert acked.returncode == 0, acked.stderr
            assert await _rows(alice, pa) == 0
            assert await _rows(bob, pb) == 0
            assert alice.open_alert_count == bob.open_alert_count == 0
        shown = (await asyncio.to_thread(cli, sandbox, "alerts", "--all", env=env)).stdout
        assert "acknowledged by bob" in shown and "acknowledged by carol" in shown
        assert "\x1b" not in shown and "\x07" not in shown
        assert (await asyncio.to_thread(cli, sandbox, "ack", "99999", env=env)).returncode == 2
    finally:
        watcher.close()


async def test_w_starts_a_detached_watcher_that_outlives_the_tui(sandbox: Path, tmp_path: Path, monkeypatch) -> None:
    import os

    import psutil

    for key, value in watch_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    app = CockpitApp(load_plan(sandbox), operator="alice", auto_refresh=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("w", "2")  # no watcher yet: the offer; 2 = the extended 48 h
        await settle(pilot)
        assert isinstance(app.screen, WatchScreen)
        (start,) = await asyncio.to_thread(wait_for, lambda: events(sandbox, "watch_start"), 30, "the watcher's watch_start")
    pid = start.data["pid"]
    try:
        assert start.data["hours"] == load_plan(sandbox).watch.extended_hours
        assert os.getsid(pid) == pid, "its own session: closing the TUI does not end it"
        await asyncio.sleep(0.5)
        assert psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        beats = len(events(sandbox, "watch_heartbeat"))
        await asyncio.to_thread(wait_for, lambda: len(events(sandbox, "watch_heartbeat")) > beats, 10)
        stopped = await asyncio.to_thread(cli, sandbox, "watch", "--stop", env=dict(os.environ))
        assert stopped.returncode == 0, stopped.stderr
    finally:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
