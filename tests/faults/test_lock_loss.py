"""The operator lock is alive or visibly lost (issue 9, failure 4), on a real MariaDB.

The server-side GET_LOCK lives on a session, and the session can die under a running
cockpit: the server kills it after `wait_timeout` idle seconds, a restart drops it, an
admin KILLs it. Each way is produced for real here. After any of them the cockpit that
held the lock must refuse its next action as read-only, journal `lock_lost`, and never
act again — while a second cockpit can take the lock and act.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import tomllib

import pytest
import tomli_w

from cockpit.engine import Engine, EngineRefused
from cockpit.engine.lock import ServerLock, server_lock_name
from cockpit.plan import load_plan
from cockpit.tui.app import CockpitApp
from cockpit.tui.widgets.status_strip import StatusStrip

pytestmark = pytest.mark.mariadb


def _lock_owner(mariadb, database: str) -> int | None:
    rows = mariadb.root_execute(f"SELECT IS_USED_LOCK('{server_lock_name(database)}')")
    return rows[0][0]


async def _until(predicate, timeout: float, what: str) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


def _lost_events(engine: Engine) -> list:
    return [e for e in engine.events() if e.kind == "lock_lost"]


async def _second_cockpit_acts(open_engine, config) -> Engine:
    second = await open_engine(config, operator="bob")
    assert not second.read_only, second.read_only_reason
    done = await second.execute(10, "flags-off")
    assert done.status == "done", done.message
    return second


async def test_idle_lock_session_past_wait_timeout_is_lost_and_refused(mariadb, mysql_sandbox, open_engine, monkeypatch) -> None:
    """A heartbeat that does not run (frozen cockpit) lets the server kill the idle lock
    session after its wait_timeout: the next action is refused read-only, not run."""
    monkeypatch.setattr(ServerLock, "SESSION_WAIT_TIMEOUT_S", 2)
    monkeypatch.setattr(ServerLock, "HEARTBEAT_S", 3600.0)
    first = await open_engine(mysql_sandbox.config_path, operator="alice")
    assert not first.read_only and _lock_owner(mariadb, mysql_sandbox.database) is not None
    await _until(lambda: _lock_owner(mariadb, mysql_sandbox.database) is None, 10, "the server to kill the idle lock session")
    assert not first.read_only  # nothing noticed yet: the heartbeat is frozen

    refused = await first.execute(10, "flags-off")
    assert refused.status == "refused" and refused.guard == "read_only", refused
    assert "lock lost" in refused.message and "restart" in refused.message
    assert first.read_only and first.lock_lost
    lost = _lost_events(first)
    assert len(lost) == 1 and lost[0].data["name"] == server_lock_name(mysql_sandbox.database)
    assert not [e for e in first.events() if e.kind == "step_intent"]  # it never started to act
    with pytest.raises(EngineRefused):
        first.tick(10, "before", "backup", True)

    second = await _second_cockpit_acts(open_engine, mysql_sandbox.config_path)
    # the first never takes the lock back, even though its database works again
    assert (await first.execute(10, "cron-stop")).guard == "read_only"
    assert (await first.emergency_execute(confirm="EMERGENCY")).guard == "read_only"
    assert {e.operator for e in second.events() if e.kind == "step_intent"} == {"bob"}


async def test_heartbeat_keeps_the_lock_past_a_short_wait_timeout(mariadb, mysql_sandbox, open_engine, monkeypatch) -> None:
    """The same 2 s wait_timeout with a running heartbeat: the lock survives idle time."""
    monkeypatch.setattr(ServerLock, "SESSION_WAIT_TIMEOUT_S", 2)
    monkeypatch.setattr(ServerLock, "HEARTBEAT_S", 0.5)
    engine = await open_engine(mysql_sandbox.config_path, operator="alice")
    owner = _lock_owner(mariadb, mysql_sandbox.database)
    await asyncio.sleep(4.5)
    assert _lock_owner(mariadb, mysql_sandbox.database) == owner
    assert (await engine.execute(10, "flags-off")).status == "done"
    engine.tick(10, "before", "backup", True)  # a recent heartbeat proves ownership
    assert not _lost_events(engine)


async def test_journal_only_writes_need_a_recent_proof_of_ownership(mysql_sandbox, open_engine, monkeypatch) -> None:
    """tick/note are synchronous and cannot ask the server: they rely on the heartbeat's
    last proof, and refuse when it is older than three beats (a stalled heartbeat)."""
    monkeypatch.setattr(ServerLock, "HEARTBEAT_S", 3600.0)
    engine = await open_engine(mysql_sandbox.config_path, operator="alice")
    engine.note("fresh from opening")
    engine._server_lock.verified_at -= 3 * 3600 + 1
    with pytest.raises(EngineRefused, match="not been verified recently"):
        engine.note("stale proof")
    assert await engine.verify_lock()  # any verification (an action, a beat) renews it
    engine.note("renewed")
    assert [e.data["text"] for e in engine.events() if e.kind == "note"] == ["fresh from opening", "renewed"]


async def test_kill_of_the_lock_connection_is_noticed_by_the_heartbeat(mariadb, mysql_sandbox, open_engine, monkeypatch) -> None:
    """An admin KILLs the lock session: the cockpit turns read-only within a heartbeat,
    without anyone acting, and a cockpit on another bastion (its own journal and lock
    file: only the server lock stands between them) takes over."""
    monkeypatch.setattr(ServerLock, "HEARTBEAT_S", 0.3)
    data = tomllib.loads(mysql_sandbox.config_path.read_text(encoding="utf-8"))
    data["paths"]["journal"] = "bastion-b-journal.sqlite3"
    bastion_b = mysql_sandbox.config_path.with_name("bastion-b.toml")
    bastion_b.write_text(tomli_w.dumps(data, multiline_strings=True), encoding="utf-8")

    first = await open_engine(mysql_sandbox.config_path, operator="alice")
    assert (await open_engine(bastion_b, operator="bob")).read_only  # the server lock keeps bob out
    mariadb.root_execute(f"KILL {_lock_owner(mariadb, mysql_sandbox.database)}")
    took = await _until(lambda: first.read_only, 5, "the heartbeat to notice the KILL")
    assert took < 2.0
    assert len(_lost_events(first)) == 1 and "lock lost" in first.read_only_reason
    await _second_cockpit_acts(open_engine, bastion_b)
    assert (await first.execute(10, "cron-stop")).guard == "read_only"


async def test_server_restart_loses_the_lock_and_it_is_not_silently_retaken(mariadb, mysql_sandbox, open_engine, monkeypatch) -> None:
    """A restart drops every session. The cockpit's database comes back (the pool
    reconnects), but the lock is not taken again behind the operator's back."""
    monkeypatch.setattr(ServerLock, "HEARTBEAT_S", 3600.0)
    first = await open_engine(mysql_sandbox.config_path, operator="alice")
    try:
        mariadb.kill()
        mariadb.start()
    finally:
        if not mariadb.alive:
            mariadb.start()
    refused = await first.execute(10, "flags-off")
    assert refused.guard == "read_only" and "lock lost" in refused.message, refused
    assert _lock_owner(mariadb, mysql_sandbox.database) is None  # nobody holds it: still not re-taken
    assert len(_lost_events(first)) == 1
    await _second_cockpit_acts(open_engine, mysql_sandbox.config_path)
    assert (await first.execute(10, "cron-stop")).guard == "read_only"


async def test_tui_shows_the_loss_within_seconds(mariadb, mysql_sandbox, monkeypatch) -> None:
    """Under a running TUI (polling slowly, so the poll cannot be what shows it) the
    lock session is KILLed: the strip says READ-ONLY within a few seconds."""
    monkeypatch.setattr(ServerLock, "HEARTBEAT_S", 0.5)
    plan = load_plan(mysql_sandbox.config_path)
    plan = dataclasses.replace(plan, watch=dataclasses.replace(plan.watch, refresh_seconds=300, idle_refresh_seconds=300))
    app = CockpitApp(plan, operator="ops")
    async with app.run_test(size=(120, 36)) as pilot:
        await asyncio.wait_for(app.ready.wait(), 30)
        await pilot.pause()
        assert "READ-ONLY" not in str(app.screen.query_one(StatusStrip).render())
        mariadb.root_execute(f"KILL {_lock_owner(mariadb, mysql_sandbox.database)}")
        took = await _until(lambda: "READ-ONLY" in str(app.screen.query_one(StatusStrip).render()), 5, "the banner")
        assert took < 3.0
        assert "lock lost" in str(app.screen.query_one(StatusStrip).render())
        assert app.read_only and any(e.kind == "lock_lost" for e in app.engine.events())
