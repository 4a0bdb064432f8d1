"""detect_drift over hand-built snapshots."""

from __future__ import annotations

from dataclasses import replace

from cockpit.probes.drift import Alert, detect_drift
from cockpit.probes.snapshot import (
    ActivityReading,
    ConnectionReading,
    CronReading,
    FlagReading,
    LogReading,
    PhaseSnapshot,
    ProcessRun,
    Snapshot,
    TableReading,
)


def phase(pid=9, flag="off", cron="disabled_by_cockpit", table_exists=False, has_rows=None, estimate=None,
          active_rows=0, log_minute=0, running=(), guard_rows=False):
    return PhaseSnapshot(
        id=pid,
        name="People sync",
        state="rolled back",
        flags=(FlagReading("enable_people_integration_readonly", flag),),
        cron=(CronReading("people-sync-operators", "people_sync_operators.php", cron, line="*/10 * * * * php x", running=running),),
        tables=(
            TableReading("people_sync_error_log", table_exists, has_rows=has_rows, estimated_rows=estimate),
            TableReading("people_operator_cache", True, has_rows=guard_rows),
        ),
        activity=(ActivityReading("sync-writes", "rows synced", active_rows, 5),),
        logs=(LogReading("/var/log/php/error.log", "PeopleSync", True, matches_last_minute=log_minute),),
    )


def snap(at, state="connected", **kw):
    return Snapshot(
        taken_at=at,
        target="mysql 127.0.0.1:3306/manufacturing",
        connection=ConnectionReading("mysql 127.0.0.1:3306/manufacturing", state, error="timeout" if state == "lost" else None),
        phases=(phase(**kw),),
    )


def kinds(alerts):
    return sorted(a.kind for a in alerts)


def test_quiet_when_nothing_changes():
    assert detect_drift(snap(1), snap(2), {9}) == []
    assert detect_drift(None, snap(1), {9}) == []


def test_flag_back_on_once():
    alerts = detect_drift(snap(1), snap(2, flag="on"), {9})
    assert alerts == [Alert("flag_on", 9, "enable_people_integration_readonly",
                            "phase 9 is rolled back but flag enable_people_integration_readonly is on again", 2)]
    assert detect_drift(snap(2, flag="on"), snap(3, flag="on"), {9}) == []  # raised on the transition only


def test_live_phase_flags_and_cron_are_not_drift():
    assert detect_drift(snap(1), snap(2, flag="on", cron="enabled", table_exists=True), set()) == []


def test_cron_re_enabled():
    alerts = detect_drift(snap(1), snap(2, cron="enabled"), {9})
    assert kinds(alerts) == ["cron_enabled"] and "*/10 * * * * php x" in alerts[0].message


def test_dropped_table_back_and_refilling():
    assert kinds(detect_drift(snap(1), snap(2, table_exists=True, has_rows=False), {9})) == ["table_back"]
    before = snap(1, table_exists=True, has_rows=False, estimate=0)
    assert kinds(detect_drift(before, snap(2, table_exists=True, has_rows=True, estimate=3), {9})) == ["table_refilling"]
    grown = detect_drift(snap(1, table_exists=True, has_rows=True, estimate=1000),
                         snap(2, table_exists=True, has_rows=True, estimate=1500), {9})
    assert kinds(grown) == ["table_refilling"] and "1000 -> 1500" in grown[0].message
    noise = detect_drift(snap(1, table_exists=True, has_rows=True, estimate=1000),
                         snap(2, table_exists=True, has_rows=True, estimate=1050), {9})
    assert noise == []


def test_guard_tables_limit_refilling():
    before, after = snap(1), snap(2, guard_rows=True)
    assert [a.subject for a in detect_drift(before, after, {9})] == ["people_operator_cache"]
    assert detect_drift(before, after, {9}, guard_tables={9: ["people_sync_error_log"]}) == []


def test_activity_in_rolled_back_phase():
    alerts = detect_drift(snap(1), snap(2, active_rows=4), {9})
    assert kinds(alerts) == ["activity"] and "4 rows" in alerts[0].message


def test_log_spike_threshold_for_any_phase():
    assert detect_drift(snap(1), snap(2, log_minute=10), set()) == []
    assert kinds(detect_drift(snap(1), snap(2, log_minute=11), set())) == ["log_spike"]
    assert kinds(detect_drift(snap(1), snap(2, log_minute=4), set(), log_spike_threshold=3)) == ["log_spike"]
    assert detect_drift(snap(1, log_minute=20), snap(2, log_minute=25), set()) == []


def test_connection_lost_and_restored_always():
    lost = detect_drift(snap(1), snap(2, state="lost"), set())
    assert kinds(lost) == ["connection_lost"] and lost[0].phase_id is None and "timeout" in lost[0].message
    assert detect_drift(snap(2, state="lost"), snap(3, state="lost"), set()) == []
    assert kinds(detect_drift(snap(3, state="lost"), snap(4), set())) == ["connection_restored"]


def test_unknown_readings_do_not_alert():
    after = snap(2, flag="unknown", cron="unknown")
    after = replace(after, phases=(replace(after.phases[0], tables=(TableReading("people_sync_error_log", None),)),))
    assert detect_drift(snap(1), after, {9}) == []


def test_new_process_run_in_rolled_back_phase():
    run = ProcessRun(4242, "www-data", 1.0, "php people_sync_operators.php")
    alerts = detect_drift(snap(1), snap(2, running=(run,)), {9})
    assert kinds(alerts) == ["process_running"] and "4242" in alerts[0].message
    assert detect_drift(snap(2, running=(run,)), snap(3, running=(run,)), {9}) == []
    assert detect_drift(snap(1), snap(2, running=(run,)), set()) == []
