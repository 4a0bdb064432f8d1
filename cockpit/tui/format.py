"""Turning readings into short, honest text.

Every value on screen says how old it is, and a value that no longer reflects the live
system must look different from a fresh one: an operator glancing at "off" must not
mistake "off three minutes ago, before the database went away" for "off now". All
colours are theme variables so the stylesheet's theme decides the palette.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from cockpit.text import escape_markup

if TYPE_CHECKING:  # the board's first frame is drawn before the probes are imported (app.py)
    from cockpit.probes.snapshot import Freshness

STATE_STYLE = {
    "live": "b $error",
    "partly rolled back": "b $warning",
    "rolled back": "b $success",
    "unknown": "b $text-muted",
}
STEP_STYLE = {
    "pending": "$text-muted",
    "ready": "b $accent",
    "blocked": "$warning",
    "running": "b $primary",
    "done": "b $success",
    "failed": "b $error",
    "refused": "b $error",
    "interrupted": "b $warning",
}
FLAG_STYLE = {"on": "b $error", "off": "$success", "missing": "$text-muted", "unknown": "$text-muted"}
CRON_STYLE = {
    "enabled": "b $error",
    "disabled_by_cockpit": "$success",
    "disabled_other": "$success",
    "absent": "$text-muted",
    "unknown": "$text-muted",
}
CRON_LABEL = {
    "enabled": "enabled",
    "disabled_by_cockpit": "disabled",
    "disabled_other": "disabled (by hand)",
    "absent": "absent",
    "unknown": "unknown",
}
TABLE_STYLE = {"rows": "b $warning", "empty": "$success", "absent": "$text-muted", "present": "", "unknown": "$text-muted"}
RISK_STYLE = {"none": "$success", "low": "$success", "medium": "$warning", "high": "b $error"}


def duration(seconds: float | None) -> str:
    """Compact durations for narrow terminals: 42s, 3m05s, 2h07m."""
    if seconds is None:
        return "—"
    seconds = int(max(0, seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def countdown(seconds: float) -> str:
    """H:MM:SS, the shape people read a watch timer in."""
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def clock_time(epoch: float | None) -> str:
    if epoch is None:
        return "—"
    return time.strftime("%H:%M:%S", time.localtime(epoch))


def stamp(epoch: float | None) -> str:
    if epoch is None:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def styled(text: object, style: str, multiline: bool = True, limit: int | None = None) -> str:
    """Cleaned, escaped text wrapped in a style, so values from the live system can never
    inject markup, crash the parser or reach the terminal as control bytes.

    Uses `cockpit.text.escape_markup` rather than `textual.markup.escape`, which leaves an
    unterminated `[/` (MarkupError) and a trailing backslash (eats the closing tag)."""
    escaped = escape_markup(text, multiline=multiline, limit=limit)
    return f"[{style}]{escaped}[/]" if style else escaped


def age_note(freshness: Freshness, now: float) -> str:
    """"3s" for a fresh value; "stale 2m10s" (highlighted) once its source went away."""
    age = freshness.age(now)
    if freshness.stale_since is not None:
        return styled(f"stale {duration(now - freshness.stale_since)}", "b $error")
    if age is None:
        return styled("never read", "$text-muted")
    return styled(duration(age), "$text-muted")


def value(text: str, style: str, freshness: Freshness) -> str:
    """A reading's value: struck through and dimmed when stale, so it cannot pass for live."""
    if freshness.stale:
        return styled(text, "strike $text-muted")
    return styled(text, style)


def count(n: int | None) -> str:
    if n is None:
        return "?"
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n / 1000:.0f}k"
    return str(n)


def size(n: float | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "K", "M", "G", "T"):
        if abs(n) < 1024 or unit == "T":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024
    return f"{n:.1f}T"
