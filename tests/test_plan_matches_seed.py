"""phases.toml must encode the whole seed plan: nothing the seed names may be missing.

The seed is copied into tests/data so CI does not depend on the shared folder; the test
extracts names from the seed's own text (flags from setFeatureFlag calls, tables and
columns from its SQL, cron scripts from its prose), so an edit to either side shows up.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cockpit.plan import load_plan

ROOT = Path(__file__).resolve().parent.parent
SEED = (ROOT / "tests" / "data" / "ROLLBACK_PLAN.md").read_text(encoding="utf-8")
PLAN = load_plan(ROOT / "phases.toml")


def _seed_sections() -> dict[int, str]:
    parts = re.split(r"^## Phase (\d+):", SEED, flags=re.M)
    sections = {}
    for number, body in zip(parts[1::2], parts[2::2]):
        sections[int(number)] = body.split("\n---")[0]
    return sections


SECTIONS = _seed_sections()


def test_four_phases_in_reverse_rollback_order() -> None:
    assert sorted(SECTIONS) == [7, 8, 9, 10]
    assert [p.id for p in PLAN.rollback_order] == [10, 9, 8, 7]


@pytest.mark.parametrize("phase_id", [7, 8, 9, 10])
def test_flags_of_each_phase(phase_id: int) -> None:
    seed_flags = re.findall(r"setFeatureFlag\('(\w+)', false\)", SECTIONS[phase_id])
    assert seed_flags
    assert set(seed_flags) == set(PLAN.phase(phase_id).flags)


@pytest.mark.parametrize("phase_id", [7, 8, 9, 10])
def test_tables_columns_and_sql_as_written(phase_id: int) -> None:
    section = SECTIONS[phase_id]
    phase = PLAN.phase(phase_id)
    migration = phase.migration_steps[0]
    dropped = re.findall(r"DROP TABLE IF EXISTS (\w+);", section)
    assert list(migration.drop_tables) == dropped
    columns = re.findall(r"ALTER TABLE (\w+) DROP COLUMN IF EXISTS (\w+);", section)
    assert [(c.table, c.column) for c in migration.drop_columns] == columns
    checked = re.findall(r"SELECT COUNT\(\*\) FROM (\w+);", section)
    assert checked and set(checked) <= set(migration.guard_tables)
    seed_sql = [line.strip() for line in section.splitlines() if re.match(r"\s*(DROP|ALTER) ", line)]
    plan_sql = [line.strip() for line in migration.as_written.splitlines() if line.strip()]
    assert plan_sql == seed_sql
    for table in (*dropped, *(t for t, _ in columns)):
        assert table in phase.tables


def test_cron_jobs() -> None:
    scripts = set(re.findall(r"`(\w+\.php)`", SECTIONS[9] + SECTIONS[10]))
    cron_scripts = {job.script for job in PLAN.all_cron_jobs}
    assert cron_scripts == scripts & {"people_sync_operators.php", "people_sync_teams.php", "refresh_dashboard_materialized_views.php"}
    assert {j.script for j in PLAN.phase(9).cron} == {"people_sync_operators.php", "people_sync_teams.php"}
    assert {j.script for j in PLAN.phase(10).cron} == {"refresh_dashboard_materialized_views.php"}


@pytest.mark.parametrize("phase_id", [7, 8, 9, 10])
def test_budget_and_risk(phase_id: int) -> None:
    section = SECTIONS[phase_id]
    minutes = int(re.search(r"\*\*Rollback Time:\*\* ~(\d+) minutes", section).group(1))
    risk, reason = re.search(r"\*\*Data Loss Risk:\*\* (\w+) \(([^)]+)\)", section).groups()
    phase = PLAN.phase(phase_id)
    assert phase.budget_minutes == minutes
    assert phase.data_loss_risk == risk.lower()
    assert phase.data_loss_reason == reason


@pytest.mark.parametrize("phase_id", [7, 8, 9, 10])
def test_code_rollback_tasks_and_fallbacks(phase_id: int) -> None:
    section = SECTIONS[phase_id]
    phase = PLAN.phase(phase_id)
    code = section.split("### Step 4: Code Rollback")[1]
    tasks = [line[2:].strip() for line in code.splitlines() if line.startswith("- ")]
    manual = [s.title for s in phase.steps if s.kind == "manual"]
    assert len(manual) == len(tasks)
    for task, title in zip(tasks, manual):
        words = set(re.findall(r"[A-Za-z_:]{4,}", task.lower()))
        assert words <= set(re.findall(r"[A-Za-z_:]{4,}", title.lower())), (task, title)
    step2 = section.split("### Step 2")[1].split("### Step 3")[0]
    notes = [line[2:].strip() for line in step2.splitlines() if line.startswith("- ") and "Disable cron" not in line]
    fallback_text = " ".join(phase.fallback).lower()
    for note in notes:
        for word in re.findall(r"[a-z]{5,}", note.lower()):
            assert word in fallback_text, (note, phase.fallback)


def test_checklists_emergency_watch_and_log_template() -> None:
    before = SEED.split("Before rolling back any phase:")[1].split("After rollback:")[0]
    after = SEED.split("After rollback:")[1].split("---")[0]
    assert [i.text for i in PLAN.checklist_before] == re.findall(r"- \[ \] (.+)", before)
    assert [i.text for i in PLAN.checklist_after] == re.findall(r"- \[ \] (.+)", after)
    emergency = SEED.split("## 🚨 Emergency Rollback")[1].split("## 📋")[0]
    assert set(re.findall(r"setFeatureFlag\('(\w+)', false\)", emergency)) <= set(PLAN.emergency.flags)
    assert set(PLAN.emergency.flags) == set(PLAN.all_flags)
    assert PLAN.emergency.budget_minutes == 5 and PLAN.emergency.data_loss_risk == "none"
    assert PLAN.watch.hours == 24 and PLAN.watch.extended_hours == 48
    template = SEED.split("## 🔍 Rollback Log Template")[1].split("```markdown")[1].split("```")[0]
    assert PLAN.log.template.strip() == template.strip()
    assert len(PLAN.meta.principles) == 4 and len(PLAN.meta.critical_notes) == 5
