"""Flags are read with the database's own matching (issue 9, failure 5).

A key stored as `Enable_X ` matches `enable_x` under MariaDB's default case-insensitive,
PAD SPACE collation — as the application's own `WHERE flag_key = ?` does. The old read
matched returned keys in a Python dict, read such a flag as "missing", and counted
missing as off: flags-off "succeeded" and the DROP guard passed with the flag still on.
Now: matched by the database, and missing or ambiguous is never off, anywhere.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from cockpit.db import open_database
from cockpit.engine import guards
from cockpit.plan import load_plan
from cockpit.probes.database import DatabaseProbe
from cockpit.probes.flags import is_ambiguous, read_flags

from . import cli

UPDATE_SHOWN = "UPDATE `feature_flag` SET `enabled` = ? WHERE `flag_key` = ?  -- params ({value!r}, {key!r})"


def _root_flags(mariadb, database: str) -> list[tuple]:
    return [tuple(r) for r in mariadb.root_execute("SELECT flag_key, enabled FROM feature_flag ORDER BY id", database=database)]


@pytest.mark.mariadb
async def test_key_stored_in_another_case_with_trailing_space_is_read_and_switched(mariadb, mysql_sandbox, open_engine) -> None:
    stored = "Enable_Production_Dashboard "
    mariadb.root_execute(f"UPDATE feature_flag SET flag_key = '{stored}' WHERE flag_key = 'enable_production_dashboard'",
                         database=mysql_sandbox.database)
    engine = await open_engine(mysql_sandbox.config_path)
    assert await guards.live_flag_states(engine.db, engine.plan, ("enable_production_dashboard",)) == {"enable_production_dashboard": "on"}
    refused = await guards.flags_off_guard(engine.db, engine.plan, engine.plan.phase(10))
    assert not refused.ok and "enable_production_dashboard (on)" in refused.detail
    # the live probe's combined query matches the same way
    facts = await DatabaseProbe(engine.db).refresh(engine.plan)
    assert facts.flags["enable_production_dashboard"].state == "on"

    dry = await engine.dry_run(10, "flags-off")
    shown = UPDATE_SHOWN.format(value="0", key="enable_production_dashboard")
    assert shown in dry.text.splitlines(), dry.text
    outcome = await engine.execute(10, "flags-off")
    assert outcome.status == "done", outcome.message
    ran = [e.data.get("statement") for e in engine.events() if e.kind == "step_output" and e.data.get("statement")]
    assert ran == [shown]  # the journalled statement that ran is the one the dry-run showed
    assert (stored, 0) in _root_flags(mariadb, mysql_sandbox.database)  # the stored row itself, key untouched
    assert (await guards.flags_off_guard(engine.db, engine.plan, engine.plan.phase(10))).ok


@pytest.mark.mariadb
async def test_key_matching_two_rows_is_ambiguous_and_never_off(mariadb, mysql_sandbox, open_engine) -> None:
    db_name = mysql_sandbox.database
    index = mariadb.root_execute(
        "SELECT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'feature_flag' "
        "AND COLUMN_NAME = 'flag_key' AND NON_UNIQUE = 0", database=db_name)[0][0]
    mariadb.root_execute(f"ALTER TABLE feature_flag DROP INDEX `{index}`",
                         "INSERT INTO feature_flag (flag_key, enabled, updated_at) VALUES ('ENABLE_OEM_MODE', 0, NOW())",
                         database=db_name)
    before = _root_flags(mariadb, db_name)
    engine = await open_engine(mysql_sandbox.config_path)
    reading = (await read_flags(engine.db, engine.plan.flag_store, ["enable_oem_mode"]))["enable_oem_mode"]
    assert reading.state == "unknown" and is_ambiguous(reading)
    facts = await DatabaseProbe(engine.db).refresh(engine.plan)
    assert is_ambiguous(facts.flags["enable_oem_mode"])
    assert not guards._flags_all_off(await guards.live_flag_states(engine.db, engine.plan, ("enable_oem_mode",)))

    outcome = await engine.emergency_execute(confirm="EMERGENCY")
    assert outcome.status == "failed" and outcome.data["flags"]["enable_oem_mode"] == "ambiguous", outcome
    assert {k for k, v in outcome.data["flags"].items() if v != "off"} == {"enable_oem_mode"}
    after = _root_flags(mariadb, db_name)
    assert [r for r in after if r[0].lower() == "enable_oem_mode"] == [r for r in before if r[0].lower() == "enable_oem_mode"]
    failed = await engine.execute(8, "flags-off", override_reason="test: phases 10 and 9 left live")
    assert failed.status == "failed" and "more than one row" in failed.message, failed

    await engine.close()
    check = await asyncio.to_thread(cli.run, "check", "--config", str(mysql_sandbox.config_path))
    assert check.code == 3, check
    line = next(x for x in check.stdout.splitlines() if "flag store" in x)
    assert line.startswith("FAIL") and "ambiguous: enable_oem_mode (2 rows: 'enable_oem_mode', 'ENABLE_OEM_MODE')" in line, line


async def test_missing_flag_is_never_off(target_config, open_engine) -> None:
    """A plan flag with no row: the application's default applies, which may be on."""
    engine = await open_engine(target_config)
    await engine.db.execute("DELETE FROM feature_flag WHERE flag_key = ?", ("oem_shadow_run",))
    states = await guards.live_flag_states(engine.db, engine.plan, engine.plan.phase(8).flags)
    assert states["oem_shadow_run"] == "missing"
    guard = await guards.flags_off_guard(engine.db, engine.plan, engine.plan.phase(8))
    assert not guard.ok and "oem_shadow_run (missing)" in guard.detail
    outcome = await engine.emergency_execute(confirm="EMERGENCY")
    assert outcome.status == "failed" and outcome.data["flags"]["oem_shadow_run"] == "missing", outcome
    step = await engine.execute(8, "flags-off", override_reason="test: later phases left live")
    assert step.status == "failed" and "missing flag is not off" in step.message, step
    assert await engine.db.fetch_value("SELECT COUNT(*) FROM feature_flag WHERE flag_key = 'oem_shadow_run'") == 0  # never inserted
    # every other flag is off now, yet phase 8 does not count as rolled back for phase 7's order guard
    assert (await engine.execute(10, "cron-stop")).status == "done"
    assert not guards._flags_all_off(await guards.live_flag_states(engine.db, engine.plan, engine.plan.phase(8).flags))

    await engine.close()
    check = await asyncio.to_thread(cli.run, "check", "--config", str(target_config))
    assert check.code == 3, check
    assert "missing (not off: the application's default applies): oem_shadow_run" in check.stdout, check


async def test_dry_run_shows_the_statement_that_runs_in_the_columns_vocabulary(sandbox, open_engine) -> None:
    engine = await open_engine(sandbox)
    await engine.db.execute("UPDATE feature_flag SET enabled = 'True' WHERE flag_key = 'enable_production_dashboard'")
    shown = UPDATE_SHOWN.format(value="False", key="enable_production_dashboard")
    dry = await engine.dry_run(10, "flags-off")
    assert shown in dry.text.splitlines() and "= 0" not in dry.text, dry.text
    # the preview (cursor moving in the TUI) renders the same line from a snapshot, with no query
    queries = engine.db.queries
    facts = await DatabaseProbe(engine.db).refresh(engine.plan)
    phase10 = dataclasses.make_dataclass("P", [("id", int), ("flags", tuple)])(10, (facts.flags["enable_production_dashboard"],))
    snapshot = dataclasses.make_dataclass("S", [("phases", tuple)])((phase10,))
    queries = engine.db.queries
    preview = await engine.dry_run(10, "flags-off", preview=True, snapshot=snapshot)
    assert engine.db.queries == queries and shown in preview.text.splitlines(), preview.text
    nothing = await engine.dry_run(10, "flags-off", preview=True, snapshot=None)
    assert engine.db.queries == queries and "UPDATE" not in nothing.text

    assert (await engine.execute(10, "flags-off")).status == "done"
    ran = [e.data["statement"] for e in engine.events() if e.kind == "step_output" and "statement" in e.data]
    assert ran == [shown]
    assert await engine.db.fetch_value("SELECT enabled FROM feature_flag WHERE flag_key = 'enable_production_dashboard'") == "False"
    again = await engine.dry_run(10, "flags-off")
    assert "-- enable_production_dashboard: already off (reads 'False'), nothing to write" in again.text


async def test_emergency_dry_run_lists_each_write_with_its_parameters(target_config, open_engine) -> None:
    engine = await open_engine(target_config)
    dry = await engine.emergency_dry_run()
    for key in engine.plan.emergency.flags:
        assert UPDATE_SHOWN.format(value="0", key=key) in dry.text.splitlines(), dry.text


async def test_sql_flag_read_is_one_statement(target_config) -> None:
    plan = load_plan(target_config)
    async with open_database(plan.target) as db:
        before = db.queries
        readings = await read_flags(db, plan.flag_store, plan.all_flags)
        assert db.queries - before == 1 and {r.state for r in readings.values()} == {"on"}
