"""LogFollower against real files: appends, partial lines, rotation, truncation, junk."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from cockpit.plan.loader import load_plan
from cockpit.plan.model import ErrorLog
from cockpit.probes.logs import LogFollower, LogWatch

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_800_000_000.0  # a minute boundary: 1_800_000_000 / 60 is whole


def append(path: Path, data: str | bytes) -> None:
    with open(path, "ab") as handle:
        handle.write(data.encode() if isinstance(data, str) else data)


def test_starts_at_end_and_counts_only_new_matches(tmp_path):
    log = tmp_path / "error.log"
    log.write_text("PeopleSync old error\n" * 5)
    follower = LogFollower(log, r"PeopleSync|people_sync")
    first = follower.poll(T0)
    assert first.exists and first.matches_total == 0
    append(log, "PHP Warning: PeopleSync timeout\nunrelated line\npeople_sync failed\n")
    reading = follower.poll(T0 + 1)
    assert reading.matches_total == 2 and reading.matches_last_minute == 2
    assert reading.last_matches == ("PHP Warning: PeopleSync timeout", "people_sync failed")


def test_from_start_option(tmp_path):
    log = tmp_path / "error.log"
    log.write_text("PeopleSync a\nPeopleSync b\n")
    assert LogFollower(log, "PeopleSync", from_start=True).poll(T0).matches_total == 2


def test_partial_line_waits_for_newline(tmp_path):
    log = tmp_path / "error.log"
    log.write_text("")
    follower = LogFollower(log, "dashboard")
    follower.poll(T0)
    append(log, "mv refresh dash")
    assert follower.poll(T0 + 1).matches_total == 0
    append(log, "board failed\n")
    reading = follower.poll(T0 + 2)
    assert reading.matches_total == 1 and reading.last_matches == ("mv refresh dashboard failed",)


def test_missing_file_appears_later_and_is_read_from_start(tmp_path):
    log = tmp_path / "later.log"
    follower = LogFollower(log, "OEM")
    assert follower.poll(T0).exists is False
    log.write_text("OEM ticket error\n")
    reading = follower.poll(T0 + 1)
    assert reading.exists and reading.matches_total == 1


def test_rotation_finishes_old_file_then_reads_new(tmp_path):
    log = tmp_path / "error.log"
    log.write_text("")
    follower = LogFollower(log, "OEM")
    follower.poll(T0)
    append(log, "OEM one\nOEM two (no newline yet)")
    os.rename(log, tmp_path / "error.log.1")
    append(tmp_path / "error.log.1", "\nOEM written to the old file after the rename\n")
    log.write_text("OEM in the new file\n")
    reading = follower.poll(T0 + 1)
    assert reading.matches_total == 4
    assert reading.last_matches[-1] == "OEM in the new file"
    append(log, "OEM again\n")
    assert follower.poll(T0 + 2).matches_total == 5


def test_rotation_with_gap_before_recreate(tmp_path):
    log = tmp_path / "error.log"
    log.write_text("")
    follower = LogFollower(log, "OEM")
    follower.poll(T0)
    append(log, "OEM before rotate\n")
    os.rename(log, tmp_path / "error.log.1")
    gap = follower.poll(T0 + 1)
    assert gap.exists is False and gap.matches_total == 1
    log.write_text("OEM after\n")
    assert follower.poll(T0 + 2).matches_total == 2


def test_truncation_starts_over(tmp_path):
    log = tmp_path / "error.log"
    log.write_text("x" * 1000 + "\n")
    follower = LogFollower(log, "assignment_log")
    follower.poll(T0)
    with open(log, "w") as handle:  # copytruncate
        handle.write("assignment_log insert failed\n")
    reading = follower.poll(T0 + 1)
    assert reading.matches_total == 1 and reading.last_matches == ("assignment_log insert failed",)


def test_binary_junk_and_long_lines(tmp_path):
    log = tmp_path / "error.log"
    log.write_text("")
    follower = LogFollower(log, "mv_[a-z_]+", keep=2)
    follower.poll(T0)
    append(log, b"\xff\xfe\x00 mv_team_workload broken \xc3\x28\n")
    append(log, "mv_cycle_time_analytics " + "z" * 5000 + "\n")
    reading = follower.poll(T0 + 1)
    assert reading.matches_total == 2
    assert "\ufffd" in reading.last_matches[0]
    assert len(reading.last_matches[1]) <= 200


def test_keep_bounds_last_matches(tmp_path):
    log = tmp_path / "error.log"
    log.write_text("")
    follower = LogFollower(log, "OEM", keep=3)
    follower.poll(T0)
    append(log, "".join(f"OEM {i}\n" for i in range(50)))
    reading = follower.poll(T0 + 1)
    assert reading.matches_total == 50 and reading.last_matches == ("OEM 47", "OEM 48", "OEM 49")


def test_per_minute_ring_and_last_minute(tmp_path):
    log = tmp_path / "error.log"
    log.write_text("")
    follower = LogFollower(log, "OEM", minutes=5)
    follower.poll(T0)
    append(log, "OEM\n" * 3)
    follower.poll(T0 + 10)
    append(log, "OEM\n" * 2)
    reading = follower.poll(T0 + 70)
    assert reading.rate_per_minute == (0, 0, 0, 3, 2)
    assert reading.matches_last_minute == 2  # the 3 at T0+10 are more than 60 s old
    reading = follower.poll(T0 + 60 * 10)
    assert reading.rate_per_minute == (0, 0, 0, 0, 0) and reading.matches_total == 5


def test_poll_cap_skips_and_says_so(tmp_path):
    log = tmp_path / "error.log"
    log.write_text("")
    follower = LogFollower(log, "OEM", max_bytes_per_poll=1000)
    follower.poll(T0)
    append(log, "OEM lost in the flood\n" + "filler line\n" * 500 + "OEM kept\n")
    reading = follower.poll(T0 + 1)
    assert reading.matches_total == 1 and reading.last_matches == ("OEM kept",)
    assert follower.skipped_bytes > 0 and "skipped" in reading.freshness.error
    append(log, "OEM next\n")
    assert follower.poll(T0 + 2).freshness.error is None


def test_unreadable_path_reports_error(tmp_path):
    follower = LogFollower(tmp_path / "dir" / "error.log", "OEM")
    (tmp_path / "dir").write_text("a file where a directory should be")
    reading = follower.poll(T0)
    assert reading.exists is False and "Not a directory" in reading.freshness.error


def test_log_watch_shares_one_follower_per_path_and_pattern(tmp_path):
    log = tmp_path / "error.log"
    log.write_text("")
    plan = load_plan(ROOT / "phases.toml")
    def logs(p):
        if p.id == 7:  # phase 7 watches the same (path, pattern) as phase 9
            return (ErrorLog(log, "PeopleSync|people_sync"),)
        extra = (ErrorLog(log, "OEM"),) if p.id == 8 else ()
        return tuple(ErrorLog(log, e.pattern) for e in p.error_logs) + extra

    phases = tuple(dataclasses.replace(p, error_logs=logs(p)) for p in plan.phases)
    watch = LogWatch(dataclasses.replace(plan, phases=phases))
    watch.poll(T0)
    append(log, "PeopleSync failed\nOEM boom\nmv_team_workload stale\n")
    readings = watch.poll(T0 + 1)
    assert {pid: [r.matches_total for r in rs] for pid, rs in readings.items()} == {10: [1], 9: [1], 8: [1, 1], 7: [1]}
    assert readings[7][0] is readings[9][0]  # one follower, one reading, shared
    watch.close()
