"""Streaming a step's output to the screen that runs it, from wherever the engine calls back.

Output comes from child processes and servers (a dump tool, crontab, SQL errors): each
line is cleaned (`cockpit.text.clean`) before it travels, so escape sequences and control
bytes in it cannot act on the terminal. The engine may call the sink from its worker
threads; `post_message` is thread-safe, so the line reaches the screen's `on_step_output`
in order, on the app's thread, whichever thread produced it."""

from __future__ import annotations

from collections.abc import Callable

from textual.message_pump import MessagePump

from cockpit.text import clean
from cockpit.tui.messages import StepOutput

LINE_LIMIT = 4000  # a runaway line is cut, not rendered for seconds


def output_sink(target: MessagePump) -> Callable[[str], None]:
    """An `on_output` callback posting each line to `target` as a `StepOutput`."""

    def sink(line: str) -> None:
        target.post_message(StepOutput(clean(line, limit=LINE_LIMIT)))

    return sink
