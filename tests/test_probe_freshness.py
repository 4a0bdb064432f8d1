"""What the live probes reuse between refreshes never hides a change.

The host-side probes run every refresh of a day-long watch, so they reuse what they can
(crontab parses, a user crontab while the spool is unchanged, a cron job's next run):
real processes, real crontab files and the real `crontab` command show that a change
made behind the cockpit's back is seen on the very next refresh.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cockpit.cron.source import CrontabReader, read_crontab, spool_signature
from cockpit.live import LiveSystem
from cockpit.plan.model import CronSource
from cockpit.probes.cron import next_run, read_cron
from cockpit.probes.processes import find_runs
from tests.test_cron_edit import USER_TAB, make_plan, user_crontab  # noqa: F401 - fixture
from tests.test_processes import SLEEPER, spawn, wait_until  # noqa: F401 - fixture

SCRIPT = "freshness_probe_sync.php"  # not a plan script: other workers run rollbacks

EXEC_LATER = """
import os, sys, time
trigger, target = sys.argv[1], sys.argv[2]
while not os.path.exists(trigger):
    time.sleep(0.02)
os.execv(sys.executable, [sys.executable, target])
"""


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "cron" / SCRIPT
    path.parent.mkdir()
    path.write_text(SLEEPER)
    return path


def _pids(runs: dict[str, tuple]) -> set[int]:
    return {run.pid for run in runs.get(SCRIPT, ())}


def test_a_process_that_execs_into_the_job_between_two_scans_is_seen(tmp_path, script, spawn):  # noqa: F811
    # cron's child is `cron` (here: a launcher naming no script) until it execs the job,
    # under the same pid: a scan keyed on pids it has already looked at would miss the run
    launcher = tmp_path / "launcher.py"
    launcher.write_text(EXEC_LATER)
    trigger = tmp_path / "go"
    # the script's path reaches the launcher through a file, so its command line holds no script name
    target_file = tmp_path / "target.txt"
    target_file.write_text(str(script))
    proc = spawn([sys.executable, "-c", f"import runpy, sys; sys.argv = ['l', {str(trigger)!r}, "
                  f"open({str(target_file)!r}).read()]; runpy.run_path({str(launcher)!r}, run_name='__main__')"])
    assert wait_until(lambda: os.path.exists(f"/proc/{proc.pid}/cmdline") or proc.poll() is not None)
    assert proc.pid not in _pids(find_runs([SCRIPT]))  # running, not yet the job
    trigger.write_text("")
    runs = wait_until(lambda: [r for r in find_runs([SCRIPT])[SCRIPT] if r.pid == proc.pid])
    assert runs and str(script) in runs[0].cmdline  # same pid, now the job: seen


def test_a_command_line_longer_than_one_read_is_matched_to_its_end(script, spawn):  # noqa: F811
    filler = ["x" * 60_000] * 3  # the script's path comes after 180 kB of arguments (one may hold 128 kB)
    proc = spawn([sys.executable, "-c", "import time; time.sleep(30)", *filler, str(script)])
    runs = wait_until(lambda: [r for r in find_runs([SCRIPT])[SCRIPT] if r.pid == proc.pid])
    assert runs and len(runs[0].cmdline) <= 500


def test_a_crontab_file_edited_behind_the_cockpits_back_is_seen_on_the_next_refresh(tmp_path):
    plan, path = make_plan(tmp_path, "file", USER_TAB)
    live = LiveSystem(plan, None)

    async def job_state() -> tuple[str, str]:
        snap = await live.refresh()
        reading = next(c for p in snap.phases for c in p.cron if c.id == "people-sync-operators")
        return reading.state, reading.schedule

    assert asyncio.run(job_state()) == ("enabled", "*/10 * * * *")
    # the same size and (within the clock's tick) the same mtime: only the bytes differ
    path.write_text(USER_TAB.replace("*/10 * * * *   /usr/bin/php /var/www/app/cron/people_sync_operators.php",
                                     "*/15 * * * *   /usr/bin/php /var/www/app/cron/people_sync_operators.php"))
    assert asyncio.run(job_state()) == ("enabled", "*/15 * * * *")
    path.write_text(USER_TAB.replace("*/10 * * * *   /usr/bin/php", "#*/10 * * * *  /usr/bin/php"))
    assert asyncio.run(job_state())[0] == "disabled_other"
    asyncio.run(live.close())


def test_an_unchanged_crontab_is_parsed_once_and_any_changed_byte_parses_again(tmp_path):
    plan, path = make_plan(tmp_path, "file", USER_TAB)
    first, second = read_crontab(plan.cron_source), read_crontab(plan.cron_source)
    assert first.lines is second.lines  # reused parse
    path.write_text(USER_TAB.replace("people_sync_operators.php\n", "people_sync_operatorz.php\n"))
    third = read_crontab(plan.cron_source)
    assert third.lines is not first.lines
    assert any("operatorz" in line.command for line in third.lines)


def test_user_crontab_is_read_again_when_crontab_changes_it(tmp_path, user_crontab):  # noqa: F811
    subprocess.run(["crontab", "-u", user_crontab, "-"], input=USER_TAB.encode(), check=True)
    clock = [1_000.0]
    reader = CrontabReader(CronSource(source="user", user=user_crontab), clock=lambda: clock[0])
    assert spool_signature(user_crontab) is not None, "this test needs a crontab spool directory"
    assert reader.read().text == USER_TAB and reader.reads == 1
    clock[0] += 5
    again = reader.read()
    assert again.text == USER_TAB and reader.reads == 1 and again.read_at == clock[0]  # reused, confirmed now
    # changed behind our back through crontab(1), same size, within the same second
    edited = USER_TAB.replace("*/10 * * * *", "*/15 * * * *")
    subprocess.run(["crontab", "-u", user_crontab, "-"], input=edited.encode(), check=True)
    clock[0] += 5
    assert reader.read().text == edited and reader.reads == 2
    # written into the spool file directly (no crontab(1), as an editor run by root would)
    spool_file = Path(spool_signature(user_crontab)[0]) / user_crontab  # type: ignore[arg-type]
    spool_file.write_text(spool_file.read_text().replace("*/15 * * * *", "*/20 * * * *"))
    clock[0] += 5
    assert "*/20 * * * *" in reader.read().text and reader.reads == 3
    # removed: `crontab -r`
    subprocess.run(["crontab", "-u", user_crontab, "-r"], check=True)
    clock[0] += 5
    assert reader.read().text == "" and reader.reads == 4


def test_user_crontab_is_read_in_full_at_least_every_recheck_and_always_without_a_spool(user_crontab):  # noqa: F811
    subprocess.run(["crontab", "-u", user_crontab, "-"], input=USER_TAB.encode(), check=True)
    clock = [1_000.0]
    reader = CrontabReader(CronSource(source="user", user=user_crontab), clock=lambda: clock[0], recheck_s=60)
    reader.read()
    clock[0] += 59
    reader.read()
    assert reader.reads == 1
    clock[0] += 2
    reader.read()
    assert reader.reads == 2
    blind = CrontabReader(CronSource(source="user", user=user_crontab), spool_dirs=("/nonexistent/spool",))
    blind.read()
    blind.read()
    assert blind.reads == 2


def test_the_live_system_reads_a_user_crontab_through_its_reader(tmp_path, user_crontab):  # noqa: F811
    subprocess.run(["crontab", "-u", user_crontab, "-"], input=USER_TAB.encode(), check=True)
    plan, _ = make_plan(tmp_path, "file", "")
    plan = dataclasses.replace(plan, cron_source=CronSource(source="user", user=user_crontab))
    live = LiveSystem(plan, None)

    def state() -> str:
        return read_cron(plan, reader=live.crontab.read)["people-sync-operators"].state

    assert state() == "enabled"
    subprocess.run(["crontab", "-u", user_crontab, "-"],
                   input=USER_TAB.replace("*/10 * * * *   /usr/bin", "# */10 * * * * /usr/bin").encode(), check=True)
    assert state() == "disabled_other"  # the very next reading


def test_next_run_is_reused_until_it_comes_due_then_moves_on():
    now = 1_800_000_000.0
    first = next_run("*/10 * * * *", now)
    assert first is not None and now < first <= now + 600
    assert next_run("*/10 * * * *", first - 0.5) == first
    later = next_run("*/10 * * * *", first)  # due now: the next one is ten minutes on
    assert later == first + 600
    earlier = next_run("*/10 * * * *", now - 3600)  # before the cached start: computed, not reused
    assert earlier is not None and now - 3600 < earlier <= now - 3000
