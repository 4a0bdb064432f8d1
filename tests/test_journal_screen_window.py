"""The journal screen's window: a burst of events while it is open leaves no gap, and
its total (counted once per view) stays the journal's count as rows are appended."""

from __future__ import annotations

import re

from tests.test_journal_cost import bulk_rows


def _total(app) -> int:
    title = str(app.screen.query_one("#journal-title").render())
    match = re.search(r"(\d+) events?\b", title)
    assert match, title
    return int(match.group(1))


async def test_appends_keep_the_total_and_a_burst_reloads_without_a_gap(frozen_app):
    from cockpit.tui.screens.journal import WINDOW
    from cockpit.tui.widgets.event_table import EventTable
    from tests.fixtures.tui import settle

    app = frozen_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        journal = app.engine.journal
        await pilot.press("j")
        await settle(pilot)
        table = app.screen.query_one("#journal", EventTable)
        assert _total(app) == journal.count(None) == table.row_count
        # a few rows from another process: appended, the total follows without a recount
        bulk_rows(journal.path, journal.target, 3, kind="note", phase=9)
        app.journal_changed()
        await pilot.pause()
        assert _total(app) == journal.count(None)
        # a burst of more than a window since the last refresh: the newest window is shown
        # and paging back walks through the burst with no event missing
        bulk_rows(journal.path, journal.target, WINDOW + 7, kind="note", phase=9)
        app.journal_changed()
        await pilot.pause()
        assert _total(app) == journal.count(None)
        assert table.row_count == WINDOW
        assert table.row(0).id == journal.last_id
        await pilot.press("o")
        await pilot.pause()
        shown = sorted(table.ids)
        everything = sorted(e.id for e in journal.window(10 * WINDOW))
        assert shown == everything[-len(shown):], "a gap between the shown rows"
