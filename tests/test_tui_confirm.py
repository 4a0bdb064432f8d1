"""Typed confirmation is decided by the engine, not by the dialog.

The dialog returns what the operator typed and the engine compares it
(cockpit.engine.confirm), the same check `cockpit run --confirm` meets. A wrong token
typed in the real app therefore reaches the engine, which refuses it: nothing is
journalled as intended, nothing changes in the sandbox, and the dialog comes back with
the engine's reason."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from textual.widgets import Input, Log, Static

from cockpit.engine.confirm import confirm_refusal, emergency_refusal
from cockpit.plan import load_plan
from cockpit.tui.app import CockpitApp
from cockpit.tui.screens.confirm import ConfirmScreen
from cockpit.tui.screens.emergency import EmergencyScreen
from cockpit.tui.screens.phase import PhaseScreen
from tests.fixtures.tui import settle

SIZE = (100, 30)


def _tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


async def test_wrong_token_is_refused_by_the_engine(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    app = CockpitApp(plan, operator="alice", auto_refresh=False)
    phase = plan.phase(10)
    steps = phase.all_steps
    index = next(i for i, s in enumerate(steps) if s.kind == "quarantine")
    step = steps[index]
    before = _tables(Path(plan.target.path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter", *["down"] * index)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PhaseScreen) and screen.selected_step() == step.id
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and app.screen.token == "10"
        await pilot.press("9", "enter")
        await settle(pilot)
        # the dialog took "9" without judging it; the engine refused it and said why
        output = "\n".join(screen.query_one("#output", Log).lines)
        assert f"REFUSED: {confirm_refusal(phase, step)}" in output
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen), "the dialog asks again after the engine's refusal"
        mistyped = str(dialog.query_one("#dialog-mistyped", Static).render())
        assert "That is not '10'" in mistyped and confirm_refusal(phase, step) in mistyped
        assert dialog.query_one(Input).value == ""
        await pilot.press("escape")
        await settle(pilot)
        engine = app.opened
        journalled = [e for e in engine.events(10) if e.step == step.id]
        assert not [e for e in journalled if e.kind == "step_intent"], "a refused token journals no intent"
        assert not [e for e in journalled if e.kind == "step_outcome"]
    assert _tables(Path(plan.target.path)) == before, "nothing was renamed"


async def test_wrong_emergency_word_is_refused_by_the_engine(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    app = CockpitApp(plan, operator="alice", auto_refresh=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("exclamation_mark")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, EmergencyScreen)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and app.screen.token == "EMERGENCY"
        await pilot.press(*"emergency", "enter")  # the word in the wrong case is not the word
        await settle(pilot)
        output = "\n".join(screen.query_one("#emergency-output", Log).lines)
        assert f"REFUSED: {emergency_refusal()}" in output
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await settle(pilot)
        kinds = {e.kind for e in app.opened.journal.events()}
        assert "emergency_intent" not in kinds and "emergency_outcome" not in kinds
        snap = app.snapshot
        assert snap is not None and any(f.state == "on" for p in snap.phases for f in p.flags), "no flag was touched"
