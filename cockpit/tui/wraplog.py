"""A `Log` that wraps long lines to its width.

Textual's `Log` is line-based and never wraps, so at 80 columns a refusal's reason
("refused by data: rows in mv_token_flow_summary: 24, ... and no verified backup") was cut
off at the pane's edge. Wrapping at write time keeps `Log`'s cheap append-only model
(a day of output stays fast); continuation lines are indented so each entry still reads
as one."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

from textual.widgets import Log

FALLBACK_WIDTH = 72


class WrappingLog(Log):
    def _wrap_width(self) -> int:
        width = self.scrollable_content_region.width
        return max(20, width - 1) if width else FALLBACK_WIDTH

    def _wrapped(self, line: str) -> list[str]:
        return textwrap.wrap(line, self._wrap_width(), subsequent_indent="   ", break_long_words=True,
                             break_on_hyphens=False, replace_whitespace=False, drop_whitespace=True) or [""]

    def write_lines(self, lines: Iterable[str], scroll_end: bool | None = None) -> WrappingLog:
        """Log.write_line goes through here too, so every line is wrapped exactly once."""
        wrapped: list[str] = []
        for line in lines:
            for part in str(line).splitlines() or [""]:
                wrapped.extend(self._wrapped(part))
        super().write_lines(wrapped, scroll_end)
        return self
