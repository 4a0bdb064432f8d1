"""The crontab against hostile ids and hands: real crontab files, the real engine.

- a cron job id with a newline (or any id the marker cannot carry) never reaches the file;
- a change that would add a line, touch a line it does not name or add a control
  character is refused before anything is written (defence in depth behind the loader);
- `cron-start` on a job someone commented out by hand is refused — not reported done
  while restoring nothing — and the refusal names the line.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from cockpit.cron import CronError, CronRefused
from cockpit.cron.edit import apply, plan_start, plan_stop
from cockpit.cron.scan import disable_line
from cockpit.plan import load_plan
from tests.test_cron_edit import USER_TAB, make_plan
from tests.test_engine_guards import roll


@pytest.mark.parametrize("job_id", ["x\n", "x\ny", "x y", "x\r", "x\x1b[2J", "x#y", ""])
def test_a_job_id_the_marker_cannot_carry_never_reaches_the_crontab(tmp_path: Path, job_id: str) -> None:
    plan, path = make_plan(tmp_path, "file", USER_TAB)
    phase = plan.phase(9)
    hostile = dataclasses.replace(phase, cron=(dataclasses.replace(phase.cron[0], id=job_id), *phase.cron[1:]))
    with pytest.raises(CronError, match="unsafe crontab marker|cannot disable"):
        plan_stop(plan, hostile, now=1_800_000_000)
    assert path.read_text() == USER_TAB
    assert not (tmp_path / "backups").exists()


def test_disable_line_refuses_a_line_that_is_not_one_line() -> None:
    with pytest.raises(ValueError):
        disable_line("* * * * * a\n* * * * * b", 9, "job", "2027-01-15T08:00:00Z")
    with pytest.raises(ValueError):
        disable_line("* * * * * a", 9, "job", "2027-01-15T08:00:00Z\n* * * * * evil")
    assert disable_line("* * * * * a\r", 9, "job", "T").endswith(" # rollback-cockpit: disabled 9 job T\r")


@pytest.mark.parametrize("tamper", ["extra line", "other line", "control char"])
def test_apply_refuses_a_change_that_writes_more_than_it_names(tmp_path: Path, tamper: str) -> None:
    plan, path = make_plan(tmp_path, "file", USER_TAB)
    change = plan_stop(plan, plan.phase(9), now=1_800_000_000)
    edit = change.edits[0]
    lines = change.new_text.split("\n")
    if tamper == "extra line":
        lines[edit.number - 1] += "\n* * * * * root /tmp/evil"
        bad = dataclasses.replace(change, new_text="\n".join(lines))
    elif tamper == "other line":
        lines[0] = "* * * * * /tmp/evil"
        bad = dataclasses.replace(change, new_text="\n".join(lines))
    else:
        after = edit.after + "\x1b]0;owned\x07"
        lines[edit.number - 1] = after
        bad = dataclasses.replace(change, new_text="\n".join(lines), edits=(dataclasses.replace(edit, after=after),))
    with pytest.raises(CronError, match="refusing to write"):
        apply(bad)
    assert path.read_text() == USER_TAB
    assert not (tmp_path / "backups").exists()
    assert apply(change).written  # the honest change still applies


def test_start_refuses_when_the_only_line_was_commented_out_by_hand(tmp_path: Path) -> None:
    hand = USER_TAB.replace("*/10 * * * *   /usr/bin/php", "#*/10 * * * *   /usr/bin/php")
    plan, path = make_plan(tmp_path, "file", hand)
    start = plan_start(plan, plan.phase(9), now=1_800_000_000)
    assert start.empty and start.refusal is not None
    assert "people-sync-operators (line 4)" in start.refusal and "people-sync-teams (line 5)" in start.refusal
    assert "someone else" in start.refusal and "Refused: cron-start restores nothing" in start.dry_run()
    with pytest.raises(CronRefused, match="line 4"):
        apply(start)
    assert path.read_text() == hand


def test_start_restores_its_own_lines_next_to_a_hand_commented_one(tmp_path: Path) -> None:
    """A job that was already off by hand before the rollback stays off; the cockpit's own
    lines come back and the start is not refused (it restores something)."""
    plan, path = make_plan(tmp_path, "file", USER_TAB)
    apply(plan_stop(plan, plan.phase(9), now=1_800_000_000))
    start = plan_start(plan, plan.phase(9), now=1_800_000_600)
    assert start.refusal is None and [e.job_id for e in start.edits] == ["people-sync-operators"]
    assert apply(start).written and path.read_text() == USER_TAB


async def test_engine_cron_start_on_a_hand_disabled_job_is_not_done(sandbox: Path, open_engine) -> None:
    engine = await open_engine(sandbox)
    crontab = engine.plan.cron_source.path
    await roll(engine, 10, "flags-off", "cron-stop")
    stopped = crontab.read_text()
    marked = next(n for n, line in enumerate(stopped.split("\n"), 1) if "rollback-cockpit: disabled 10" in line)
    # someone swaps the cockpit's marker for their own comment
    by_hand = "\n".join(line.split(" # rollback-cockpit: disabled")[0] + "  # off: ticket 4711" if n == marked else line
                        for n, line in enumerate(stopped.split("\n"), 1))
    crontab.write_text(by_hand)
    await roll(engine, 10, "flags-on")

    dry = await engine.dry_run(10, "cron-start")
    assert dry.would_refuse and f"line {marked}" in dry.text
    outcome = await engine.execute(10, "cron-start")
    assert outcome.status != "done"
    assert outcome.status == "refused" and outcome.guard == "crontab"
    assert f"refresh-dashboard-mv (line {marked})" in outcome.message and "someone else" in outcome.message
    assert crontab.read_text() == by_hand  # not touched


def test_the_plan_loader_is_the_first_lock(tmp_path: Path) -> None:
    """The shipped plan's ids all fit the crontab marker."""
    plan = load_plan(Path(__file__).resolve().parent.parent / "phases.toml")
    for job in plan.all_cron_jobs:
        assert disable_line("* * * * * x", 1, job.id, "2027-01-15T08:00:00Z")
