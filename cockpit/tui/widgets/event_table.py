"""A read-only table of journal rows drawn through Textual's line API.

Why not `DataTable`: it measures every cell of every row it is given and renders each
visible cell through Rich (wrap, crop, pad: a console render per cell) before its first
frame — most of the journal screen's opening time at any journal length. This table
draws one line per row from plain, already-cleaned strings: each visible line is a few
`Segment`s cut to the column widths, cached per (row, width, look), so a frame costs a
screenful of string slicing and no measuring. The columns have fixed widths and the
last one takes the rest, so it never scrolls sideways and an 80-column terminal still
shows every column (narrower widths and one-space gaps there, the last cut with "…").

Cells are `str`, never markup: nothing in a row is parsed, so untrusted text (operator
names, step ids, messages) shows literally — the caller cleans it (cockpit.text.clean)
of control bytes first. Styles are component classes (`event-table--*`) in cockpit.tcss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from cockpit.text import ELLIPSIS

Tone = Literal["", "strong", "warning", "error", "success", "muted"]
TONES: tuple[Tone, ...] = ("strong", "warning", "error", "success", "muted")


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its label, its width on a wide terminal and on a narrow one (0 for the
    last column: the rest of the line). `keep_end` cuts a value from its start rather than
    its end ("2025-11-01 12:26:45" reads "11-01 12:26:45" in 14 cells)."""

    label: str
    wide: int = 0
    narrow: int = 0
    keep_end: bool = False


@dataclass(frozen=True, slots=True)
class Row:
    """One event's line: its id (rows are kept newest first, keyed by it), its cells as
    plain text, and the tone of the cell at `tone_column`."""

    id: int
    cells: tuple[str, ...]
    tone: Tone = ""


def fit(text: str, width: int, keep_end: bool = False) -> str:
    """`text` cut or padded to exactly `width` cells: a cut value ends with "…" (or, with
    `keep_end`, loses its start without one)."""
    if width <= 0:
        return ""
    length = cell_len(text)
    if length <= width:
        return text + " " * (width - length)
    if keep_end:
        start = 0
        while cell_len(text[start:]) > width:
            start += 1
        return set_cell_size(text[start:], width)
    return set_cell_size(text, width - 1) + ELLIPSIS


@dataclass(frozen=True, slots=True)
class Layout:
    """Where each column starts and how wide it is at one width."""

    widths: tuple[int, ...]
    gap: int
    narrow: bool


def layout(columns: tuple[Column, ...], width: int, *, min_last: int = 20) -> Layout:
    """The wide widths and two-space gaps when the last column keeps `min_last` cells,
    the narrow widths and one-space gaps otherwise. One leading space, as a margin."""
    for narrow, gap in ((False, 2), (True, 1)):
        fixed = [c.narrow if narrow else c.wide for c in columns[:-1]]
        last = width - 1 - sum(fixed) - gap * len(fixed)
        if last >= min_last or narrow:
            return Layout((*fixed, max(last, 0)), gap, narrow)
    raise AssertionError("unreachable")  # pragma: no cover


class EventTable(ScrollView, can_focus=True):
    """Rows newest first under a fixed header line, a row cursor, zebra stripes."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "event-table--header",
        "event-table--cursor",
        "event-table--even-row",
        *(f"event-table--{tone}" for tone in TONES),
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "cursor_page_up", "Page up", show=False),
        Binding("pagedown", "cursor_page_down", "Page down", show=False),
        Binding("home", "cursor_first", "First", show=False),
        Binding("end", "cursor_last", "Last", show=False),
    ]

    class CursorMoved(Message):
        """The cursor moved to `row` (an index, 0 = newest shown)."""

        def __init__(self, table: EventTable, row: int) -> None:
            super().__init__()
            self.table = table
            self.row = row

        @property
        def control(self) -> EventTable:
            return self.table

    def __init__(self, columns: tuple[Column, ...], *, tone_column: int = -1, id: str | None = None) -> None:
        super().__init__(id=id)
        if not columns or columns[-1].wide or columns[-1].narrow:
            raise ValueError("the last column takes the rest of the line: give it no width")
        self.columns = columns
        self.tone_column = tone_column % len(columns)
        self._rows: list[Row] = []
        self._ids: set[int] = set()
        self.cursor_row = 0
        # (row id, width, look) -> the row's line; a look is (cursor, even, focused)
        self._strips: LRUCache[tuple[int, int, tuple[bool, bool, bool]], Strip] = LRUCache(1024)
        self._styles: dict[object, Style] = {}  # resolved component styles, until the next style update

    # -- the rows -------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def ids(self) -> list[int]:
        """The ids shown, top (newest) to bottom."""
        return [row.id for row in self._rows]

    def row(self, index: int) -> Row:
        return self._rows[index]

    def set_rows(self, rows: list[Row]) -> None:
        """Replace every row (newest first); the cursor goes back to the top."""
        self._rows = []
        self._ids = set()
        self._strips.clear()
        self.cursor_row = 0
        self._extend(rows)
        self.scroll_to(y=0, animate=False, immediate=True)
        self._resized()

    def add_older(self, rows: list[Row]) -> int:
        """Rows older than every one shown (newest first), added below; ids already shown
        are skipped. Returns how many were added."""
        added = self._extend(rows)
        if added:
            self._resized()
        return added

    def add_newer(self, rows: list[Row]) -> int:
        """Rows newer than every one shown (newest first), added on top. A cursor on the
        top row stays there (it follows the newest, as the view at the top does); one
        further down stays on its event, and a view scrolled down keeps its rows."""
        fresh = [row for row in rows if row.id not in self._ids]
        if not fresh:
            return 0
        self._rows[:0] = fresh
        self._ids.update(row.id for row in fresh)
        self._resized()  # the new height first: a scroll beyond the old one is not clamped
        if self.cursor_row or self.scroll_y:
            self.cursor_row += len(fresh)
        if self.scroll_y:
            self.scroll_to(y=self.scroll_y + len(fresh), animate=False, immediate=True)
        return len(fresh)

    def _extend(self, rows: list[Row]) -> int:
        before = len(self._rows)
        for row in rows:
            if row.id not in self._ids:
                self._rows.append(row)
                self._ids.add(row.id)
        return len(self._rows) - before

    def _resized(self) -> None:
        self.virtual_size = Size(self.size.width, len(self._rows) + 1)  # + the header line
        self.refresh()

    # -- the cursor -----------------------------------------------------------------------
    def move_cursor(self, row: int) -> None:
        """Put the cursor on `row` (clamped), scroll it into view, say where it went."""
        if not self._rows:
            return
        row = max(0, min(row, len(self._rows) - 1))
        moved = row != self.cursor_row
        self.cursor_row = row
        visible = max(self.scrollable_content_region.height - 1, 1)  # minus the header
        top = int(self.scroll_y)
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + visible:
            self.scroll_to(y=row - visible + 1, animate=False, immediate=True)
        self.refresh()
        if moved:
            self.post_message(self.CursorMoved(self, row))

    def _page(self) -> int:
        return max(self.scrollable_content_region.height - 2, 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor_row + 1)

    def action_cursor_page_up(self) -> None:
        self.move_cursor(self.cursor_row - self._page())

    def action_cursor_page_down(self) -> None:
        self.move_cursor(self.cursor_row + self._page())

    def action_cursor_first(self) -> None:
        self.move_cursor(0)

    def action_cursor_last(self) -> None:
        self.move_cursor(len(self._rows) - 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and offset.y >= 1:
            self.move_cursor(int(self.scroll_y) + offset.y - 1)

    # -- drawing --------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self._styles.clear()
        self.refresh()

    def _on_resize(self, _event: events.Resize) -> None:
        self._resized()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            return self._header(width)
        index = int(self.scroll_y) + y - 1
        if index >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        row = self._rows[index]
        look = (index == self.cursor_row, index % 2 == 1, self.has_focus)
        key = (row.id, width, look)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._line(row.cells, width, self._row_style(*look), row.tone)
            self._strips[key] = strip
        return strip

    def _row_style(self, cursor: bool, even: bool, focused: bool) -> Style:
        key = (cursor, even, focused)
        style = self._styles.get(key)
        if style is None:
            style = self.rich_style
            if even:
                style += self.get_component_rich_style("event-table--even-row")
            if cursor:
                style += self.get_component_rich_style("event-table--cursor")
            self._styles[key] = style
        return style

    def _tone_style(self, tone: Tone) -> Style:
        style = self._styles.get(tone)
        if style is None:
            style = self._styles[tone] = self.get_component_rich_style(f"event-table--{tone}")
        return style

    def _header(self, width: int) -> Strip:
        style = self.rich_style + self.get_component_rich_style("event-table--header")
        return self._line(tuple(c.label for c in self.columns), width, style, "")

    def _line(self, cells: tuple[str, ...], width: int, style: Style, tone: Tone) -> Strip:
        shape = layout(self.columns, width)
        gap = " " * shape.gap
        segments = [Segment(" ", style)]
        for index, (column, cell_width) in enumerate(zip(self.columns, shape.widths, strict=True)):
            text = fit(cells[index] if index < len(cells) else "", cell_width, column.keep_end)
            cell_style = style + self._tone_style(tone) if tone and index == self.tone_column else style
            segments.append(Segment(text, cell_style))
            if index < len(self.columns) - 1:
                segments.append(Segment(gap, style))
        return Strip(segments).crop_extend(0, width, style)
