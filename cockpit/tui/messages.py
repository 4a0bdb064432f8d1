"""What the cockpit's views tell each other, as typed Textual messages.

Screens do not call the app to say something changed: they post a message and the app
reacts in its `on_...` handler (redraw everything from the journal, read the live system
again). A running step answers its screen the same way: each output line, then the
outcome, as messages in the order they happened. `post_message` is thread-safe, so an
engine callback running in a worker thread (a dump tool, a crontab write) posts exactly
as the event loop does, and no view needs to know which thread it is on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # the board's first frame is drawn before the engine is imported (app.py)
    from cockpit.engine.types import Outcome


class JournalChanged(Message):
    """Something was journalled (a tick, a note, an outcome, an ack): views derived from
    the journal redraw. Posted by a screen; bubbles to the app."""


@dataclass
class LockLost(Message):
    """The operator lock is gone (the engine's heartbeat found it taken): read-only now.
    Posted from the engine's listener, whatever thread it runs on."""

    reason: str


class RefreshWanted(Message):
    """The live system probably changed (a step ran, a count was taken): read it now."""


@dataclass
class StepOutput(Message, bubble=False):
    """One line a running step (or the emergency rollback) printed, already cleaned.
    Not bubbling: it is for the screen that runs the step only (so are the two below)."""

    line: str


@dataclass
class StepFinished(Message, bubble=False):
    """The engine answered: the step (or the emergency rollback) ran, or was refused."""

    step_id: str
    outcome: Outcome


@dataclass
class StepFailed(Message, bubble=False):
    """The engine raised instead of answering (it journals its own failures)."""

    step_id: str
    error: str
