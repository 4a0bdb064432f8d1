"""An emergency rollback that did not finish is the first thing on the board.

Its process journals an intent, switches the flags one by one and journals the outcome;
killed in between (tests/faults/test_crash_anywhere.py kills it at its named point), the
flags may be partly off. The board then says so above every card — INTERRUPTED, with
the flags still on as read live and the key to run it again — until the flags are all
off (the re-run did it) or a deliberate flags-on step settled it. Seen read-only while
the lock holder may still be running it, it reads RUNNING, and turns INTERRUPTED with
the clock alone once nobody can still be finishing it.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from cockpit.journal import Journal
from cockpit.tui.app import CockpitApp
from tests.fixtures.tui import settle


def _killed_emergency(app: CockpitApp, age: float) -> None:
    """What a cockpit killed right after the emergency's intent leaves: the intent, no outcome."""
    plan = app.plan
    journal = Journal(Path(plan.paths.journal), plan.target.label, "mallory[b]", clock=lambda: app.now() - age)
    try:
        journal.append("emergency_intent", data={"flags": list(plan.emergency.flags)})
    finally:
        journal.close()


def _banner(app: CockpitApp) -> str | None:
    banner = app.screen.query_one("#emergency-banner", Static)
    return str(banner.render()) if banner.display else None


async def test_an_interrupted_emergency_shows_until_the_rerun_turns_every_flag_off(frozen_app) -> None:
    app = frozen_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert _banner(app) is None
        _killed_emergency(app, age=5.0)
        app.refresh_now()
        await settle(pilot)
        text = _banner(app)
        assert text is not None and "EMERGENCY ROLLBACK INTERRUPTED" in text, text
        assert "by mallory[b]" in text, "the operator name is shown as written, never as markup"
        flags = app.plan.emergency.flags
        assert any(key in text for key in flags) and "not off" in text, text
        assert text.index("press !") < text.index("not off"), "the action comes before the flags: 80 columns cut the end"

        outcome = await app.opened.emergency_execute(confirm="EMERGENCY")
        assert outcome.status == "done", outcome
        app.refresh_now()
        await settle(pilot)
        assert _banner(app) is None, "the flags are all off again: nothing left to say"


async def test_seen_read_only_it_reads_running_then_interrupted_with_the_clock(frozen_app) -> None:
    app = frozen_app(read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        _killed_emergency(app, age=5.0)
        app.refresh_now()
        await settle(pilot)
        text = _banner(app)
        assert text is not None and "EMERGENCY ROLLBACK RUNNING" in text, text

        app.clock.advance(60.0)  # no outcome a minute later: nobody is finishing it
        app.screen._tick()
        await pilot.pause()
        text = _banner(app)
        assert text is not None and "EMERGENCY ROLLBACK INTERRUPTED" in text, text
