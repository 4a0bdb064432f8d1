"""kill -9 in the middle of `cockpit run --execute`: the journal shows `interrupted — verify`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cockpit.faults import ENV as FAULT_ENV
from cockpit.journal import Journal
from cockpit.plan import load_plan

ROOT = Path(__file__).resolve().parent.parent


def _cockpit(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cockpit", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_intent(plan, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Path(plan.paths.journal).exists():
            journal = Journal(plan.paths.journal, plan.target.label, "probe")
            found = journal.events(kinds=["step_intent"])
            journal.close()
            if found:
                return
        time.sleep(0.05)
    raise AssertionError("the step intent never reached the journal")


async def test_sigkill_mid_execute_shows_interrupted_on_restart(target_config, open_engine):
    plan = load_plan(target_config)
    env = {**os.environ, FAULT_ENV: "step.after_intent:pause", "COCKPIT_OPERATOR": "alice"}
    proc = _cockpit("run", "10", "flags-off", "--execute", "--config", str(target_config), env=env)
    try:
        _wait_for_intent(plan)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    engine = await open_engine(target_config, operator="bob")
    assert not engine.read_only, "the dead holder's lock must be gone"
    view = next(v for v in engine.step_views(10) if v.step.id == "flags-off")
    assert view.status == "interrupted" and view.label == "interrupted — verify"

    listing = subprocess.run([sys.executable, "-m", "cockpit", "steps", "10", "--config", str(target_config)],
                             cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "interrupted — verify" in listing.stdout

    outcome = await engine.execute(10, "flags-off")  # the operator looked; re-running re-checks live state
    assert outcome.status == "done"
    assert any("already off" in line or "-> set off" in line for line in outcome.output)
    assert next(v for v in engine.step_views(10) if v.step.id == "flags-off").status == "done"
