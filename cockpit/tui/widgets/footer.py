"""The footer every cockpit screen shows: the screen's keys on one line, as one widget.

Textual's `Footer` is a container of one widget per key. Each key widget is mounted,
styled (twice: itself and its two component classes), laid out and rendered on its own,
and the footer rebuilds them all on every "bindings changed" signal: when a card takes
the focus, when the engine opens behind the first frame and greys keys no longer, when
the operator lock is lost. On the board's first frame those ten key widgets cost ~35 ms
of ~120 ms from mount to paint — as much as a bare Textual app's whole frame.

This footer draws the same line (same keys, same order, same styles from the same theme
variables, the command palette key on the right over the keys that do not fit) as one
widget: a change of keys is a repaint of one line, never a layout. A click on a key
presses it, a greyed key rings the bell, the key under the pointer is highlighted and
shows its tooltip, as with Textual's footer. Not carried over, because no cockpit binding
uses it: Textual's binding groups (`Binding.Group`), which it draws as one labelled key.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

from rich.style import Style
from rich.text import Text
from textual import events
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget


class ShownKey(NamedTuple):
    """One key as shown: what it presses, how it reads, and whether it is greyed."""

    key: str  # what a click presses (`App.simulate_key`)
    key_display: str
    description: str
    action: str
    enabled: bool
    tooltip: str
    palette: bool = False  # the command palette's key, drawn at the right edge


class CockpitFooter(Widget, can_focus=False):
    """The screen's keys, compact or not, with the command palette key on the right."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "footer-key--key",
        "footer-key--description",
        "footer-key--hover",
        "footer-key--palette-edge",
    }
    # Textual's Footer and FooterKey rules, for one widget (textual/widgets/_footer.py)
    DEFAULT_CSS = """
    CockpitFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        text-wrap: nowrap;
        .footer-key--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .footer-key--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .footer-key--hover {
            background: $block-hover-background;
        }
        .footer-key--palette-edge {
            color: $foreground 20%;
        }
    }
    """
    PALETTE_EDGE = "▏"  # Textual's `vkey` left border, which its footer draws before the palette key

    compact: reactive[bool] = reactive(False)
    show_command_palette: reactive[bool] = reactive(True)

    def __init__(self, *, compact: bool = False, show_command_palette: bool = True, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_reactive(CockpitFooter.compact, compact)
        self.set_reactive(CockpitFooter.show_command_palette, show_command_palette)
        self._keys: tuple[ShownKey, ...] = ()
        self._spans: tuple[tuple[int, int, ShownKey], ...] = ()  # (start, end column, key) as last drawn
        self._hover: ShownKey | None = None
        self._pending = False

    # -------------------------------------------------------------- which keys
    def keys(self) -> tuple[ShownKey, ...]:
        """The keys the screen's bindings show now, in Textual's footer order: one per
        action (its first shown binding), then the command palette's key."""
        app, bindings = self.app, self.screen.active_bindings
        shown: dict[str, ShownKey] = {}
        for _node, binding, enabled, tooltip in bindings.values():
            if binding.show and binding.action not in shown:
                shown[binding.action] = ShownKey(binding.key, app.get_key_display(binding), binding.description,
                                                  binding.action, enabled, tooltip)
        keys = list(shown.values())
        if self.show_command_palette and app.ENABLE_COMMAND_PALETTE:
            palette = bindings.get(app.COMMAND_PALETTE_BINDING)
            if palette is not None:
                _node, binding, enabled, _tooltip = palette
                keys.append(ShownKey(binding.key, app.get_key_display(binding), binding.description, binding.action,
                                      enabled, binding.tooltip or binding.description, palette=True))
        return tuple(keys)

    @property
    def shown(self) -> tuple[ShownKey, ...]:
        """The keys as last drawn (tests read them)."""
        return self._keys

    def key_span(self, key_display: str) -> tuple[int, int] | None:
        """The columns [start, end) a key occupies as last drawn, None when it did not fit."""
        for start, end, key in self._spans:
            if key.key_display == key_display:
                return start, end
        return None

    def on_mount(self) -> None:
        self._keys = self.keys()
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        # as Textual's footer: not while the app has lost the focus; one check per refresh
        if not screen.app.app_focus or screen is not self.screen or self._pending:
            return
        self._pending = True
        self.call_after_refresh(self._update_keys)

    def _update_keys(self) -> None:
        self._pending = False
        if not self.is_attached:
            return
        keys = self.keys()
        if keys != self._keys:
            self._keys = keys
            self.refresh()  # one line repainted: the footer's size never changes

    def watch_compact(self) -> None:
        self.refresh()

    def watch_show_command_palette(self) -> None:
        if self.is_mounted:
            self._keys = self.keys()
            self.refresh()

    # -------------------------------------------------------------- drawing
    def _key_text(self, key: ShownKey, compact: bool) -> Text:
        """One key as Textual's FooterKey draws it (padding in the key's own styles)."""
        key_style = self.get_component_rich_style("footer-key--key")
        if not key.description:
            text = Text(key.key_display, style=key_style, end="")
        elif compact:
            text = Text.assemble((key.key_display, key_style), (f" {key.description}",
                                 self.get_component_rich_style("footer-key--description")), end="")
        else:
            text = Text.assemble((f" {key.key_display} ", key_style), (f"{key.description} ",
                                 self.get_component_rich_style("footer-key--description")), end="")
        if key == self._hover:  # as FooterKey:hover: the key's own colours over the hover background
            text.stylize(Style(bgcolor=self.get_component_rich_style("footer-key--hover").bgcolor))
        if not key.enabled:
            text.stylize(Style(dim=True))
        return text

    def render(self) -> Text:
        width = self.size.width
        keys = [key for key in self._keys if not key.palette]
        palette = next((key for key in self._keys if key.palette), None)
        right = Text(end="")
        if palette is not None:
            right.append(self.PALETTE_EDGE, self.get_component_rich_style("footer-key--palette-edge"))
            right.append_text(self._key_text(palette, compact=True))  # Textual's palette key is always compact
            right.append(" ")  # its right padding, or in a compact footer the margin every key has
        room = max(0, width - right.cell_len)
        line = Text(end="", no_wrap=True, overflow="crop")
        spans: list[tuple[int, int, ShownKey]] = []
        for key in keys:
            start = line.cell_len
            if start >= room:
                break
            line.append_text(self._key_text(key, self.compact))
            spans.append((start, min(line.cell_len, room), key))
            if self.compact:
                line.append(" ")  # Textual's compact footer: one column of margin after each key
        line.truncate(room, pad=True)
        if palette is not None and width > right.cell_len:
            spans.append((room + 1, width - 1, palette))
            line.append_text(right)
        self._spans = tuple(spans)
        return line

    # -------------------------------------------------------------- the pointer
    def _key_at(self, x: int) -> ShownKey | None:
        for start, end, key in self._spans:
            if start <= x < end:
                return key
        return None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        key = self._key_at(event.x)
        if key != self._hover:
            self._hover = key
            self.tooltip = key.tooltip if key is not None and key.tooltip else None
            self.refresh()

    def on_leave(self, _event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.tooltip = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        key = self._key_at(event.x)
        if key is None:
            return
        if key.enabled:
            self.app.simulate_key(key.key)
        else:
            self.app.bell()
