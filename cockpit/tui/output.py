"""Streaming a step's output into a Log widget from wherever the engine calls back.

Output comes from child processes and servers (a dump tool, crontab, SQL errors): each
line is cleaned (`cockpit.text.clean`) before it reaches the widget, so escape sequences
and control bytes in it cannot act on the terminal. `streamed` keeps the raw lines."""

from __future__ import annotations

import threading
from collections.abc import Callable

from textual.app import App
from textual.widgets import Log

from cockpit.text import clean

LINE_LIMIT = 4000  # a runaway line is cut, not rendered for seconds


def log_sink(app: App, log: Log, streamed: list[str]) -> Callable[[str], None]:
    """An `on_output` callback: the engine may call it from its worker threads (a dump, a
    crontab write), but a widget may only be touched from the app's thread. Lines are
    also kept in `streamed` so the caller knows whether anything arrived."""

    def sink(line: str) -> None:
        streamed.append(line)
        shown = clean(line, limit=LINE_LIMIT)
        if threading.get_ident() == app._thread_id:
            log.write_line(shown)
        else:
            app.call_from_thread(log.write_line, shown)

    return sink
