"""read_cron over a real crontab file plus the real process table."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time

from cockpit.cron.edit import apply, plan_stop
from cockpit.plan.model import CronSource
from cockpit.probes.cron import next_run, read_cron
from tests.test_cron_edit import USER_TAB, make_plan


def test_states_schedule_and_next_run(tmp_path):
    plan, path = make_plan(tmp_path, "file", USER_TAB.replace("*/5 * * * * /usr/bin/php /var/www/app/cron/refresh", "# */5 * * * * /usr/bin/php /var/www/app/cron/refresh_x"))
    apply(plan_stop(plan, plan.phase(9)))
    now = 1_800_000_000.0
    readings = read_cron(plan, now=now)
    assert set(readings) == {"refresh-dashboard-mv", "people-sync-operators", "people-sync-teams"}
    assert readings["people-sync-operators"].state == "disabled_by_cockpit"
    assert readings["people-sync-operators"].next_run is None
    assert readings["people-sync-teams"].state == "disabled_other"
    assert readings["people-sync-teams"].line.startswith("# 7 * * * *")
    assert readings["refresh-dashboard-mv"].state == "absent"  # only a different script name remains
    assert readings["people-sync-operators"].freshness.fetched_at is not None


def test_enabled_job_has_next_run(tmp_path):
    plan, _ = make_plan(tmp_path, "file", USER_TAB)
    now = time.time()
    reading = read_cron(plan, now=now)["people-sync-operators"]
    assert reading.state == "enabled" and reading.schedule == "*/10 * * * *"
    assert now < reading.next_run <= now + 600
    assert next_run("@reboot", now) is None


def test_unreadable_source_is_unknown_but_runs_still_shown(tmp_path):
    plan, _ = make_plan(tmp_path, "file", USER_TAB)
    plan = dataclasses.replace(plan, cron_source=CronSource(source="file", path=tmp_path / "gone"))
    script = tmp_path / "people_sync_teams.php"
    script.write_text("import time\ntime.sleep(30)\n")
    proc = subprocess.Popen([sys.executable, str(script)])
    try:
        deadline = time.monotonic() + 5
        while True:
            readings = read_cron(plan)
            pids = {r.pid for r in readings["people-sync-teams"].running}
            if proc.pid in pids or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    teams = readings["people-sync-teams"]
    assert teams.state == "unknown" and "does not exist" in teams.freshness.error and teams.freshness.stale
    assert proc.pid in {r.pid for r in teams.running}
