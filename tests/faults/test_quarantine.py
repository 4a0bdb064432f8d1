"""The destructive path against a live, busy MariaDB: quarantine, backup verified by
restore, final drop after the watch, restore — each failure of issue 9 as a real race.

Every test drives the real engine against the session MariaDB with real writer threads
(their own pymysql connections), real processes and real option files.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cockpit.engine import state
from cockpit.engine.statements import quarantine_name

from .test_metadata_lock import _with_lock_wait

pytestmark = pytest.mark.mariadb

MV = ("mv_token_flow_summary", "mv_node_bottlenecks", "mv_team_workload", "mv_cycle_time_analytics")
Q = {t: quarantine_name(10, t) for t in MV}
DAY = 24 * 3600


async def roll(engine, phase: int, *steps: str, **kwargs) -> None:
    for step in steps:
        confirm = str(phase) if step in ("quarantine", "drop") else None
        outcome = await engine.execute(phase, step, confirm=confirm, **kwargs)
        assert outcome.status == "done", f"{phase}/{step}: {outcome.status} {outcome.message}"


def tables(mariadb, db: str) -> set[str]:
    return {r[0] for r in mariadb.root_execute("SHOW TABLES", database=db)}


class OpenWriter:
    """A production session that inserted a row and has not committed yet."""

    def __init__(self, mariadb, db: str, table: str = "mv_node_bottlenecks") -> None:
        self.conn = mariadb.root(db)
        self.conn.autocommit(False)
        with self.conn.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute(f"INSERT INTO `{table}` (node_id, node_name, queue_length, avg_wait_seconds, refreshed_at) "
                        "VALUES (4242, 'written during the rename', 1, 1.0, '2025-10-02 00:00:00')")

    def commit_after(self, seconds: float) -> threading.Thread:
        def later() -> None:
            time.sleep(seconds)
            self.conn.commit()
            self.conn.close()

        thread = threading.Thread(target=later, daemon=True)
        thread.start()
        return thread

    def rollback(self) -> None:
        try:
            self.conn.rollback()
        finally:
            self.conn.close()


async def test_full_flow_and_restore_on_mariadb(mariadb, mysql_sandbox, open_engine, clock) -> None:
    db = mysql_sandbox.database
    engine = await open_engine(mysql_sandbox.config_path)
    await roll(engine, 10, "flags-off", "cron-stop", "quarantine", "backup")
    assert not set(MV) & tables(mariadb, db) and set(Q.values()) <= tables(mariadb, db)
    refused = await engine.execute(10, "drop", confirm="10")
    assert refused.status == "refused" and refused.guard == "watch_window"
    await roll(engine, 10, "restore")
    assert set(MV) <= tables(mariadb, db)
    # phase 7: columns copied out under a write lock, and put back by restore
    await roll(engine, 7, "flags-off", "verify-stopped", "quarantine", "backup", override_reason="test")
    cols = {r[0] for r in mariadb.root_execute("SHOW COLUMNS FROM assignment_plan_node", database=db)}
    assert "priority" not in cols
    before = mariadb.root_execute(f"SELECT id, priority FROM `{quarantine_name(7, 'assignment_plan_node', 'priority')}` ORDER BY id", database=db)
    await roll(engine, 7, "restore")
    after = mariadb.root_execute("SELECT id, priority FROM assignment_plan_node ORDER BY id", database=db)
    assert list(after) == list(before) and len(after) == 20


async def test_a_writer_committing_during_the_rename_lands_in_the_quarantine(mariadb, mysql_sandbox, open_engine) -> None:
    """Failure 1, by construction: the RENAME waits for the writer's metadata lock; the
    writer commits inside that wait; its row is in the quarantined table, counted, and
    in the backup — nowhere is it lost."""
    db = mysql_sandbox.database
    config = _with_lock_wait(mysql_sandbox.config_path, 10)
    engine = await open_engine(config)
    await roll(engine, 10, "flags-off", "cron-stop")
    writer = OpenWriter(mariadb, db)
    committed = writer.commit_after(1.0)
    started = time.monotonic()
    outcome = await engine.execute(10, "quarantine", confirm="10")
    waited = time.monotonic() - started
    await asyncio.to_thread(committed.join, 10)
    assert outcome.status == "done", outcome
    assert waited >= 0.8, "the RENAME should have waited for the writer's open transaction"
    rows = mariadb.root_execute(f"SELECT node_name FROM `{Q['mv_node_bottlenecks']}` WHERE node_id = 4242", database=db)
    assert rows == (("written during the rename",),) or list(rows) == [("written during the rename",)]
    record = table_state(engine)
    assert record.counts[Q["mv_node_bottlenecks"]] == 13  # 12 seeded + the writer's
    await roll(engine, 10, "backup")
    backup = state.verified_backups(engine.events(), 10)[-1]
    assert backup.data["rows"][Q["mv_node_bottlenecks"]] == 13
    assert b"written during the rename" in Path(backup.data["path"]).read_bytes()


def table_state(engine):
    from cockpit.engine import table_guards

    phase = engine.plan.phase(10)
    return table_guards.q_state(engine.events(), phase, phase.step("quarantine"))


async def test_a_writer_still_open_after_the_lock_wait_leaves_everything_in_place(mariadb, mysql_sandbox, open_engine) -> None:
    db = mysql_sandbox.database
    engine = await open_engine(_with_lock_wait(mysql_sandbox.config_path, 1))
    await roll(engine, 10, "flags-off", "cron-stop")
    writer = OpenWriter(mariadb, db)
    try:
        outcome = await engine.execute(10, "quarantine", confirm="10")
    finally:
        writer.rollback()
    assert outcome.status == "failed" and outcome.guard == "lock_wait", outcome
    assert "held by" in outcome.message
    assert set(MV) <= tables(mariadb, db) and not set(Q.values()) & tables(mariadb, db), "RENAME is all or nothing"


@pytest.mark.parametrize("change", ["update", "delete-insert"])
async def test_count_neutral_changes_after_the_backup_refuse_the_final_drop(mariadb, mysql_sandbox, open_engine, clock, change) -> None:
    """Failure 2: an UPDATE, or a DELETE plus an INSERT, keeps the count; the checksum
    recorded at verification no longer matches, so the drop is refused, even with an override."""
    db = mysql_sandbox.database
    engine = await open_engine(mysql_sandbox.config_path)
    await roll(engine, 10, "flags-off", "cron-stop", "quarantine", "backup")
    table = Q["mv_team_workload"]
    if change == "update":
        mariadb.root_execute(f"UPDATE `{table}` SET open_tokens = open_tokens + 1 WHERE id = 1", database=db)
    else:
        mariadb.root_execute(f"DELETE FROM `{table}` WHERE id = 1",
                             f"INSERT INTO `{table}` (id, team_id, team_name, open_tokens, operators_online, refreshed_at) "
                             "VALUES (1000, 1, 'replaced', 1, 1, '2025-10-02 00:00:00')", database=db)
    assert mariadb.root_execute(f"SELECT COUNT(*) FROM `{table}`", database=db)[0][0] == 8
    clock.advance(DAY + 60)
    refused = await engine.execute(10, "drop", confirm="10", override_reason="try anyway")
    assert refused.status == "refused" and refused.guard == "data", refused
    assert table in refused.message and "checksum differs" in refused.message
    assert set(Q.values()) <= tables(mariadb, db), "nothing may be dropped"


async def test_an_operator_option_file_cannot_turn_off_the_rows(mariadb, mysql_sandbox, open_engine, tmp_path, monkeypatch) -> None:
    """Failure 3: `[mariadb-dump] no-data` in the operator's ~/.my.cnf. The dump runs with
    --defaults-file, so the file is never read and the rows are in the backup."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".my.cnf").write_text("[mariadb-dump]\nno-data\n[mysqldump]\nno-data\n[client]\nno-data-med\n", encoding="utf-8")
    (home / ".my.cnf").write_text("[mariadb-dump]\nno-data\n[mysqldump]\nno-data\n", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    # control: the option file really strips the rows when a tool reads it
    probe = subprocess.run(["mariadb-dump", f"--defaults-extra-file={mysql_sandbox.option_file}", f"--host={mariadb.host}",
                            f"--port={mariadb.port}", mysql_sandbox.database, "mv_team_workload"],
                           capture_output=True, text=True, env={**os.environ, "HOME": str(home)}, timeout=30)
    assert probe.returncode == 0 and "CREATE TABLE" in probe.stdout and "INSERT INTO" not in probe.stdout
    engine = await open_engine(mysql_sandbox.config_path)
    await roll(engine, 10, "flags-off", "cron-stop", "quarantine", "backup")
    backup = state.verified_backups(engine.events(), 10)[-1]
    text = Path(backup.data["path"]).read_text(encoding="utf-8")
    assert f"INSERT INTO `{Q['mv_team_workload']}`" in text
    assert backup.data["verified_by_restore"] and backup.data["rows"][Q["mv_team_workload"]] == 8
    path = Path(backup.data["path"])
    assert oct(path.stat().st_mode & 0o777) == oct(0o600) and oct(path.parent.stat().st_mode & 0o777) == oct(0o700)


async def test_a_dump_without_rows_is_rejected_by_the_restore(mariadb, mysql_sandbox, open_engine, tmp_path, monkeypatch) -> None:
    """A dump tool that drops the rows yet exits 0 with a well-formed file: only the
    restore-and-compare notices, and no backup_verified is journalled."""
    real = subprocess.run(["sh", "-c", "command -v mariadb-dump"], capture_output=True, text=True).stdout.strip()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "mariadb-dump"
    wrapper.write_text(f'#!/bin/sh\nfirst="$1"; shift\nexec "{real}" "$first" --no-data "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    engine = await open_engine(mysql_sandbox.config_path)
    await roll(engine, 10, "flags-off", "cron-stop", "quarantine")
    outcome = await engine.execute(10, "backup")
    assert outcome.status == "failed" and "restored dump differs" in outcome.message, outcome
    assert "24 rows in the source, 0 restored" in outcome.message
    assert state.verified_backups(engine.events(), 10) == []
    assert not list(Path(engine.plan.paths.backup_dir).glob("phase10-*"))


def _fake_cron_run(script: str) -> subprocess.Popen:
    """A real process whose command line runs the phase's cron script, as cron would;
    returned once the cockpit's own process probe sees it (not after a guessed delay)."""
    from cockpit.probes.processes import find_runs

    run = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", f"/var/www/app/cron/{script}"])
    deadline = time.monotonic() + 20
    while run.pid not in {r.pid for r in find_runs([script])[script]}:
        assert run.poll() is None and time.monotonic() < deadline, "the fake cron run never showed up"
        time.sleep(0.01)
    return run


def _private_script(config_path: Path) -> str:
    """This sandbox's copy of phase 10's cron script under a name of its own: the in-flight
    guard rightly sees every process on the host that runs the job's script, and other
    xdist workers run rollbacks of phase 10 at the same time."""
    script = f"refresh_dashboard_materialized_views_{os.getpid()}_{time.monotonic_ns()}.php"
    for path in (config_path, config_path.parent / "crontab"):
        path.write_text(path.read_text(encoding="utf-8").replace("refresh_dashboard_materialized_views.php", script), encoding="utf-8")
    return script


async def test_an_in_flight_job_blocks_the_drop_and_the_quarantine(mariadb, mysql_sandbox, open_engine, clock) -> None:
    """Failure 6: a run of the phase's own cron job is still going (started before the
    cron line was commented out)."""
    script = _private_script(mysql_sandbox.config_path)
    engine = await open_engine(mysql_sandbox.config_path)
    await roll(engine, 10, "flags-off", "cron-stop")
    run = _fake_cron_run(script)
    try:
        refused = await engine.execute(10, "quarantine", confirm="10")
        assert refused.status == "refused" and refused.guard == "in_flight", refused
        assert f"pid {run.pid}" in refused.message and "started" in refused.message
        dry = await engine.dry_run(10, "quarantine")
        assert any(g.name == "in_flight" and not g.ok for g in dry.guards)
        run.terminate()
        run.wait(10)
        await roll(engine, 10, "quarantine", "backup")
        clock.advance(DAY + 60)
        run = _fake_cron_run(script)
        refused = await engine.execute(10, "drop", confirm="10")
        assert refused.status == "refused" and refused.guard == "in_flight" and f"pid {run.pid}" in refused.message
        threading.Timer(0.5, run.terminate).start()
        done = await engine.execute(10, "drop", confirm="10", wait_s=10)
        assert done.status == "done", done
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()


async def test_flags_on_and_cron_start_refused_while_quarantined_or_dropped(target_config, open_engine, clock) -> None:
    """Failure 7: a feature turned back on against tables it cannot reach."""
    engine = await open_engine(target_config)
    await roll(engine, 10, "flags-off", "cron-stop", "quarantine", "backup")
    for step in ("flags-on", "cron-start"):
        refused = await engine.execute(10, step)
        assert refused.status == "refused" and "run `restore` first" in refused.message, refused
    views = {v.step.id: v for v in engine.step_views(10)}
    assert any("restore" in b for b in views["flags-on"].blocked_by)
    clock.advance(DAY + 60)
    await roll(engine, 10, "drop")
    refused = await engine.execute(10, "flags-on")
    assert refused.status == "refused" and "verified backup" in refused.message
    assert (await engine.execute(10, "restore")).status == "refused"


@pytest.mark.parametrize("step", ["quarantine", "drop"])
async def test_a_connection_killed_mid_ddl_reads_interrupted(mariadb, mysql_sandbox, open_engine, clock, step) -> None:
    """Failure 8: the cockpit's connection is KILLed while its RENAME/DROP waits for a
    metadata lock. Nobody knows from the client whether it ran: `interrupted — verify`,
    reconciled from the catalogue, and running the step again finishes the job."""
    db = mysql_sandbox.database
    engine = await open_engine(_with_lock_wait(mysql_sandbox.config_path, 20))
    await roll(engine, 10, "flags-off", "cron-stop")
    held = "mv_node_bottlenecks"
    if step == "drop":
        await roll(engine, 10, "quarantine", "backup")
        clock.advance(DAY + 60)
        held = Q["mv_cycle_time_analytics"]  # the first table the drop statement touches
    holder = mariadb.root(db)
    holder.autocommit(False)
    with holder.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute(f"SELECT * FROM `{held}` LIMIT 1")
        cur.fetchall()
    task = asyncio.create_task(engine.execute(10, step, confirm="10"))
    verb = "RENAME" if step == "quarantine" else "DROP"
    deadline = time.monotonic() + 15
    victim = None
    while victim is None and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        rows = mariadb.root_execute(f"SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE '%{verb} TABLE%' "
                                    "AND INFO NOT LIKE '%PROCESSLIST%'")
        victim = rows[0][0] if rows else None
    assert victim, f"the {verb} never showed up waiting"
    mariadb.root_execute(f"KILL CONNECTION {victim}")
    outcome = await task
    holder.rollback()
    holder.close()
    assert outcome.status == "interrupted", outcome
    assert "did not take effect" in outcome.message and "verify" in outcome.message
    view = next(v for v in engine.step_views(10) if v.step.id == step)
    assert view.label == "interrupted — verify"
    await roll(engine, 10, step)


def test_the_dump_dies_with_the_cockpit_and_its_option_file_is_swept(mariadb, mysql_sandbox, tmp_path) -> None:
    """A cockpit SIGKILLed mid-dump: the dump tool (own process group) is killed with it
    (PR_SET_PDEATHSIG), and the credential file it left in the private 0700 directory is
    removed by the next backup."""
    import signal

    import psutil

    from . import cli

    config = str(mysql_sandbox.config_path)
    for argv in (("flags-off",), ("cron-stop",), ("quarantine", "--confirm", "10")):
        assert cli.run("run", "10", argv[0], "--execute", *argv[1:], "--config", config).code == 0
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pid_file = tmp_path / "dump.pid"
    (bin_dir / "mariadb-dump").write_text(f'#!/bin/sh\necho $$ > "{pid_file}"\nexec sleep 60\n', encoding="utf-8")
    (bin_dir / "mariadb-dump").chmod(0o755)
    proc = cli.start("run", "10", "backup", "--execute", "--config", config, env={"PATH": f"{bin_dir}:{os.environ['PATH']}"})
    try:
        cli.wait_until(lambda: pid_file.exists() and pid_file.read_text().strip(), what="the dump to start")
        dump_pid = int(pid_file.read_text())
        child = psutil.Process(dump_pid)
        assert os.getpgid(dump_pid) != os.getpgid(proc.pid), "the dump runs in its own process group"
        assert "MYSQL_PWD" not in child.environ()
        private = Path(mysql_sandbox.config_path).parent / ".cockpit-private"
        left = list(private.iterdir())
        assert left and oct(private.stat().st_mode & 0o777) == oct(0o700)
        assert all(oct(p.stat().st_mode & 0o777) == oct(0o600) for p in left)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        cli.wait_until(lambda: not psutil.pid_exists(dump_pid) or psutil.Process(dump_pid).status() == psutil.STATUS_ZOMBIE,
                       timeout=5, what="the dump to die with the cockpit")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()
    assert left[0].exists(), "the killed cockpit could not clean up"
    again = cli.run("run", "10", "backup", "--execute", "--config", config)
    assert again.code == 0, again
    assert not left[0].exists() and not list(private.iterdir()), "the next run sweeps the private directory"


def test_kill_9_during_a_real_backup_of_100k_rows_leaves_no_dump_and_nothing_readable(mariadb, mysql_sandbox) -> None:
    """Issue 10: SIGKILL the cockpit while the real `mariadb-dump` (or the restore that
    verifies it) runs over 100k+ rows: the tool dies with the cockpit, nothing under the
    backup directory or the private directory is readable by anyone else, the credential
    file sits only in the owner-only private directory, and the next backup sweeps it."""
    import signal

    import psutil

    from . import cli

    root = mariadb.root(mysql_sandbox.database)
    with root.cursor() as cur:
        cur.execute("INSERT INTO mv_token_flow_summary (node_id, tokens_in, tokens_out, avg_wait_seconds, period_start, refreshed_at) "
                    "SELECT node_id, tokens_in, tokens_out, avg_wait_seconds, period_start, refreshed_at FROM mv_token_flow_summary")
        while True:  # doubling: 24 -> 196,608 rows in a few statements
            cur.execute("SELECT COUNT(*) FROM mv_token_flow_summary")
            if cur.fetchone()[0] >= 150_000:
                break
            cur.execute("INSERT INTO mv_token_flow_summary (node_id, tokens_in, tokens_out, avg_wait_seconds, period_start, refreshed_at) "
                        "SELECT node_id, tokens_in, tokens_out, avg_wait_seconds, period_start, refreshed_at FROM mv_token_flow_summary")
    root.commit()
    root.close()
    config = str(mysql_sandbox.config_path)
    for argv in (("flags-off",), ("cron-stop",), ("quarantine", "--confirm", "10")):
        assert cli.run("run", "10", argv[0], "--execute", *argv[1:], "--config", config).code == 0
    tools = ("mariadb-dump", "mysqldump", "mariadb", "mysql")
    proc = cli.start("run", "10", "backup", "--execute", "--config", config)
    try:
        parent = psutil.Process(proc.pid)

        def tool_running() -> list[psutil.Process]:
            try:
                return [c for c in parent.children(recursive=True) if c.name() in tools]
            except psutil.Error:
                return []

        children = cli.wait_until(tool_running, timeout=30, poll=0.005, what="the dump or restore tool to start")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        for child in children:
            cli.wait_until(lambda c=child: not psutil.pid_exists(c.pid) or c.status() == psutil.STATUS_ZOMBIE,
                           timeout=5, what=f"{child.pid} to die with the cockpit")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()
    folder = Path(mysql_sandbox.config_path).parent
    private = folder / ".cockpit-private"
    for top in (folder / "backups", private):
        if not top.exists():
            continue
        assert oct(top.stat().st_mode & 0o777) == oct(0o700), top
        for path in top.rglob("*"):
            assert path.stat().st_mode & 0o077 == 0, f"{path} is readable by others ({oct(path.stat().st_mode & 0o777)})"
    # nothing of ours in the shared temp directory (the old option file's prefix)
    leftovers = [p for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("cockpit-dump-*")]
    assert not leftovers, leftovers
    again = cli.run("run", "10", "backup", "--execute", "--config", config)
    assert again.code == 0, again
    assert not list(private.iterdir()), "the next run sweeps the private directory"
