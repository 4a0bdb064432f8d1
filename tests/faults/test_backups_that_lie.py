"""A backup that cannot be restored must never unlock a DROP.

A real backup is taken (`cockpit run 10 backup --execute`, SQLite sandbox and MariaDB),
then the file is truncated, emptied, altered by one byte or deleted: the migration must
refuse (the recorded sha256/size no longer match, or the file is gone) and leave every
row in place. A dump tool that exits 0 but leaves a truncated file is not accepted as a
verified backup in the first place. An intact backup, last, does unlock the migration —
so the refusals above are about the file, not about something else.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from cockpit.engine.statements import quarantine_name
from cockpit.engine.steps.backup import BackupInvalid, verify_dump
from cockpit.journal import Journal
from cockpit.plan import load_plan

from . import cli

PHASE10 = tuple(quarantine_name(10, t) for t in ("mv_token_flow_summary", "mv_node_bottlenecks", "mv_team_workload",
                                                 "mv_cycle_time_analytics"))
WATCH = "drill: the watch is not what this test is about"


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle] = ord("X") if data[middle] != ord("X") else ord("Y")
    path.write_bytes(bytes(data))  # same size: only the hash can tell


def _delete(path: Path) -> None:
    path.unlink()


LIES = {"truncated": _truncate, "empty": _empty, "one-byte-changed": _flip_byte, "deleted": _delete}
EXPECTED = {"truncated": "changed since it was verified", "empty": "changed since it was verified",
            "one-byte-changed": "changed since it was verified", "deleted": "is missing"}


def _last_backup(plan) -> dict:
    journal = Journal(plan.paths.journal, plan.target.label, "inspector")
    try:
        return journal.events(kinds=["backup_verified"])[-1].data
    finally:
        journal.close()


async def _row_counts(engine) -> dict[str, int]:
    return {t: await engine.db.exact_count(t) for t in PHASE10}


async def test_a_lying_backup_never_unlocks_the_migration(target_config: Path, open_engine, clock) -> None:
    config = str(target_config)
    plan = load_plan(target_config)
    engine = await open_engine(target_config)
    for step in ("flags-off", "cron-stop", "quarantine"):
        assert (await engine.execute(10, step, confirm="10")).status == "done"
    rows = await _row_counts(engine)
    assert all(rows.values()), "phase 10 tables hold rows in the sandbox"
    await engine.close()  # the CLI takes the operator lock for the real backup

    # the first backup through the real CLI; the migration refuses once the file lies
    result = await asyncio.to_thread(cli.run, "run", "10", "backup", "--execute", "--config", config)
    assert result.code == 0, result
    backup = _last_backup(plan)
    assert Path(backup["path"]).stat().st_size == backup["size"] > 0
    _truncate(Path(backup["path"]))
    drop = await asyncio.to_thread(cli.run, "run", "10", "drop", "--execute", "--confirm", "10", "--override", WATCH, "--config", config)
    assert drop.code == 1, drop
    assert len(drop.stderr_lines) == 1 and "Traceback" not in drop.stderr
    assert "data" in drop.stderr and "changed since it was verified" in drop.stderr, drop

    # every other lie, through the engine (the clock moves so each backup has its own file)
    engine = await open_engine(target_config, operator="bob")
    for name, lie in LIES.items():
        clock.advance(60)
        outcome = await engine.execute(10, "backup")
        assert outcome.status == "done", (name, outcome)
        path = Path(_last_backup(plan)["path"])
        lie(path)
        refused = await engine.execute(10, "drop", confirm="10", override_reason=WATCH)
        assert refused.status == "refused" and refused.guard == "data", (name, refused)
        assert EXPECTED[name] in refused.message, (name, refused.message)
        assert await _row_counts(engine) == rows, f"{name}: rows were lost"

    # control: an intact backup, taken after the flags went off, unlocks the migration
    clock.advance(60)
    assert (await engine.execute(10, "backup")).status == "done"
    done = await engine.execute(10, "drop", confirm="10", override_reason=WATCH)
    assert done.status == "done", done
    facts = await engine.db.table_facts(PHASE10)
    assert not any(f.exists for f in facts.values())


@pytest.mark.mariadb
def test_a_dump_tool_that_exits_0_with_a_truncated_file_is_rejected(mysql_sandbox, tmp_path: Path) -> None:
    """A wrapper first in PATH runs the real mariadb-dump, then cuts its result file in
    half and exits 0, as a full disk or a killed pipe might: the step must fail and
    journal no `backup_verified`."""
    real = shutil.which("mariadb-dump") or shutil.which("mysqldump")
    assert real
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "mariadb-dump"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'"{real}" "$@" || exit $?\n'
        'for a in "$@"; do case "$a" in --result-file=*) f="${a#--result-file=}";; esac; done\n'
        'size=$(stat -c %s "$f"); truncate -s $((size / 2)) "$f"\n'
        "exit 0\n",
        encoding="utf-8",
    )
    wrapper.chmod(0o755)
    config = str(mysql_sandbox.config_path)
    plan = load_plan(mysql_sandbox.config_path)
    for step in ("flags-off", "cron-stop"):
        assert cli.run("run", "10", step, "--execute", "--config", config).code == 0
    assert cli.run("run", "10", "quarantine", "--execute", "--confirm", "10", "--config", config).code == 0
    result = cli.run("run", "10", "backup", "--execute", "--config", config,
                     env={"PATH": f"{bin_dir}:{os.environ['PATH']}"})
    assert result.code == 1, result
    assert len(result.stderr_lines) == 1 and "backup not accepted" in result.stderr, result
    journal = Journal(plan.paths.journal, plan.target.label, "inspector")
    try:
        assert journal.events(kinds=["backup_verified"]) == []
    finally:
        journal.close()


def test_verify_dump_rejects_what_cannot_be_restored(tmp_path: Path) -> None:
    tables = ("a_table", "b_table")
    good = tmp_path / "good.sql"
    good.write_text("CREATE TABLE `a_table` (id int);\nINSERT INTO `a_table` VALUES (1);\n"
                    "CREATE TABLE `b_table` (id int);\n-- Dump completed on 2025-11-11 10:00:00\n")
    size, digest = verify_dump(good, tables)
    assert size == good.stat().st_size and len(digest) == 64

    cases = {
        "empty": b"",
        "blank": b"\n\n  \n",
        "truncated": good.read_bytes()[: good.stat().st_size // 2],
        "no-completion-line": good.read_bytes().replace(b"-- Dump completed", b"-- Dump interrupted"),
        "missing-a-table": good.read_bytes().replace(b"CREATE TABLE `b_table`", b"CREATE VIEW `b_table`"),
    }
    for name, data in cases.items():
        path = tmp_path / f"{name}.sql"
        path.write_bytes(data)
        with pytest.raises(BackupInvalid):
            verify_dump(path, tables)
    with pytest.raises(BackupInvalid, match="unreadable"):
        verify_dump(tmp_path / "gone.sql", tables)
    with pytest.raises(BackupInvalid, match="unreadable"):
        verify_dump(tmp_path, tables)  # a directory where the dump should be
