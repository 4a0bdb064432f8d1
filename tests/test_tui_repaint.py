"""An idle cockpit repaints the ages that moved and lays nothing out again."""

from __future__ import annotations

from cockpit.tui.widgets.phase_card import PhaseCard
from cockpit.tui.widgets.status_strip import StatusStrip
from tests.fixtures.tui import settle


async def test_ages_moving_repaint_cards_and_strip_without_layout(frozen_app):
    app = frozen_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        cards = list(screen.query(PhaseCard))
        strip = screen.query_one(StatusStrip)
        before = [(c.layouts, c.repaints) for c in cards], (strip.layouts, strip.repaints)
        texts = [c._shown_text for c in cards], strip._shown_text
        for _ in range(3):
            app.clock.advance(1)  # every age on the board moves by a second
            screen._tick()
            await pilot.pause()
        after = [(c.layouts, c.repaints) for c in cards], (strip.layouts, strip.repaints)
        assert [c._shown_text for c in cards] != texts[0] and strip._shown_text != texts[1], "nothing aged"
        assert [layouts for layouts, _ in after[0]] == [layouts for layouts, _ in before[0]]
        assert after[1][0] == before[1][0], "the strip was laid out again for an age"
        assert sum(r for _, r in after[0]) > sum(r for _, r in before[0]) and after[1][1] > before[1][1]
        # a reading that changes the card's shape is still laid out
        app.clock.advance(3600)
        screen._tick()
        await pilot.pause()
        assert strip._shown_text.count("1h") or any("1h" in (c._shown_text or "") for c in cards)
