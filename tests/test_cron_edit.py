"""The crontab as a real file (file and system forms), edited through cockpit.cron."""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from cockpit.cron import CronChanged, CronError
from cockpit.cron.edit import apply, plan_start, plan_stop
from cockpit.cron.scan import fingerprint
from cockpit.cron.source import read_crontab
from cockpit.plan.loader import load_plan
from cockpit.plan.model import CronSource, Paths

ROOT = Path(__file__).resolve().parent.parent

USER_TAB = """\
# m h  dom mon dow   command
MAILTO=ops@example.com
*/5 * * * * /usr/bin/php /var/www/app/cron/refresh_dashboard_materialized_views.php >/dev/null 2>&1 # mv refresh
*/10 * * * *   /usr/bin/php /var/www/app/cron/people_sync_operators.php
# 7 * * * * /usr/bin/php /var/www/app/cron/people_sync_teams.php
0 3 * * * /usr/bin/php /var/www/app/cron/old_people_sync_operators.php.bak
@daily /usr/local/bin/rotate-things
"""

SYSTEM_TAB = """\
SHELL=/bin/sh
*/5 * * * * www-data /usr/bin/php /var/www/app/cron/refresh_dashboard_materialized_views.php
*/10 * * * * www-data cd /var/www/app && php cron/people_sync_operators.php
7 * * * * www-data /usr/bin/php /var/www/app/cron/people_sync_teams.php
"""


def make_plan(tmp_path: Path, source: str, text: str):
    path = tmp_path / ("app" if source == "system" else "crontab")
    path.write_text(text)
    path.chmod(0o644)
    plan = load_plan(ROOT / "phases.toml")
    plan = dataclasses.replace(
        plan,
        cron_source=CronSource(source=source, path=path),
        paths=Paths(journal=tmp_path / "j.sqlite3", backup_dir=tmp_path / "backups"),
    )
    return plan, path


def test_read_reports_fingerprint_of_raw_text(tmp_path):
    plan, path = make_plan(tmp_path, "file", USER_TAB)
    tab = read_crontab(plan.cron_source)
    assert tab.text == USER_TAB
    assert tab.fingerprint == fingerprint(USER_TAB)
    # the "# m h dom ..." header and MAILTO are not jobs; the hand-commented line is
    assert [(line.number, line.state) for line in tab.lines] == [
        (3, "enabled"), (4, "enabled"), (5, "disabled_other"), (6, "enabled"), (7, "enabled"),
    ]
    assert tab.lines[0].comment == "mv refresh" and tab.lines[4].schedule == "@daily"
    assert list(tab.crontab().crons)[0].command.startswith("/usr/bin/php")


def test_stop_then_start_restores_exact_text(tmp_path):
    plan, path = make_plan(tmp_path, "file", USER_TAB)
    phase9 = plan.phase(9)
    change = plan_stop(plan, phase9, now=1_800_000_000)
    # only the operators line changes; the hand-commented teams line is reported, not touched
    assert [(e.job_id, e.number) for e in change.edits] == [("people-sync-operators", 4)]
    assert change.edits[0].after == (
        "# */10 * * * *   /usr/bin/php /var/www/app/cron/people_sync_operators.php"
        " # rollback-cockpit: disabled 9 people-sync-operators 2027-01-15T08:00:00Z"
    )
    assert any(n.job_id == "people-sync-teams" and "someone else" in n.reason for n in change.notes)
    text = change.dry_run()
    assert "- */10 * * * *   /usr/bin/php" in text and "+ # */10" in text and str(change.backup_path) in text
    assert path.read_text() == USER_TAB  # planning writes nothing

    result = apply(change)
    assert result.written and result.state("people-sync-operators") == "disabled_by_cockpit"
    assert result.backup_path.read_text() == USER_TAB
    assert stat.S_IMODE(result.backup_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    after_stop = path.read_text()
    assert after_stop.count("rollback-cockpit: disabled") == 1
    assert "old_people_sync_operators.php.bak" in after_stop.splitlines()[5]  # not a match: untouched

    start = plan_start(plan, phase9, now=1_800_000_600)
    assert [(e.job_id, e.number) for e in start.edits] == [("people-sync-operators", 4)]
    assert any(n.job_id == "people-sync-teams" and "someone else" in n.reason for n in start.notes)
    assert "Left alone:\n  people-sync-teams (line 5) is commented out" in start.dry_run()
    result = apply(start, tmp_path / "other-backups")
    assert result.backup_path.parent == tmp_path / "other-backups"
    assert result.backup_path.read_text() == after_stop
    assert path.read_text() == USER_TAB  # byte-for-byte the original
    # the hand-commented job stays commented
    assert result.state("people-sync-teams") == "disabled_other"


def test_existing_comment_is_kept_and_recoverable(tmp_path):
    plan, path = make_plan(tmp_path, "file", USER_TAB)
    change = plan_stop(plan, plan.phase(10), now=1_800_000_000)
    apply(change)
    line = path.read_text().splitlines()[2]
    assert line.startswith("# */5 * * * * /usr/bin/php") and "# mv refresh # rollback-cockpit: disabled 10" in line
    tab = read_crontab(plan.cron_source)
    job_line = [l for l in tab.lines if "refresh_dashboard" in l.command][0]
    assert job_line.comment == "mv refresh" and job_line.marker.job_id == "refresh-dashboard-mv"
    apply(plan_start(plan, plan.phase(10)))
    assert path.read_text() == USER_TAB


def test_system_form_keeps_user_field(tmp_path):
    plan, path = make_plan(tmp_path, "system", SYSTEM_TAB)
    change = plan_stop(plan, plan.phase(9), now=1_800_000_000)
    assert {e.job_id for e in change.edits} == {"people-sync-operators", "people-sync-teams"}
    tab = read_crontab(plan.cron_source)
    assert {l.user for l in tab.lines} == {"www-data"}
    result = apply(change)
    assert dict(result.states) == {"people-sync-operators": "disabled_by_cockpit", "people-sync-teams": "disabled_by_cockpit"}
    assert path.read_text().splitlines()[1] == SYSTEM_TAB.splitlines()[1]  # phase 10 untouched
    apply(plan_start(plan, plan.phase(9)))
    assert path.read_text() == SYSTEM_TAB


def test_second_stop_is_a_noop(tmp_path):
    plan, path = make_plan(tmp_path, "system", SYSTEM_TAB)
    apply(plan_stop(plan, plan.phase(10)))
    again = plan_stop(plan, plan.phase(10))
    assert again.empty and "already disabled" in again.notes[0].reason
    before = path.read_text()
    result = apply(again)
    assert not result.written and result.backup_path is None and path.read_text() == before


def test_changed_between_plan_and_apply_is_refused(tmp_path):
    plan, path = make_plan(tmp_path, "file", USER_TAB)
    change = plan_stop(plan, plan.phase(9))
    other_edit = USER_TAB + "30 2 * * * /usr/local/bin/someone-elses-job\n"
    path.write_text(other_edit)
    with pytest.raises(CronChanged, match="changed since"):
        apply(change)
    assert path.read_text() == other_edit  # the other edit is kept
    assert not (tmp_path / "backups").exists()  # no backup of a text we did not change
    # planning again sees the other edit and carries it through
    result = apply(plan_stop(plan, plan.phase(9)))
    assert "someone-elses-job" in path.read_text() and result.backup_path.read_text() == other_edit


@pytest.mark.skipif(shutil.which("chattr") is None, reason="chattr not installed")
def test_unwritable_crontab_is_refused_and_original_intact(tmp_path):
    plan, path = make_plan(tmp_path, "file", USER_TAB)
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("filesystem does not support the immutable attribute")
    try:
        change = plan_stop(plan, plan.phase(9))
        with pytest.raises(CronError, match="cannot write crontab file .*original left intact"):
            apply(change)
        assert path.read_text() == USER_TAB
        assert not [p for p in tmp_path.iterdir() if p.name.endswith(".cockpit-tmp")]
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_unwritable_backup_dir_changes_nothing(tmp_path):
    plan, path = make_plan(tmp_path, "file", USER_TAB)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(CronError, match="cannot write the crontab backup.*nothing changed"):
        apply(plan_stop(plan, plan.phase(9)), blocker)
    assert path.read_text() == USER_TAB


def test_backups_never_overwrite_each_other(tmp_path):
    plan, path = make_plan(tmp_path, "file", USER_TAB)
    first = apply(plan_stop(plan, plan.phase(9), now=1_800_000_000))
    second = apply(plan_start(plan, plan.phase(9), now=1_800_000_000))
    third = apply(plan_stop(plan, plan.phase(9), now=1_800_000_000))
    names = {first.backup_path, second.backup_path, third.backup_path}
    assert len(names) == 3 and first.backup_path.read_text() == USER_TAB


def test_symlinked_crontab_is_edited_through_the_link(tmp_path):
    plan, path = make_plan(tmp_path, "file", USER_TAB)
    link = tmp_path / "link"
    link.symlink_to(path)
    plan = dataclasses.replace(plan, cron_source=CronSource(source="file", path=link))
    apply(plan_stop(plan, plan.phase(9)))
    assert link.is_symlink() and "rollback-cockpit" in path.read_text()


def test_missing_and_unreadable_sources_are_one_line_errors(tmp_path):
    with pytest.raises(CronError, match="does not exist"):
        read_crontab(CronSource(source="file", path=tmp_path / "nope"))
    with pytest.raises(CronError, match="is a directory"):
        read_crontab(CronSource(source="system", path=tmp_path))
    with pytest.raises(CronError, match="needs a path"):
        read_crontab(CronSource(source="file"))


def test_missing_crontab_binary_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(CronError, match="`crontab` command is not installed"):
        read_crontab(CronSource(source="user"))


THROWAWAY_USER = "nobody"


@pytest.fixture
def user_crontab():
    """The crontab of a system user that runs nothing (`nobody`), restored afterwards."""
    if shutil.which("crontab") is None or os.geteuid() != 0:
        pytest.skip("needs the crontab command and root")
    saved = subprocess.run(["crontab", "-u", THROWAWAY_USER, "-l"], capture_output=True)
    yield THROWAWAY_USER
    if saved.returncode == 0:
        subprocess.run(["crontab", "-u", THROWAWAY_USER, "-"], input=saved.stdout, check=True)
    else:
        subprocess.run(["crontab", "-u", THROWAWAY_USER, "-r"], capture_output=True)


def test_user_crontab_round_trip(tmp_path, user_crontab):
    subprocess.run(["crontab", "-u", user_crontab, "-"], input=USER_TAB.encode(), check=True)
    plan, _ = make_plan(tmp_path, "file", "")
    plan = dataclasses.replace(plan, cron_source=CronSource(source="user", user=user_crontab))
    assert read_crontab(plan.cron_source).text == USER_TAB
    result = apply(plan_stop(plan, plan.phase(9)))
    assert result.state("people-sync-operators") == "disabled_by_cockpit"
    listed = subprocess.run(["crontab", "-u", user_crontab, "-l"], capture_output=True, text=True).stdout
    assert "# rollback-cockpit: disabled 9 people-sync-operators" in listed
    apply(plan_start(plan, plan.phase(9)))
    assert subprocess.run(["crontab", "-u", user_crontab, "-l"], capture_output=True, text=True).stdout == USER_TAB


def test_user_crontab_absent_reads_empty(tmp_path, user_crontab):
    subprocess.run(["crontab", "-u", user_crontab, "-r"], capture_output=True)
    tab = read_crontab(CronSource(source="user", user=user_crontab))
    assert tab.text == "" and tab.lines == ()


def test_edit_landing_during_backup_is_refused_and_backup_removed(tmp_path, monkeypatch):
    import cockpit.cron.edit as edit

    plan, path = make_plan(tmp_path, "file", USER_TAB)
    real_backup = edit._write_backup
    written = []

    def backup_then_someone_edits(target, text):
        written.append(real_backup(target, text))
        path.write_text(USER_TAB + "# edited by hand meanwhile\n")
        return written[-1]

    monkeypatch.setattr(edit, "_write_backup", backup_then_someone_edits)
    with pytest.raises(CronChanged):
        apply(plan_stop(plan, plan.phase(9)))
    assert path.read_text().endswith("# edited by hand meanwhile\n")
    assert written and not written[0].exists()
