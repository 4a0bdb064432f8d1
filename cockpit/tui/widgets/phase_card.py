"""One phase on the board: everything that decides "is this phase still running?"."""

from __future__ import annotations

from typing import Any

from cockpit.plan.model import Phase
from cockpit.probes.snapshot import CronReading, PhaseSnapshot, TableReading
from cockpit.tui import format as fmt
from cockpit.tui.widgets.repaint import RepaintStatic


def _cron_line(reading: CronReading, now: float) -> str:
    label = fmt.CRON_LABEL.get(reading.state, reading.state)
    parts = [f"{fmt.styled(reading.id, '')} {fmt.value(label, fmt.CRON_STYLE.get(reading.state, ''), reading.freshness)}"]
    if reading.state == "enabled" and reading.next_run:
        parts.append(fmt.styled(f"next {fmt.clock_time(reading.next_run)}", "$text-muted"))
    for run in reading.running:
        parts.append(fmt.styled(f"RUNNING pid {run.pid} {fmt.duration(run.elapsed(now))}", "b $warning"))
    parts.append(fmt.age_note(reading.freshness, now))
    return " ".join(parts)


def _table_text(reading: TableReading, now: float) -> str:
    state = reading.state
    text = state
    if state == "rows":
        text = f"rows ~{fmt.count(reading.estimated_rows)}" if reading.estimated_rows else "rows"
    out = f"{fmt.styled(reading.name, '')} {fmt.value(text, fmt.TABLE_STYLE.get(state, ''), reading.freshness)}"
    if reading.exact_rows is not None:
        exact_age = fmt.duration(now - reading.exact_at) if reading.exact_at else "?"
        out += fmt.styled(f" (exact {reading.exact_rows}, {exact_age} ago)", "$text-muted")
    return out


def phase_card_text(phase: Phase, snap: PhaseSnapshot | None, progress: Any, now: float) -> str:
    """The card body as markup. Kept a pure function so it can be tested without an app."""
    lines: list[str] = []
    state = snap.state if snap else "unknown"
    risk = fmt.styled(phase.data_loss_risk, fmt.RISK_STYLE.get(phase.data_loss_risk, ""))
    budget = f"budget {phase.budget_minutes:g}m"
    if progress is not None and getattr(progress, "started_at", None):
        elapsed = getattr(progress, "elapsed_s", 0.0) or 0.0
        over = elapsed > phase.budget_minutes * 60
        budget = fmt.styled(
            f"{fmt.duration(elapsed)} of {phase.budget_minutes:g}m", "b $error" if over else "b $accent"
        )
    lines.append(
        f"{fmt.styled(state.upper(), fmt.STATE_STYLE.get(state, ''))}  {budget}  "
        f"risk {risk} {fmt.styled('(' + phase.data_loss_reason + ')', '$text-muted')}"
    )
    if snap is None:
        lines.append(fmt.styled("no reading yet", "$text-muted"))
        return "\n".join(lines)
    if snap.flags:
        flags = "  ".join(
            f"{fmt.styled(f.key, '')} {fmt.value(f.state, fmt.FLAG_STYLE.get(f.state, ''), f.freshness)}"
            for f in snap.flags
        )
        lines.append(f"[b]flags[/]  {flags} {fmt.age_note(snap.flags[0].freshness, now)}")
    for reading in snap.cron:
        lines.append(f"[b]cron[/]   {_cron_line(reading, now)}")
    if snap.tables:
        tables = " · ".join(_table_text(t, now) for t in snap.tables)
        lines.append(f"[b]tables[/] {tables} {fmt.age_note(snap.tables[0].freshness, now)}")
    for table, column, exists in snap.columns:
        shown = "present" if exists else ("absent" if exists is False else "unknown")
        lines.append(f"[b]column[/] {fmt.styled(f'{table}.{column}', '')} {fmt.styled(shown, '$text-muted')}")
    return "\n".join(lines)


class PhaseCard(RepaintStatic, can_focus=True):
    """Focusable so the operator moves between phases with the arrow keys and opens one with enter."""

    def __init__(self, phase: Phase) -> None:
        super().__init__("", id=f"phase-{phase.id}", classes="phase-card", markup=True)
        self.phase = phase
        self.border_title = f"Phase {phase.id} · {phase.name}"
        self._shown: tuple[str, str] | None = None

    def show(self, snap: PhaseSnapshot | None, progress: Any, now: float) -> None:
        """Redraw only when the text changed, and lay out only when its shape did: the
        board ticks every second for a day, and an age moving from 4s to 5s must cost a
        repaint of this card, not a layout of the screen."""
        state = snap.state if snap else "unknown"
        text = phase_card_text(self.phase, snap, progress, now)
        if (state, text) == self._shown:
            return
        if self._shown is None or self._shown[0] != state:
            for name in ("live", "partly", "rolled", "unknown"):
                self.set_class(state.split()[0] == name, f"state-{name}")
            self.border_subtitle = state
        self._shown = (state, text)
        self.show_text(text)
