"""Each step kind is its own spec type, and a key that belongs to another kind is refused.

The loader reads a step as its kind wants it (plan/loader.py `_kind_step`): a `sql` on a
manual step, or `tables` on a check, used to be read and silently ignored; now it names
the kind it belongs to, at its line. Edits are made to the real phases.toml, as in
test_plan_errors.py.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from cockpit.plan import PlanError, load_plan, parse_plan_text
from cockpit.plan.model import (
    BackupSpec,
    CheckSpec,
    CronSpec,
    FlagsSpec,
    ManualSpec,
    MigrationSpec,
    QuarantineSpec,
    RestoreSpec,
)

ROOT = Path(__file__).resolve().parent.parent
PLAN_TEXT = (ROOT / "phases.toml").read_text(encoding="utf-8")
KIND_TYPES = {
    "flags_off": FlagsSpec, "flags_on": FlagsSpec, "cron_stop": CronSpec, "cron_start": CronSpec, "manual": ManualSpec,
    "backup": BackupSpec, "check": CheckSpec, "migration": MigrationSpec, "quarantine": QuarantineSpec, "restore": RestoreSpec,
}


def _load(old: str, new: str, tmp_path: Path) -> tuple[str, PlanError]:
    assert old in PLAN_TEXT, old
    text = PLAN_TEXT.replace(old, new, 1)
    path = tmp_path / "phases.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    return text, caught.value


def _line_of(text: str, needle: str) -> int:
    return text.count("\n", 0, text.index(needle)) + 1


def test_every_step_is_the_spec_type_of_its_kind() -> None:
    plan = parse_plan_text(PLAN_TEXT, ROOT / "phases.toml")
    kinds = set()
    for phase in plan.phases:
        for step in phase.all_steps:
            assert type(step) is KIND_TYPES[step.kind], (phase.id, step.id, type(step).__name__)
            kinds.add(step.kind)
    assert kinds == set(KIND_TYPES), kinds  # the seed plan exercises every kind


def test_synthesized_steps_carry_their_migrations_tables() -> None:
    plan = parse_plan_text(PLAN_TEXT, ROOT / "phases.toml")
    for phase in plan.phases:
        for migration in phase.migration_steps:
            quarantine = phase.quarantine_for(migration)
            assert isinstance(quarantine, QuarantineSpec)
            restores = [s for s in phase.abort_steps if isinstance(s, RestoreSpec)]
            assert [r.protected_tables for r in restores] == [migration.protected_tables]
            for made in (quarantine, *restores):
                assert (made.guard_tables, made.drop_tables, made.drop_columns) == (
                    migration.guard_tables, migration.drop_tables, migration.drop_columns)
            assert quarantine.as_written == migration.as_written and quarantine.kept_by_note == migration.kept_by_note


def test_kinds_without_tables_answer_the_shared_questions() -> None:
    """Views and guards ask any step for protected_tables/kept_by_note without checking
    its kind; those without tables answer empty instead of raising."""
    plan = parse_plan_text(PLAN_TEXT, ROOT / "phases.toml")
    backup = next(s for p in plan.phases for s in p.steps if isinstance(s, BackupSpec))
    assert backup.protected_tables == () and backup.kept_by_note == () and backup.kept_tables == ()
    assert not hasattr(backup, "drop_columns")  # fields belong to their kind only
    with pytest.raises(dataclasses.FrozenInstanceError):
        backup.title = "changed"  # type: ignore[misc]  # the point: specs are frozen


@pytest.mark.parametrize("key, value, owner", [
    ("sql", '"SELECT 1"', "check"),
    ("command", '["true"]', "check"),
    ("expect", "1", "check"),
    ("activity", '"oem-tickets"', "check"),
    ("tables", '["oem_scan_rule"]', "backup"),
    ("as_written", '"DROP TABLE oem_scan_rule;"', "migration"),
])
def test_a_key_of_another_kind_is_refused_at_its_line(tmp_path: Path, key: str, value: str, owner: str) -> None:
    anchor = 'id = "code-kanban"\nkind = "manual"'
    text, error = _load(anchor, f"{anchor}\n{key} = {value}", tmp_path)
    line = _line_of(text, f"{anchor}\n{key} =") + 2
    assert str(error) == f'phases.toml:{line}: phase 8 step "code-kanban": key "{key}" belongs to a {owner} step'


def test_the_table_keys_of_a_migration_keep_their_message(tmp_path: Path) -> None:
    anchor = 'id = "code-kanban"\nkind = "manual"'
    text, error = _load(anchor, f'{anchor}\ndrop_columns = [{{ table = "oem_scan_rule", column = "x" }}]', tmp_path)
    assert "drop_tables/drop_columns/guard_tables belong to a migration step" in str(error)


@pytest.mark.parametrize("old, new, key", [
    ('[log]\nfile = "ROLLBACK_LOG.md"', '[log]\nfile = ""', "file"),
    ('{ path = "/var/log/php/error.log", pattern = "oem_|OEM" }', '{ path = "", pattern = "oem_|OEM" }', "path"),
])
def test_an_empty_required_path_is_one_line(tmp_path: Path, old: str, new: str, key: str) -> None:
    """Used to end in an AssertionError traceback (an empty path read as "no path")."""
    text, error = _load(old, new, tmp_path)
    assert f'key "{key}" must not be empty' in str(error)
    assert str(error).startswith(f"phases.toml:{_line_of(text, new.splitlines()[-1])}: ")


def test_an_empty_journal_path_falls_back_to_the_default(tmp_path: Path) -> None:
    """Used to end in an AssertionError traceback."""
    old = 'journal = "~/.local/state/rollback-cockpit/cockpit-journal.sqlite3"'
    assert old in PLAN_TEXT
    plan = parse_plan_text(PLAN_TEXT.replace(old, 'journal = ""', 1), tmp_path / "phases.toml")
    assert plan.paths.journal == tmp_path / "cockpit-journal.sqlite3"
