"""Text widgets that repaint without a layout pass when only their words changed.

Ages ("3s", "refreshed 12:00:01 (4s ago)") move every second for a day-long watch. A
plain `Static.update` asks Textual to lay the whole screen out again each time, which
is most of an idle cockpit's CPU. When the new text has the same number of lines as
the old once wrapped to the widget's width, the widget's size cannot change: a repaint
of that widget alone is enough.
"""

from __future__ import annotations

from textual.visual import visualize
from textual.widgets import Static


class RepaintStatic(Static):
    """A Static whose `show_text` lays out only when its shape may change."""

    _shown_text: str | None = None
    _shown_shape: tuple[int, int] | None = None  # (width, wrapped height) of the text shown
    layouts = 0  # how many updates needed a layout pass (tests and benchmarks read it)
    repaints = 0  # how many were a repaint of this widget only

    def show_text(self, text: str) -> bool:
        """Show `text`; False when it was already shown (nothing to do at all)."""
        if text == self._shown_text:
            return False
        width = self.content_region.width
        # measured the way Textual will lay it out: this widget's wrap and overflow rules
        visual = visualize(self, text, markup=getattr(self, "_render_markup", True))
        height = visual.get_height(self.styles, width) if width > 0 else -1  # type: ignore[arg-type]
        shape = (width, height)
        same_shape = width > 0 and shape == self._shown_shape
        self._shown_text, self._shown_shape = text, shape
        # the parsed visual is shown as is: parsing the markup a second time in
        # `update` would double the cost of every age that moves
        if same_shape:
            self.repaints += 1
            self.update(visual, layout=False)
        else:
            self.layouts += 1
            self.update(visual)
        return True
