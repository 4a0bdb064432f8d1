"""`cockpit backup-full` and the checklist's `b`: the full dump the before-checklist asks
for ("Backup database (full dump)"), on the SQLite sandbox and on the real MariaDB.

- the dry-run shows the exact command (the credential file as a placeholder) and the
  output path, and writes nothing (no backup directory, no journal);
- --execute makes a 0600 file in the 0700 backup directory, journals an intent then
  `full_backup_verified`, and the checklist's evidence then says "full dump";
- on MariaDB the dump holds every table's CREATE TABLE and rows, reads only the
  cockpit's option file (an operator's `[mariadb-dump] no-data` cannot empty it), and
  leaves no credential file behind;
- a read-only cockpit refuses; `b` in the TUI checklist runs it after a confirmation.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from cockpit.engine.evidence import Evidence, backup_scope
from cockpit.journal import Journal
from cockpit.plan import load_plan
from cockpit.tui.app import CockpitApp
from cockpit.tui.screens.confirm import ConfirmScreen
from tests.fixtures.cli import run
from tests.fixtures.tui import settle


def journal_events(plan):
    journal = Journal(plan.paths.journal, plan.target.label, "inspector")
    try:
        return list(journal.events())
    finally:
        journal.close()


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_dry_run_shows_the_command_and_path_and_writes_nothing(sandbox: Path, capsys) -> None:
    plan = load_plan(sandbox)
    before = sorted(p.name for p in sandbox.parent.iterdir())
    code, out, err = run(capsys, "backup-full", "--config", str(sandbox))
    assert code == 0, err
    assert "DRY RUN" in out and "sqlite3 online backup" in out and "integrity_check" in out
    assert f"output: {plan.paths.backup_dir}/full-" in out
    assert sorted(p.name for p in sandbox.parent.iterdir()) == before, "a dry-run writes nothing"
    assert not plan.paths.journal.exists() and not plan.paths.backup_dir.exists()


def test_an_acting_run_needs_the_config_named(tmp_path: Path, monkeypatch, capsys) -> None:
    shipped = Path(__file__).resolve().parents[1] / "phases.toml"
    (tmp_path / "phases.toml").write_text(shipped.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    code, _, err = run(capsys, "backup-full", "--execute")
    assert code == 2 and "no --config given" in err
    assert not (tmp_path / "backups").exists()


def test_execute_on_the_sandbox_makes_a_private_verified_copy(sandbox: Path, capsys) -> None:
    plan = load_plan(sandbox)
    code, out, err = run(capsys, "backup-full", "--config", str(sandbox), "--execute")
    assert code == 0, err
    events = journal_events(plan)
    kinds = [e.kind for e in events]
    assert kinds.index("full_backup_intent") < kinds.index("full_backup_verified")
    done = next(e for e in events if e.kind == "full_backup_verified")
    path = Path(done.data["path"])
    assert f"done: full dump verified: {path}" in out
    assert path.parent == plan.paths.backup_dir
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name], "no .partial, -wal or -shm left"
    assert done.data["size"] == path.stat().st_size and len(done.data["sha256"]) == 64
    copy = sqlite3.connect(path)
    try:
        names = {r[0] for r in copy.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")}
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        copy.close()
    assert set(plan.all_tables) <= names and done.data["tables"] == len(names)
    # the checklist's evidence for "Backup database (full dump)" now says which it is
    phase_dump_only = Evidence(True, "verified backup in journal")
    full = [e for e in events if e.kind == "full_backup_verified"]
    found = backup_scope(plan, 10, events, phase_dump_only, full)
    assert found.ok is True and found.text.startswith(f"full dump verified: {path} ({len(names)} tables, ")


def test_a_read_only_cockpit_refuses(sandbox: Path, capsys) -> None:
    """Another cockpit holds the operator lock: the full dump is refused, nothing written."""
    plan = load_plan(sandbox)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import asyncio,sys\n"
         "from cockpit.engine import Engine\nfrom cockpit.plan import load_plan\n"
         "async def main():\n"
         "    e = await Engine.open(load_plan(sys.argv[1]), operator='bob')\n"
         "    print('held', flush=True)\n"
         "    sys.stdin.readline()\n"
         "    await e.close()\n"
         "asyncio.run(main())\n", str(sandbox)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        code, _, err = run(capsys, "backup-full", "--config", str(sandbox), "--execute")
        assert code == 1 and "read-only" in err, err
    finally:
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=30)
    assert not plan.paths.backup_dir.exists() or not list(plan.paths.backup_dir.iterdir())
    assert "full_backup_intent" not in [e.kind for e in journal_events(plan)]


def test_mariadb_full_dump_has_every_table_and_ignores_the_operators_option_file(
        mariadb, mysql_sandbox, tmp_path, monkeypatch, capsys) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".my.cnf").write_text("[mariadb-dump]\nno-data\n[mysqldump]\nno-data\n", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    config = str(mysql_sandbox.config_path)
    code, out, err = run(capsys, "backup-full", "--config", config)
    assert code == 0, err
    assert "--defaults-file=<cockpit-written option file>" in out and mariadb.password not in out
    for flag in ("--single-transaction", "--routines", "--triggers", "--events"):
        assert flag in out
    plan = load_plan(mysql_sandbox.config_path)
    # without the EVENT privilege the dump fails: said in one line, journalled, no file kept
    code, out, err = run(capsys, "backup-full", "--config", config, "--execute")
    assert code == 1 and "Access denied" in err and "needs SELECT, SHOW VIEW, TRIGGER, EVENT" in err, err
    assert [e.kind for e in journal_events(plan) if e.kind.startswith("full_backup")] == ["full_backup_intent", "full_backup_failed"]
    assert not list(plan.paths.backup_dir.iterdir())
    for host in ("localhost", "127.0.0.1", "%"):
        # a database-level row replaces the wildcard one for this database: grant it all
        mariadb.root_execute(f"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, LOCK TABLES, SHOW VIEW, TRIGGER, "
                             f"EVENT ON `{mysql_sandbox.database}`.* TO '{mariadb.user}'@'{host}'")
    code, out, err = run(capsys, "backup-full", "--config", config, "--execute")
    assert code == 0, err
    done = next(e for e in journal_events(plan) if e.kind == "full_backup_verified")
    path = Path(done.data["path"])
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    text = path.read_text(encoding="utf-8")
    db = mysql_sandbox.database
    tables = [r[0] for r in mariadb.root_execute(
        f"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{db}' AND TABLE_TYPE = 'BASE TABLE'")]
    counts = {t: mariadb.root_execute(f"SELECT COUNT(*) FROM `{t}`", database=db)[0][0] for t in tables}
    assert set(plan.all_tables) <= set(tables) and done.data["tables"] == len(tables)
    for table in tables:
        assert f"CREATE TABLE `{table}`" in text, table
        if counts[table]:
            assert f"INSERT INTO `{table}`" in text, f"{table}: rows missing ({counts[table]} in the source)"
    assert sum(counts.values()) > 0
    assert text.rstrip().splitlines()[-1].startswith("-- Dump completed")
    assert mariadb.password not in text
    private = plan.paths.journal.parent / ".cockpit-private"
    assert not list(private.iterdir()), "the credential file is removed after use"
    assert mode(private) == 0o700


async def test_b_in_the_checklist_runs_the_full_dump(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    app = CockpitApp(plan, operator="alice", auto_refresh=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert "no verified backup yet" in app.screen._details["before:backup"]
        await pilot.press("b")
        for _ in range(500):  # the worker waits on its dialog (settle() knows only the step groups)
            if isinstance(app.screen, ConfirmScreen):
                break
            await pilot.pause(0.02)
        assert isinstance(app.screen, ConfirmScreen)
        assert "sqlite3 online backup" in app.screen.body and str(plan.paths.backup_dir) in app.screen.body
        assert not plan.paths.backup_dir.exists(), "nothing runs before the confirmation"
        await pilot.press("y")
        await settle(pilot)
        await pilot.pause()
        detail = app.screen._details["before:backup"]
        assert "full dump verified: " in detail and "tables" in detail, detail
    dumps = list(plan.paths.backup_dir.iterdir())
    assert len(dumps) == 1 and mode(dumps[0]) == 0o600


async def test_b_is_refused_in_a_read_only_cockpit(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    app = CockpitApp(plan, operator="alice", auto_refresh=False, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
    assert not plan.paths.backup_dir.exists()


def test_a_mariadb_dump_without_rows_is_refused(mariadb, mysql_sandbox, tmp_path, monkeypatch, capsys) -> None:
    """A dump tool that exits 0 with a well-formed file but no rows: the full dump is not
    accepted (each table that holds rows must have an INSERT), and no file is kept."""
    for host in ("localhost", "127.0.0.1", "%"):
        mariadb.root_execute(f"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, LOCK TABLES, SHOW VIEW, TRIGGER, "
                             f"EVENT ON `{mysql_sandbox.database}`.* TO '{mariadb.user}'@'{host}'")
    real = subprocess.run(["sh", "-c", "command -v mariadb-dump"], capture_output=True, text=True).stdout.strip()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "mariadb-dump"
    wrapper.write_text(f'#!/bin/sh\nfirst="$1"; shift\nexec "{real}" "$first" --no-data "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    code, _, err = run(capsys, "backup-full", "--config", str(mysql_sandbox.config_path), "--execute")
    assert code == 1 and "has no rows for" in err, err
    plan = load_plan(mysql_sandbox.config_path)
    assert "full_backup_verified" not in [e.kind for e in journal_events(plan)]
    assert not list(plan.paths.backup_dir.iterdir())
