"""What every cockpit screen shares: the status strip, the footer, read-only greying,
redrawing when the snapshot or the journal changes, and a typed way to the app.

Screens reach the app's state through `cockpit_app` (a `CockpitView`, not `App[Any]`),
and the open engine through `engine`. They never call the app to say something changed:
they post `JournalChanged` / `RefreshWanted` (cockpit.tui.messages) and the app reacts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.css.query import NoMatches
from textual.reactive import var
from textual.screen import Screen

from cockpit.tui.actions import ENGINE_ACTIONS, WRITE_ACTIONS
from cockpit.tui.ports import is_cockpit
from cockpit.tui.widgets.footer import CockpitFooter
from cockpit.tui.widgets.status_strip import StatusStrip, strip_moves

if TYPE_CHECKING:
    from cockpit.engine import Engine
    from cockpit.tui.ports import CockpitView, LivePort


CLOCK_TICK_S = 1.0  # while something shown moves with the clock
IDLE_TICK_S = 5.0  # otherwise: another process's journal commit, a reading that stopped coming


class CockpitScreen(Screen[None]):
    """Subclasses compose their body in `compose_body` and redraw in `redraw`."""

    # Built compact rather than switched on mount: switching recomposes every footer key,
    # a third of the board's first frame.
    COMPACT_FOOTER = False

    # (engine open, read-only): what decides which keys are greyed. A change refreshes the
    # bindings (the footer rebuilds, and only if its keys really changed: widgets/footer.py);
    # an unchanged value does nothing, so a day-long watch's snapshots never touch the footer.
    allowed: var[tuple[bool, bool]] = var((False, False), bindings=True)

    def compose(self) -> ComposeResult:
        yield StatusStrip(id="status")
        yield from self.compose_body()
        yield CockpitFooter(compact=self.COMPACT_FOOTER)

    def compose_body(self) -> ComposeResult:
        yield from ()

    @property
    def cockpit_app(self) -> CockpitView:
        """The app, typed as what the views read from it (Textual's `self.app` stays the
        way to its own API: push_screen, notify, call_from_thread)."""
        app = self.app
        if not is_cockpit(app):
            raise TypeError(f"a cockpit screen runs in the cockpit's app, not {type(app).__name__}")
        return app

    @property
    def engine(self) -> Engine:
        """The open engine (actions needing it are greyed until it is open)."""
        return self.cockpit_app.opened

    @property
    def live(self) -> LivePort:
        """The live system (open together with the engine)."""
        live = self.cockpit_app.live
        if live is None:
            raise RuntimeError("the live system is not open yet")
        return live

    def on_mount(self) -> None:
        self.watch(self.app, "snapshot", self._changed, init=False)
        self.watch(self.app, "journal_version", self._changed, init=False)
        # Ages and countdowns move with the clock even when no new reading arrives: the
        # screen ticks every second while something it shows does (`moves_with_clock`),
        # and every IDLE_TICK_S otherwise — then it only has to notice another process's
        # commit to the journal or a reading that stopped coming, and waking a day-long
        # watch every second for that was a fifth of an idle cockpit's cost.
        self._clock = self.set_interval(CLOCK_TICK_S, self._tick)
        self._idle_clock = self.set_interval(IDLE_TICK_S, self._tick)
        self._changed()

    def _tick(self) -> None:
        self.query_one(StatusStrip).refresh_from(self.cockpit_app)
        self.tick()
        self._pace()

    def tick(self) -> None:
        """Override to redraw clock-dependent text cheaply; full redraws happen in `redraw`."""

    def moves_with_clock(self) -> bool:
        """Whether what the screen shows now changes with the clock alone (an elapsed
        time, a countdown in seconds). Screens that cannot tell cheaply keep the default
        and tick every second; the board answers from its cards and the strip."""
        return True

    def _pace(self) -> None:
        clock = getattr(self, "_clock", None)
        if clock is None:  # not mounted yet
            return
        if self.moves_with_clock() or strip_moves(self.cockpit_app):
            clock.resume()
        else:
            clock.pause()

    def _changed(self, *_: object) -> None:
        try:
            strip = self.query_one(StatusStrip)
        except NoMatches:  # not composed yet; on_mount redraws
            return
        app = self.cockpit_app
        strip.refresh_from(app)
        self.redraw()
        self.allowed = (app.session_open, app.read_only)
        self._pace()

    def redraw(self) -> None:
        """Override: rebuild the body from app.snapshot and the engine."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        app = self.cockpit_app
        if action in ENGINE_ACTIONS and not app.session_open:
            return None  # greyed until the engine is open behind the first frame
        if action in WRITE_ACTIONS and app.read_only:
            return None  # shown greyed out in the footer: visible but disabled
        return True
