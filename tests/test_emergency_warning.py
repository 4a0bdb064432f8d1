"""What the board and `cockpit status` say about the last emergency rollback
(engine.state.emergency_warning), case by case, on a real journal and a real snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.engine import state
from cockpit.journal import Journal
from cockpit.plan import load_plan
from cockpit.plan.model import Plan
from cockpit.probes.snapshot import FlagReading, Snapshot
from tests.fixtures.tui import FrozenClock

NOW = FrozenClock().now


@pytest.fixture
def plan(sandbox: Path) -> Plan:
    return load_plan(sandbox)


def _journal(plan: Plan, tmp_path: Path) -> Journal:
    return Journal(tmp_path / "j.sqlite", plan.target.label, "alice", clock=lambda: NOW - 120)


def _snapshot(plan: Plan, on: set[str]) -> Snapshot:
    """A snapshot in which exactly `on` of the plan's flags read on, the rest off."""
    from cockpit.probes.snapshot import ConnectionReading, PhaseSnapshot

    phases = tuple(PhaseSnapshot(p.id, p.name, "live", tuple(FlagReading(k, "on" if k in on else "off") for k in p.flags),
                                 (), ()) for p in plan.phases)
    return Snapshot(NOW, plan.target.label, ConnectionReading(plan.target.label, "connected"), phases)


def _warning(plan: Plan, journal: Journal, snapshot: Snapshot | None, **kwargs: bool) -> str | None:
    last = state.last_emergency(plan, journal.events(kinds=state.EMERGENCY_KINDS))
    found = state.emergency_warning(plan, last, snapshot, NOW, **kwargs)
    return None if found is None else found.text


def test_failed_interrupted_settled_and_done(plan: Plan, tmp_path: Path) -> None:
    journal = _journal(plan, tmp_path)
    first = plan.emergency.flags[0]
    still_on = _snapshot(plan, {first})
    assert _warning(plan, journal, still_on) is None, "no emergency yet: nothing to say"

    intent = journal.append("emergency_intent", data={"flags": list(plan.emergency.flags)})
    text = _warning(plan, journal, still_on, may_run_elsewhere=False)
    assert text is not None and text.startswith("EMERGENCY ROLLBACK INTERRUPTED") and f"1 flag(s) not off: {first}" in text
    assert _warning(plan, journal, still_on, running_here=True) is None, "its own screen shows a running one"
    assert _warning(plan, journal, _snapshot(plan, set()), may_run_elsewhere=False) is None, "every flag reads off"
    assert "INTERRUPTED" in (_warning(plan, journal, None, may_run_elsewhere=False) or ""), "no reading: cannot tell it is off"

    journal.append("emergency_outcome", data={"status": "failed", "message": f"not off: {first}", "intent_id": intent})
    text = _warning(plan, journal, still_on)
    assert text is not None and text.startswith("EMERGENCY ROLLBACK FAILED") and "press ! to retry" in text

    phase = next(p for p in plan.phases if any(s.kind == "flags_on" for s in p.all_steps))
    flags_on = next(s.id for s in phase.all_steps if s.kind == "flags_on")
    journal.append("step_outcome", phase=phase.id, step=flags_on, data={"status": "done", "message": ""})
    assert _warning(plan, journal, still_on) is None, "a deliberate flags-on settled it"

    again = journal.append("emergency_intent", data={"flags": list(plan.emergency.flags)})
    journal.append("emergency_outcome", data={"status": "done", "message": "all off", "intent_id": again})
    assert _warning(plan, journal, still_on) is None, "the last one is done"
    journal.close()


def test_a_young_unfinished_emergency_that_may_run_elsewhere_reads_running(plan: Plan, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite", plan.target.label, "bob", clock=lambda: NOW - 5)
    journal.append("emergency_intent", data={"flags": list(plan.emergency.flags)})
    on = _snapshot(plan, set(plan.emergency.flags))
    last = state.last_emergency(plan, journal.events(kinds=state.EMERGENCY_KINDS))
    running = state.emergency_warning(plan, last, on, NOW, may_run_elsewhere=True)
    assert running is not None and running.running and running.text.startswith("EMERGENCY ROLLBACK RUNNING")
    later = state.emergency_warning(plan, last, on, NOW + state.EMERGENCY_SETTLE_S, may_run_elsewhere=True)
    assert later is not None and not later.running and later.text.startswith("EMERGENCY ROLLBACK INTERRUPTED")
    journal.close()
