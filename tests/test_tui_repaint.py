"""An idle cockpit repaints the one age that moved and lays nothing out again."""

from __future__ import annotations

from cockpit.probes.snapshot import Freshness, PhaseSnapshot, TableReading
from cockpit.tui.widgets.phase_card import PhaseCard, phase_card_text
from cockpit.tui.widgets.status_strip import StatusStrip
from tests.fixtures.tui import settle


async def test_seconds_passing_repaint_nothing_until_the_reading_is_late(frozen_app):
    """An on-time strip shows its reading's clock time, not a moving age: seconds passing
    change nothing on screen. Once the reading is late (older than LATE_AFTER_INTERVALS
    poll intervals) its age shows, as a warning, and each second repaints the strip only."""
    from cockpit.tui.app import LATE_AFTER_INTERVALS

    app = frozen_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        cards = list(screen.query(PhaseCard))
        strip = screen.query_one(StatusStrip)
        before = [(c.layouts, c.repaints) for c in cards], (strip.layouts, strip.repaints)
        text = strip._shown_text
        assert text is not None and "refreshed" in text and "ago" not in text
        for _ in range(3):
            app.clock.advance(1)
            screen._tick()
            await pilot.pause()
        assert strip._shown_text == text, "an on-time strip changed with the clock"
        assert (strip.layouts, strip.repaints) == before[1], "an on-time strip was redrawn"
        assert [(c.layouts, c.repaints) for c in cards] == before[0], "a card changed although no reading did"

        app.clock.advance(LATE_AFTER_INTERVALS * app.poll_interval())
        screen._tick()
        await pilot.pause()
        late = strip._shown_text
        assert late is not None and "ago: LATE" in late, late
        after_late = (strip.layouts, strip.repaints)
        for _ in range(3):
            app.clock.advance(1)  # a late reading's age moves by a second
            screen._tick()
            await pilot.pause()
        assert strip._shown_text != late, "a late reading's age did not move"
        assert [(c.layouts, c.repaints) for c in cards] == before[0], "a card changed although no reading did"
        assert strip.layouts == after_late[0], "the strip was laid out again for an age"
        assert strip.repaints == after_late[1] + 3


def test_a_reading_older_than_the_refresh_keeps_its_age(frozen_app):
    app = frozen_app()
    phase = app.plan.phase(10)
    fresh = Freshness(fetched_at=1000.0)
    stale = Freshness(fetched_at=900.0, stale_since=950.0, error="lost")
    def snap(freshness: Freshness) -> PhaseSnapshot:
        tables = tuple(TableReading(name, True, has_rows=True, freshness=freshness) for name in phase.tables)
        return PhaseSnapshot(id=10, name=phase.name, state="live", flags=(), cron=(), tables=tables, columns=(),
                             activity=(), logs=())
    now = 1004.0
    assert "4s" not in phase_card_text(phase, snap(fresh), None, now, refreshed_at=1000.0)
    assert "stale 54s" in phase_card_text(phase, snap(stale), None, now, refreshed_at=1000.0)
    old = Freshness(fetched_at=990.0)  # carried over from an earlier refresh
    assert "14s" in phase_card_text(phase, snap(old), None, now, refreshed_at=1000.0)
