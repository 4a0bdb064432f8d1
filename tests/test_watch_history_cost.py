"""The headless watcher's cost does not grow with the journal's history.

A 48 h watch runs next to a journal that only ever grows: every step's output lines,
every note and tick, every session. The watcher follows only the kinds it derives
state from (FOLLOWED_KINDS: the expected state, a drill in progress, the watch period)
and reads its alert, baseline and notification kinds once at start, each SQL-filtered
and cached. Here a journal with thousands of bulk rows, and a second process appending
more while the watcher ticks, must leave none of those rows in the watcher's memory —
while an operator's real undo (`flags-on`, through the Engine, on its own connection)
is still followed on the next refresh and is not taken for drift.
"""

from __future__ import annotations

import threading
from pathlib import Path

from cockpit.db import open_database
from cockpit.engine import Engine
from cockpit.journal import Journal
from cockpit.live import LiveSystem
from cockpit.plan import load_plan
from cockpit.watch import record
from cockpit.watch.expected import EXPECTED_KINDS
from cockpit.watch.loop import FOLLOWED_KINDS, OWN_KINDS, Watcher, WatchSettings

BULK = 3000
READ_AT_START = record.ALERT_VIEW_KINDS | record.EPISODE_KINDS | record.UNNOTIFIED_KINDS | record.BASELINE_KINDS


async def _run(config: Path, step: str) -> None:
    engine = await Engine.open(load_plan(config), operator="alice")
    try:
        outcome = await engine.execute(10, step, confirm="10")
        assert outcome.status == "done", f"{step}: {outcome.message}"
    finally:
        await engine.close()


def _bulk(journal: Journal, n: int) -> None:
    """What piles up: output lines, notes, ticks, sessions, and an alert in a hundred
    (someone else's: the watcher reads alerts once at its start, then lets them go)."""
    for i in range(n):
        kind = "alert" if i % 100 == 99 else ("step_output", "note", "tick", "session_start")[i % 4]
        journal.append(kind, phase=10, step="flags-off",
                       data={"line": f"line {i}", "text": f"note {i}", "item": "x", "kind": "refill", "subject": f"t{i}"})


def test_the_watcher_never_writes_what_it_follows() -> None:
    """Its own heartbeats, baselines and alerts must never look like an operator's action
    (that would re-fold the expectation, and skip judging, on every refresh)."""
    assert not FOLLOWED_KINDS & OWN_KINDS
    assert EXPECTED_KINDS <= FOLLOWED_KINDS


async def test_a_long_journal_and_a_busy_writer_leave_no_bulk_row_in_the_watcher(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    await _run(sandbox, "flags-off")
    await _run(sandbox, "cron-stop")
    other = Journal(plan.paths.journal, plan.target.label, "bob")  # another process's connection
    _bulk(other, BULK)
    db = open_database(plan.target)
    live = LiveSystem(plan, db)
    journal = Journal(plan.paths.journal, plan.target.label, "watcher")
    watcher = Watcher(plan, WatchSettings(hours=24, refresh=0, heartbeat=0), journal, live, say=lambda line: None)
    stop = threading.Event()
    written = [0]

    def writer() -> None:  # a colleague's session keeps journalling while the watcher works
        busy = Journal(plan.paths.journal, plan.target.label, "carol")
        try:
            while not stop.is_set():
                _bulk(busy, 20)
                written[0] += 20
        finally:
            busy.close()

    thread = threading.Thread(target=writer, daemon=True)
    try:
        watcher._begin()
        watcher._resend_unnotified()  # as run() does
        thread.start()
        for _ in range(5):
            await watcher.tick()
        assert 10 in watcher.expected.watched, "phase 10 is rolled back: the watcher watches it"

        await _run(sandbox, "flags-on")  # the operator's undo, journalled by another connection
        for _ in range(3):
            await watcher.tick()
        stop.set()
        thread.join(10)
        assert written[0] > 0, "the concurrent writer never wrote: the race was not exercised"
        assert 10 not in watcher.expected.watched, "the watcher did not follow the operator's undo"
        alerts = [e.data for e in other.events(kinds=["alert"])]
        assert not [a for a in alerts if a.get("kind") == "flag_on"], f"an undo was taken for drift: {alerts}"

        selections = journal._selections
        assert selections and all(kinds is not None for _phase, kinds in selections), \
            f"the watcher read the whole history: {list(selections)}"
        read = frozenset().union(*(kinds for _phase, kinds in selections if kinds is not None))
        assert read <= FOLLOWED_KINDS | READ_AT_START, sorted(read - FOLLOWED_KINDS - READ_AT_START)
        held = sum(len(s.items) for s in selections.values())
        assert held < 50, f"{held} journal rows held in memory next to {BULK + written[0]} bulk ones"
    finally:
        stop.set()
        await live.close()
        await db.close()
        journal.close()
        other.close()
