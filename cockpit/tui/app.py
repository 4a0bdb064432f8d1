"""The Textual cockpit: a view over `LiveSystem` (what the system looks like now) and
`Engine` (what the operator may do and what already happened).

The app holds no rollback logic. It owns four things only: the polling rhythm (one
refresh at a time, the next one scheduled after the previous finished, slower while
nobody looks), turning drift into alerts the operator cannot miss, a clean exit
when the SSH session dies, so the journal records where the rollback stood, and the
order of start-up.

Start-up draws first and opens second: the board is the app's default screen, and its
first frame is built from the plan alone (cards reading "no reading yet", the strip
"connecting…", every action that needs the engine greyed), and only then does a worker
import and open the engine (journal, operator lock, database connection) and the live
system (the probes), then read the first snapshot; the views redraw once, for the open
engine and its first reading together. A slow or hanging database therefore delays the
data, never the board; a failure to open becomes the strip's state and one toast, never a
traceback. `cockpit tui` runs start-up with the cyclic garbage collector paused; the app
turns it back on once the first frame with live data is painted (tui/gc_pause.py).
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer

from cockpit.plan.model import Plan
from cockpit.text import clean
from cockpit.tui import gc_pause
from cockpit.tui.actions import ENGINE_ACTIONS
from cockpit.tui.messages import JournalChanged, LockLost, RefreshWanted
from cockpit.tui.ports import Clock, CockpitView, LiveFactory, LivePort
from cockpit.tui.watchdog import (
    TerminalWatchdog,
    detach_from_terminal,
    guard_sigcont,
    terminal_present,
)
from cockpit.tui.widgets.status_strip import strip_text

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from cockpit.db import ConnectionSettings
    from cockpit.engine import Engine
    from cockpit.probes.drift import Alert
    from cockpit.probes.snapshot import Snapshot
    from cockpit.watch.expected import Expectation

# Session states: the engine is being opened, is open, or could not be opened.
OPENING, OPEN, FAILED = "opening", "open", "failed"
# What the session worker imports off the event loop before opening (the first frame needs none of it).
SESSION_MODULES = ("cockpit.engine", "cockpit.operator")
# The target's database backend, which the session opens (its import would otherwise run on the loop).
BACKEND_MODULES = {"sqlite": "cockpit.db.sqlite", "mysql": "cockpit.db.mysql"}
# Imported while the engine opens (its journal, lock file and connection wait on I/O): the live
# system, what the first refresh reads with (croniter, for the cron jobs' next runs) and judges with.
LIVE_MODULES = ("cockpit.live", "cockpit.watch.attach", "cockpit.watch.expected", "croniter")


def _preload(modules: Iterable[str]) -> None:
    """Import `modules` (run in a thread: the import's file reads and compiling stay off the loop)."""
    import importlib

    for name in modules:
        importlib.import_module(name)


def _preload_in_background(modules: Iterable[str]) -> asyncio.Future[None]:
    """`_preload` in a thread, awaited later; a failure nobody awaits (the engine did not
    open) is still retrieved, and is raised again by the import that needs the module."""
    future = asyncio.ensure_future(asyncio.to_thread(_preload, tuple(modules)))
    future.add_done_callback(lambda done: None if done.cancelled() else done.exception())
    return future

# The garbage collector, paused by `cockpit tui` for start-up, is back on after this long
# even if no first reading ever came (it normally is once the first live frame is painted).
GC_PAUSE_LIMIT_S = 10.0

# Once the engine is open, the first reading's redraw shows it; if no reading came within
# this long, the views redraw for the open engine alone (keys no longer greyed).
OPEN_REDRAW_GRACE_S = 0.3

# No key press for this long counts as "nobody is looking": poll at the idle rate.
IDLE_AFTER_SECONDS = 300
# The strip shows a reading's age only once it is older than this many poll intervals:
# an on-time strip then does not change every second (widgets/status_strip.py).
LATE_AFTER_INTERVALS = 2


class CockpitApp(App[int]):
    """One per terminal. `engine`/`live` may be injected (tests freeze them); otherwise
    the app opens them itself right after its first frame and closes them on unmount.
    `settings`: database connection settings resolved before the app took the terminal
    (`cockpit tui` asks for a MySQL password there; nothing prompts once it runs)."""

    IS_COCKPIT = True  # what screens check before they treat `self.app` as a CockpitView
    CSS_PATH = Path(__file__).with_name("cockpit.tcss")  # absolute: subclasses elsewhere still find it
    TITLE = "Rollback cockpit"
    ENABLE_COMMAND_PALETTE = True
    # below 100 columns the phase screen drops its notes column (they are in the help and the plan)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("exclamation_mark", "emergency", "EMERGENCY", key_display="!"),
        Binding("ctrl+e", "emergency", "Emergency", show=False),
        Binding("j", "journal", "Journal"),
        Binding("r", "refresh", "Refresh"),
    ]

    snapshot: var[Snapshot | None] = var(None, always_update=True)
    journal_version: var[int] = var(0, always_update=True)

    def __init__(
        self,
        plan: Plan,
        *,
        engine: Engine | None = None,
        live: LivePort | None = None,
        clock: Clock = time.time,
        auto_refresh: bool = True,
        read_only: bool = False,
        operator: str | None = None,
        live_factory: LiveFactory | None = None,
        settings: ConnectionSettings | None = None,
    ) -> None:
        super().__init__()
        self.plan = plan
        self.engine: Engine | None = engine
        self.live: LivePort | None = live
        self.clock = clock
        self.polling = auto_refresh
        self._want_read_only = read_only
        self._operator = operator
        self._live_factory = live_factory
        self._settings = settings
        self.session_state = OPENING
        self.session_error = ""  # why the engine could not be opened, one line
        self._closing = False
        self._owns_engine = engine is None
        self._owns_live = live is None
        self._timer: Timer | None = None
        self._refreshing = False
        self._focused = True
        self._last_input = clock()
        self.refresh_count = 0
        self.open_alert_count = 0
        self.ready = asyncio.Event()
        self._watchdog: TerminalWatchdog | None = None
        self._expected_cache: tuple[int, Expectation] | None = None  # (newest state event id, its fold)
        self.welcome = ""  # a toast the board shows once (`cockpit demo` says what the sandbox is)

    # ---------------------------------------------------------------- lifecycle
    def get_default_screen(self) -> Screen[None]:
        """The board is the bottom of the stack, composed with the app: it is drawn from the
        plan alone, so nothing here waits for I/O (the engine opens behind its first frame).
        Pushing it over Textual's empty default screen instead cost that screen's own
        compose, styling and layout, and a second screen switch, before the board's first frame."""
        from cockpit.tui.screens.board import BoardScreen

        return BoardScreen()

    async def on_mount(self) -> None:
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._hangup)
        except (RuntimeError, NotImplementedError, ValueError):
            pass  # not the main thread (e.g. some test runners): nothing to hang up on
        if TerminalWatchdog.wanted(self):
            # SIGHUP is not always delivered (a pane killed under a shell that ignores it,
            # a parent that died): the watchdog notices the terminal itself going away
            self._watchdog = TerminalWatchdog(asyncio.get_running_loop(), self._hangup, last_words=self._forced_end)
            self._watchdog.start()
            try:
                guard_sigcont()
            except ValueError:  # not the main thread
                pass
        self.call_after_refresh(self.open_session)  # once the board's first frame is painted
        # `cockpit tui` paused the garbage collector for start-up (tui/gc_pause.py): back on
        # once the first frame with live data is painted, or after this long whatever happens
        self.set_timer(GC_PAUSE_LIMIT_S, gc_pause.resume)

    @work(group="session", exit_on_error=False)
    async def open_session(self) -> None:
        """Open the engine and the live system behind the first frame, then read the first
        snapshot. Imports run in a thread; the engine's own I/O is async or brief (the
        journal's SQLite file, the lock file). Any failure becomes the strip's state."""
        try:
            live_modules = None
            if self.engine is None:
                backend = BACKEND_MODULES.get(self.plan.target.kind)
                await asyncio.to_thread(_preload, (*SESSION_MODULES, *([backend] if backend else [])))
                from cockpit.engine import Engine
                from cockpit.operator import operator_name

                if self.live is None:
                    live_modules = _preload_in_background(LIVE_MODULES)
                engine = await Engine.open(self.plan, operator=operator_name(self._operator), read_only=self._want_read_only,
                                           clock=self.clock, settings=self._settings)
                if self._closing:  # the operator quit while the database was still answering
                    await engine.close()
                    return
                self.engine = engine
            if self.live is None:
                await (live_modules or asyncio.to_thread(_preload, LIVE_MODULES))
                from cockpit.live import LiveSystem

                factory: LiveFactory = self._live_factory or LiveSystem
                # the session's Database object even if it is down: the probe reconnects it
                self.live = factory(self.plan, self.engine.database or self.engine.db, self.clock)
            self.open_alert_count = len(self.engine.open_alerts())
        except Exception as exc:  # e.g. an unwritable journal: acting unrecorded is not an option
            self._session_failed(exc)
            return
        self.session_state = OPEN
        self.engine.lock_listeners.append(self._lock_lost)  # the engine's heartbeat calls it
        self.refresh_now()
        # The views redraw for the open engine (strip, footer keys no longer greyed, board)
        # with the first reading: one redraw and one frame, not one for the engine and one
        # more for the reading right behind it. A reading that is slow to come does not hold
        # the keys back: the views redraw for the engine alone after this long.
        self.set_timer(OPEN_REDRAW_GRACE_S, self._show_open_engine)
        self.run_worker(self._started(), group="session", exit_on_error=False)
        if self.read_only:
            self.notify(f"Read-only: {self.read_only_reason}", title="Read-only", severity="warning", timeout=8)
        if self.open_alert_count:
            self.notify(f"{self.open_alert_count} unacknowledged alert(s) from before: press w", severity="error")

    def _show_open_engine(self) -> None:
        """No reading has redrawn the views since the engine opened: redraw them for it."""
        if self.snapshot is None and self.session_open:
            self.journal_changed()  # strip, footer (actions enabled, or greyed when read-only) and board

    async def _started(self) -> None:
        """The first reading is in (or failed): once its frame is painted, start-up is over."""
        await self.ready.wait()
        self.call_after_refresh(gc_pause.resume)

    def _session_failed(self, exc: BaseException) -> None:
        """The engine could not be opened: say so on the strip and in a toast; only quit
        and help stay available, and `cockpit tui` repeats the line on leaving."""
        self.session_state = FAILED
        self.session_error = clean(str(exc) or type(exc).__name__, limit=500)
        self.notify(f"cannot open the cockpit: {self.session_error}", title="Cannot open", severity="error", timeout=60)
        self.bell()
        self.journal_version += 1  # redraw the strip, the board and the footer
        self.ready.set()  # nothing more will come: waiters (tests, benchmarks) stop waiting
        self.call_after_refresh(gc_pause.resume)

    @property
    def session_open(self) -> bool:
        """The engine is open: actions that need it may run (read-only still greys writes)."""
        return self.session_state == OPEN and self.engine is not None

    @property
    def opened(self) -> Engine:
        """The open engine, for what only runs once it is open (every engine action is
        greyed before that, so reaching here without one is a bug, said as such)."""
        if self.engine is None:
            raise RuntimeError("the engine is not open yet")
        return self.engine

    async def on_unmount(self) -> None:
        await self.close_session()

    async def close_session(self) -> None:
        """Stop the watchdog and the polling and close what this app opened; safe to call
        twice (`cockpit tui` calls it again after the app left, whatever way it left)."""
        self._closing = True
        if self._watchdog is not None:
            self._watchdog.stop()
        if self._timer is not None:
            self._timer.stop()
        try:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        except (RuntimeError, NotImplementedError, ValueError):
            pass
        live, engine = (self.live if self._owns_live else None), (self.engine if self._owns_engine else None)
        self._owns_live = self._owns_engine = False  # closed once
        if live is not None:
            await live.close()
        if engine is not None:
            await engine.close()

    def _lock_lost(self, reason: str) -> None:
        """The engine's listener (engine/lock.py): said as a message, so it is shown on the
        app's thread whatever thread the engine called it from."""
        self.post_message(LockLost(reason))

    def on_lock_lost(self, message: LockLost) -> None:
        """The operator lock is gone: show read-only now, not at the next poll."""
        self.notify(message.reason, title="Operator lock LOST: read-only", severity="error", timeout=30, markup=False)
        self.bell()
        self.journal_changed()  # the strip and the footer redraw from engine.read_only

    def _hangup(self) -> None:
        """SSH dropped: leave through the normal path so the journal gets its session end."""
        if self._watchdog is not None and not terminal_present():
            detach_from_terminal()
        self.exit(0)

    def _forced_end(self) -> None:
        """The watchdog's last resort (event loop wedged, process about to end): the
        journal still learns the session ended; the kernel releases the locks."""
        engine = self.engine
        if engine is not None and not engine.read_only and not getattr(engine, "_closed", False):
            engine.journal.append("session_end", data={"reason": "terminal lost; the cockpit did not respond"})

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast in the cockpit goes through here (screens' `notify` calls the app's):
        its text is cleaned and never parsed as markup, because toasts carry alert messages,
        step outcomes and server errors the cockpit did not write (`[/]` in a log line once
        crashed the app; `mv_[a-z_]+` lost its brackets)."""
        del markup  # no caller needs markup in a toast; untrusted text must never get it
        super().notify(
            clean(message, multiline=True, limit=2000),
            title=clean(title, limit=200),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    # ---------------------------------------------------------------- state for views
    @property
    def read_only(self) -> bool:
        return bool(self.engine is not None and self.engine.read_only)

    @property
    def read_only_reason(self) -> str:
        return (self.engine.read_only_reason if self.engine is not None else "") or "read-only"

    @property
    def operator(self) -> str:
        return (self.engine.operator if self.engine is not None else "") or (self._operator or "")

    def now(self) -> float:
        return self.clock()

    def status_text(self) -> str:
        watch = self.engine.watch() if self.engine is not None and self.session_open else None
        interval = self.poll_interval()
        return strip_text(
            self.plan,
            self.operator,
            self.read_only,
            self.read_only_reason,
            self.snapshot,
            watch,
            self.open_alert_count,
            self.now(),
            session=self.session_state,
            session_error=self.session_error,
            late_after=LATE_AFTER_INTERVALS * interval,
            interval=interval,
        )

    def journal_changed(self) -> None:
        """Views derive their state from the journal; tell them it moved."""
        if self.engine is not None and self.session_open:
            self.open_alert_count = len(self.engine.open_alerts())
        self.journal_version += 1

    def on_journal_changed(self, _message: JournalChanged) -> None:
        """A screen journalled something (a tick, a note, a step's outcome)."""
        self.journal_changed()

    def on_refresh_wanted(self, _message: RefreshWanted) -> None:
        """A screen changed the live system (a step ran) or wants a reading now."""
        self.refresh_now()

    # ---------------------------------------------------------------- polling
    def poll_interval(self) -> float:
        idle = not self._focused or (self.clock() - self._last_input) > IDLE_AFTER_SECONDS
        watch = self.plan.watch
        return float(watch.idle_refresh_seconds if idle else watch.refresh_seconds)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self._last_input = self.clock()
        await super().on_event(event)

    def on_app_focus(self, _event: events.AppFocus) -> None:
        self._focused = True

    def on_app_blur(self, _event: events.AppBlur) -> None:
        self._focused = False

    @work(group="refresh", exit_on_error=False)
    async def refresh_now(self) -> None:
        """One refresh; the next is scheduled only after this one finished, so a slow
        database can never pile polls on top of each other."""
        if self._refreshing or self.live is None:
            return
        self._refreshing = True
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        try:
            # reads the journal and folds it when it grew: off the event loop
            before, judged = await asyncio.to_thread(self._expected_rolled_back)
            self.live.expected_rolled_back = judged
            snap = await self.live.refresh()
            alerts = list(self.live.alerts_since_last)
            if judged is not None and await asyncio.to_thread(self._journal_newest) != before:
                # an action was journalled while the probe ran (e.g. flags-on landing between
                # the journal read and the flag read): judge on the next refresh, not now
                alerts = [a for a in alerts if a.phase_id is None]
            self.refresh_count += 1
            from cockpit.watch.attach import follow_watcher

            if not follow_watcher(self) and alerts:  # a running `cockpit watch` owns the alerts
                self._raise_alerts(alerts)
            self.snapshot = snap
        except Exception as exc:  # a view must survive any probe failure; the strip shows it
            self.notify(f"refresh failed: {exc}", severity="error")
        finally:
            self._refreshing = False
            if not self.ready.is_set():
                self.ready.set()
            if self.polling and self.is_running:
                self._timer = self.set_timer(self.poll_interval(), self.refresh_now)

    def _journal_newest(self) -> int:
        """The newest event among the kinds the expected state folds (an action: a step's
        intent or outcome, an emergency): one pragma when nothing was committed, one
        indexed read when something was — never the whole history."""
        if self.engine is None:
            return 0
        from cockpit.watch.expected import EXPECTED_KINDS

        return self.engine.journal.version(EXPECTED_KINDS)

    def _expected_rolled_back(self) -> tuple[int, set[int] | None]:
        """The phases the journal says are rolled back (and not mid-step), as the headless
        watcher judges them: a deliberate undo (`flags-on`) or a restore is then no drift.
        Folded over the few kinds it reads (EXPECTED_KINDS, SQL-filtered and cached), once
        per new such event — and on every refresh while a phase is settling, since a
        settling phase becomes judged by the clock alone."""
        if self.engine is None:
            return 0, None
        from cockpit.watch.expected import EXPECTED_KINDS, expectation

        newest = self._journal_newest()
        cached = self._expected_cache
        if cached is None or cached[0] != newest or cached[1].settling:
            events = self.engine.journal.events(kinds=EXPECTED_KINDS)
            cached = self._expected_cache = (newest, expectation(self.plan, events, self.now()))
        return newest, set(cached[1].judged)

    @work(group="alerts", thread=True, exit_on_error=False)
    def _raise_alerts(self, alerts: list[Alert]) -> None:
        """Journal each alert (fsync'd writes: in this worker thread, never on the event
        loop), then toast and ring on the app's thread."""
        engine = self.opened
        for alert in alerts:
            engine.record_alert(alert)
        if alerts:
            self.call_from_thread(self._announce_alerts, alerts)

    def _announce_alerts(self, alerts: list[Alert]) -> None:
        for alert in alerts:
            self.notify(alert.message, title=f"ALERT {alert.kind}", severity="error", timeout=15)
        self.bell()
        self.journal_changed()

    # ---------------------------------------------------------------- actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Until the engine is open, what needs it is shown greyed (quit and help work)."""
        if action in ENGINE_ACTIONS and not self.session_open:
            return None
        return True

    def action_refresh(self) -> None:
        self.refresh_now()

    def action_help(self) -> None:
        from cockpit.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_emergency(self) -> None:
        from cockpit.tui.screens.emergency import EmergencyScreen

        if not isinstance(self.screen, EmergencyScreen):
            self.push_screen(EmergencyScreen())

    def action_journal(self) -> None:
        from cockpit.tui.screens.journal import JournalScreen

        if not isinstance(self.screen, JournalScreen):
            self.push_screen(JournalScreen())

    def open_phase(self, phase_id: int) -> None:
        from cockpit.tui.screens.phase import PhaseScreen

        self.push_screen(PhaseScreen(phase_id))

    def open_checklist(self, phase_id: int) -> None:
        from cockpit.tui.screens.checklist import ChecklistScreen

        self.push_screen(ChecklistScreen(phase_id))

    def open_log(self, phase_id: int) -> None:
        from cockpit.tui.screens.rollback_log import RollbackLogScreen

        self.push_screen(RollbackLogScreen(phase_id))

    def open_watch(self, phase_id: int | None) -> None:
        from cockpit.tui.screens.watch import WatchScreen

        if not isinstance(self.screen, WatchScreen):
            self.push_screen(WatchScreen(phase_id))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Everything reachable by key is also in the palette, for the operator who forgot the key."""
        yield from super().get_system_commands(screen)
        if not self.session_open:  # nothing below works before the engine is open
            yield SystemCommand("Help", "Keys", self.action_help)
            return
        for phase in self.plan.rollback_order:
            yield SystemCommand(f"Open phase {phase.id}", f"Steps of {phase.title}", lambda p=phase.id: self.open_phase(p))
            yield SystemCommand(f"Checklist phase {phase.id}", "Before/after checklist", lambda p=phase.id: self.open_checklist(p))
            yield SystemCommand(f"Rollback log phase {phase.id}", "Write the log entry", lambda p=phase.id: self.open_log(p))
        yield SystemCommand("Emergency rollback", "Every flag of every phase off", self.action_emergency)
        yield SystemCommand("Watch", "Countdown, alerts, error logs, host health", lambda: self.open_watch(None))
        yield SystemCommand("Journal", "Everything that happened", self.action_journal)
        yield SystemCommand("Refresh", "Read the live system now", self.action_refresh)
        yield SystemCommand("Help", "Keys", self.action_help)



def _conforms(app: CockpitApp) -> CockpitView:
    """Never called: mypy checks here that the app is what the views take it for."""
    return app
