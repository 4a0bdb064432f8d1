"""The footer every cockpit screen shows: Textual's, rebuilt only when its keys changed.

Textual's `Footer` rebuilds itself (every key widget unmounted, built and styled again)
once per "bindings changed" signal, and a screen coming up sends several in one frame:
it is pushed, the first card takes focus, the app gains focus, the keys are greyed or
not. On the board that was seven rebuilds before the first frame, most of the cost of
drawing it, and one more each time the operator moved between cards. Here the signals
of one frame ask for one rebuild after the frame's refresh, and that rebuild is skipped
when the keys it would show (key, label, enabled or greyed) are the ones shown.
"""

from __future__ import annotations

from collections.abc import Iterator

from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer


class CockpitFooter(Footer):
    """A `Footer` that rebuilds at most once per refresh, and only for different keys."""

    _rebuild_pending = False
    _shown: tuple[object, ...] | None = None  # the keys of the last build with bindings

    def _keys(self) -> tuple[object, ...]:
        """What a build would show: every visible binding as the footer draws it."""
        return tuple(
            (binding.key, binding.key_display, binding.description, binding.action, enabled, tooltip)
            for (_node, binding, enabled, tooltip) in self.screen.active_bindings.values()
            if binding.show
        ) + (self.compact, self.show_command_palette)

    def compose(self) -> Iterator[Widget]:
        self._shown = self._keys() if self._bindings_ready else None
        yield from super().compose()

    def bindings_changed(self, screen: Screen[object]) -> None:
        # Textual's own handler, with one pending rebuild at a time
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
        if self.is_attached and self._keys() != self._shown:
            await self.recompose()
