"""Plan regexes on error logs run on a linear-time engine (RE2): a catastrophic pattern
against a long line cannot hang the cockpit, and a pattern RE2 cannot take is refused
visibly rather than run on Python's backtracking engine."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cockpit.probes.logs import LogFollower, PatternRefused, compile_pattern


def _follower(tmp_path: Path, pattern: str, lines: list[str]) -> tuple[LogFollower, Path]:
    log = tmp_path / "error.log"
    log.write_text("", encoding="utf-8")
    follower = LogFollower(log, pattern)
    follower.poll(now=1000.0)  # the file exists at the first poll: read from its end
    with open(log, "a", encoding="utf-8") as handle:
        handle.writelines(line + "\n" for line in lines)
    return follower, log


def test_catastrophic_pattern_on_a_long_line_is_linear(tmp_path: Path) -> None:
    # (a+)+$ against 'aaaa…ab' takes exponential time under `re`: 30 a's already take
    # minutes there. 60 000 a's must take well under a second here.
    line = "a" * 60_000 + "b"
    follower, _ = _follower(tmp_path, r"(a+)+$", [line, "aaaa"])
    started = time.perf_counter()
    reading = follower.poll(now=1001.0)
    elapsed = time.perf_counter() - started
    follower.close()
    assert elapsed < 1.0, f"matching took {elapsed:.2f}s"
    assert reading.matches_total == 1  # only the line that really ends in a's
    assert reading.freshness.error is None


def test_plan_regex_keeps_its_brackets_and_matches(tmp_path: Path) -> None:
    follower, _ = _follower(tmp_path, r"mv_[a-z_]+", ["ERROR table mv_daily_stats gone", "fine"])
    reading = follower.poll(now=1001.0)
    follower.close()
    assert reading.pattern == "mv_[a-z_]+"
    assert reading.matches_total == 1


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?<=x)y", r"foo(?!bar)"])
def test_a_pattern_re2_cannot_take_refuses_that_log_visibly(tmp_path: Path, pattern: str) -> None:
    with pytest.raises(PatternRefused, match="RE2"):
        compile_pattern(pattern)
    follower, _ = _follower(tmp_path, pattern, ["aa", "xy", "foobaz"])
    reading = follower.poll(now=1001.0)
    follower.close()
    assert reading.matches_total == 0
    assert reading.freshness.error and "not watched" in reading.freshness.error and "RE2" in reading.freshness.error


def test_matched_lines_kept_for_display_are_cleaned(tmp_path: Path) -> None:
    hostile = "ERROR \x1b]0;pwned\x07 \x1b[2J [/] \x9b31m done"
    follower, _ = _follower(tmp_path, "ERROR", [hostile])
    reading = follower.poll(now=1001.0)
    follower.close()
    (shown,) = reading.last_matches
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert shown.startswith("ERROR") and "[/]" in shown and "done" in shown
