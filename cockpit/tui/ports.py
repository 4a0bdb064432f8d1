"""What the views need from the live system, as a Protocol.

The app reads the live system through `LivePort` rather than `LiveSystem` itself: a
test or a benchmark passes its own (`live_factory`) — e.g. the snapshot tests' frozen
wrapper around the real LiveSystem, which pins the values that move with the clock. The
engine needs no port: the views use the real `Engine` (the layer below them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from cockpit.db import Database
from cockpit.plan.model import Plan
from cockpit.probes.drift import Alert
from cockpit.probes.snapshot import Snapshot

Clock = Callable[[], float]


class LivePort(Protocol):
    """One refresh at a time of everything the board shows, plus exact counts on request."""

    # the phases the journal says are rolled back (set before each refresh): drift is judged against it
    expected_rolled_back: set[int] | None

    @property
    def alerts_since_last(self) -> Sequence[Alert]:
        """The drift the latest refresh found."""
        ...

    async def refresh(self) -> Snapshot:
        """Read the live system once."""
        ...

    async def exact_count(self, table: str) -> int:
        """COUNT(*) of one table, bounded by the plan's statement time limit."""
        ...

    async def close(self) -> None:
        """Release what the probes hold (log file handles)."""
        ...


# builds the live system once the engine's Database object exists (connected or not)
LiveFactory = Callable[[Plan, Database | None, Clock], LivePort]
