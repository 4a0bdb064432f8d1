"""The footer every cockpit screen shows: Textual's, built once and then kept up to date.

Textual's `Footer` composes nothing at first, then rebuilds itself (every key widget
unmounted, built and styled again) once per "bindings changed" signal, and a screen
coming up sends several in one frame: it is pushed, the first card takes focus, the app
gains focus, the keys are greyed or not. On the board that was seven rebuilds before the
first frame, most of the cost of drawing it, one more when the engine opened behind the
first frame (the greyed keys turning on) and one more each time the operator moved
between cards. Here:

- the keys are built in the footer's first compose, from the screen's bindings as they
  are then, so the first frame needs no rebuild at all;
- the signals of one frame ask for one check after the frame's refresh;
- a check that finds the same keys does nothing, and one that finds the same keys with
  only some greyed or not (the engine opened, the operator lock was lost) flips those
  keys in place — a class on each changed key, no rebuild;
- anything else (another screen's keys, a key shown or hidden) rebuilds, as Textual does.
"""

from __future__ import annotations

from collections.abc import Iterator

from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

# (key, key display, description, action, tooltip) of one key shown; plus whether it is enabled
KeyShape = tuple[str, str | None, str, str, str]


class CockpitFooter(Footer):
    """A `Footer` built in its first compose, that rebuilds at most once per refresh and
    only for different keys; keys that only turned greyed or enabled are flipped in place."""

    _rebuild_pending = False
    _shown: tuple[tuple[KeyShape, bool], ...] | None = None  # the keys of the last build with bindings
    _shown_style: tuple[bool, bool] = (False, True)  # (compact, show_command_palette) of that build

    def _keys(self) -> tuple[tuple[KeyShape, bool], ...]:
        """What a build would show: every visible binding as the footer draws it."""
        return tuple(
            ((binding.key, binding.key_display, binding.description, binding.action, tooltip), enabled)
            for (_node, binding, enabled, tooltip) in self.screen.active_bindings.values()
            if binding.show
        )

    def compose(self) -> Iterator[Widget]:
        # Textual's Footer waits for the first "bindings changed" signal and rebuilds then;
        # the screen's bindings are already known here (the footer is attached to it)
        self.set_reactive(Footer._bindings_ready, True)
        self._shown = self._keys()
        self._shown_style = (self.compact, self.show_command_palette)
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                # what the key's `compact` watcher would set once mounted, set before it is
                # styled: otherwise every key is styled twice in the first frame
                widget.set_class(self.compact, "-compact", update=False)
            yield widget

    def bindings_changed(self, screen: Screen[object]) -> None:
        # Textual's own handler, with one pending check at a time
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
        if not self.is_attached:
            return
        keys = self._keys()
        if keys == self._shown and self._shown_style == (self.compact, self.show_command_palette):
            return
        if not self._flip_in_place(keys):
            await self.recompose()

    def _flip_in_place(self, keys: tuple[tuple[KeyShape, bool], ...]) -> bool:
        """Grey or enable the shown keys when only that changed; False when a rebuild is needed."""
        shown = self._shown
        if (
            shown is None
            or self._shown_style != (self.compact, self.show_command_palette)
            or [shape for shape, _ in keys] != [shape for shape, _ in shown]
        ):
            return False
        enabled: dict[str, bool] = {}
        for shape, on in keys:  # by action, the first binding of each, as Textual's compose groups them
            enabled.setdefault(shape[3], on)
        widgets = list(self.query(FooterKey))
        if any(key.action not in enabled for key in widgets if not key.has_class("-command-palette")):
            return False
        for key in widgets:
            if key.has_class("-command-palette"):
                continue  # not among the screen's keys: the app's palette key never greys
            disabled = not enabled[key.action]
            if key._disabled != disabled:  # read by FooterKey's own click handler
                key._disabled = disabled
                key.set_class(disabled, "-disabled")
        self._shown = keys
        return True
