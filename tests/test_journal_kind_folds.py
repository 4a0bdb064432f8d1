"""Each journal fold the TUI runs on its open path and its tick reads only the kinds it
declares (a constant beside the fold), so it can be handed `Journal.events(kinds=...)` —
SQL-filtered, cached — instead of the whole history, and still give the same answer.

A realistic journal (phases rolled back and forward, a quarantine, a restore that was
interrupted, an emergency, a drill, a watch with a watcher's heartbeats, alerts, acks,
clears, notifications, plus the bulk a long watch piles up: output lines, notes,
ticks, sessions) is written through the real Journal. For EVERY prefix of it (the
journal as it stood after each event) the fold over the kinds-only selection must
equal the fold over the whole history. And each kind in each constant must matter: the
fold without that kind differs on some prefix — so dropping a kind from a constant
makes the first test fail, and this journal is rich enough to show it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from cockpit.drill.record import DRILL_KINDS, drills
from cockpit.engine.state import EMERGENCY_KINDS, PHASE_STARTED_KINDS, last_emergency, phase_started
from cockpit.journal import Event, Journal
from cockpit.plan import load_plan
from cockpit.plan.model import Plan
from cockpit.watch.coverage import COVERAGE_KINDS, coverage
from cockpit.watch.expected import EXPECTED_KINDS, expectation
from cockpit.watch.record import (
    ALERT_VIEW_KINDS,
    DRILL_MARK_KINDS,
    EPISODE_KINDS,
    UNNOTIFIED_KINDS,
    WATCH_PERIOD_KINDS,
    WATCHER_KINDS,
    alert_views,
    drill_marked,
    last_heartbeat,
    live_watcher,
    open_episodes,
    unnotified,
    watch_period,
)

Fold = Callable[[Sequence[Event], float], object]


def _write_history(journal: Journal) -> None:
    """What a rollback with a watch, a drill and an emergency journals, bulk included."""
    beat = {"pid": 4242, "host": "ops1", "interval": 5.0, "db": "connected"}
    bulk_no = itertools.count()

    def bulk(phase: int | None = None) -> None:
        n = next(bulk_no)
        journal.append("step_output", phase=phase, step="quarantine", data={"line": f"renamed {n}"})
        journal.append("note", phase=phase, data={"text": f"note {n}"})
        journal.append("tick", phase=10, data={"which": "before", "item": f"item-{n % 3}", "note": None})

    def step(phase: int, step_id: str, status: str = "done", **data: object) -> None:
        journal.append("step_intent", phase=phase, step=step_id, data={"kind": step_id})
        bulk(phase)
        journal.append("step_outcome", phase=phase, step=step_id, data={"status": status, "message": "", **data})

    journal.append("session_start", data={"pid": 1})
    journal.append("drill_start", data={"drill": 1, "staging": False})
    for step_id in ("flags-off", "cron-stop", "quarantine", "backup"):
        step(10, step_id)
    journal.append("watch_start", phase=10, data={"hours": 24.0})
    journal.append("watch_heartbeat", data={**beat, "phases": [10]})
    bulk()
    alert = journal.append("alert", phase=10, data={"kind": "flag_on", "subject": "f", "message": "on", "source": "watcher"})
    journal.append("notify_sent", data={"alert_id": alert, "channel": "mail"})
    journal.append("notify_failed", data={"alert_id": alert, "channel": "pager", "error": "timeout"})
    journal.append("watch_heartbeat", data={**beat, "phases": [10]})
    journal.append("alert_clear", data={"event_id": alert, "note": "went away"})
    journal.append("alert_ack", data={"event_id": alert}, operator="bob")
    journal.append("watch_extend", data={"hours": 24.0})
    step(9, "flags-off")
    step(9, "cron-stop")
    journal.append("watch_heartbeat", data={**beat, "phases": [9, 10]})
    step(9, "flags-on")  # rolled forward again: leaves the watch
    journal.append("step_intent", phase=10, step="restore", data={})
    bulk(10)
    journal.append("step_outcome", phase=10, step="restore", data={"status": "interrupted", "message": "lost"})
    journal.append("watch_heartbeat", data={**beat, "phases": [10], "db": "connected"})
    journal.append("watch_end", data={"reason": "watcher stopped"})
    journal.append("drill_end", data={"verdict": "pass"})
    second = journal.append("alert", phase=None, data={"kind": "connection_lost", "subject": "db", "message": "down"})
    journal.append("emergency_intent", data={"flags": ["a", "b"]})
    bulk()
    journal.append("emergency_outcome", data={"status": "done", "message": "all off", "flags": {}})
    journal.append("alert_ack", data={"event_id": second})
    journal.append("emergency_intent", data={"flags": ["a", "b"]})  # killed mid-way: no outcome
    bulk()
    step(9, "flags-on")  # a deliberate flags-on settles it
    journal.append("watch_start", data={"hours": 48.0, "drill": True})
    journal.append("watch_heartbeat", data={**beat, "phases": [8, 10]})
    third = journal.append("alert", phase=8, data={"kind": "cron_on", "subject": "j", "message": "on", "source": "watcher"})
    journal.append("notify_failed", data={"alert_id": third, "channel": "mail", "error": "refused"})  # its only result
    step(8, "flags-off")
    journal.append("step_intent", phase=8, step="quarantine", data={})  # still in flight at the end
    bulk(8)
    journal.append("drill_start", data={"drill": 2, "staging": True})
    journal.append("override", phase=7, step="drop", data={"reason": "drill: no watch"})  # phase 7 opened by an override only
    journal.append("session_end", data={"reason": "quit"})


@pytest.fixture
def history(sandbox: Path, tmp_path: Path) -> tuple[Plan, Journal]:
    plan = load_plan(sandbox)
    clock = itertools.count(1_000_000.0, 7.0)  # 7 s between events: settling, staleness and gaps all move
    journal = Journal(tmp_path / "folds.sqlite", plan.target.label, "alice", clock=lambda: next(clock))
    _write_history(journal)
    return plan, journal


def _folds(plan: Plan) -> dict[str, tuple[frozenset[str], Fold]]:
    return {
        "expectation": (EXPECTED_KINDS, lambda ev, now: expectation(plan, ev, now)),
        "drills": (DRILL_KINDS, lambda ev, now: drills(ev)),
        "watch_period": (WATCH_PERIOD_KINDS, lambda ev, now: watch_period(ev)),
        "last_heartbeat": (WATCHER_KINDS, lambda ev, now: last_heartbeat(ev)),
        "live_watcher": (WATCHER_KINDS, lambda ev, now: live_watcher(ev, now)),
        "alert_views": (ALERT_VIEW_KINDS, lambda ev, now: alert_views(ev)),
        "coverage": (COVERAGE_KINDS, lambda ev, now: [coverage(ev, p.id, now, 0.01) for p in plan.phases]),
        # the headless watcher's folds (watch/loop.py): it never reads the whole history either
        "open_episodes": (EPISODE_KINDS, lambda ev, now: open_episodes(ev)),
        "unnotified": (UNNOTIFIED_KINDS, lambda ev, now: unnotified(ev, 0)),
        "drill_marked": (DRILL_MARK_KINDS, lambda ev, now: drill_marked(ev)),
        "phase_started": (PHASE_STARTED_KINDS, lambda ev, now: [phase_started(ev, p.id) for p in plan.phases]),
        "last_emergency": (EMERGENCY_KINDS, lambda ev, now: last_emergency(plan, ev)),
    }


FOLDS = ["expectation", "drills", "watch_period", "last_heartbeat", "live_watcher", "alert_views", "coverage",
         "open_episodes", "unnotified", "drill_marked", "phase_started", "last_emergency"]


def _prefixes(events: Sequence[Event]) -> list[tuple[int, float]]:
    """(last id, a moment just after it) for every prefix of the journal."""
    return [(e.id, e.at + 1.0) for e in events]


def _differs(fold: Fold, everything: Sequence[Event], kinds: frozenset[str]) -> bool:
    for cut, now in _prefixes(everything):
        upto = [e for e in everything if e.id <= cut]
        if fold(upto, now) != fold([e for e in upto if e.kind in kinds], now):
            return True
    return False


@pytest.mark.parametrize("name", FOLDS)
def test_the_fold_over_its_kinds_only_equals_the_fold_over_everything(history: tuple[Plan, Journal], name: str) -> None:
    plan, journal = history
    kinds, fold = _folds(plan)[name]
    everything = journal.events()
    selected = journal.events(kinds=kinds)  # what the TUI reads: filtered in SQL
    assert len(selected) < len(everything)
    assert [e for e in everything if e.kind in kinds] == list(selected)
    for cut, now in _prefixes(everything):
        whole = fold([e for e in everything if e.id <= cut], now)
        assert fold([e for e in selected if e.id <= cut], now) == whole, f"{name} differs after event {cut}"


@pytest.mark.parametrize("name", FOLDS)
def test_every_kind_in_the_constant_is_needed(history: tuple[Plan, Journal], name: str) -> None:
    """The mutation the first test must catch: without any one of its kinds, the fold's
    answer changes on this journal (so a kind dropped from the constant fails the test)."""
    plan, journal = history
    kinds, fold = _folds(plan)[name]
    everything = list(journal.events())
    for kind in sorted(kinds):
        assert _differs(fold, everything, kinds - {kind}), f"{name}: dropping {kind!r} changes nothing on this journal"


def test_the_constants_name_real_journal_kinds() -> None:
    from cockpit.journal import KINDS

    for kinds in (EXPECTED_KINDS, DRILL_KINDS, WATCH_PERIOD_KINDS, WATCHER_KINDS, ALERT_VIEW_KINDS, COVERAGE_KINDS,
                  EPISODE_KINDS, UNNOTIFIED_KINDS, DRILL_MARK_KINDS, PHASE_STARTED_KINDS, EMERGENCY_KINDS):
        assert kinds <= KINDS


def test_a_drill_is_scored_on_its_own_id_range(history: tuple[Plan, Journal]) -> None:
    """`cockpit drill end/report` read the drill's events only (`Journal.span`), not the
    history before it: the score is the one the whole history gives."""
    from cockpit.drill.score import score

    plan, journal = history
    everything = journal.events()
    known = drills(journal.events(kinds=DRILL_KINDS))
    assert [d.end_id is None for d in known] == [False, True]  # one ended, one running
    for drill in known:
        span = journal.span(drill.start_id, drill.end_id)
        assert span and len(span) < len(everything)
        assert span == [e for e in everything if drill.contains(e)]
        assert score(plan, span, drill) == score(plan, everything, drill)
