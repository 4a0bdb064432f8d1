"""Notifications through apprise to a local webhook: retried when it fails, abandoned
(not waited on) when it hangs, deduplicated, rate limited, journalled; drills reach only
the test channel; a world-readable URL file is refused."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cockpit.journal import Journal
from cockpit.watch.notifier import (
    Message,
    Notifier,
    NotifyConfigError,
    NotifySettings,
    read_urls,
)
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

FAST = NotifySettings(timeout=0.5, retries=3, backoff=0.05, repeat_seconds=60, per_minute=10)


@pytest.fixture
def endpoint():
    ep = Endpoint()
    yield ep
    ep.close()


@pytest.fixture
def journal(tmp_path: Path):
    j = Journal(tmp_path / "journal.sqlite3", "test-target", "watcher")
    yield j
    j.close()


def _notifier(url: str, journal: Journal, settings: NotifySettings = FAST) -> tuple[Notifier, list]:
    failures: list = []
    n = Notifier([url], journal, settings)
    n.on_failure = lambda channel, error: failures.append((channel, error))
    n.start()
    return n, failures


def _results(journal: Journal) -> list:
    return [e for e in journal.events() if e.kind in ("notify_sent", "notify_failed")]


def test_one_message_per_distinct_alert_and_retry_when_the_endpoint_fails(endpoint: Endpoint, journal: Journal) -> None:
    endpoint.fail_next = 2
    n, failures = _notifier(endpoint.url, journal)
    try:
        n.submit(Message(1, ("flag_on", 10, "f"), "t1", "b1"))
        n.submit(Message(1, ("flag_on", 10, "f"), "t1", "b1"))  # the same alert again: deduplicated
        n.submit(Message(2, ("cron_enabled", 10, "c"), "t2", "b2"))
        wait_for(lambda: len(_results(journal)) >= 2, 10)
        time.sleep(0.3)
    finally:
        n.stop()
    assert [m["title"] for m in endpoint.received] == ["t1", "t2"]
    assert endpoint.attempts == 4, "two 500s, then delivered, then the second alert"
    sent = _results(journal)
    assert [(e.kind, e.data["alert_id"], e.data["attempts"]) for e in sent] == [("notify_sent", 1, 3), ("notify_sent", 2, 1)]
    assert failures == []


def test_a_hanging_endpoint_times_out_without_blocking_the_caller(endpoint: Endpoint, journal: Journal) -> None:
    endpoint.hang = 3.0
    n, failures = _notifier(endpoint.url, journal, NotifySettings(timeout=0.3, retries=2, backoff=0.05))
    try:
        started = time.monotonic()
        n.submit(Message(7, ("flag_on", 10, "f"), "t", "b"))
        assert time.monotonic() - started < 0.05, "submitting never waits for the network"
        wait_for(lambda: _results(journal), 5)
        assert time.monotonic() - started < 1.5, "two attempts of 0.3 s, not the endpoint's 3 s"
    finally:
        n.stop(0.1)
    (failed,) = _results(journal)
    assert failed.kind == "notify_failed" and "no answer within 0.3 s" in failed.data["error"]
    assert failures and failures[0][0].startswith("json://127.0.0.1")


def test_rate_limit_journals_the_excess(endpoint: Endpoint, journal: Journal) -> None:
    n, _ = _notifier(endpoint.url, journal, NotifySettings(timeout=2, retries=1, backoff=0, per_minute=2))
    try:
        for i in range(3):
            n.submit(Message(i, ("flag_on", 10, f"f{i}"), f"t{i}", "b"))
        wait_for(lambda: len(_results(journal)) == 3, 10)
    finally:
        n.stop()
    assert len(endpoint.received) == 2
    assert "rate limited" in _results(journal)[-1].data["error"]


def test_url_file_must_be_owner_only(tmp_path: Path, sandbox: Path) -> None:
    urls = tmp_path / "urls"
    urls.write_text("json://127.0.0.1:9/  # the webhook\n", encoding="utf-8")
    urls.chmod(0o644)
    with pytest.raises(NotifyConfigError, match="readable by others"):
        read_urls(None, urls)
    urls.chmod(0o600)
    assert read_urls("json://a/ json://a/", urls) == ["json://a/", "json://127.0.0.1:9/"]
    # through the CLI: one line, exit 2, before anything starts
    urls.chmod(0o640)
    config = sandbox.read_text(encoding="utf-8").replace("[watch]\n", f'[watch]\nnotify_urls_file = "{urls}"\n')
    sandbox.write_text(config, encoding="utf-8")
    result = cli(sandbox, "watch", env=watch_env(tmp_path))
    assert result.returncode == 2 and "readable by others" in result.stderr and result.stderr.count("\n") == 1
    assert "json://127.0.0.1:9" not in result.stderr + result.stdout


def test_watch_keeps_running_when_the_endpoint_hangs(sandbox: Path, tmp_path: Path) -> None:
    real = Endpoint()
    real.hang = 3.0
    run_steps(sandbox, 10, "flags-off", "cron-stop")
    env = watch_env(tmp_path, COCKPIT_NOTIFY_URLS=real.url, COCKPIT_NOTIFY_TIMEOUT="0.3", COCKPIT_NOTIFY_RETRIES="1")
    watcher = WatcherProcess(sandbox, env)
    try:
        watcher.wait_output("watch: started")
        set_flag_sqlite(sandbox.parent / "sandbox.db", "enable_production_dashboard", 1)
        wait_for(lambda: alerts_of(sandbox, "notify_failed"), 15)
        beats = len(events(sandbox, "watch_heartbeat"))
        wait_for(lambda: len(events(sandbox, "watch_heartbeat")) >= beats + 3, 10)  # still watching
        failed = events(sandbox, "notify_failed")
        assert failed and "no answer" in failed[0].data["error"]
        assert "json://127.0.0.1" in alerts_of(sandbox, "notify_failed")[0].data["message"]
        assert watcher.proc.poll() is None
    finally:
        watcher.close()
        real.close()


def test_drill_messages_go_to_the_test_channel_only(sandbox: Path, tmp_path: Path) -> None:
    from cockpit.plan import load_plan
    from cockpit.watch.loop import Watcher, WatchSettings

    real, test = Endpoint(), Endpoint()
    plan = load_plan(sandbox)
    journal = Journal(plan.paths.journal, plan.target.label, "watcher")
    main_n, test_n = Notifier([real.url], journal, FAST), Notifier([test.url], journal, FAST)
    main_n.start()
    test_n.start()
    try:
        watcher = Watcher(plan, WatchSettings(hours=24, refresh=1, drill=True, config=sandbox), journal, None,
                          notifier=main_n, test_notifier=test_n, say=lambda line: None)
        watcher._notify(5, ("flag_on", 10, "f"), "flag_on", 10, "flag f is on again", time.time())
        wait_for(lambda: test.received, 10)
        assert test.received[0]["title"].startswith("[DRILL]")
        assert "Phase 10" in test.received[0]["message"]
    finally:
        main_n.stop()
        test_n.stop()
        journal.close()
        real.close()
        test.close()
    assert real.attempts == 0


def test_drill_without_a_test_channel_notifies_nobody(sandbox: Path, tmp_path: Path) -> None:
    real = Endpoint()
    run_steps(sandbox, 10, "flags-off", "cron-stop")
    watcher = WatcherProcess(sandbox, watch_env(tmp_path, COCKPIT_NOTIFY_URLS=real.url), "--drill")
    try:
        watcher.wait_output("watch: started")
        set_flag_sqlite(sandbox.parent / "sandbox.db", "enable_production_dashboard", 1)
        wait_for(lambda: alerts_of(sandbox, "flag_on"), 10)
        time.sleep(0.4)
    finally:
        watcher.close()
        real.close()
    assert real.attempts == 0
    assert alerts_of(sandbox, "flag_on")[0].data["drill"] is True
