"""The two ways the engine says no to a caller (the CLI maps them to exit codes 2 and 1).

Their own module so the Session (which refuses writes) and the Engine (which refuses bad
input) share them without importing each other.
"""

from __future__ import annotations


class EngineError(Exception):
    """Bad input (unknown phase, step or checklist item): CLI exit 2."""


class EngineRefused(Exception):
    """A write refused, e.g. a tick from a read-only cockpit; the message names why."""


__all__ = ["EngineError", "EngineRefused"]
