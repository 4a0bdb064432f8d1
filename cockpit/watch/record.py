"""What the journal says about the watch: its period, the watcher's heartbeat, alerts, acks.

Pure functions over events, like engine/state.py: every TUI and CLI derives the same
picture from the same rows, whichever process wrote them. The watcher is the only
writer of `watch_heartbeat`, `alert_clear` and `notify_*`; acks come from anyone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from cockpit.journal import Event

# A heartbeat older than this many intervals means the watcher is gone (killed, host
# asleep): one missed beat can be a slow refresh, three cannot.
STALE_AFTER_BEATS = 3
STALE_MIN_SECONDS = 15.0
WATCHER_SOURCE = "watcher"

AlertKey = tuple[str, int | None, str]


@dataclass(frozen=True)
class WatchPeriod:
    """The watch in force (or the last one): start, end after extensions, how it ended."""

    start_id: int
    started_at: float
    ends_at: float
    hours: float
    drill: bool = False
    ended_at: float | None = None
    end_reason: str = ""

    @property
    def running(self) -> bool:
        return self.ended_at is None

    def left(self, now: float) -> float:
        return self.ends_at - now


@dataclass(frozen=True)
class Heartbeat:
    id: int
    at: float
    pid: int
    host: str
    interval: float
    phases: tuple[int, ...]
    db: str
    started_at: float | None = None

    def stale_after(self) -> float:
        return max(STALE_AFTER_BEATS * self.interval, STALE_MIN_SECONDS)

    def age(self, now: float) -> float:
        return max(0.0, now - self.at)


@dataclass(frozen=True)
class AlertView:
    """One alert with everything a view needs: who acknowledged it and when, whether the
    condition went away (the watcher clears it) and how notification went."""

    id: int
    at: float
    kind: str
    phase_id: int | None
    subject: str
    message: str
    source: str = ""
    acked_by: str | None = None
    acked_at: float | None = None
    cleared_at: float | None = None
    clear_note: str = ""
    notified: tuple[str, ...] = ()
    notify_errors: tuple[str, ...] = ()

    @property
    def key(self) -> AlertKey:
        return (self.kind, self.phase_id, self.subject)

    @property
    def open(self) -> bool:
        return self.acked_at is None

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id, "at": self.at, "kind": self.kind, "phase": self.phase_id, "subject": self.subject,
            "message": self.message, "source": self.source, "acknowledged_by": self.acked_by,
            "acknowledged_at": self.acked_at, "cleared_at": self.cleared_at, "clear_note": self.clear_note,
            "notified": list(self.notified), "notify_errors": list(self.notify_errors),
        }


# The kinds each fold below reads: a caller may pass only these
# (`Journal.events(kinds=...)`, SQL-filtered and cached) and gets the same answer as over
# the whole history. Kept beside the functions so the two change together;
# tests/test_journal_kind_folds.py proves each kind is needed and none is missing.
WATCH_PERIOD_KINDS = frozenset({"watch_start", "watch_extend", "watch_end"})  # watch_period
WATCHER_KINDS = frozenset({"watch_heartbeat", "watch_end"})  # last_heartbeat, live_watcher
ALERT_VIEW_KINDS = frozenset({"alert", "alert_ack", "alert_clear", "notify_sent", "notify_failed"})  # alert_views
EPISODE_KINDS = frozenset({"alert", "alert_clear"})  # open_episodes
UNNOTIFIED_KINDS = frozenset({"alert", "notify_sent", "notify_failed"})  # unnotified
DRILL_MARK_KINDS = frozenset({"drill_start", "drill_end"})  # drill_marked
BASELINE_KINDS = frozenset({"watch_baseline"})  # the watcher's journalled baselines


def watch_period(events: Iterable[Event]) -> WatchPeriod | None:
    """The last watch: a watch_start, every watch_extend after it, and its watch_end if any."""
    period: WatchPeriod | None = None
    for e in events:
        if e.kind == "watch_start":
            hours = float(e.data.get("hours", 24))
            period = WatchPeriod(e.id, e.at, e.at + hours * 3600, hours, bool(e.data.get("drill")))
        elif period is None or not period.running:
            continue
        elif e.kind == "watch_extend":
            more = float(e.data.get("hours", 0))
            period = WatchPeriod(period.start_id, period.started_at, period.ends_at + more * 3600,
                                 period.hours + more, period.drill)
        elif e.kind == "watch_end":
            period = WatchPeriod(period.start_id, period.started_at, period.ends_at, period.hours, period.drill,
                                 e.at, str(e.data.get("reason", "")))
    return period


def heartbeat_of(event: Event) -> Heartbeat:
    d = event.data
    return Heartbeat(event.id, event.at, int(d.get("pid", 0)), str(d.get("host", "")), float(d.get("interval", 60)),
                     tuple(int(p) for p in d.get("phases", ())), str(d.get("db", "")), d.get("started_at"))


def last_heartbeat(events: Iterable[Event]) -> Heartbeat | None:
    """The newest heartbeat, unless a watch_end came after it (the watcher said goodbye)."""
    beat: Heartbeat | None = None
    for e in events:
        if e.kind == "watch_heartbeat":
            beat = heartbeat_of(e)
        elif e.kind == "watch_end":
            beat = None
    return beat


def live_watcher(events: Iterable[Event], now: float) -> Heartbeat | None:
    """The running watcher's last heartbeat, or None when none has beaten recently."""
    beat = last_heartbeat(events)
    if beat is None or now - beat.at > beat.stale_after():
        return None
    return beat


def alert_views(events: Iterable[Event]) -> list[AlertView]:
    """Every alert, oldest first, with its ack, clear and notification results folded in."""
    alerts: dict[int, AlertView] = {}
    for e in events:
        if e.kind == "alert":
            alerts[e.id] = AlertView(
                id=e.id, at=float(e.data.get("at") or e.at), kind=str(e.data.get("kind", "")), phase_id=e.phase,
                subject=str(e.data.get("subject", "")), message=str(e.data.get("message", "")),
                source=str(e.data.get("source", "")),
            )
            continue
        key = _int(e.data.get("event_id", e.data.get("alert_id")))
        target = alerts.get(key)
        if target is None:
            continue
        if e.kind == "alert_ack" and target.acked_at is None:
            alerts[key] = replace(target, acked_by=e.operator, acked_at=e.at)
        elif e.kind == "alert_clear" and target.cleared_at is None:
            alerts[key] = replace(target, cleared_at=e.at, clear_note=str(e.data.get("note", "")))
        elif e.kind == "notify_sent":
            alerts[key] = replace(target, notified=(*target.notified, str(e.data.get("channel", ""))))
        elif e.kind == "notify_failed":
            alerts[key] = replace(target, notify_errors=(*target.notify_errors, f"{e.data.get('channel', '')}: {e.data.get('error', '')}"))
    return list(alerts.values())


def open_episodes(events: Iterable[Event]) -> dict[AlertKey, int]:
    """The watcher's alerts whose condition has not been seen to clear: key -> alert id.
    A restarted watcher starts from these, so a condition that still holds is not alerted
    twice and one that appeared while it was down is alerted once."""
    active: dict[AlertKey, int] = {}
    by_id: dict[int, AlertKey] = {}
    for e in events:
        if e.kind == "alert" and e.data.get("source") == WATCHER_SOURCE:
            key = (str(e.data.get("kind", "")), e.phase, str(e.data.get("subject", "")))
            active[key] = e.id
            by_id[e.id] = key
        elif e.kind == "alert_clear":
            cleared = by_id.get(_int(e.data.get("event_id")))
            if cleared is not None and active.get(cleared) == _int(e.data.get("event_id")):
                del active[cleared]
    return active


def unnotified(events: Iterable[Event], since_id: int) -> list[int]:
    """Watcher alerts from `since_id` on with no notification result: a watcher killed
    between journalling an alert and sending it sends it after the restart."""
    pending: dict[int, None] = {}
    for e in events:
        if e.id < since_id:
            continue
        if e.kind == "alert" and e.data.get("source") == WATCHER_SOURCE and e.data.get("notify", True):
            pending[e.id] = None
        elif e.kind in ("notify_sent", "notify_failed"):
            pending.pop(_int(e.data.get("alert_id")), None)
    return list(pending)


def drill_marked(events: Iterable[Event]) -> bool:
    """A drill in progress per the journal (helper E's drill markers: any `drill_start`
    not followed by a `drill_end`); its notifications go to the test channel."""
    marked = False
    for e in events:
        if e.kind == "drill_start":
            marked = True
        elif e.kind == "drill_end":
            marked = False
    return marked


def _int(value: object) -> int:
    """An event id as journalled (int, or text from an older writer); -1 if it is none."""
    if not isinstance(value, (int, float, str, bytes)):
        return -1
    try:
        return int(value)
    except ValueError:
        return -1
