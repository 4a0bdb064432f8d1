"""Read-only mode: a second cockpit while another operator holds the lock sees everything
and can change nothing; every action is greyed in the footer and the reason is shown."""

from __future__ import annotations

from pathlib import Path

from cockpit.engine import Engine
from cockpit.plan import load_plan
from cockpit.tui.actions import WRITE_ACTIONS
from cockpit.tui.app import CockpitApp
from tests.fixtures.tui import settle


async def test_second_cockpit_is_read_only_and_names_the_holder(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    holder = await Engine.open(plan, operator="bob")
    try:
        app = CockpitApp(plan, operator="alice", auto_refresh=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert app.read_only
            assert "bob" in app.read_only_reason
            assert "READ-ONLY" in app.status_text() and "bob" in app.status_text()
            await pilot.press("enter")
            await settle(pilot)
            screen = app.screen
            for action in WRITE_ACTIONS:
                assert screen.check_action(action, ()) is None, action
            footer_keys = {b.action: enabled for _key, (_node, b, enabled, _tip) in screen.active_bindings.items()}
            assert footer_keys["run_step"] is False, "the run key must be shown disabled"
            await pilot.press("x")
            await settle(pilot)
            await pilot.press("c", "space")
            await settle(pilot)
            assert app.snapshot is not None and app.snapshot.phase(10).flags[0].state == "on"
        kinds = [e.kind for e in holder.events()]
        assert "step_intent" not in kinds and "tick" not in kinds
    finally:
        await holder.close()


async def test_read_only_flag_takes_no_lock(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    app = CockpitApp(plan, operator="alice", auto_refresh=False, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.read_only and app.read_only_reason == "--read-only"
        # a real operator can still take the lock while we watch
        other = await Engine.open(plan, operator="bob")
        try:
            assert not other.read_only
        finally:
            await other.close()
