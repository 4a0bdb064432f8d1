"""A TTY watchdog: the cockpit never outlives its terminal.

Once, after `tmux kill-session` mid-step, the TUI kept running under pid 1 holding both
locks with no `session_end`: SIGHUP is not always delivered (a shell in between that
ignores or does not forward it, a parent that died first), and a blocked event loop never
runs its signal handler.  Like Dolphie, a daemon thread looks at the terminal itself every
half second — can the controlling terminal still be opened, is the process's parent still
the one that started it — and asks the app to leave through its normal path (engine
closed: `session_end` journalled, server lock and lock file released).  If the event loop
does not honour that within a grace period it is wedged; the watchdog then runs a last
callback (journal the forced end) and ends the process, so the kernel releases the file
lock and the server drops the connection and its GET_LOCK.  An orphan is never an option.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from types import FrameType

POLL_SECONDS = 0.5
GRACE_SECONDS = 8.0
LAST_WORDS_SECONDS = 2.0
EXIT_HANGUP = 129  # 128 + SIGHUP, what a shell reports for a hung-up job


def detach_from_terminal() -> None:
    """Point stdin/stdout/stderr at /dev/null once the terminal is gone, so the UI's
    last writes (leaving full-screen mode) succeed into nothing instead of failing with
    EIO and wedging the output thread the shutdown waits for."""
    try:
        fd = os.open(os.devnull, os.O_RDWR)
    except OSError:
        return
    for target in (0, 1, 2):
        try:
            os.dup2(fd, target)
        except OSError:
            pass
    os.close(fd)


def guard_sigcont() -> None:
    """A hang-up comes with SIGCONT, on which Textual's driver re-enters full-screen mode
    (its Ctrl+Z support): on a dead terminal that starts a second output thread and can
    deadlock the exit. Keep the driver's handler for a live terminal only."""
    import signal

    previous = signal.getsignal(signal.SIGCONT)
    if not callable(previous):
        return

    def on_sigcont(signum: int, frame: FrameType | None) -> None:
        if terminal_present():
            previous(signum, frame)

    signal.signal(signal.SIGCONT, on_sigcont)


def terminal_present() -> bool:
    """True while this process still has a controlling terminal it can open.

    A hang-up (the pty's master closed: tmux kill-session, SSH dropped) detaches the
    session from the terminal, and opening /dev/tty then fails with ENXIO/EIO."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError:
        return False
    os.close(fd)
    return True


class TerminalWatchdog:
    """Calls `on_lost` on `loop` once the terminal went away; forces the exit if ignored."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        on_lost: Callable[[], object],
        *,
        last_words: Callable[[], object] | None = None,
        poll_seconds: float = POLL_SECONDS,
        grace_seconds: float = GRACE_SECONDS,
    ) -> None:
        self._loop = loop
        self._on_lost = on_lost
        self._last_words = last_words
        self._poll = poll_seconds
        self._grace = grace_seconds
        self._parent = os.getppid()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tty-watchdog", daemon=True)
        self.lost_reason: str | None = None

    @staticmethod
    def wanted(app: object) -> bool:
        """Only a real terminal session is watched (not a headless test app, not a pipe)."""
        return not getattr(app, "is_headless", False) and terminal_present()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def check(self) -> str | None:
        """Why the terminal counts as gone, or None while it is there."""
        if not terminal_present():
            return "controlling terminal gone"
        if os.getppid() != self._parent:
            return "parent process gone"
        return None

    def _run(self) -> None:
        while not self._stop.wait(self._poll):
            reason = self.check()
            if reason is None:
                continue
            self.lost_reason = reason
            try:
                self._loop.call_soon_threadsafe(self._on_lost)
            except RuntimeError:  # the loop is closed: the app is already leaving
                return
            # From here on `stop()` is ignored: an app that unmounted can still hang in
            # its driver's shutdown (a dead terminal's writer queue), and the process must
            # end either way. A normal exit ends this daemon thread with the process.
            time.sleep(self._grace)
            self._force()
            return

    def _force(self) -> None:
        """The event loop did not react: journal what we can, then leave for good."""
        last_words = self._last_words
        if last_words is not None:
            done = threading.Event()

            def speak() -> None:
                try:
                    last_words()
                except Exception:  # noqa: BLE001 - nothing may stop the exit now
                    pass
                done.set()

            threading.Thread(target=speak, name="tty-watchdog-last-words", daemon=True).start()
            done.wait(LAST_WORDS_SECONDS)
        os._exit(EXIT_HANGUP)
