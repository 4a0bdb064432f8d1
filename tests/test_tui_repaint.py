"""An idle cockpit repaints the one age that moved and lays nothing out again."""

from __future__ import annotations

from cockpit.probes.snapshot import Freshness, PhaseSnapshot, TableReading
from cockpit.tui.widgets.phase_card import PhaseCard, phase_card_text
from cockpit.tui.widgets.status_strip import StatusStrip
from tests.fixtures.tui import settle


async def test_seconds_passing_repaint_the_strip_only(frozen_app):
    app = frozen_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        cards = list(screen.query(PhaseCard))
        strip = screen.query_one(StatusStrip)
        before = [(c.layouts, c.repaints) for c in cards], (strip.layouts, strip.repaints)
        text = strip._shown_text
        for _ in range(3):
            app.clock.advance(1)  # the refresh's age moves by a second
            screen._tick()
            await pilot.pause()
        assert strip._shown_text != text, "nothing aged"
        assert [(c.layouts, c.repaints) for c in cards] == before[0], "a card changed although no reading did"
        assert strip.layouts == before[1][0], "the strip was laid out again for an age"
        assert strip.repaints == before[1][1] + 3


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
