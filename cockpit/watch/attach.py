"""The TUI following a running watcher instead of being a second one.

While `cockpit watch` beats in the journal, the TUI does not journal its own drift alerts
(the watcher judges against the journal's expected state and owns the alerts); it shows
the watcher's and rings when a new one appears. Pure journal reads: any number of TUIs
can follow one watcher.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Literal, Protocol

from cockpit.text import clean

from .record import WATCHER_KINDS, live_watcher

if TYPE_CHECKING:
    from cockpit.engine.types import AlertRecord
    from cockpit.journal import Journal


class AlertSource(Protocol):
    """What of the engine following a watcher reads."""

    @property
    def journal(self) -> Journal: ...

    def open_alerts(self) -> list[AlertRecord]: ...


class FollowingApp(Protocol):
    """What of the TUI app following a watcher uses (the watch layer cannot import the TUI)."""

    open_alert_count: int

    @property
    def engine(self) -> AlertSource | None: ...

    def now(self) -> float: ...

    def notify(self, message: str, *, title: str = "", severity: Literal["information", "warning", "error"] = "information",
               timeout: float | None = None, markup: bool = True) -> None: ...

    def bell(self) -> None: ...


# The newest watcher alert each app has already rung for (an app follows for its lifetime).
_seen_alert: weakref.WeakKeyDictionary[FollowingApp, int] = weakref.WeakKeyDictionary()


def follow_watcher(app: FollowingApp) -> bool:
    """True when a watcher is running; then sync the app's alert count and ring on new alerts."""
    engine = app.engine
    if engine is None:
        return False
    # only the heartbeats and goodbyes: one pragma on a refresh when nothing was committed
    beat = live_watcher(engine.journal.events(kinds=WATCHER_KINDS), app.now())
    if beat is None:
        return False
    alerts = engine.open_alerts()
    newest = max((a.event_id for a in alerts), default=0)
    seen = _seen_alert.get(app)
    app.open_alert_count = len(alerts)
    if seen is not None and newest > seen:
        latest = alerts[-1]
        app.notify(clean(latest.message), title=f"ALERT {clean(latest.kind)} (watcher)", severity="error", timeout=15, markup=False)
        app.bell()
    _seen_alert[app] = max(newest, seen or 0)
    return True
