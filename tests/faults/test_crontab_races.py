"""The crontab moves under the cockpit, or cannot be written: nothing is lost.

Races: a colleague edits the crontab between the cockpit reading it (the dry-run / the
guard) and writing it. The cockpit must refuse, write nothing and keep the colleague's
edit. Unwritable: the file is immutable (chattr +i, which stops even root) or the disk
"fills" mid-write (RLIMIT_FSIZE): a clear refusal, the original byte-for-byte intact,
no half-written or temporary file left next to it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cockpit.cron import CronChanged, CronError
from cockpit.cron.edit import apply, plan_stop
from cockpit.cron.scan import MARKER_TAG
from cockpit.faults import ENV as FAULT_ENV
from cockpit.faults import READY_ENV
from cockpit.journal import Journal
from cockpit.plan import load_plan

from . import cli

COLLEAGUE_LINE = "30 2 * * * /usr/local/bin/colleague-hotfix.sh # added by bob during the incident"


def _crontab(plan) -> Path:
    return Path(plan.cron_source.path)


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".cockpit-tmp"))


def _outcomes(plan, phase: int, step: str) -> list[dict]:
    journal = Journal(plan.paths.journal, plan.target.label, "reader")
    try:
        return [e.data for e in journal.events(phase, kinds=["step_outcome"]) if e.step == step]
    finally:
        journal.close()


def _chattr(path: Path, flag: str) -> bool:
    if shutil.which("chattr") is None:
        return False
    return subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode == 0


# -- through cockpit/cron/edit.py ----------------------------------------------------------
def test_change_between_plan_and_apply_is_refused_and_the_other_edit_kept(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    path = _crontab(plan)
    change = plan_stop(plan, plan.phase(10))
    assert change.edits, "phase 10's job must be enabled in a fresh sandbox"

    theirs = path.read_text() + COLLEAGUE_LINE + "\n"
    path.write_text(theirs)

    with pytest.raises(CronChanged) as caught:
        apply(change, plan.paths.backup_dir)
    message = str(caught.value)
    assert "\n" not in message and "changed since" in message and "nothing written" in message
    assert path.read_text() == theirs
    assert MARKER_TAG not in path.read_text()
    backups = plan.paths.backup_dir
    assert not backups.exists() or not any(backups.iterdir()), "a refused change must not leave a misleading backup"
    assert _leftovers(path.parent) == []

    # planning again sees the colleague's line and keeps it
    result = apply(plan_stop(plan, plan.phase(10)), plan.paths.backup_dir)
    text = path.read_text()
    assert result.written and COLLEAGUE_LINE in text and text.count(MARKER_TAG) == 1
    assert result.backup_path.read_text() == theirs


def test_immutable_crontab_is_refused_with_the_original_intact(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    path = _crontab(plan)
    original = path.read_bytes()
    change = plan_stop(plan, plan.phase(10))
    if not _chattr(path, "+i"):
        pytest.skip("chattr +i is not supported on this filesystem")
    try:
        with pytest.raises(CronError) as caught:
            apply(change, plan.paths.backup_dir)
    finally:
        _chattr(path, "-i")
    message = str(caught.value)
    assert not isinstance(caught.value, CronChanged)
    assert "\n" not in message and str(path) in message and "original left intact" in message
    assert path.read_bytes() == original
    assert _leftovers(path.parent) == []
    # the backup taken before the write holds exactly the original
    backups = list(plan.paths.backup_dir.glob("crontab-*"))
    assert [b.read_bytes() for b in backups] == [original]


def test_disk_full_mid_write_leaves_no_partial_file(sandbox: Path) -> None:
    """RLIMIT_FSIZE makes the write of the new text fail part-way (EFBIG), as a full
    disk would, while the (shorter) backup of the original still fits."""
    plan = load_plan(sandbox)
    path = _crontab(plan)
    original = path.read_bytes()
    script = textwrap.dedent(f"""
        import resource, sys
        from cockpit.cron.edit import apply, plan_stop
        from cockpit.cron.errors import CronError
        from cockpit.plan import load_plan
        plan = load_plan({str(sandbox)!r})
        change = plan_stop(plan, plan.phase(10))
        assert len(change.new_text.encode()) > {len(original)}
        resource.setrlimit(resource.RLIMIT_FSIZE, ({len(original)}, {len(original)}))
        try:
            apply(change, plan.paths.backup_dir)
        except CronError as exc:
            print(exc)
            sys.exit(7)
        sys.exit(0)
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=cli.ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 7, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "cannot write crontab file" in proc.stdout and "original left intact" in proc.stdout
    assert path.read_bytes() == original
    assert _leftovers(path.parent) == []


# -- through the real CLI ------------------------------------------------------------------
def test_cli_cron_stop_refuses_when_the_crontab_moves_after_its_guard(sandbox: Path) -> None:
    """The named fault point right after the intent holds the cockpit (the change is
    already planned); a colleague edits the crontab then, and only then is the cockpit
    released (no timer to race); the write must be refused."""
    plan = load_plan(sandbox)
    path = _crontab(plan)
    held = sandbox.parent / "held-after-intent"
    proc = cli.start("run", "10", "cron-stop", "--execute", "--config", str(sandbox),
                     env={FAULT_ENV: "step.after_intent:hold", READY_ENV: str(held)})
    try:
        cli.wait_until(held.exists, what="the cockpit held right after the step intent")
        assert _intents(plan)
        theirs = path.read_text() + COLLEAGUE_LINE + "\n"
        path.write_text(theirs)
        held.unlink()  # release it
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, (out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "changed since" in lines[0] and "Traceback" not in err, err
    assert path.read_text() == theirs
    assert [o["status"] for o in _outcomes(plan, 10, "cron-stop")] == ["refused"]

    again = cli.run("run", "10", "cron-stop", "--execute", "--config", str(sandbox))
    assert again.code == 0, again
    text = path.read_text()
    assert COLLEAGUE_LINE in text and text.count(MARKER_TAG) == 1
    steps = cli.run("steps", "10", "--json", "--config", str(sandbox))
    assert next(s for s in steps.json()["steps"] if s["id"] == "cron-stop")["status"] == "done"


def test_cli_cron_stop_on_an_immutable_crontab_fails_cleanly(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    path = _crontab(plan)
    original = path.read_bytes()
    if not _chattr(path, "+i"):
        pytest.skip("chattr +i is not supported on this filesystem")
    try:
        result = cli.run("run", "10", "cron-stop", "--execute", "--config", str(sandbox))
    finally:
        _chattr(path, "-i")
    assert result.code == 1, result
    assert len(result.stderr_lines) == 1 and "Traceback" not in result.stderr, result
    assert "cannot write crontab file" in result.stderr and "original left intact" in result.stderr
    assert path.read_bytes() == original
    assert _leftovers(path.parent) == []
    assert [o["status"] for o in _outcomes(plan, 10, "cron-stop")] == ["failed"]

    retry = cli.run("run", "10", "cron-stop", "--execute", "--config", str(sandbox))
    assert retry.code == 0, retry
    assert path.read_text().count(MARKER_TAG) == 1


def _intents(plan) -> bool:
    journal = Journal(plan.paths.journal, plan.target.label, "reader")
    try:
        return bool(journal.events(kinds=["step_intent"]))
    finally:
        journal.close()


def test_a_crashed_writers_temp_file_is_swept_by_the_next_write(sandbox: Path) -> None:
    """kill -9 between the temp file and the rename leaves `.crontab.<pid>.*.cockpit-tmp`;
    the next write removes it when that pid is dead, and never touches a live writer's."""
    plan = load_plan(sandbox)
    path = _crontab(plan)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = path.parent / f".{path.name}.{dead.pid}.abc123.cockpit-tmp"
    live = path.parent / f".{path.name}.{os.getpid()}.def456.cockpit-tmp"
    stale.write_text("half a crontab")
    live.write_text("a write in progress")
    try:
        apply(plan_stop(plan, plan.phase(10)), plan.paths.backup_dir)
        assert not stale.exists()
        assert live.exists()
    finally:
        live.unlink(missing_ok=True)
    assert path.read_text().count(MARKER_TAG) == 1
