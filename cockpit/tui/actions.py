"""The TUI's action names that write (to the live system or the journal), and those
that need the engine at all.

Its own module so that screens can grey these out in read-only mode (or before the
engine is open) without importing the app (screens are built by the app; the dependency
points from app to screens).
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

# Actions that need the engine (its journal, its steps, the live system it opens): shown
# greyed until the engine is open behind the first frame, and for good if it cannot be.
ENGINE_ACTIONS = WRITE_ACTIONS | frozenset(
    {
        "emergency",
        "journal",
        "refresh",
        "open_phase",
        "checklist",
        "watch",
        "log",
        "exact_counts",
        "drill",
    }
)
