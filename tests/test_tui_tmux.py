"""The real `cockpit demo` in a real 80×24 terminal (tmux): open phase 10, turn its flags
off, read the screen; then hang up the terminal and check the journal saw the session end."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

ROOT = Path(__file__).resolve().parent.parent


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def _screen(session: str) -> str:
    return _tmux("capture-pane", "-p", "-t", session)


def _wait_for(session: str, text: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _screen(session)
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared; screen was:\n{screen}")


def test_demo_in_tmux_runs_flags_off_and_survives_hangup(tmp_path: Path) -> None:
    session = f"cockpit-test-{os.getpid()}"
    sandbox = tmp_path / "demo"
    command = (
        f"cd {ROOT} && COCKPIT_OPERATOR=alice TERM=xterm-256color "
        f"{sys.executable} -m cockpit.cli demo --dir {sandbox}"  # Textual draws on stderr: no redirect
    )
    _tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24", command)
    try:
        # the board, once its first reading is drawn (the cards' titles can paint a frame
        # before the status strip is filled in: under load that frame is what tmux shows)
        board = _wait_for(session, "refreshed")
        assert "Phase 10" in board
        # the status strip wraps at 80 columns (target, operator, connection, refresh): the
        # operator must be on the board, wherever the wrap falls
        assert "operator alice (lock held)" in " ".join(board.split()), board
        _tmux("send-keys", "-t", session, "Enter")
        _wait_for(session, "flags-off")
        _tmux("send-keys", "-t", session, "x")
        dialog = _wait_for(session, "Run (y)")
        assert "feature_flag" in dialog  # the dry-run is shown before anything runs
        _tmux("send-keys", "-t", session, "y")
        done = _wait_for(session, "DONE")
        assert "done" in done
        pane_pid = int(_tmux("display-message", "-p", "-t", session, "#{pane_pid}").strip())
        # SSH drop: the terminal hangs up on the cockpit
        children = subprocess.run(["pgrep", "-P", str(pane_pid)], capture_output=True, text=True).stdout.split()
        targets = [int(pid) for pid in children] or [pane_pid]
        for pid in targets:
            os.kill(pid, signal.SIGHUP)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_alive(pid) for pid in targets):
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in targets), "the cockpit must exit on SIGHUP"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)

    from cockpit.journal import Journal
    from cockpit.plan import load_plan

    plan = load_plan(sandbox / "phases.toml")
    journal = Journal(plan.paths.journal, plan.target.label, "check")
    try:
        kinds = [e.kind for e in journal.events()]
    finally:
        journal.close()
    assert kinds[0] == "session_start" and kinds[-1] == "session_end", kinds
    assert "step_outcome" in kinds


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False
