"""The engine's guards against a real sandbox: SQLite and MariaDB, same tests."""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from cockpit.engine import EngineRefused, state
from cockpit.engine.confirm import confirm_token
from cockpit.engine.statements import quarantine_name
from cockpit.engine.steps.backup import BackupInvalid, verify_dump
from cockpit.probes.flags import read_flags
from tests.fixtures.engine import set_flag_raw


async def roll(engine, phase: int, *steps: str, **kwargs) -> None:
    for step in steps:
        confirm = confirm_token(engine.plan.phase(phase), engine.plan.phase(phase).step(step)) if step in ("quarantine", "drop") else None
        outcome = await engine.execute(phase, step, confirm=confirm, **kwargs)
        assert outcome.status == "done", f"{phase}/{step}: {outcome.message}"


async def tables_exist(engine, tables) -> dict[str, bool]:
    facts = await engine.db.table_facts(tables)
    return {t: facts[t].exists for t in tables}


MV = ("mv_token_flow_summary", "mv_node_bottlenecks", "mv_team_workload", "mv_cycle_time_analytics")


DAY = 24 * 3600
QV = tuple(quarantine_name(10, t) for t in MV)


async def test_quarantine_refused_while_a_flag_is_on(target_config, open_engine):
    engine = await open_engine(target_config)
    await roll(engine, 10, "flags-off", "cron-stop")
    await set_flag_raw(engine, "enable_production_dashboard", 1)  # someone turned it back on
    outcome = await engine.execute(10, "quarantine", confirm="10")
    assert outcome.status == "refused" and outcome.guard == "flags_off"
    assert "enable_production_dashboard" in outcome.message
    assert all((await tables_exist(engine, MV)).values())
    assert state.step_record(engine.events(), 10, "quarantine").status == "refused"


async def test_final_drop_refused_while_a_quarantined_table_has_rows_and_no_backup(target_config, open_engine, clock):
    engine = await open_engine(target_config)
    await roll(engine, 10, "flags-off", "cron-stop", "quarantine")
    clock.advance(DAY + 60)
    outcome = await engine.execute(10, "drop", confirm="10", override_reason="never overrides data")
    assert outcome.status == "refused" and outcome.guard == "data"
    assert f"{quarantine_name(10, 'mv_token_flow_summary')} has" in outcome.message
    assert await engine.db.exact_count(quarantine_name(10, "mv_token_flow_summary")) > 0


async def test_destructive_steps_need_the_typed_confirmation(target_config, open_engine):
    engine = await open_engine(target_config)
    for step in ("quarantine", "drop"):
        outcome = await engine.execute(10, step)
        assert outcome.status == "refused" and outcome.guard == "confirm"
        assert (await engine.dry_run(10, step)).confirm_token == "10"


async def test_final_drop_allowed_after_a_verified_backup_and_the_watch(target_config, open_engine, clock):
    engine = await open_engine(target_config)
    rows = await engine.db.exact_count("mv_cycle_time_analytics")
    await roll(engine, 10, "flags-off", "cron-stop", "quarantine", "backup")
    backup = state.verified_backups(engine.events(), 10)[-1]
    assert Path(backup.data["path"]).is_file() and backup.data["verified_by_restore"] is True
    dry = await engine.dry_run(10, "drop")
    assert f"DROP TABLE `{quarantine_name(10, 'mv_cycle_time_analytics')}`;" in dry.text
    assert [g.name for g in dry.guards if not g.ok] == ["watch_window"]
    clock.advance(DAY + 60)
    outcome = await engine.execute(10, "drop", confirm="10")
    assert outcome.status == "done", outcome.message
    assert not any((await tables_exist(engine, (*MV, *QV))).values())
    assert state.drop_counts(engine.events(), 10)["mv_cycle_time_analytics"] == rows > 0


async def test_a_backup_needs_the_quarantine_first(target_config, open_engine):
    """A dump of live tables could miss rows written after it: the backup is taken from
    the quarantined, frozen tables only."""
    engine = await open_engine(target_config)
    await roll(engine, 10, "flags-off", "cron-stop")
    outcome = await engine.execute(10, "backup")
    assert outcome.status == "refused" and "run quarantine first" in outcome.message


async def test_a_backup_changed_after_verification_is_not_trusted(target_config, open_engine, clock):
    engine = await open_engine(target_config)
    await roll(engine, 10, "flags-off", "cron-stop", "quarantine", "backup")
    path = Path(state.verified_backups(engine.events(), 10)[-1].data["path"])
    text = path.read_text()
    path.write_text(text[: len(text) // 2])  # truncated on disk after the fact
    clock.advance(DAY + 60)
    outcome = await engine.execute(10, "drop", confirm="10")
    assert outcome.status == "refused" and "changed since it was verified" in outcome.message
    assert all((await tables_exist(engine, QV)).values())


async def test_rows_written_after_the_backup_refuse_the_drop(target_config, open_engine, clock):
    """Someone writes into a quarantined table after the dump: the backup no longer holds
    what would be dropped. A new backup covers it."""
    engine = await open_engine(target_config)
    await roll(engine, 10, "flags-off", "cron-stop", "quarantine", "backup")
    await engine.db.execute(
        f"INSERT INTO `{quarantine_name(10, 'mv_team_workload')}` (team_id, team_name, open_tokens, operators_online, refreshed_at) "
        "VALUES (?, ?, ?, ?, ?)", (99, "late writer", 1, 1, "2025-11-01 00:00:00"),
    )
    clock.advance(DAY + 60)
    outcome = await engine.execute(10, "drop", confirm="10")
    assert outcome.status == "refused" and "8 -> 9 rows" in outcome.message
    assert all((await tables_exist(engine, QV)).values())
    await roll(engine, 10, "backup")
    assert (await engine.execute(10, "drop", confirm="10")).status == "done"


async def test_final_drop_allowed_on_empty_tables_phase_9_without_a_backup(target_config, open_engine, clock):
    engine = await open_engine(target_config)
    await roll(engine, 10, "flags-off", "cron-stop")
    await roll(engine, 9, "flags-off", "cron-stop", "quarantine")
    clock.advance(DAY + 60)
    outcome = await engine.execute(9, "drop", confirm="9:people_operator_cache,people_team_cache,people_availability_cache")
    assert outcome.status == "done", outcome.message
    assert "every table was empty" in outcome.message
    assert not any((await tables_exist(engine, ("people_sync_error_log", "people_masking_policy"))).values())
    assert not any(state.drop_counts(engine.events(), 9).values())


async def test_reverse_order_refusal_and_journalled_override(target_config, open_engine):
    engine = await open_engine(target_config)
    refused = await engine.execute(9, "flags-off")
    assert refused.status == "refused" and refused.guard == "order" and "10" in refused.message
    flags = await read_flags(engine.db, engine.plan.flag_store, ["enable_people_integration_readonly"])
    assert flags["enable_people_integration_readonly"].state == "on"
    done = await engine.execute(9, "flags-off", override_reason="phase 9 sync is corrupting operator data")
    assert done.status == "done", done.message
    overrides = [e for e in engine.events(9) if e.kind == "override"]
    assert overrides and overrides[0].data["reason"] == "phase 9 sync is corrupting operator data"
    assert overrides[0].operator == "alice"


async def test_crontab_changed_between_read_and_write_is_left_untouched(target_config, open_engine):
    engine = await open_engine(target_config)
    await roll(engine, 10, "flags-off")
    dry = await engine.dry_run(10, "cron-stop")
    assert "refresh_dashboard_materialized_views.php" in dry.text
    crontab = engine.plan.cron_source.path
    changed = crontab.read_text() + "\n15 3 * * * /usr/local/bin/colleague.sh\n"
    crontab.write_text(changed)
    outcome = await engine.execute(10, "cron-stop")
    assert outcome.status == "refused" and outcome.guard == "crontab_changed"
    assert crontab.read_text() == changed
    again = await engine.execute(10, "cron-stop")  # re-planned on the new text: applies
    assert again.status == "done", again.message
    assert "colleague.sh" in crontab.read_text() and "# rollback-cockpit" in crontab.read_text()


async def test_two_cockpits_second_is_read_only(target_config, open_engine):
    first = await open_engine(target_config, operator="alice")
    second = await open_engine(target_config, operator="bob")
    assert not first.read_only and second.read_only
    assert "alice" in second.read_only_reason
    outcome = await second.execute(10, "flags-off")
    assert outcome.status == "refused" and outcome.guard == "read_only" and "alice" in outcome.message
    with pytest.raises(EngineRefused):
        second.tick(10, "before", "backup", True)
    assert not any(e.kind == "step_intent" for e in first.events())
    await first.close()
    third = await open_engine(target_config, operator="carol")
    assert not third.read_only


@pytest.mark.mariadb
async def test_server_lock_covers_a_second_bastion(mysql_sandbox, open_engine, tmp_path):
    from cockpit.plan import load_plan

    plan = load_plan(mysql_sandbox.config_path)
    first = await open_engine(plan, operator="alice")
    elsewhere = replace(plan, paths=replace(plan.paths, journal=tmp_path / "other-bastion.sqlite3"))
    second = await open_engine(elsewhere, operator="bob")
    assert not first.read_only and second.read_only
    assert "GET_LOCK" in second.read_only_reason or "rollback-cockpit:" in second.read_only_reason


async def test_emergency_turns_every_flag_off_and_journals_each(target_config, open_engine):
    engine = await open_engine(target_config)
    dry = await engine.emergency_dry_run()
    assert dry.confirm_token == "EMERGENCY" and "enable_oem_mode" in dry.text
    assert (await engine.emergency_execute(confirm="yes")).status == "refused"
    outcome = await engine.emergency_execute(confirm="EMERGENCY")
    assert outcome.status == "done", outcome.message
    flags = await read_flags(engine.db, engine.plan.flag_store, engine.plan.emergency.flags)
    assert {r.state for r in flags.values()} <= {"off"}
    result = [e for e in engine.events() if e.kind == "emergency_outcome"][-1]
    assert set(result.data["flags"]) == set(engine.plan.emergency.flags)
    # every flag off is not yet "rolled back": phase 10's refresh cron still runs
    blocked = await engine.dry_run(9, "flags-off")
    assert blocked.would_refuse is True and "10" in next(g.detail for g in blocked.guards if g.name == "order")
    assert (await engine.execute(10, "cron-stop")).status == "done"
    # with every flag off and phase 10's jobs stopped, phase 9 may start
    assert (await engine.dry_run(9, "flags-off")).would_refuse is False


def test_verify_dump_rejects_lies(tmp_path):
    good = tmp_path / "good.sql"
    good.write_text("CREATE TABLE `t` (\n id int\n);\nINSERT INTO `t` VALUES (1);\n-- Dump completed on 2025-11-11\n")
    size, digest = verify_dump(good, ("t",))
    assert size == good.stat().st_size and len(digest) == 64
    empty = tmp_path / "empty.sql"
    empty.write_text("")
    with pytest.raises(BackupInvalid, match="empty"):
        verify_dump(empty, ("t",))
    truncated = tmp_path / "truncated.sql"
    truncated.write_text(good.read_text()[:40])
    with pytest.raises(BackupInvalid, match="truncated"):
        verify_dump(truncated, ("t",))
    with pytest.raises(BackupInvalid, match="lacks CREATE TABLE for u"):
        verify_dump(good, ("t", "u"))
    with pytest.raises(BackupInvalid, match="unreadable"):
        verify_dump(tmp_path / "missing.sql", ("t",))


@pytest.mark.mariadb
async def test_a_dump_tool_that_lies_is_not_accepted(mysql_sandbox, open_engine, tmp_path, monkeypatch):
    """A mariadb-dump that exits 0 but writes a truncated file: the step fails, no backup counts."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "mariadb-dump"
    fake.write_text(
        "#!/bin/sh\nfor a in \"$@\"; do case $a in --result-file=*) out=${a#--result-file=};; esac; done\n"
        "printf 'CREATE TABLE `mv_token_flow_summary` (\\n' > \"$out\"\nexit 0\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    engine = await open_engine(mysql_sandbox.config_path)
    await roll(engine, 10, "flags-off", "cron-stop", "quarantine")
    outcome = await engine.execute(10, "backup")
    assert outcome.status == "failed" and "not accepted" in outcome.message
    assert state.verified_backups(engine.events()) == []
    assert (await engine.execute(10, "drop", confirm="10", override_reason="skip the watch")).guard == "data"


@pytest.mark.mariadb
async def test_real_dump_keeps_credentials_off_the_command_line(mysql_sandbox, open_engine):
    engine = await open_engine(mysql_sandbox.config_path)
    await roll(engine, 10, "flags-off", "cron-stop", "quarantine")
    dry = await engine.dry_run(10, "backup")
    assert engine.db.settings.password not in dry.text and "--single-transaction" in dry.text
    assert "--defaults-file=" in dry.text and "--defaults-extra-file" not in dry.text
    await roll(engine, 10, "backup")
    event = state.verified_backups(engine.events())[-1]
    assert "-- Dump completed" in Path(event.data["path"]).read_text()
    journal_text = Path(engine.plan.paths.journal).read_bytes()
    assert engine.db.settings.password.encode() not in journal_text


async def test_abort_turns_the_phase_back_on_and_restores_cron(target_config, open_engine):
    """"Feature flags are safer than code rollback (can re-enable quickly)": every phase
    can be undone, in forward order, and an undone phase cannot be migrated."""
    engine = await open_engine(target_config)
    crontab = engine.plan.cron_source.path
    original = crontab.read_text()
    await roll(engine, 10, "flags-off", "cron-stop")
    await roll(engine, 9, "flags-off", "cron-stop")
    refused = await engine.execute(10, "flags-on")
    assert refused.status == "refused" and refused.guard == "order" and "9" in refused.message
    await roll(engine, 9, "flags-on", "cron-start")
    await roll(engine, 10, "flags-on", "cron-start")
    flags = await read_flags(engine.db, engine.plan.flag_store, ("enable_production_dashboard", "enable_people_integration_readonly"))
    assert {r.state for r in flags.values()} == {"on"}
    assert crontab.read_text() == original  # byte for byte
    assert not state.journal_rolled_back(engine.events(), engine.plan.phase(10))
    blocked = await engine.dry_run(10, "quarantine")
    assert blocked.would_refuse and any(g.name == "prerequisites" and not g.ok for g in blocked.guards)
    from cockpit.report import issues

    assert any("rollback undone by" in line for line in issues(engine.events(), engine.plan.phase(10)))


async def test_restore_refused_while_a_table_of_that_name_exists_again(target_config, open_engine):
    """Nothing is ever renamed over production's data: the app re-created a table after
    the quarantine, so the restore refuses and names it; once it is gone, all come back."""
    engine = await open_engine(target_config)
    await roll(engine, 10, "flags-off", "cron-stop", "quarantine")
    await engine.db.execute("CREATE TABLE `mv_team_workload` (id INTEGER PRIMARY KEY)")
    refused = await engine.execute(10, "restore")
    assert refused.status == "refused" and refused.guard == "tables" and "mv_team_workload" in refused.message
    assert all((await tables_exist(engine, QV)).values())
    await engine.db.execute("DROP TABLE `mv_team_workload`")
    await roll(engine, 10, "restore")
    assert all((await tables_exist(engine, MV)).values()) and not any((await tables_exist(engine, QV)).values())
    await roll(engine, 10, "flags-on")  # the tables are back: the feature may come back


async def test_activity_check_on_a_quarantined_table_passes(sandbox, open_engine):
    engine = await open_engine(sandbox)
    await roll(engine, 10, "flags-off", "cron-stop")
    await roll(engine, 9, "flags-off", "cron-stop")
    await roll(engine, 8, "flags-off", "quarantine")
    outcome = await engine.execute(8, "verify-stopped")
    assert outcome.status == "done" and "no table, no writes" in outcome.message


def test_steps_json_shows_guard_inputs_and_why_blocked(sandbox):
    from tests.faults import cli

    for step in ("flags-off", "cron-stop"):
        assert cli.run("run", "10", step, "--execute", "--config", str(sandbox)).code == 0
    assert cli.run("run", "10", "quarantine", "--execute", "--confirm", "10", "--config", str(sandbox)).code == 0
    steps = {s["id"]: s for s in cli.run("steps", "10", "--json", "--config", str(sandbox)).json()["steps"]}
    drop = steps["drop"]
    assert drop["status"] == "blocked" and drop["destructive"]
    assert any(b.startswith("watch_window:") for b in drop["blocked_by"])
    assert any(b.startswith("data:") and "no backup verified by restore" in b for b in drop["blocked_by"])
    inputs = drop["guard_inputs"]
    assert inputs["source"] == "snapshot" and inputs["quarantine"] == "quarantined"
    assert inputs["counts"][quarantine_name(10, "mv_team_workload")] == 8
    assert inputs["present"]["mv_team_workload"] is False
    assert steps["flags-on"]["status"] == "blocked" and "restore" in steps["flags-on"]["blocked_by"][0]


async def test_preview_reads_no_backup_file_the_execution_rehashes_it(sandbox, open_engine, clock, monkeypatch):
    """Browsing never hashes a backup (it can be gigabytes, and the step list redraws
    every refresh); running the final drop hashes it right then."""
    import cockpit.engine.guards as guard_module

    engine = await open_engine(sandbox)
    await roll(engine, 10, "flags-off", "cron-stop", "quarantine", "backup")
    clock.advance(DAY + 60)
    hashed: list[str] = []
    real = guard_module.sha256_of
    monkeypatch.setattr(guard_module, "sha256_of", lambda path: hashed.append(str(path)) or real(path))
    views = {v.step.id: v for v in engine.step_views(10)}
    preview = await engine.dry_run(10, "drop", preview=True)
    assert views["drop"].blocked_by == () and not preview.would_refuse and hashed == []
    Path(state.verified_backups(engine.events(), 10)[-1].data["path"]).write_text("gone")
    assert not (await engine.dry_run(10, "drop", preview=True)).would_refuse and hashed == []  # as recorded
    live = await engine.dry_run(10, "drop")
    assert live.would_refuse and hashed and any("changed since it was verified" in g.detail for g in live.guards)
