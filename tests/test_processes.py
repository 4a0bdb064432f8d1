"""Real child processes named like the plan's cron scripts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from cockpit.probes.processes import find_runs, wait_for_exit

SLEEPER = "import time\ntime.sleep(30)\n"


@pytest.fixture
def script_dir(tmp_path):
    # not the plan's script names: other xdist workers run rollbacks whose in-flight guard
    # would see these sleepers as runs of phase 9's jobs
    cron = tmp_path / "app" / "cron"
    cron.mkdir(parents=True)
    for name in ("probe_sync_operators.php", "old_probe_sync_operators.php"):
        (cron / name).write_text(SLEEPER)
    return cron


@pytest.fixture
def spawn():
    procs: list[subprocess.Popen] = []

    def start(argv):
        # A session of its own, so cleanup reaches grandchildren (the interpreter under sh).
        proc = subprocess.Popen(argv, start_new_session=True)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    return predicate()


def test_finds_a_running_script_then_sees_it_gone(script_dir, spawn):
    script = script_dir / "probe_sync_operators.php"
    proc = spawn([sys.executable, str(script)])
    decoy = spawn([sys.executable, str(script_dir / "old_probe_sync_operators.php")])
    def mine():
        return [r for r in find_runs(["probe_sync_operators.php"])["probe_sync_operators.php"] if r.pid == proc.pid]

    runs = wait_until(mine)
    assert len(runs) == 1
    found = {r.pid for r in find_runs(["probe_sync_operators.php"])["probe_sync_operators.php"]}
    assert decoy.pid not in found  # old_probe_sync_operators.php is another script
    run = runs[0]
    assert str(script) in run.cmdline and run.user and run.started_at > 0
    assert 0 <= run.elapsed() < 30
    assert proc.pid not in {r.pid for r in find_runs(["probe_sync_teams.php"])["probe_sync_teams.php"]}
    proc.kill()
    proc.wait()
    assert mine() == []
    assert decoy.poll() is None


def test_shell_wrapper_counts_once(script_dir, spawn):
    # cron runs `sh -c "<command>"`; the `; true` keeps sh from exec'ing the interpreter
    command = f"{sys.executable} {script_dir / 'probe_sync_operators.php'}; true"
    shell = spawn(["/bin/sh", "-c", command])

    def mine():
        runs = find_runs(["probe_sync_operators.php"])["probe_sync_operators.php"]
        return [r for r in runs if str(script_dir) in r.cmdline]

    # between sh's fork and its exec the child still shows sh's command line: wait for the
    # interpreter itself, then check the run is counted once
    runs = wait_until(lambda: [r for r in mine() if r.pid != shell.pid and r.cmdline.startswith(sys.executable)])
    assert len(runs) == 1
    assert shell.pid not in {r.pid for r in mine()}  # the waiting shell is not a second run


def test_wait_for_exit(script_dir, spawn):
    quick = spawn([sys.executable, "-c", "import time; time.sleep(0.3)"])
    slow = spawn([sys.executable, str(script_dir / "probe_sync_operators.php")])
    started = time.monotonic()
    assert wait_for_exit([quick.pid], timeout=5, poll=0.05) == ()
    assert time.monotonic() - started < 3
    assert wait_for_exit([slow.pid], timeout=0.3, poll=0.1) == (slow.pid,)
    assert wait_for_exit([999_999_999], timeout=1) == ()  # a pid that never existed
