"""Home: the four phases in rollback order, each with what still runs and what it would cost.

Above them, what the plan's own lifecycle says before anyone needs it: a running drill
(in a colour no real run uses), the last drill and its verdict, a drill or review that
is overdue, and whom to call."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, ClassVar

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from cockpit.text import clean
from cockpit.tui import format as fmt
from cockpit.tui.messages import JournalChanged, RefreshWanted
from cockpit.tui.screens.base import CockpitScreen
from cockpit.tui.widgets.phase_card import PhaseCard
from cockpit.tui.widgets.repaint import RepaintStatic

if TYPE_CHECKING:
    from cockpit.drill.lifecycle import Lifecycle


class BoardScreen(CockpitScreen):
    COMPACT_FOOTER = True  # every key of the board fits in 80 columns
    # No width classes: no board rule reads them, and setting one on the first resize
    # restyles every widget of the board before its first frame (the phase screen uses them).
    HORIZONTAL_BREAKPOINTS = []
    # The first card takes the focus as the screen is composed. Textual's default would give
    # it to the scroll container first, and moving it to the card then restyles and
    # re-lays out both before the first frame.
    AUTO_FOCUS: ClassVar[str | None] = "PhaseCard"
    # Short labels: at 80 columns the footer must still show `!` EMERGENCY, `?` and `j`
    # (the app's keys come after the screen's). ↑/↓ are priority bindings: the scroll
    # container would otherwise take them and scroll instead of choosing a phase.
    BINDINGS = [
        Binding("enter", "open_phase", "Open"),
        Binding("c", "checklist", "Checks"),
        Binding("w", "watch", "Watch"),
        Binding("l", "log", "Log"),
        Binding("e", "exact_counts", "Count", show=False),
        Binding("D", "drill", "Drill", show=False, key_display="D"),
        Binding("down", "focus_next_card", "Next", show=False, priority=True),
        Binding("up", "focus_previous_card", "Previous", show=False, priority=True),
    ]

    _lifecycle_key: tuple[str, int, int] | None = None  # (session state, newest event, day) of the last pass
    _lifecycle: Lifecycle | None = None
    _cards: tuple[PhaseCard, ...] = ()
    _drawn: tuple[object, ...] | None = None  # what the last redraw was drawn from (`_inputs`)
    _clocked = True  # the last redraw showed something that moves with the clock alone
    _resumed = False  # the first ScreenResume was seen

    def compose_body(self) -> ComposeResult:
        yield Static("", id="drill-banner", markup=False)
        yield Static("", id="alerts-banner")
        yield RepaintStatic("", id="emergency-banner", markup=False)  # an emergency rollback that did not finish
        yield RepaintStatic("", id="lifecycle", markup=False)  # redrawn every second: unchanged text is no layout
        yield RepaintStatic("", id="contacts", markup=False)
        with VerticalScroll(id="board"):
            for phase in self.cockpit_app.plan.rollback_order:
                yield PhaseCard(phase)

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        """Runs before Textual's own handler. The board's first resume comes right after
        its widgets were mounted, and so styled: Textual styling every one of them again
        there cost ~10 ms of the first frame. Later resumes (back from another screen)
        restyle as usual."""
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False

    def on_mount(self) -> None:
        if self.focused is None:  # no auto focus while the terminal has not got the focus
            cards = self.query(PhaseCard)
            if cards:
                cards.first().focus()
        welcome = self.cockpit_app.welcome
        if welcome:
            self.notify(welcome, title="Sandbox", timeout=8)

    def selected_phase_id(self) -> int:
        focused = self.focused
        if isinstance(focused, PhaseCard):
            return focused.phase.id
        return self.cockpit_app.plan.rollback_order[0].id

    def _inputs(self) -> tuple[object, ...]:
        """Everything the board is drawn from except the clock: the journal's change signal
        (one pragma: any commit by any process moves it), the engine's own state, the
        snapshot, the alert count, the session, the day (the lifecycle's overdue test)."""
        app = self.cockpit_app
        engine = app.engine if app.session_open else None
        journal = (engine.journal.signal(), engine.memo_state()) if engine is not None else None
        return (app.session_state, journal, app.snapshot, app.open_alert_count, int(app.now() // 86400))

    def redraw(self) -> None:
        app = self.cockpit_app
        self._drawn = self._inputs()  # read before the journal: a commit during the redraw redraws again
        now = app.now()
        snap = app.snapshot
        engine = app.engine if app.session_open else None  # the first frame is drawn before it opens
        if not self._cards:
            self._cards = tuple(self.query(PhaseCard))
        for card in self._cards:
            phase_snap = None
            if snap is not None:
                try:
                    phase_snap = snap.phase(card.phase.id)
                except KeyError:
                    phase_snap = None
            progress = engine.phase_progress(card.phase.id) if engine is not None else None
            custody = engine.table_custody(card.phase.id) if engine is not None else None
            card.show(phase_snap, progress, now, custody)
        banner = self.query_one("#alerts-banner", Static)
        count = app.open_alert_count
        banner.display = bool(count)
        if count:
            banner.update(f"{count} unacknowledged alert(s): press w to see and acknowledge them")
        emergency = self.query_one("#emergency-banner", RepaintStatic)
        warning = engine.emergency_warning(snap) if engine is not None else None
        emergency.display = warning is not None
        if warning is not None:
            emergency.show_text(clean(warning.text, limit=500))  # redrawn every refresh: unchanged text costs nothing
        self._draw_lifecycle(now)
        # a running emergency becomes "interrupted" with the clock alone
        self._clocked = any(card.clocked for card in self._cards) or (warning is not None and warning.running)

    def _draw_lifecycle(self, now: float) -> None:
        from cockpit.drill.lifecycle import contacts_line, lifecycle, summary_lines
        from cockpit.drill.record import DRILL_KINDS
        from cockpit.text import clean

        app = self.cockpit_app
        journal = self.engine.journal if app.session_open else None
        # drills are found by a pass over the drill markers only (SQL-filtered, cached), and
        # only when a marker was added or the day changed: one pragma a tick otherwise
        newest = journal.version(DRILL_KINDS) if journal is not None else 0
        key = (app.session_state, newest, int(now // 86400))
        if self._lifecycle_key != key or self._lifecycle is None:
            self._lifecycle_key = key
            events = journal.events(kinds=DRILL_KINDS) if journal is not None else []
            self._lifecycle = lifecycle(app.plan, events, now)  # contacts come from the plan alone
        state = self._lifecycle
        drill = self.query_one("#drill-banner", Static)
        drill.display = state.drill is not None
        if state.drill is not None:
            d = state.drill
            where = "staging" if d.staging else "sandbox"
            drill.update(f"DRILL {d.number} · {where} · since {fmt.clock_time(d.started_at)} by {clean(d.operator)}"
                         f" · log → drill log · D ends it")
        text, severity = summary_lines(state)[0]
        if not app.session_open:  # no journal read yet: say what the board is waiting for
            text, severity = ("cannot open the journal", "warning") if app.session_state == "failed" \
                else ("opening the journal…", "")
        line = self.query_one("#lifecycle", RepaintStatic)
        line.show_text(text)
        line.set_class(severity == "warning", "-overdue")
        contacts = self.query_one("#contacts", RepaintStatic)
        contacts.show_text(clean(contacts_line(state)))
        contacts.set_class(bool(state.placeholders), "-placeholder")

    def moves_with_clock(self) -> bool:
        """A card shows a time that moves (a phase in progress, a stale reading's age, a
        running job) or an emergency may turn from running to interrupted."""
        return self._clocked

    def tick(self) -> None:
        """Every second: redraw only when something the board shows moved — a commit to
        the journal by any process, a new snapshot, the engine's state — or when a card
        shows a time that moves with the clock (a phase in progress, a stale reading's
        age, a running job). An idle board costs one pragma a second."""
        if self._clocked or self._inputs() != self._drawn:
            self.redraw()

    def action_focus_next_card(self) -> None:
        self.focus_next(PhaseCard)

    def action_focus_previous_card(self) -> None:
        self.focus_previous(PhaseCard)

    def action_exact_counts(self) -> None:
        self.count_exactly(self.selected_phase_id())

    @work(group="exact-count", exclusive=True, exit_on_error=False)
    async def count_exactly(self, phase_id: int) -> None:
        """Exact COUNT(*) of the phase's tables, on request only (the refresh never counts),
        each bounded by the plan's statement time limit; results show on the card with
        their age from the next snapshot on."""
        from cockpit.db.errors import DatabaseError

        phase = self.cockpit_app.plan.phase(phase_id)
        self.notify(f"Counting the rows of phase {phase_id}'s tables exactly…", timeout=3)
        counted, problems = [], []
        snapshot = self.cockpit_app.snapshot
        absent = {t.name for t in snapshot.phase(phase_id).tables if t.exists is False} if snapshot else set()
        for table in phase.tables:
            if table in absent:
                continue
            try:
                counted.append(f"{table} {await self.live.exact_count(table):,}")
            except (DatabaseError, RuntimeError) as exc:
                problems.append(f"{table}: {exc}")
        self.post_message(RefreshWanted())
        if counted:
            self.notify(" · ".join(counted), title=f"Phase {phase_id}: exact rows", timeout=10)
        if problems:
            self.notify("; ".join(problems), title="Not counted", severity="warning", timeout=10)

    def action_drill(self) -> None:
        self.toggle_drill()

    @work(group="drill", exclusive=True, exit_on_error=False)
    async def toggle_drill(self) -> None:
        """D starts a drill (sandbox only from the TUI) or ends the running one and shows its verdict."""
        from cockpit.drill import control
        from cockpit.drill.record import DRILL_KINDS, active_drill
        from cockpit.tui.screens.confirm import ConfirmScreen

        app = self.cockpit_app
        running = active_drill(self.engine.journal.events(kinds=DRILL_KINDS))
        if running is None:
            body = ("Everything journalled until the drill ends belongs to it; its log entries go to the drill log "
                    "and it is scored against the plan's budgets.")
            title = f"Start a drill on {app.plan.target.label}?"
        else:
            body = "Score the drill (time per phase against its budget, refusals, unticked items) and write its report."
            title = f"End drill {running.number}?"
        if not await self.app.push_screen_wait(ConfirmScreen(title, fmt.styled(body, ""))):
            return
        try:  # journal writes are fsync'd: off the event loop
            if running is None:
                drill, notices = await asyncio.to_thread(control.start, self.engine)
                self.notify("\n".join([f"Drill {drill.number} started", *notices]), timeout=5)
            else:
                result, path = await asyncio.to_thread(control.end, self.engine)
                self.notify(f"Drill {result.drill}: {result.verdict.upper()} — report {path.name}", timeout=8)
        except control.DrillRefused as exc:
            self.notify(str(exc), severity="warning", timeout=8)
        self.post_message(JournalChanged())

    def action_open_phase(self) -> None:
        self.cockpit_app.open_phase(self.selected_phase_id())

    def action_checklist(self) -> None:
        self.cockpit_app.open_checklist(self.selected_phase_id())

    def action_log(self) -> None:
        self.cockpit_app.open_log(self.selected_phase_id())

    def action_watch(self) -> None:
        from cockpit.tui.screens.watch import start_or_open_watch

        start_or_open_watch(self, self.selected_phase_id())
