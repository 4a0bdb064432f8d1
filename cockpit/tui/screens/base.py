"""What every cockpit screen shares: the status strip, the footer, read-only greying,
and redrawing when the snapshot or the journal changes."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.css.query import NoMatches
from textual.screen import Screen

from cockpit.tui.actions import ENGINE_ACTIONS, WRITE_ACTIONS
from cockpit.tui.widgets.footer import CockpitFooter
from cockpit.tui.widgets.status_strip import StatusStrip


class CockpitScreen(Screen):
    """Subclasses compose their body in `compose_body` and redraw in `redraw`."""

    # Built compact rather than switched on mount: switching recomposes every footer key,
    # a third of the board's first frame.
    COMPACT_FOOTER = False

    def compose(self) -> ComposeResult:
        yield StatusStrip(id="status")
        yield from self.compose_body()
        yield CockpitFooter(compact=self.COMPACT_FOOTER)

    def compose_body(self) -> ComposeResult:
        yield from ()

    @property
    def cockpit(self) -> Any:
        return self.app

    def on_mount(self) -> None:
        self.watch(self.app, "snapshot", self._changed, init=False)
        self.watch(self.app, "journal_version", self._changed, init=False)
        # ages and countdowns move with the clock even when no new reading arrives
        self.set_interval(1.0, self._tick)
        self._changed()

    def _tick(self) -> None:
        self.query_one(StatusStrip).refresh_from(self.app)
        self.tick()

    def tick(self) -> None:
        """Override to redraw clock-dependent text cheaply; full redraws happen in `redraw`."""

    def _changed(self, *_: Any) -> None:
        try:
            strip = self.query_one(StatusStrip)
        except NoMatches:  # not composed yet; on_mount redraws
            return
        strip.refresh_from(self.app)
        self.redraw()
        # The footer is rebuilt by refresh_bindings: only when what is allowed changed
        # (the engine opened, read-only came or went), not on every snapshot of a day-long watch.
        allowed = (getattr(self.app, "session_open", True), self.app.read_only)
        if allowed != getattr(self, "_bindings_read_only", None):
            self._bindings_read_only = allowed
            self.refresh_bindings()

    def redraw(self) -> None:
        """Override: rebuild the body from app.snapshot and the engine."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ENGINE_ACTIONS and not getattr(self.app, "session_open", True):
            return None  # greyed until the engine is open behind the first frame
        if action in WRITE_ACTIONS and self.app.read_only:
            return None  # shown greyed out in the footer: visible but disabled
        return True
