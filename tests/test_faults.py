"""cockpit/faults.py: a named fault point does nothing unless armed, fires exactly at the
n-th pass when armed, and a malformed or unknown arming is an error, never ignored (a
crash test whose kill silently never fires would prove nothing)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cockpit import faults
from cockpit.faults import ENV, READY_ENV, FaultInjected, fault_point, parse


@pytest.fixture(autouse=True)
def _fresh_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faults, "_passes", {})
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.delenv(READY_ENV, raising=False)


async def test_unarmed_points_do_nothing() -> None:
    for name in faults.POINTS:
        await fault_point(name)


async def test_raise_fires_at_the_nth_pass_of_its_own_point_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "drop.after_drop:raise@2")
    await fault_point("drop.after_intent")  # another point: not counted
    await fault_point("drop.after_drop")  # first pass goes through
    with pytest.raises(FaultInjected, match="drop.after_drop"):
        await fault_point("drop.after_drop")
    await fault_point("drop.after_drop")  # only the n-th


@pytest.mark.parametrize("value", ["nope:kill", "step.after_intent", "step.after_intent:explode",
                                   "step.after_intent:kill@0", "step.after_intent:kill@x"])
def test_malformed_arming_is_an_error(value: str) -> None:
    with pytest.raises(ValueError, match=ENV):
        parse(value)


async def test_hold_writes_the_ready_file_and_waits_for_its_removal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    monkeypatch.setenv(ENV, "cron.after_edit:hold")
    monkeypatch.setenv(READY_ENV, str(ready))
    held = asyncio.create_task(fault_point("cron.after_edit"))
    while not ready.exists():
        await asyncio.sleep(0.001)
    assert ready.read_text() == "cron.after_edit"
    await asyncio.sleep(0.05)
    assert not held.done(), "hold must wait for the test"
    ready.unlink()
    await asyncio.wait_for(held, 5)


async def test_hold_without_a_ready_file_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "cron.after_edit:hold")
    with pytest.raises(ValueError, match=READY_ENV):
        await fault_point("cron.after_edit")
