"""The TUI's action names that write (to the live system or the journal).

Its own module so that screens can grey these out in read-only mode without importing
the app (screens are built by the app; the dependency points from app to screens).
"""

from __future__ import annotations

# Actions that change the live system or the journal; greyed out in read-only mode.
WRITE_ACTIONS = frozenset(
    {
        "run_step",
        "override_step",
        "tick",
        "execute_emergency",
        "append_log",
        "start_watch",
        "acknowledge",
        "note",
    }
)
