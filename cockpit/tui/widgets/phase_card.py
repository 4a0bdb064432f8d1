"""One phase on the board: everything that decides "is this phase still running?".

The card changes only when a reading does. The age of the latest refresh lives in one
place, the status strip's "refreshed HH:MM:SS" (with its age once it is late): a
reading read by that refresh shows no age of its own. A reading that is older than the refresh (stale after a lost
connection, never read, carried over) keeps its age note, which is what the operator
must notice. Exact counts show the clock time they were taken, not a moving age.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cockpit.plan.model import Phase
from cockpit.tui import format as fmt
from cockpit.tui.ports import is_cockpit
from cockpit.tui.widgets.repaint import RepaintStatic

if TYPE_CHECKING:  # the board's first frame is drawn before the engine is imported (app.py)
    from cockpit.engine.types import PhaseProgress
    from cockpit.probes.snapshot import CronReading, Freshness, PhaseSnapshot, TableReading

FRESH_SLACK_S = 1.0  # a reading fetched this close before the refresh's time belongs to it


def _age(freshness: Freshness, now: float, refreshed_at: float | None) -> str:
    """The age note, or "" for a reading the latest refresh read (the strip shows that age)."""
    if (
        refreshed_at is not None
        and freshness.stale_since is None
        and freshness.fetched_at is not None
        and freshness.fetched_at >= refreshed_at - FRESH_SLACK_S
    ):
        return ""
    return fmt.age_note(freshness, now)


def _cron_line(reading: CronReading, now: float, refreshed_at: float | None = None) -> str:
    label = fmt.CRON_LABEL.get(reading.state, reading.state)
    parts = [f"{fmt.styled(reading.id, '')} {fmt.value(label, fmt.CRON_STYLE.get(reading.state, ''), reading.freshness)}"]
    if reading.state == "enabled" and reading.next_run:
        parts.append(fmt.styled(f"next {fmt.clock_time(reading.next_run)}", "$text-muted"))
    for run in reading.running:
        parts.append(fmt.styled(f"RUNNING pid {run.pid} {fmt.duration(run.elapsed(now))}", "b $warning"))
    parts.append(_age(reading.freshness, now, refreshed_at))
    return " ".join(p for p in parts if p)


# a table the catalogue no longer shows, by where the journal says it went (engine.table_custody)
CUSTODY_TEXT = {"quarantined": "quarantined", "dropped": "dropped (backed up)", "uncertain": "quarantine? verify"}
CUSTODY_STYLE = {"quarantined": "b $accent", "dropped": "$text-muted", "uncertain": "b $warning"}


def _table_text(reading: TableReading, now: float, custody: dict[str, str] | None = None) -> str:
    state = reading.state
    where = (custody or {}).get(reading.name)
    if where in CUSTODY_TEXT and state in ("absent", "unknown"):
        # "absent" would read as lost: the rows are in the quarantine, or in the verified backup
        return f"{fmt.styled(reading.name, '')} {fmt.styled(CUSTODY_TEXT[where], CUSTODY_STYLE[where])}"
    text = state
    if state == "rows":
        text = f"rows ~{fmt.count(reading.estimated_rows)}" if reading.estimated_rows else "rows"
    out = f"{fmt.styled(reading.name, '')} {fmt.value(text, fmt.TABLE_STYLE.get(state, ''), reading.freshness)}"
    if reading.exact_rows is not None:
        taken = fmt.clock_time(reading.exact_at) if reading.exact_at else "?"
        out += fmt.styled(f" (exact {reading.exact_rows} at {taken})", "$text-muted")
    return out


def phase_card_text(phase: Phase, snap: PhaseSnapshot | None, progress: PhaseProgress | None, now: float,
                    refreshed_at: float | None = None, custody: dict[str, str] | None = None) -> str:
    """The card body as markup. Kept a pure function so it can be tested without an app.
    `refreshed_at`: the snapshot's time; readings it read carry no age of their own.
    `custody`: where the journal says moved tables are (quarantined, dropped)."""
    lines: list[str] = []
    state = snap.state if snap else "unknown"
    risk = fmt.styled(phase.data_loss_risk, fmt.RISK_STYLE.get(phase.data_loss_risk, ""))
    budget = f"budget {phase.budget_minutes:g}m"
    if progress is not None and progress.started_at:
        elapsed = progress.elapsed_s or 0.0
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
        lines.append(f"[b]flags[/]  {flags} {_age(snap.flags[0].freshness, now, refreshed_at)}".rstrip())
    for reading in snap.cron:
        lines.append(f"[b]cron[/]   {_cron_line(reading, now, refreshed_at)}")
    if snap.tables:
        tables = " · ".join(_table_text(t, now, custody) for t in snap.tables)
        lines.append(f"[b]tables[/] {tables} {_age(snap.tables[0].freshness, now, refreshed_at)}".rstrip())
    for table, column, exists in snap.columns:
        shown = "present" if exists else ("absent" if exists is False else "unknown")
        if not exists and (custody or {}).get(f"{table}.{column}") in CUSTODY_TEXT:
            shown = CUSTODY_TEXT[(custody or {})[f"{table}.{column}"]]
        lines.append(f"[b]column[/] {fmt.styled(f'{table}.{column}', '')} {fmt.styled(shown, '$text-muted')}")
    return "\n".join(lines)


class PhaseCard(RepaintStatic, can_focus=True):
    """Focusable so the operator moves between phases with the arrow keys and opens one with enter."""

    def __init__(self, phase: Phase) -> None:
        super().__init__("", id=f"phase-{phase.id}", classes="phase-card", markup=True)
        self.phase = phase
        self.border_title = f"Phase {phase.id} · {fmt.styled(phase.name, '', multiline=False)}"
        self._shown: tuple[str, str] | None = None
        self._readings: tuple[object, ...] | None = None  # (snap, refreshed_at) the clock test below was made on
        self._readings_age = True
        self.clocked = True  # the text shown moves with the clock alone (the board ticks it)

    def show(self, snap: PhaseSnapshot | None, progress: PhaseProgress | None, now: float,
             custody: dict[str, str] | None = None) -> None:
        """Redraw only when the text changed, and lay out only when its shape did: the
        board ticks every second for a day, and an age moving from 4s to 5s must cost a
        repaint of this card, not a layout of the screen."""
        state = snap.state if snap else "unknown"
        snapshot = self.app.snapshot if is_cockpit(self.app) else None
        refreshed_at = None
        if snap is not None and snapshot is not None:  # readings are fetched during the refresh, before its time
            refreshed_at = snapshot.taken_at - (snapshot.refresh_seconds or 0.0)
        text = phase_card_text(self.phase, snap, progress, now, refreshed_at, custody)
        readings = (snap, refreshed_at)
        if readings != self._readings:  # ages and running jobs: does the text move with `now`?
            self._readings = readings
            self._readings_age = text != phase_card_text(self.phase, snap, progress, now + 3600.0, refreshed_at, custody)
        moving = progress is not None and progress.started_at is not None and (
            progress.status == "in progress" or progress.finished_at is None)  # its elapsed time (engine/memo.py)
        self.clocked = self._readings_age or moving
        if (state, text) == self._shown:
            return
        if self._shown is None or self._shown[0] != state:
            for name in ("live", "partly", "rolled", "unknown"):
                self.set_class(state.split()[0] == name, f"state-{name}")
            self.border_subtitle = state
        self._shown = (state, text)
        self.show_text(text)
