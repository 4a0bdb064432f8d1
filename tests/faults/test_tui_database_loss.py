"""Database loss during a watch, seen through the real cockpit: the strip says LOST with
its age, every database value reads stale, no traceback; when the server returns, the
app's own polling recovers without a restart."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from cockpit.plan import load_plan
from cockpit.tui.app import CockpitApp
from cockpit.tui.widgets.phase_card import PhaseCard
from cockpit.tui.widgets.status_strip import StatusStrip

pytestmark = pytest.mark.mariadb


def _text(widget) -> str:
    return str(widget.render())


async def _until(predicate, timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def test_watch_survives_killing_and_restarting_mariadb(mariadb, mysql_sandbox, monkeypatch) -> None:
    monkeypatch.setenv("COCKPIT_OPERATOR", "ops")
    plan = load_plan(mysql_sandbox.config_path)
    # a short interval so "two refresh intervals" fits a test; the backoff starts at 1 s
    plan = dataclasses.replace(plan, watch=dataclasses.replace(plan.watch, refresh_seconds=0.5, idle_refresh_seconds=0.5))
    app = CockpitApp(plan, operator="ops")
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await asyncio.wait_for(app.ready.wait(), 30)
            assert app.snapshot.connection.state == "connected"
            mariadb.kill()
            await _until(lambda: app.snapshot.connection.state == "lost", 15, "the loss to show")
            await pilot.pause()
            strip = _text(app.screen.query_one(StatusStrip))
            assert "LOST" in strip
            card = _text(app.screen.query_one("#phase-10", PhaseCard))
            assert "stale" in card and "UNKNOWN" in card.upper()
            flag = app.snapshot.phase(10).flags[0]
            assert flag.freshness.stale_since is not None and flag.freshness.fetched_at is not None
            assert app.snapshot.phase(10).state == "unknown"  # a stale "off" can never read as rolled back
            assert app.is_running
            mariadb.start()
            # the backoff may have grown to a few seconds while the server was down
            await _until(lambda: app.snapshot.connection.state == "connected", 20, "recovery")
            await pilot.pause()
            assert "LOST" not in _text(app.screen.query_one(StatusStrip))
            assert app.snapshot.phase(10).flags[0].freshness.stale_since is None
            assert app.snapshot.phase(10).state == "live"
            # the restart dropped the operator lock's session: the data comes back, the
            # lock does not, and the strip says so (issue 9: alive or visibly lost)
            await _until(lambda: app.read_only, 10, "the lock loss to show")
            await pilot.pause()
            assert "READ-ONLY" in _text(app.screen.query_one(StatusStrip)) and "lock lost" in app.read_only_reason
            assert (await app.engine.execute(10, "flags-off")).guard == "read_only"
    finally:
        if not mariadb.alive:
            mariadb.start()


async def test_cockpit_started_while_the_database_is_down_connects_when_it_returns(mariadb, mysql_sandbox) -> None:
    """An incident is exactly when the database may be down: the cockpit must open, say
    so, and start working when the server comes back — without a restart."""
    plan = load_plan(mysql_sandbox.config_path)
    plan = dataclasses.replace(plan, watch=dataclasses.replace(plan.watch, refresh_seconds=0.5, idle_refresh_seconds=0.5))
    mariadb.kill()
    app = CockpitApp(plan, operator="ops")
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await asyncio.wait_for(app.ready.wait(), 30)
            assert app.snapshot.connection.state == "lost"  # not "unconfigured": it keeps trying
            assert app.engine.db is None
            refused = await app.engine.execute(10, "flags-off")
            assert refused.status == "refused" and refused.guard == "database"
            mariadb.start()
            await _until(lambda: app.snapshot.connection.state == "connected", 20, "the first connection")
            await pilot.pause()
            outcome = await app.engine.execute(10, "flags-off")
            assert outcome.status == "done", outcome.message
            rows = mariadb.root_execute(
                "SELECT `enabled` FROM `feature_flag` WHERE `flag_key` = 'enable_production_dashboard'",
                database=mysql_sandbox.database,
            )
            assert [tuple(r) for r in rows] == [(0,)]
            held = mariadb.root_execute("SELECT IS_USED_LOCK(CONCAT('rollback-cockpit:', %r))" % mysql_sandbox.database)
            assert held[0][0] is not None  # the server lock was taken on reconnect
    finally:
        if not mariadb.alive:
            mariadb.start()
