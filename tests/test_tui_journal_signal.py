"""The board's 1 s tick reads the journal through a cheap change signal (journal.py:
`data_version` + own appends), not a query per derived value — and still shows what
another process journalled (a CLI step, a watch started elsewhere, a drill marked by
`cockpit drill start`) on the very next tick, with no refresh and no message between."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from cockpit.tui.widgets.phase_card import PhaseCard
from cockpit.tui.widgets.status_strip import StatusStrip
from tests.fixtures.tui import settle


def _other_process(journal: str, target: str, script: str, at: float) -> None:
    """A second real process, its own SQLite connection, writing the same journal (its
    events stamped `at`: the app's clock is frozen)."""
    code = textwrap.dedent(f"""
        from pathlib import Path
        from cockpit.journal import Journal
        j = Journal(Path({journal!r}), {target!r}, "bob", clock=lambda: {at!r})
    """) + textwrap.dedent(script) + "\nj.close()\n"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


async def test_another_process_write_shows_on_the_next_tick(frozen_app):
    app = frozen_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        strip = screen.query_one(StatusStrip)
        card = screen.query_one("#phase-10", PhaseCard)
        banner = screen.query_one("#drill-banner")
        for _ in range(2):  # warm: the memo and the caches hold the unchanged journal
            screen._tick()
            await pilot.pause()
        strip_before, card_before = strip._shown_text, card._shown_text
        assert "watch" not in (strip_before or "") and not banner.display
        journal = app.opened.journal

        _other_process(str(journal.path), journal.target, """
            j.append("step_intent", phase=10, step="flags-off", data={})
            j.append("watch_start", phase=10, data={"hours": 24.0})
            j.append("drill_start", data={"drill": 7, "staging": False})
        """, app.now() - 10)
        screen._tick()  # one tick: no refresh, no JournalChanged
        await pilot.pause()
        assert "watch" in (strip._shown_text or ""), strip._shown_text
        assert card._shown_text != card_before, "phase 10's card did not show the step started elsewhere"
        assert banner.display and "DRILL 7" in str(banner.render())
        started = card._shown_text
        assert started is not None and "10s of" in started, started
        app.clock.advance(1)  # a phase in progress: its elapsed time moves with the clock alone
        screen._tick()
        await pilot.pause()
        assert card._shown_text is not None and "11s of" in card._shown_text, card._shown_text

        _other_process(str(journal.path), journal.target, """
            j.append("step_outcome", phase=10, step="flags-off", data={"status": "done", "message": ""})
            j.append("watch_end", data={"reason": "ended elsewhere"})
            j.append("drill_end", data={"verdict": "pass"})
        """, app.now())
        screen._tick()
        await pilot.pause()
        assert "watch" not in (strip._shown_text or ""), strip._shown_text
        assert not banner.display
