"""No orphans: `tmux kill-session` during a step, again and again, never leaves a cockpit
running, a lock held, or a session without its `session_end`.

Real cockpits in real terminals (tmux on a private socket), each on its own sandbox, in
parallel batches. Half of them run with SIGHUP blocked (inherited signal mask), the way a
cockpit under a shell that swallows the hang-up sees it: those can only be ended by the
TTY watchdog noticing the terminal itself is gone.

Where the step is when the terminal dies is chosen, not hoped for: half the runs hang up
while the step's UPDATE waits on a real concurrent writer's lock (blocked in the database
driver), the other half while the step is paused at the named fault point right after its
intent is journalled (`COCKPIT_FAULT=step.after_intent:pause`, cockpit/faults.py; the
hang-up is sent once the point has written its ready file). Every combination (SIGHUP
blocked or not × writer lock or fault point) runs twice; the 20 runs this test used to
make only repeated the same four paths with the hang-up landing by chance.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from cockpit.journal import Journal
from cockpit.plan import load_plan
from cockpit.sandbox import create_sandbox

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

ROOT = Path(__file__).resolve().parent.parent
RUNS = 8
PARALLEL = 4
# A wrapper that blocks SIGHUP for the cockpit (the mask survives exec), then becomes it.
BLOCK_HUP = (
    "import os,signal,sys; signal.pthread_sigmask(signal.SIG_BLOCK,{signal.SIGHUP}); "
    "os.execv(sys.executable,[sys.executable,'-m','cockpit.cli',*sys.argv[1:]])"
)


@dataclass
class Run:
    index: int
    config: Path
    block_hup: bool
    at_fault_point: bool = False  # hang up at `step.after_intent` instead of behind a writer's lock
    pid: int = 0
    ended_after: float = -1.0
    mid_step: bool = False  # a step_intent and no step_outcome in the journal at the hang-up


def _tmux(socket: str, *args: str, check: bool = True) -> str:
    return subprocess.run(["tmux", "-L", socket, *args], check=check, capture_output=True, text=True).stdout


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _wait(predicate, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def _count(journal: Path, kind: str) -> int:
    try:
        with sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT COUNT(*) FROM event WHERE kind = ?", (kind,)).fetchone()[0]
    except sqlite3.Error:
        return 0


def _one(socket: str, run: Run) -> Run:
    session = f"r{run.index}"
    plan = load_plan(run.config)
    launcher = f"-c \"{BLOCK_HUP}\"" if run.block_hup else "-m cockpit.cli"
    ready = run.config.parent / "fault-ready"
    fault = f"COCKPIT_FAULT=step.after_intent:pause COCKPIT_FAULT_READY={ready} " if run.at_fault_point else ""
    command = (
        f"cd {ROOT} && exec env {fault}COCKPIT_OPERATOR=orphan{run.index} TERM=xterm-256color "
        f"{sys.executable} {launcher} tui --config {run.config}"
    )
    _tmux(socket, "new-session", "-d", "-s", session, "-x", "100", "-y", "30", command)
    run.pid = int(_tmux(socket, "display-message", "-p", "-t", session, "#{pane_pid}").strip())
    def screen() -> str:
        return _tmux(socket, "capture-pane", "-p", "-t", session, check=False)

    assert _wait(lambda: "refreshed" in screen(), 30, 0.2), screen()
    # open phase 10, run its first step (flags off), and hang up while it runs
    _tmux(socket, "send-keys", "-t", session, "Enter")
    assert _wait(lambda: "flags-off" in screen(), 15, 0.1), screen()
    _tmux(socket, "send-keys", "-t", session, "x")
    assert _wait(lambda: "Run (y)" in screen(), 15, 0.1), screen()
    # A real concurrent writer holds the sandbox's write lock, so the step (flags off: an
    # UPDATE) is still waiting on it when the terminal dies: the hang-up lands mid-step.
    writer = sqlite3.connect(plan.target.path, timeout=5)
    try:
        if not run.at_fault_point:
            writer.execute("BEGIN IMMEDIATE")
        _tmux(socket, "send-keys", "-t", session, "y")
        if run.at_fault_point:
            assert _wait(ready.exists, 15, 0.02), screen()  # paused right after the intent
        else:
            _wait(lambda: _count(plan.paths.journal, "step_intent") > 0, 4, 0.02)  # the step has started
        run.mid_step = _count(plan.paths.journal, "step_intent") > 0 and _count(plan.paths.journal, "step_outcome") == 0
        killed = time.monotonic()
        _tmux(socket, "kill-session", "-t", session)
    finally:
        writer.rollback()  # the writer goes away too; the cockpit must still end
        writer.close()
    if _wait(lambda: not _alive(run.pid), 15, 0.05):
        run.ended_after = time.monotonic() - killed
    return run


def test_kill_session_during_a_step_leaves_no_orphan_and_no_lock(tmp_path: Path) -> None:
    socket = f"cockpit-orphans-{os.getpid()}"
    runs = [
        Run(i, create_sandbox(tmp_path / f"s{i}").config_path, block_hup=bool(i % 2), at_fault_point=bool(i // 2 % 2))
        for i in range(RUNS)
    ]
    # a session that lives for the whole test keeps the tmux server up between batches
    _tmux(socket, "new-session", "-d", "-s", "keep", "sleep 120")
    try:
        with ThreadPoolExecutor(PARALLEL) as pool:
            done = list(pool.map(lambda r: _one(socket, r), runs))
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)

    lingering = [r for r in done if r.ended_after < 0]
    assert not lingering, f"cockpits still running after the terminal died: {[r.pid for r in lingering]}"
    # no process of ours left anywhere, children included (they would name the config)
    ps = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    orphans = [line for line in ps.splitlines() if str(tmp_path) in line]
    assert not orphans, orphans
    for run in done:
        plan = load_plan(run.config)
        lock_path = Path(f"{plan.paths.journal}.lock")
        with open(lock_path, "a+") as handle:  # raises BlockingIOError if anyone still holds it
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(handle, fcntl.LOCK_UN)
        journal = Journal(plan.paths.journal, plan.target.label, "check")
        try:
            kinds = [e.kind for e in journal.events()]
        finally:
            journal.close()
        assert kinds[0] == "session_start" and kinds[-1] == "session_end", (run, kinds)
    slowest = max(r.ended_after for r in done)
    watched = max(r.ended_after for r in done if r.block_hup)
    mid_step = sum(r.mid_step for r in done)
    print(f"\n{RUNS} kill-sessions ({mid_step} mid-step): slowest exit {slowest:.2f}s, slowest without SIGHUP {watched:.2f}s")
    assert all(r.mid_step for r in done if r.at_fault_point), "a hang-up at the fault point is always mid-step"
    assert mid_step >= RUNS // 2, "the hang-ups must land while a step runs"
    # the hang-up itself wakes the watchdog (POLLHUP on its terminal descriptor): without
    # SIGHUP the exit is as quick as with it, not a re-open check's REOPEN_EVERY seconds later
    from cockpit.tui.watchdog import POLL_SECONDS, REOPEN_EVERY

    assert watched < min(3.0, POLL_SECONDS * REOPEN_EVERY / 2)
