"""The database dies under a running watcher (SIGKILL of mariadbd) and comes back: one
"database unreachable" alert, no false drift from the stale readings, the alert cleared
on return, the outage listed as a coverage gap, and the watcher still stops cleanly."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from cockpit.watch.coverage import DB_UNREACHABLE, coverage
from tests.watch_support import (
    WatcherProcess,
    alerts_of,
    events,
    run_steps,
    wait_for,
    watch_env,
)

pytestmark = pytest.mark.mariadb


def test_database_killed_and_restarted_under_the_watcher(mariadb, mysql_sandbox, tmp_path: Path) -> None:
    config = mysql_sandbox.config_path
    run_steps(config, 10, "flags-off", "cron-stop")
    watcher = WatcherProcess(config, watch_env(tmp_path))
    try:
        watcher.wait_output("watch: started")
        wait_for(lambda: any(e.data["phases"] == [10] and e.data["db"] == "connected" for e in events(config, "watch_heartbeat")))
        mariadb.kill()
        try:
            (lost,) = wait_for(lambda: alerts_of(config, "connection_lost"), 15)
            assert lost.data["message"].startswith("database unreachable")
            wait_for(lambda: events(config, "watch_heartbeat")[-1].data["db"] == "lost", 10)
            time.sleep(0.5)
        finally:
            mariadb.start()
        clear = wait_for(lambda: [e for e in events(config, "alert_clear") if e.data["event_id"] == lost.id], 30)
        assert "database reachable again" in clear[0].data["note"]
        wait_for(lambda: events(config, "watch_heartbeat")[-1].data["db"] == "connected", 10)
        assert [e.data["kind"] for e in alerts_of(config)] == ["connection_lost"], "stale readings raise no drift"
        cov = coverage(events(config), 10, time.time(), 24)
        assert [g.reason for g in cov.gaps] == [DB_UNREACHABLE], cov.gaps
        assert cov.gaps[0].start <= lost.at + 1
        watcher.signal(signal.SIGTERM)
        assert watcher.wait() == 0
    finally:
        watcher.close()
    assert events(config, "watch_end")[-1].data["reason"] == "SIGTERM"
