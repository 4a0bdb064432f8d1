"""The database dies under a watching cockpit (SIGKILL of mariadbd) and comes back.

What must hold: the refresh never raises; readings keep their last values, marked stale
since the loss with a one-line reason; the connection reads "lost" with a retry time; and
once the server is back the SAME LiveSystem reconnects on its own within the backoff.
The session server is shared, so every test restarts it in a `finally`.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from cockpit.db import open_database
from cockpit.live import LiveSystem
from cockpit.plan import load_plan
from cockpit.probes.database import BACKOFF_START_S

from . import cli

pytestmark = pytest.mark.mariadb


def _flag_states(snapshot) -> dict[str, str]:
    return {f.key: f.state for p in snapshot.phases for f in p.flags}


async def test_refresh_goes_stale_then_recovers_without_a_new_live_system(mariadb, mysql_sandbox) -> None:
    plan = load_plan(mysql_sandbox.config_path)
    db = open_database(plan.target)
    live = LiveSystem(plan, db)
    try:
        first = await live.refresh()
        assert first.connection.state == "connected", first.connection
        assert set(_flag_states(first).values()) == {"on"}
        good_at = first.phase(10).flags[0].freshness.fetched_at
        assert good_at is not None

        killed_at = time.time()
        mariadb.kill()
        try:
            lost = await live.refresh()
            conn = lost.connection
            assert conn.state == "lost", conn
            assert conn.error and "\n" not in conn.error and "Traceback" not in conn.error
            assert conn.lost_since is not None and conn.lost_since >= killed_at - 1
            assert conn.next_retry_at is not None
            assert conn.next_retry_at - conn.lost_since == pytest.approx(BACKOFF_START_S, abs=0.5)
            # last good values kept, each marked stale since the loss, with an age
            assert _flag_states(lost) == _flag_states(first)
            for phase in lost.phases:
                for reading in (*phase.flags, *phase.tables):
                    assert reading.freshness.stale, reading
                    assert reading.freshness.stale_since == conn.lost_since
                    assert reading.freshness.fetched_at == pytest.approx(good_at, abs=1)
                    assert reading.freshness.age(lost.taken_at) >= 0
                    assert reading.freshness.error == conn.error
            # a lost database can never read as "rolled back"
            assert all(p.state != "rolled back" for p in lost.phases)

            # inside the backoff: no reconnect attempt, still stale, no exception
            again = await live.refresh()
            assert again.connection.state == "lost"
            assert again.connection.lost_since == conn.lost_since
            assert again.connection.queries_last_refresh == 0

            # past the backoff while still down: a failed retry doubles the wait
            await asyncio.sleep(max(0.0, conn.next_retry_at - time.time()) + 0.05)
            retried = await live.refresh()
            assert retried.connection.state == "lost"
            assert retried.connection.next_retry_at - retried.taken_at == pytest.approx(2 * BACKOFF_START_S, abs=0.5)
        finally:
            mariadb.start()

        # the server is back: the same LiveSystem recovers by itself within the backoff
        pending_retry = live.last.connection.next_retry_at
        deadline = max(pending_retry, time.time()) + 2 * BACKOFF_START_S
        recovered = None
        while time.time() < deadline:
            snap = await live.refresh()
            if snap.connection.state == "connected":
                recovered = snap
                break
            assert snap.connection.state == "lost"
            await asyncio.sleep(0.2)
        assert recovered is not None, f"no reconnect by {deadline - pending_retry:.1f}s after the scheduled retry"
        assert recovered.connection.lost_since is None and recovered.connection.error is None
        assert set(_flag_states(recovered).values()) == {"on"}
        assert all(not f.freshness.stale for p in recovered.phases for f in p.flags)
    finally:
        await live.close()
        await db.close()
        mariadb.start()


async def test_status_json_while_the_server_is_down_exits_3(mariadb, mysql_sandbox) -> None:
    mariadb.kill()
    try:
        result = await asyncio.to_thread(cli.run, "status", "--json", "--config", str(mysql_sandbox.config_path))
    finally:
        mariadb.start()
    assert result.code == 3, result
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    data = result.json()
    assert data["connection"]["state"] == "lost"
    error = data["connection"]["error"]
    assert error and "\n" not in error and str(mariadb.port) in error
    assert mariadb.password not in result.stdout + result.stderr
    flags = [f for p in data["phases"] for f in p["flags"]]
    assert flags and all(f["state"] == "unknown" for f in flags)
    assert all(p["state"] == "unknown" for p in data["phases"])

    # and with the server back, the same command is connected and exits 0
    back = await asyncio.to_thread(cli.run, "status", "--json", "--config", str(mysql_sandbox.config_path))
    assert back.code == 0, back
    assert back.json()["connection"]["state"] == "connected"
