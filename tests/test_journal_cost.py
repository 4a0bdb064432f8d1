"""A long journal costs nothing per redraw: views not copies, SQL windows, memoized state.

These tests use a real SQLite journal with tens of thousands of real rows (written
through a second connection, as another cockpit process would) and a real engine over
the SQLite sandbox.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from cockpit.engine import state
from cockpit.engine.memo import memo_of
from cockpit.journal import STATE_KINDS, EventView, Journal


def bulk_rows(path: Path, target: str, count: int, *, kind: str = "alert", phase: int | None = 10) -> None:
    """Rows written by another process: one transaction, its own connection."""
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO event (target, at, kind, operator, phase, step, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(target, 1000.0 + i, kind, "watcher", phase, None,
              json.dumps({"kind": "refill", "subject": f"t{i}", "message": "m"})) for i in range(count)],
        )


def test_events_is_a_view_extended_from_new_rows_only(tmp_path):
    path = tmp_path / "j.sqlite3"
    journal = Journal(path, "t", "alice")
    first = journal.append("note", phase=10, data={"text": "a"})
    view = journal.events()
    assert isinstance(view, EventView) and view == [e for e in view] and len(view) == 1
    bulk_rows(path, "t", 5)  # another process appends
    again = journal.events()
    assert len(view) == 1, "a view made earlier keeps its length"
    assert len(again) == 6 and again[0].id == first and again[-1].kind == "alert"
    assert again._items is view._items, "no copy: both views share the one cache"
    assert [e.id for e in reversed(again)] == [e.id for e in again][::-1]
    assert again[1:3] == list(again)[1:3]
    assert journal.last_id == again[-1].id


def test_windows_are_filtered_and_paged_in_sql(tmp_path):
    path = tmp_path / "j.sqlite3"
    journal = Journal(path, "t", "alice")
    bulk_rows(path, "t", 300, phase=10)
    bulk_rows(path, "t", 200, kind="note", phase=9)
    bulk_rows(path, "other", 50)
    latest = journal.window(100)
    assert len(latest) == 100 and latest[0].id == journal.last_id
    assert [e.id for e in latest] == sorted((e.id for e in latest), reverse=True)
    older = journal.window(100, before_id=latest[-1].id)
    assert older[0].id == latest[-1].id - 1 and len(older) == 100
    nine = journal.window(1000, phase=9)
    assert len(nine) == 200 and {e.phase for e in nine} == {9}
    assert len(journal.window(1000, kinds=["alert"])) == 300
    assert journal.count() == 500 and journal.count(9) == 200
    newest = journal.append("note", phase=9, data={"text": "new"})
    assert [e.id for e in journal.window(100, after_id=latest[0].id)] == [newest]


def test_scoped_reads_skip_bulk_kinds_and_leave_other_threads_alone(tmp_path):
    path = tmp_path / "j.sqlite3"
    journal = Journal(path, "t", "alice")
    journal.append("step_intent", phase=10, step="flags-off")
    bulk_rows(path, "t", 2000)
    with journal.scoped(STATE_KINDS):
        assert [e.kind for e in journal.events()] == ["step_intent"]
        assert len(journal.events(10)) == 1
    assert len(journal.events()) == 2001
    assert (None, None) in journal._selections  # only because the unscoped read asked


async def test_derived_state_is_memoized_and_ignores_a_long_bulk_history(sandbox, open_engine):
    engine = await open_engine(sandbox)
    path = engine.journal.path
    target = engine.plan.target.label
    await engine.execute(10, "flags-off")
    progress = engine.phase_progress(10)
    views = engine.step_views(10)
    memo = memo_of(engine)
    misses = memo.misses
    whole = engine.journal._selections.get((None, None))  # the live guards of the run read it all
    loaded = len(whole.items) if whole else 0
    # a watch's worth of alerts from another process: state derivation must not read them
    bulk_rows(path, target, 30_000)
    started = time.perf_counter()
    for _ in range(20):
        assert engine.phase_progress(10).status == progress.status
        assert [v.status for v in engine.step_views(10)] == [v.status for v in views]
    elapsed = time.perf_counter() - started
    assert memo.misses == misses, "no state event arrived: nothing may be re-derived"
    whole = engine.journal._selections.get((None, None))
    assert (len(whole.items) if whole else 0) == loaded, "derived state read the bulk rows"
    assert elapsed < 0.5, f"40 derived reads took {elapsed:.2f}s over a 30k-event journal"
    # a new state event is seen at once, and the answer matches a full re-derivation
    await engine.execute(10, "cron-stop")
    fresh = engine.step_views(10)
    assert memo.misses > misses
    full = list(Journal(path, target, "x").events())
    assert {v.step.id: v.status for v in fresh}["cron-stop"] == state.step_record(full, 10, "cron-stop").status == "done"
    assert len(engine.open_alerts()) == len(state.open_alerts(full)) == 30_000


async def test_journal_screen_shows_a_window_pages_back_and_appends_only(frozen_app):
    from cockpit.tui.screens.journal import WINDOW
    from cockpit.tui.widgets.event_table import EventTable
    from tests.fixtures.tui import settle

    app = frozen_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        journal = app.engine.journal
        bulk_rows(journal.path, journal.target, 20_000, phase=9)
        await pilot.press("j")
        await settle(pilot)
        table = app.screen.query_one("#journal", EventTable)
        assert table.row_count == WINDOW, "the whole history was loaded"
        assert table.row(0).id == journal.last_id
        await pilot.press("o")
        await pilot.pause()
        assert table.row_count == 2 * WINDOW
        first_row = table.row(0)
        app.engine.note("new after open", phase_id=10)
        app.journal_changed()
        await pilot.pause()
        assert table.row_count == 2 * WINDOW + 1, "a refresh re-added rows instead of appending"
        # cells are plain strings (untrusted text, never markup): compare what they say
        assert table.row(0).cells[5] == "new after open" and table.row(1) == first_row
        await pilot.press("0")  # phase 10 only, filtered in SQL
        await pilot.pause()
        assert table.row_count == journal.count(10) < WINDOW
