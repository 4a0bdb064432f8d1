"""The plan loader's quick check of cron schedules (cockpit/plan/cron_syntax.py) must only
ever say yes where croniter says yes (it replaces croniter's import before the TUI's
first frame, not croniter's judgement), and must say yes to the plain schedules plans
actually use. Loading a plan of plain schedules must not import croniter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from croniter import croniter
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.plan.cron_syntax import plainly_valid

ROOT = Path(__file__).resolve().parent.parent

_number = st.integers(min_value=0, max_value=99).map(str) | st.sampled_from(["00", "07", "7", "60", "32", "13", "24"])
_item = st.one_of(
    st.just("*"),
    _number,
    st.builds(lambda a, b: f"{a}-{b}", _number, _number),
    st.builds(lambda s: f"*/{s}", _number),
    st.builds(lambda a, b, s: f"{a}-{b}/{s}", _number, _number, _number),
    st.builds(lambda a, s: f"{a}/{s}", _number, _number),
    st.sampled_from(["mon", "jan", "L", "5#2", "?", "", "-", "*/", "1-", "@daily", "1--2"]),
)
_field = st.lists(_item, min_size=1, max_size=3).map(",".join)
_schedule = st.lists(_field, min_size=4, max_size=6).map(" ".join) | st.text(alphabet="0123456789*/-, \t", max_size=20)


@settings(max_examples=600, deadline=None)
@given(_schedule)
def test_a_quick_yes_is_always_croniters_yes(schedule: str) -> None:
    if plainly_valid(schedule):
        assert croniter.is_valid(schedule), schedule


def test_plain_schedules_need_no_croniter() -> None:
    for schedule in ("*/5 * * * *", "*/10 * * * *", "7 * * * *", "0 3 * * 1-5", "15,45 8-18/2 1 1-12 0,6", "59 23 31 12 6"):
        assert plainly_valid(schedule), schedule
        assert croniter.is_valid(schedule)
    for schedule in ("@daily", "0 3 * * mon", "* * * * 7", "* * * * * *", " * * * * *", "*  * * * *", "5-3 * * * *"):
        assert not plainly_valid(schedule), schedule  # croniter decides these


def test_loading_the_plan_does_not_import_croniter() -> None:
    probe = ("import sys; from cockpit.plan import load_plan, default_plan_path; load_plan(default_plan_path()); "
             "print('croniter' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
