"""The strip at the top of every screen: where we are connected, who holds the controls, how old the picture is."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from cockpit.plan.model import Plan, Target
from cockpit.tui import format as fmt
from cockpit.tui.widgets.repaint import RepaintStatic

if TYPE_CHECKING:
    from cockpit.engine.types import WatchState
    from cockpit.probes.snapshot import Snapshot
    from cockpit.tui.ports import CockpitView


def target_text(target: Target) -> str:
    """The sandbox by folder name only: a full temp path wastes half an 80-column line."""
    if target.kind == "sqlite":
        path = Path(target.path) if target.path else None
        return f"sandbox {path.parent.name}/{path.name}" if path else "sandbox"
    return target.label


def strip_text(
    plan: Plan,
    operator: str,
    read_only: bool,
    read_only_reason: str,
    snapshot: Snapshot | None,
    watch: WatchState | None,
    open_alerts: int,
    now: float,
    *,
    session: str = "open",
    session_error: str = "",
    late_after: float | None = None,
    interval: float | None = None,
) -> str:
    """`session`: "opening" while the engine opens behind the first frame (who holds the
    lock is not known yet), "failed" when it could not be opened (`session_error` says why).
    `late_after`: the reading's age is shown only once it is older than this many seconds
    (the app passes two refresh intervals), and then as a warning with the clock time of
    the reading. An on-time strip says only how often it is refreshed (`interval`): its
    text does not change from one refresh to the next, so a watched cockpit repaints
    nothing between readings that did not change; a late one is what the operator must
    notice. None: always show the reading's time and age."""
    parts = [fmt.styled(target_text(plan.target), "b")]
    if session == "opening":
        parts.append(fmt.styled(f"operator {operator}".rstrip(), "$text-muted"))
        parts.append(fmt.styled("connecting…", "b $warning"))
        return " · ".join(parts)
    if session == "failed":
        parts.append(fmt.styled(f"CANNOT OPEN THE COCKPIT: {session_error}".rstrip(": "), "b $error"))
        return " · ".join(parts)
    if read_only:
        parts.append(fmt.styled(f"READ-ONLY ({read_only_reason})", "b $warning"))
    else:
        parts.append(fmt.styled(f"operator {operator} (lock held)", "$success"))
    if snapshot is None:
        parts.append(fmt.styled("no reading yet", "$text-muted"))
    else:
        conn = snapshot.connection
        if conn.state == "connected":
            parts.append(fmt.styled(f"connected {conn.server}".strip(), "$success"))
        else:
            lost = f" {fmt.duration(now - conn.lost_since)}" if conn.lost_since else ""
            parts.append(fmt.styled(f"{conn.state.upper()}{lost}: {conn.error or ''}".rstrip(": "), "b $error"))
        age = now - snapshot.taken_at
        refreshed = f"refreshed {fmt.clock_time(snapshot.taken_at)}"
        if late_after is None:
            parts.append(fmt.styled(f"{refreshed} ({fmt.duration(age)} ago)", "$text-muted"))
        elif age > late_after:
            parts.append(fmt.styled(f"{refreshed} ({fmt.duration(age)} ago: LATE)", "b $warning"))
        elif interval is not None:
            parts.append(fmt.styled(f"refreshed every {fmt.duration(interval)}", "$text-muted"))
        else:
            parts.append(fmt.styled(refreshed, "$text-muted"))
    if watch is not None:
        left = watch.ends_at - now
        label = "watch done" if left <= 0 else f"watch {watch_left(left)} left"
        parts.append(fmt.styled(label, "b $accent"))
    if open_alerts:
        parts.append(fmt.styled(f"{open_alerts} ALERT{'S' if open_alerts > 1 else ''}", "b reverse $error"))
    return " · ".join(parts)


def watch_left(seconds: float) -> str:
    """The watch's time left to the minute, rounded up ("23h59m", "5m", "1m" until it is
    done): the strip is on every screen for 24-48 hours, and a countdown in seconds would
    repaint it every second. The watch screen shows the seconds."""
    minutes = max(1, math.ceil(seconds / 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"


def strip_moves(app: CockpitView) -> bool:
    """Whether the strip's text may change with the clock alone within the next idle tick:
    a lost connection counts its time, and a reading that is overdue (older than one poll
    interval) turns LATE and then shows its age. An on-time reading, the session opening,
    a watch (its countdown is in minutes) do not: an idle tick is soon enough for them."""
    snapshot = app.snapshot
    if snapshot is None or app.session_state != "open":
        return False
    if snapshot.connection.state != "connected":
        return True
    return app.now() - snapshot.taken_at > app.poll_interval()


class StatusStrip(RepaintStatic):
    """Redrawn from the app's state; holds nothing itself. Unchanged text costs nothing
    (an on-time reading shows no time of its own, the watch counts down in minutes); a
    changed age (late reading, lost connection) a repaint of the strip only."""

    def refresh_from(self, app: CockpitView) -> None:
        self.show_text(app.status_text())
