"""The watcher as a real process: it outlives kill -9 without losing or repeating alerts,
stops cleanly on SIGTERM, speaks systemd's notify protocol, is one per target, and
treats an operator's undo as expected rather than drift."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import psutil

from cockpit.plan import load_plan
from cockpit.watch.coverage import WATCHER_DOWN, coverage
from tests.watch_support import (
    Endpoint,
    WatcherProcess,
    alerts_of,
    cli,
    events,
    run_steps,
    set_flag_sqlite,
    wait_for,
    watch_env,
)

FLAG = "enable_production_dashboard"


def _reenable_cron(crontab: Path) -> None:
    """Someone uncomments the line the rollback disabled (as `crontab -e` would)."""
    lines = []
    for line in crontab.read_text(encoding="utf-8").splitlines():
        if "refresh-dashboard-mv" in line and line.startswith("#"):
            line = line.lstrip("# ").split(" # rollback-cockpit:")[0]
        lines.append(line)
    crontab.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _datagrams(sock: socket.socket, until: str, timeout: float = 10) -> list[str]:
    got: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got.append(sock.recv(4096).decode())
        except TimeoutError:
            continue
        if any(until in g for g in got):
            return got
    raise AssertionError(f"no {until} from the watcher; got {got}")


def test_kill9_restart_loses_and_repeats_nothing_and_sigterm_ends_cleanly(sandbox: Path, tmp_path: Path) -> None:
    plan = load_plan(sandbox)
    run_steps(sandbox, 10, "flags-off", "cron-stop")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.settimeout(0.2)
    env = watch_env(tmp_path, NOTIFY_SOCKET=str(tmp_path / "notify.sock"), WATCHDOG_USEC="2000000")
    first = WatcherProcess(sandbox, env)
    try:
        first.wait_output("watch: started")
        assert any("READY=1" in d for d in _datagrams(notify, "READY=1"))
        _datagrams(notify, "WATCHDOG=1")
        wait_for(lambda: len([e for e in events(sandbox, "watch_heartbeat") if e.data["phases"] == [10]]) >= 2)

        set_flag_sqlite(plan.target.path, FLAG, 1)  # someone turns the flag back on
        wait_for(lambda: alerts_of(sandbox, "flag_on"), 10)
        first.kill9()
        killed_at = time.time()
        _reenable_cron(plan.paths.journal.parent / "crontab")  # drift while nobody watches
        time.sleep(1.0)  # > 2.5 heartbeats: a gap

        second = WatcherProcess(sandbox, env)
        try:
            second.wait_output("watch: resuming")
            wait_for(lambda: alerts_of(sandbox, "cron_enabled"), 10)
            time.sleep(0.5)  # several more refreshes: nothing may repeat
            assert len(alerts_of(sandbox, "flag_on")) == 1, "the flag alert of before the kill is not raised again"
            assert len(alerts_of(sandbox, "cron_enabled")) == 1, "drift during the outage is raised once on restart"
            assert len(events(sandbox, "watch_start")) == 1, "the restart resumes the same watch"

            cov = coverage(events(sandbox), 10, time.time(), 24)
            down = [g for g in cov.gaps if g.reason == WATCHER_DOWN]
            assert len(down) == 1 and down[0].start <= killed_at + 0.1 and down[0].end - down[0].start >= 0.9, cov.gaps
            assert cov.watching and cov.covered_seconds > 0

            second.signal(signal.SIGTERM)
            assert second.wait() == 0
            assert any("STOPPING=1" in d for d in _datagrams(notify, "STOPPING=1"))
        finally:
            second.close()
    finally:
        first.close()
        notify.close()
    end = events(sandbox, "watch_end")
    assert len(end) == 1 and end[0].data["reason"] == "SIGTERM"
    assert "watch: ended (SIGTERM)" in second.output


def test_one_watcher_per_target_detach_extend_stop(sandbox: Path, tmp_path: Path) -> None:
    env = watch_env(tmp_path)
    started = cli(sandbox, "watch", "--detach", "--hours", "24", env=env)
    assert started.returncode == 0, started.stderr
    pid = int(started.stdout.split()[-1])
    try:
        assert os.getsid(pid) == pid, "the detached watcher leads its own session: a hangup never reaches it"
        second = cli(sandbox, "watch", env=env)
        assert second.returncode == 1
        assert f"pid {pid}" in second.stderr and second.stderr.count("\n") == 1, second.stderr

        extended = cli(sandbox, "watch", "--extend", "24", env=env)
        assert extended.returncode == 0 and "48 h" in extended.stdout, extended
        assert events(sandbox, "watch_extend")[0].data["hours"] == 24

        stopped = cli(sandbox, "watch", "--stop", env=env)
        assert stopped.returncode == 0, stopped.stderr
        wait_for(lambda: _gone(pid), 10)
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    end = events(sandbox, "watch_end")
    assert len(end) == 1 and end[0].data["reason"] == "SIGTERM (cockpit watch --stop by watcher-test)"
    assert cli(sandbox, "watch", "--stop", env=env).returncode == 1, "nothing left to stop"


def test_undo_is_not_drift_but_someone_elses_flag_is_one_alert_one_message(sandbox: Path, tmp_path: Path) -> None:
    plan = load_plan(sandbox)
    endpoint = Endpoint()
    run_steps(sandbox, 10, "flags-off", "cron-stop")
    watcher = WatcherProcess(sandbox, watch_env(tmp_path, COCKPIT_NOTIFY_URLS=endpoint.url))
    try:
        watcher.wait_output("watch: started")
        wait_for(lambda: any(e.data["phases"] == [10] for e in events(sandbox, "watch_heartbeat")))
        run_steps(sandbox, 10, "flags-on", "cron-start")  # the operator undoes the rollback
        wait_for(lambda: events(sandbox, "watch_heartbeat")[-1].data["phases"] == [], 10)
        run_steps(sandbox, 10, "flags-off", "cron-stop")  # and rolls back again: the phase rejoins
        wait_for(lambda: events(sandbox, "watch_heartbeat")[-1].data["phases"] == [10], 10)
        time.sleep(0.4)
        assert alerts_of(sandbox) == [], [e.data for e in alerts_of(sandbox)]

        set_flag_sqlite(plan.target.path, FLAG, 1)  # someone else
        wait_for(lambda: endpoint.received, 10)
        time.sleep(0.5)
        assert [e.data["kind"] for e in alerts_of(sandbox)] == ["flag_on"]
        assert len(endpoint.received) == 1
        message = endpoint.received[0]
        assert plan.target.label in message["message"] and "Phase 10" in message["message"]
        assert f"cockpit alerts --config {sandbox.resolve()}" in message["message"]
        assert FLAG in message["message"] and "Since:" in message["message"]
        sent = events(sandbox, "notify_sent")
        assert len(sent) == 1 and sent[0].data["channel"].startswith("json://127.0.0.1")
    finally:
        watcher.close()
        endpoint.close()
