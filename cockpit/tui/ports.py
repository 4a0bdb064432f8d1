"""What the views need from the app and from the live system, as Protocols.

Screens and widgets are built by the app and never import it (tests/test_layers.py): they
see it as `CockpitView`, the cockpit state they read and the screens they open. The app
declares `IS_COCKPIT` and its conformance to `CockpitView` is checked statically (app.py);
`is_cockpit` is the runtime check that narrows Textual's `App[Any]` to it.

The app reads the live system through `LivePort` rather than `LiveSystem` itself: a
test or a benchmark passes its own (`live_factory`) — e.g. the snapshot tests' frozen
wrapper around the real LiveSystem, which pins the values that move with the clock. The
engine needs no port: the views use the real `Engine` (the layer below them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, TypeAlias, TypeGuard

from cockpit.plan.model import Plan

if TYPE_CHECKING:  # the board's first frame is drawn before these are imported (app.py)
    from cockpit.db import Database
    from cockpit.engine import Engine
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
LiveFactory: TypeAlias = "Callable[[Plan, Database | None, Clock], LivePort]"


class CockpitView(Protocol):
    """The app as the views see it: the plan, the latest reading, the engine once open,
    who holds the controls, and the screens it opens."""

    plan: Plan
    snapshot: Snapshot | None
    engine: Engine | None
    live: LivePort | None
    open_alert_count: int
    session_state: str  # opening | open | failed
    welcome: str

    @property
    def session_open(self) -> bool: ...

    @property
    def opened(self) -> Engine: ...

    @property
    def read_only(self) -> bool: ...

    @property
    def read_only_reason(self) -> str: ...

    @property
    def operator(self) -> str: ...

    def now(self) -> float: ...

    def poll_interval(self) -> float: ...

    def status_text(self) -> str: ...

    def open_phase(self, phase_id: int) -> None: ...

    def open_checklist(self, phase_id: int) -> None: ...

    def open_log(self, phase_id: int) -> None: ...

    def open_watch(self, phase_id: int | None) -> None: ...


def is_cockpit(app: object) -> TypeGuard[CockpitView]:
    """True for the cockpit's app, which says so (`IS_COCKPIT`)."""
    return getattr(app, "IS_COCKPIT", False) is True
