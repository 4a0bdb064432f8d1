"""A TTY watchdog: the cockpit never outlives its terminal.

Once, after `tmux kill-session` mid-step, the TUI kept running under pid 1 holding both
locks with no `session_end`: SIGHUP is not always delivered (a shell in between that
ignores or does not forward it, a parent that died first), and a blocked event loop never
runs its signal handler.  A daemon thread watches the terminal itself and asks the app to
leave through its normal path (engine closed: `session_end` journalled, server lock and
lock file released).  It sleeps in poll(2) on a descriptor of the controlling terminal,
so the hang-up itself (POLLHUP: the pty's master closed) wakes it at once; it also wakes
once a second to see whether the process's parent is still the one that started it, and
every REOPEN_EVERY seconds re-opens /dev/tty as a backstop.  (It used to open /dev/tty
every half second, like Dolphie: 0.07 % of a core, a third of an idle cockpit's cost.)  If the event loop
does not honour that within a grace period it is wedged; the watchdog then runs a last
callback (journal the forced end) and ends the process, so the kernel releases the file
lock and the server drops the connection and its GET_LOCK.  An orphan is never an option.
"""

from __future__ import annotations

import asyncio
import os
import select
import threading
import time
from collections.abc import Callable
from types import FrameType

POLL_SECONDS = 1.0  # the parent check (one getppid) this often; a hang-up wakes the thread at once
REOPEN_EVERY = 10  # polls between two full checks (opening /dev/tty), in case no hang-up is signalled
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
        reason = self._watch()
        if reason is None:  # stopped: the app is leaving by itself
            return
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

    def _watch(self) -> str | None:
        """Wait until the terminal is gone (the reason) or the watchdog is stopped (None)."""
        hangup = HangupWait.open()
        polls = 0
        try:
            while not self._stop.is_set():
                if hangup is not None:
                    woke = hangup.wait(self._poll)
                else:
                    woke = False
                    self._stop.wait(self._poll)
                if self._stop.is_set():
                    return None
                polls += 1
                if woke or polls % REOPEN_EVERY == 0:
                    reason = self.check()
                    if reason is not None:
                        return reason
                    if woke and hangup is not None:  # woken with the terminal still there: never spin on it
                        hangup.close()
                        hangup = None
                elif os.getppid() != self._parent:
                    return "parent process gone"
            return None
        finally:
            if hangup is not None:
                hangup.close()

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


class HangupWait:
    """poll(2) on a descriptor of the controlling terminal, asking for no event at all: it
    returns only on POLLHUP/POLLERR, which the kernel reports once the terminal hung up.
    Sleeping in it costs nothing; the hang-up wakes it at once."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd
        self._poller = select.poll()
        self._poller.register(fd, 0)

    @classmethod
    def open(cls) -> HangupWait | None:
        try:
            fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError:
            return None
        return cls(fd)

    def wait(self, seconds: float) -> bool:
        """True when the terminal reported a hang-up or an error within `seconds`."""
        try:
            return bool(self._poller.poll(int(seconds * 1000)))
        except OSError:
            return True

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                self._poller.unregister(fd)
            except (KeyError, ValueError):
                pass
            os.close(fd)
