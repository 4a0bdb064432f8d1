"""The TUI following a running watcher instead of being a second one.

While `cockpit watch` beats in the journal, the TUI does not journal its own drift alerts
(the watcher judges against the journal's expected state and owns the alerts); it shows
the watcher's and rings when a new one appears. Pure journal reads: any number of TUIs
can follow one watcher.
"""

from __future__ import annotations

from typing import Any

from cockpit.text import clean

from .record import live_watcher


def follow_watcher(app: Any) -> bool:
    """True when a watcher is running; then sync the app's alert count and ring on new alerts."""
    engine = getattr(app, "engine", None)
    if engine is None:
        return False
    events = engine.journal.events()
    beat = live_watcher(events, app.now())
    if beat is None:
        return False
    alerts = engine.open_alerts()
    newest = max((a.event_id for a in alerts), default=0)
    seen = getattr(app, "_watch_seen_alert", None)
    app.open_alert_count = len(alerts)
    if seen is not None and newest > seen:
        latest = alerts[-1]
        app.notify(clean(latest.message), title=f"ALERT {clean(latest.kind)} (watcher)", severity="error", timeout=15, markup=False)
        app.bell()
    app._watch_seen_alert = max(newest, seen or 0)
    return True
