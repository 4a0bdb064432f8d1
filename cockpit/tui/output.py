"""Streaming a step's output into a Log widget from wherever the engine calls back."""

from __future__ import annotations

import threading
from typing import Callable

from textual.app import App
from textual.widgets import Log


def log_sink(app: App, log: Log, streamed: list[str]) -> Callable[[str], None]:
    """An `on_output` callback: the engine may call it from its worker threads (a dump, a
    crontab write), but a widget may only be touched from the app's thread. Lines are
    also kept in `streamed` so the caller knows whether anything arrived."""

    def sink(line: str) -> None:
        streamed.append(line)
        if threading.get_ident() == app._thread_id:
            log.write_line(line)
        else:
            app.call_from_thread(log.write_line, line)

    return sink
