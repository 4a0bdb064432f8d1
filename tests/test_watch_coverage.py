"""Coverage of "Monitor for 24 hours" from heartbeats: pure function over events."""

from __future__ import annotations

from cockpit.journal import Event
from cockpit.watch.coverage import DB_UNREACHABLE, WATCHER_DOWN, coverage, watch_evidence

T0 = 1_762_000_000.0


def _beats(start_id: int, t: float, until: float, pid: int, phases: list[int], db: str = "connected", every: float = 60):
    out = []
    i = start_id
    while t <= until:
        out.append(Event(i, t, "watch_heartbeat", "w", None, None, {"pid": pid, "host": "h", "interval": every, "phases": phases, "db": db}))
        i += 1
        t += every
    return out


def test_hours_gaps_and_phases_that_join_later() -> None:
    events = [Event(1, T0, "watch_start", "w", None, None, {"hours": 24})]
    events += _beats(2, T0, T0 + 3600, 100, [10])                       # 1 h on phase 10
    events += _beats(200, T0 + 3660, T0 + 7200, 100, [10], db="lost")   # database away for ~1 h
    events += _beats(400, T0 + 7260, T0 + 10 * 3600, 100, [10, 9])      # phase 9 joins
    # the watcher is killed, restarted 30 min later (new pid)
    events += _beats(2000, T0 + 10 * 3600 + 1800, T0 + 25 * 3600, 200, [10, 9])
    now = T0 + 25 * 3600
    ten = coverage(events, 10, now, 24)
    assert [g.reason for g in ten.gaps] == [DB_UNREACHABLE, WATCHER_DOWN]
    assert ten.gaps[1].seconds == 1800
    assert 23 < ten.covered_hours < 23.6 and not ten.complete and ten.watching
    nine = coverage(events, 9, now, 24)
    assert nine.first_at == T0 + 7260 and [g.reason for g in nine.gaps] == [WATCHER_DOWN]
    ok, text = watch_evidence(events, 10, now, 24)
    assert ok is None and "2 gap(s)" in text and "database unreachable" in text
    more = events + _beats(5000, now + 60, now + 3600, 200, [10, 9])  # one more hour watched
    assert watch_evidence(more, 10, now + 3600, 24)[0] is True
    assert watch_evidence(events, 8, now, 24) == (False, "not watched yet")
    # a watcher that stopped beating while the watch is in force: an ongoing gap, no hours added
    later = coverage(events, 10, now + 7200, 24)
    assert later.gaps[-1].ongoing and later.gaps[-1].reason == WATCHER_DOWN and not later.watching
