"""An idle cockpit repaints the one age that moved and lays nothing out again."""

from __future__ import annotations

import dataclasses
from typing import Any

from cockpit.engine.types import WatchState
from cockpit.probes.snapshot import Freshness, PhaseSnapshot, TableReading
from cockpit.tui.widgets.phase_card import PhaseCard, phase_card_text
from cockpit.tui.widgets.status_strip import StatusStrip, strip_text, watch_left
from tests.fixtures.tui import TIME_FIELDS, settle


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


def _later(value: Any, seconds: float) -> Any:
    """The same reading taken `seconds` later: every time in it moved, nothing else."""
    if isinstance(value, tuple):
        return tuple(_later(v, seconds) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes: dict[str, Any] = {}
        for field in dataclasses.fields(value):
            current = getattr(value, field.name)
            if field.name in TIME_FIELDS and isinstance(current, float):
                changes[field.name] = current + seconds
            elif isinstance(current, tuple) or dataclasses.is_dataclass(current):
                changes[field.name] = _later(current, seconds)
        return dataclasses.replace(value, **changes) if changes else value
    return value


async def test_a_new_on_time_reading_repaints_nothing(frozen_app):
    """A refresh that read the same things as the one before changes nothing on screen:
    the on-time strip says how often it refreshes, not when it last did (that time only
    shows once the reading is late), so a 24-hour watch repaints nothing every 5 s."""
    app = frozen_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        strip = screen.query_one(StatusStrip)
        cards = list(screen.query(PhaseCard))
        text = strip._shown_text
        assert text is not None and f"refreshed every {int(app.poll_interval())}s" in text, text
        before = (strip.layouts, strip.repaints), [(c.layouts, c.repaints) for c in cards]
        snapshot = app.snapshot
        assert snapshot is not None
        for step in range(1, 4):  # three more readings, each on time, each with the same facts
            app.clock.advance(app.poll_interval())
            app.snapshot = _later(snapshot, step * app.poll_interval())
            await pilot.pause()
        assert strip._shown_text == text
        assert ((strip.layouts, strip.repaints), [(c.layouts, c.repaints) for c in cards]) == before


def test_the_strip_counts_a_watch_down_in_minutes(frozen_app):
    """The strip is on every screen for the whole watch: its countdown moves once a
    minute (rounded up, so "1m" until the end), never once a second."""
    app = frozen_app()
    watch = WatchState(started_at=0.0, ends_at=24 * 3600.0, phase_id=10, hours=24)

    def shown(now: float) -> str:
        return strip_text(app.plan, "alice", False, "", None, watch, 0, now)

    assert "watch 24h00m left" in shown(0.0)
    assert len({shown(float(s)) for s in range(1, 60)}) == 1, "the countdown moved within a minute"
    assert "watch 23h59m left" in shown(60.0)
    assert [watch_left(s) for s in (3600.0, 3599.0, 61.0, 60.0, 1.0)] == ["1h00m", "1h00m", "2m", "1m", "1m"]
    assert "watch done" in shown(24 * 3600.0)


async def test_an_idle_board_stops_its_second_tick_and_resumes_it_when_something_moves(frozen_app):
    """Nothing on the board moves with the clock (on-time reading, no step in flight): its
    one-second tick is paused and only the idle tick runs. A reading that is overdue (the
    strip is about to say LATE) or a phase in progress (its elapsed time) brings the
    one-second tick back, and a fresh reading pauses it again."""
    app = frozen_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        clock = screen._clock
        assert not clock._active.is_set(), "an idle board still wakes every second"

        app.clock.advance(app.poll_interval() + 1)  # the next reading is overdue
        screen._tick()
        assert clock._active.is_set(), "an overdue reading must be watched every second (LATE is near)"
        snapshot = app.snapshot
        assert snapshot is not None
        app.snapshot = _later(snapshot, app.poll_interval() + 1)  # it came
        await pilot.pause()
        assert not clock._active.is_set()

        await app.opened.journal.append_async("step_intent", phase=10, step="flags-off", data={"kind": "flags_off"})
        screen._tick()
        await pilot.pause()
        assert clock._active.is_set(), "a phase in progress shows its elapsed time: tick every second"
