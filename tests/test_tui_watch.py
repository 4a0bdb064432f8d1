"""The watch and the polling rhythm: with no watcher running, drift becomes a journalled
alert that rings the bell and survives a restart; polls never overlap and slow down when
nobody is looking. (The TUI attached to a running `cockpit watch`: test_tui_watcher.py.)"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from pathlib import Path

from textual import events

from cockpit.plan import load_plan
from cockpit.tui.app import CockpitApp
from cockpit.tui.screens.watch import WatchScreen
from tests.fixtures.tui import settle


def _set_flag(db: Path, key: str, value: int) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE feature_flag SET enabled = ? WHERE flag_key = ?", (value, key))


async def test_drift_alert_rings_is_journalled_and_survives_restart(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    app = CockpitApp(plan, operator="alice", auto_refresh=False)
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for step in ("flags-off", "cron-stop"):
            outcome = await app.engine.execute(10, step)
            assert outcome.status == "done", outcome.message
        app.refresh_now()
        await settle(pilot)
        assert app.snapshot.phase(10).state == "rolled back"
        # no watcher runs: `w` offers to start one; escape only looks
        await pilot.press("w", "escape")
        await settle(pilot)
        assert isinstance(app.screen, WatchScreen)

        _set_flag(plan.target.path, "enable_production_dashboard", 1)  # someone turned it back on
        app.refresh_now()
        await settle(pilot)
        alerts = app.engine.open_alerts()
        assert [a.kind for a in alerts] == ["flag_on"]
        assert bells, "an alert must ring the terminal bell"
        assert app.screen.query_one("#alerts").row_count == 1
        assert "1 ALERT" in app.status_text()

    # a restart shows the same open alert, from the journal
    app2 = CockpitApp(load_plan(sandbox), operator="alice", auto_refresh=False)
    async with app2.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert [a.kind for a in app2.engine.open_alerts()] == ["flag_on"]
        await pilot.press("w", "escape")
        await settle(pilot)
        assert isinstance(app2.screen, WatchScreen)
        await pilot.press("a")
        await settle(pilot)
        assert app2.engine.open_alerts() == []
        assert app2.screen.query_one("#alerts").row_count == 0


class CountingLive:
    """The real LiveSystem, instrumented to prove refreshes never overlap."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.active = 0
        self.max_active = 0
        self.calls = 0
        self.alerts_since_last: list = []

    async def refresh(self):
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        self.calls += 1
        try:
            await asyncio.sleep(0.03)  # a slow database
            return await self.inner.refresh()
        finally:
            self.active -= 1

    async def close(self) -> None:
        await self.inner.close()


async def _until(condition, what: str, timeout: float = 30.0) -> None:
    """Wait for a condition of the app's own state (checked every event-loop turn or so)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out: {what}"
        await asyncio.sleep(0.005)


async def test_polling_never_overlaps_and_slows_when_idle(sandbox: Path) -> None:
    from cockpit.live import LiveSystem

    plan = load_plan(sandbox)
    plan = dataclasses.replace(plan, watch=dataclasses.replace(plan.watch, refresh_seconds=0.01, idle_refresh_seconds=60))
    counters: list[CountingLive] = []

    def factory(plan, db, clock):
        counters.append(CountingLive(LiveSystem(plan, db, clock=clock)))
        return counters[0]

    app = CockpitApp(plan, operator="alice", live_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        # not settle(): at a 10 ms interval a refresh is nearly always in flight, by design
        await asyncio.wait_for(app.ready.wait(), 30)
        await pilot.pause()
        for _ in range(10):  # manual refreshes on top of the schedule must not stack
            app.refresh_now()
        live = counters[0]
        await _until(lambda: live.calls >= 4, "polling reschedules itself after each refresh")
        assert live.max_active == 1
        assert app.poll_interval() == 0.01
        app.post_message(events.AppBlur())
        await pilot.pause()
        assert app.poll_interval() == 60, "a terminal in the background polls at the idle rate"
        await _until(lambda: live.active == 0, "the refresh in flight at the blur ends")
        calls = live.calls
        await asyncio.sleep(0.3)  # the window observed: at the 10 ms rate it would hold ~10 refreshes
        assert live.calls <= calls + 1
        app.post_message(events.AppFocus())
        await pilot.pause()
        assert app.poll_interval() == 0.01


async def test_a_deliberate_undo_in_the_tui_is_no_drift(sandbox: Path) -> None:
    """Without a watcher the TUI judges drift itself, against what the journal says is
    rolled back: `flags-on` (the operator's undo) is no alarm; someone else's flag is."""
    plan = load_plan(sandbox)
    app = CockpitApp(plan, operator="alice", auto_refresh=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for step in ("flags-off", "cron-stop"):
            assert (await app.engine.execute(10, step)).status == "done"
        app.refresh_now()
        await settle(pilot)
        assert (await app.engine.execute(10, "flags-on")).status == "done"
        app.refresh_now()
        await settle(pilot)
        app.refresh_now()
        await settle(pilot)
        assert app.engine.open_alerts() == [], [a.message for a in app.engine.open_alerts()]
        assert (await app.engine.execute(10, "flags-off")).status == "done"
        app.refresh_now()
        await settle(pilot)
        _set_flag(plan.target.path, "enable_production_dashboard", 1)  # someone else
        app.refresh_now()
        await settle(pilot)
        assert [a.kind for a in app.engine.open_alerts()] == ["flag_on"]
