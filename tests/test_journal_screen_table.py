"""The journal screen's table (widgets/event_table.py) on the real app: hostile text shows
literally, the total it shows is the journal's own count (also while another writer
appends), the cursor reaching the last row pages back, and 80 columns show every column."""

from __future__ import annotations

import re
import threading

from tests.test_journal_cost import bulk_rows


def _title(app) -> str:
    return str(app.screen.query_one("#journal-title").render())


def _shown_total(app) -> int | None:
    """The number in "N events", None while the title says "… events"."""
    match = re.search(r"(\d+|…) events?\b", _title(app))
    assert match, _title(app)
    return None if match.group(1) == "…" else int(match.group(1))


def _lines(table) -> list[str]:
    return [table.render_line(y).text for y in range(table.size.height)]


HOSTILE = "[/] [b]x [red]y[/red] [link=https://evil]z[/link] \\"


async def test_hostile_markup_in_an_event_shows_literally(frozen_app):
    from cockpit.tui.widgets.event_table import EventTable
    from tests.fixtures.tui import settle

    app = frozen_app()
    async with app.run_test(size=(160, 36)) as pilot:
        await settle(pilot)
        journal = app.engine.journal
        app.engine.note(HOSTILE, phase_id=10)
        journal.append("step_outcome", phase=10, step="[b]drop[/b]", operator="[/]eve",
                       data={"status": "refused", "message": "\x1b[31mred\x1b[0m [/]"})
        await pilot.press("j")
        await settle(pilot)
        table = app.screen.query_one("#journal", EventTable)
        assert table.row(0).cells[2:6] == ("[/]eve", "step_outcome", "[b]drop[/b]", "refused: red [/]")
        assert table.row(1).cells[5] == HOSTILE
        lines = _lines(table)
        assert HOSTILE in lines[2], lines[2]  # line 0 is the header, 1 the newest event
        for text in ("[/]eve", "[b]drop[/b]", "refused: red [/]"):
            assert text in lines[1], lines[1]
        assert "\x1b" not in "".join(lines)
        assert app.is_running


async def test_the_total_shown_is_the_journals_count_while_a_writer_appends(frozen_app):
    import asyncio

    from cockpit.tui.screens.journal import WINDOW
    from cockpit.tui.widgets.event_table import EventTable
    from tests.fixtures.tui import settle

    app = frozen_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        journal = app.engine.journal
        # long enough that a count takes a few milliseconds: the writer commits and the
        # screen appends while it runs
        bulk_rows(journal.path, journal.target, 60_000, kind="note", phase=9)
        await pilot.press("j")
        await settle(pilot)
        table = app.screen.query_one("#journal", EventTable)
        assert _shown_total(app) == journal.count() > table.row_count == WINDOW

        # another process's writer (its own connection), committing without pause: a row
        # or two at a time, and now and then a burst of more than a window (the screen
        # reloads the newest window and counts again)
        stop = threading.Event()

        def writer() -> None:
            index = 0
            while not stop.is_set():
                size = WINDOW + 5 if index % 40 == 39 else 1 + index % 2
                bulk_rows(journal.path, journal.target, size, kind="note", phase=(9, 10)[index % 2])
                index += 1

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        known = 0
        try:
            for turn in range(40):
                if turn % 10 == 0:  # a new view, counted again: one phase, then all (keys 9 and a)
                    app.screen.action_filter(9 if turn % 20 == 0 else 0)
                for _ in range(5):  # refreshes while the count is on its way
                    app.journal_changed()
                    await asyncio.sleep(0.002)
                total = _shown_total(app)
                if total is not None:
                    known += 1
                    # every number ever shown is the exact count of the rows up to the
                    # newest one shown (the rows shown are the newest, without a gap)
                    phase = app.screen.phase_filter
                    assert total == journal.count(phase, up_to=table.ids[0]), (turn, _title(app))
        finally:
            stop.set()
            thread.join(10)
        assert known > 10, f"the count arrived in {known} of 40 turns"
        app.journal_changed()
        await settle(pilot)
        await pilot.pause()
        assert _shown_total(app) == journal.count(None), _title(app)
        assert table.row(0).id == journal.last_id
        await pilot.press("9")
        await settle(pilot)
        assert _shown_total(app) == journal.count(9)


async def test_the_cursor_reaching_the_last_row_pages_back(frozen_app):
    from cockpit.tui.screens.journal import WINDOW
    from cockpit.tui.widgets.event_table import EventTable
    from tests.fixtures.tui import settle

    app = frozen_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        journal = app.engine.journal
        bulk_rows(journal.path, journal.target, 2 * WINDOW + 10, kind="note", phase=9)
        await pilot.press("j")
        await settle(pilot)
        table = app.screen.query_one("#journal", EventTable)
        assert table.row_count == WINDOW and "(o older)" in _title(app)
        await pilot.press("down", "down")
        assert table.cursor_row == 2 and table.row_count == WINDOW
        await pilot.press("end")  # the last row: the next page comes in below it
        await pilot.pause()
        assert table.row_count == 2 * WINDOW and table.cursor_row == WINDOW - 1
        assert table.ids == [e.id for e in journal.window(2 * WINDOW)]
        await pilot.press("end")
        await pilot.pause()
        assert table.row_count == journal.count() and "(o older)" not in _title(app)
        # the cursor's row is drawn on screen: scrolled into view, under the header
        assert table.scroll_y > 0
        cursor_line = table.cursor_row - int(table.scroll_y) + 1
        assert 1 <= cursor_line < table.size.height
        assert _lines(table)[cursor_line].strip().endswith(table.row(table.cursor_row).cells[5])


async def test_eighty_columns_show_every_column_and_cut_what(frozen_app):
    from cockpit.tui.widgets.event_table import EventTable
    from tests.fixtures.tui import settle

    app = frozen_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.engine.note("a long note " * 10, phase_id=10)
        await pilot.press("j")
        await settle(pilot)
        table = app.screen.query_one("#journal", EventTable)
        header, newest = _lines(table)[:2]
        assert header.split() == ["When", "Ph", "Who", "Event", "Step", "What"]
        assert len(newest) <= 80 and newest.rstrip().endswith("…")
        what = newest[header.index("What"):]
        assert what.startswith("a long note a long note") and len(what.rstrip()) >= 20


def test_cells_are_cut_to_their_column():
    from cockpit.tui.widgets.event_table import Column, fit, layout

    assert fit("tick", 6) == "tick  "
    assert fit("emergency_outcome", 14) == "emergency_out…"
    assert fit("2025-11-01 12:26:45", 14, keep_end=True) == "11-01 12:26:45"
    assert fit("日本語のテキスト", 7) == "日本語…"  # wide characters: cut by cells, not characters
    assert fit("x日本", 4, keep_end=True) == "日本"
    columns = (Column("A", 19, 14), Column("B", 10, 8), Column("C"))
    assert layout(columns, 120).widths == (19, 10, 120 - 1 - 29 - 4) and layout(columns, 120).gap == 2
    narrow = layout(columns, 50)
    assert narrow.narrow and narrow.gap == 1 and narrow.widths == (14, 8, 50 - 1 - 22 - 2)
