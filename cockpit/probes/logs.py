"""Follow the phases' error logs like `tail -F` and count matching lines.

A follower keeps its file open between polls and remembers its offset, so each refresh
reads only the bytes written since the last one. It survives rotation (the path now names
a new inode: finish the old file, then read the new one from the start), truncation (the
file shrank: start over at 0) and a file that does not exist yet. Memory stays bounded
whatever the log does: reads are chunked, one poll reads at most `max_bytes_per_poll`
(skipping ahead and saying so), partial lines are capped, and only counts plus the last
`keep` matching lines are kept.

Patterns come from the plan, so they run on RE2 (`google-re2`), whose matching time is
linear in the line: `(a+)+$` against a long line once froze the TUI for good under
Python's backtracking `re`. A pattern RE2 cannot take (backreferences, lookaround) is
refused at load by the plan loader; should one reach a follower anyway, that log is
refused with a visible error on every reading — it never falls back to `re`. Matched
lines kept for display are cleaned of control characters and escape sequences.
"""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from cockpit.plan.model import Plan
from cockpit.probes.snapshot import Freshness, LogReading
from cockpit.text import clean

CHUNK = 64 * 1024
MAX_BYTES_PER_POLL = 4 * 1024 * 1024
MAX_LINE = 64 * 1024  # a "line" longer than this is cut: a log without newlines cannot eat memory
LINE_SHOWN = 200


class PatternRefused(ValueError):
    """The linear-time engine cannot take this pattern."""


def compile_pattern(pattern: str) -> Any:
    """`pattern` compiled by RE2, or PatternRefused saying why (one line, no pattern echo)."""
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would otherwise print its own line on stderr / the TUI
    try:
        return re2.compile(pattern, options)
    except (re2.error, TypeError, ValueError) as exc:
        reason = exc.args[0] if exc.args else "invalid"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        reason = str(reason).split(": ", 1)[0]
        raise PatternRefused(f"the linear-time regex engine (RE2) cannot take this pattern: {reason}") from None


@dataclass
class _Open:
    """An error log kept open between refreshes, identified by device and inode."""

    handle: BinaryIO
    dev: int
    ino: int
    offset: int


class LogFollower:
    def __init__(
        self,
        path: str | Path,
        pattern: str,
        keep: int = 20,
        minutes: int = 60,
        from_start: bool = False,
        max_bytes_per_poll: int = MAX_BYTES_PER_POLL,
    ) -> None:
        self.path = Path(path)
        self.pattern = pattern
        self._refused: str | None = None
        try:
            self._regex = compile_pattern(pattern)
        except PatternRefused as exc:
            self._regex = None
            self._refused = str(exc)
        self._minutes = max(1, minutes)
        self._from_start = from_start
        self._max_bytes = max_bytes_per_poll
        self._open: _Open | None = None
        self._first_poll = True
        self._drop_to_newline = False
        self._partial = b""
        self._last: deque[str] = deque(maxlen=keep)
        self._buckets: deque[tuple[int, int]] = deque()  # (minute, matches), oldest first
        self._recent: deque[tuple[float, int]] = deque()  # (poll time, matches) within 60 s
        self.total = 0
        self.skipped_bytes = 0
        self._skipped_this_poll = 0

    # -- public ---------------------------------------------------------------------------
    def poll(self, now: float | None = None) -> LogReading:
        now = time.time() if now is None else now
        self._skipped_this_poll = 0
        found = 0
        error: str | None = None
        if self._refused is not None:
            # never read with another engine: refusing this log is the visible, safe choice
            error = f"{self.path}: not watched: {self._refused}"
        else:
            try:
                found = self._follow()
            except OSError as exc:
                error = f"{self.path}: {exc.strerror or exc}"
                self._close()
        self._first_poll = False
        self._count(found, now)
        if self._skipped_this_poll and error is None:
            error = f"{self.path}: log grew too fast, skipped {self._skipped_this_poll} bytes this refresh"
        return LogReading(
            path=str(self.path),
            pattern=self.pattern,
            exists=self._open is not None,
            matches_last_minute=sum(n for _, n in self._recent),
            matches_total=self.total,
            rate_per_minute=self._rate(now),
            last_matches=tuple(self._last),
            freshness=Freshness(fetched_at=now, error=error),
        )

    def close(self) -> None:
        self._close()

    # -- reading --------------------------------------------------------------------------
    def _follow(self) -> int:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            st = None
        found = 0
        current = self._open
        if current is not None and (st is None or (st.st_dev, st.st_ino) != (current.dev, current.ino)):
            # Rotated or removed: what was written to the old file before the switch still
            # counts, so finish it, then move on to whatever the path names now.
            found += self._read_new(current, os.fstat(current.handle.fileno()).st_size)
            found += self._flush_partial()
            self._close()
            current = None
        if st is None:
            return found
        if current is None:
            current = self._reopen(st)
        elif st.st_size < current.offset:
            # Truncated in place (copytruncate, `> file`): start over from the beginning.
            current.handle.seek(0)
            current.offset = 0
            self._partial = b""
            self._drop_to_newline = False
        return found + self._read_new(current, st.st_size)

    def _reopen(self, st: os.stat_result) -> _Open:
        handle = open(self.path, "rb")  # noqa: SIM115 - kept open across polls on purpose
        real = os.fstat(handle.fileno())
        # A file already there at the first poll is read from its end (only new errors
        # matter); a file that appears later or replaces a rotated one is new: read it all.
        start = real.st_size if self._first_poll and not self._from_start else 0
        handle.seek(start)
        self._partial = b""
        self._drop_to_newline = False
        self._open = _Open(handle, real.st_dev, real.st_ino, start)
        return self._open

    def _read_new(self, current: _Open, size: int) -> int:
        available = size - current.offset
        if available <= 0:
            return 0
        if available > self._max_bytes:
            skip = available - self._max_bytes
            current.offset += skip
            current.handle.seek(current.offset)
            self._skipped_this_poll += skip
            self.skipped_bytes += skip
            self._partial = b""
            self._drop_to_newline = True
        found = 0
        remaining = min(available, self._max_bytes)
        while remaining > 0:
            chunk = current.handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            current.offset += len(chunk)
            remaining -= len(chunk)
            found += self._feed(chunk)
        return found

    def _feed(self, chunk: bytes) -> int:
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()
        if self._drop_to_newline and lines:
            lines.pop(0)  # the tail of a line whose start was skipped
            self._drop_to_newline = False
        if len(self._partial) > MAX_LINE:
            lines.append(self._partial[:MAX_LINE])
            self._partial = b""
        return sum(self._match(line) for line in lines)

    def _flush_partial(self) -> int:
        line, self._partial = self._partial, b""
        return self._match(line) if line else 0

    def _match(self, raw: bytes) -> int:
        text = raw.decode("utf-8", "replace").rstrip("\r")
        if self._regex is None or not self._regex.search(text):
            return 0
        self._last.append(clean(text, limit=LINE_SHOWN))
        return 1

    def _close(self) -> None:
        if self._open is not None:
            try:
                self._open.handle.close()
            finally:
                self._open = None

    # -- counting -------------------------------------------------------------------------
    def _count(self, found: int, now: float) -> None:
        self.total += found
        minute = int(now // 60)
        if self._buckets and self._buckets[-1][0] == minute:
            self._buckets[-1] = (minute, self._buckets[-1][1] + found)
        else:
            self._buckets.append((minute, found))
        while self._buckets and self._buckets[0][0] <= minute - self._minutes:
            self._buckets.popleft()
        if found:  # quiet polls add nothing to the last-minute count, so keep none of them
            self._recent.append((now, found))
        while self._recent and self._recent[0][0] <= now - 60:
            self._recent.popleft()

    def _rate(self, now: float) -> tuple[int, ...]:
        minute = int(now // 60)
        counts = dict(self._buckets)
        return tuple(counts.get(m, 0) for m in range(minute - self._minutes + 1, minute + 1))


class LogWatch:
    """One follower per distinct (path, pattern) across the plan, so two phases watching
    the same log do not read it twice; readings are handed back per phase."""

    def __init__(self, plan: Plan, keep: int = 20, minutes: int = 60, from_start: bool = False) -> None:
        self._phases: dict[int, tuple[tuple[str, str], ...]] = {}
        self._followers: dict[tuple[str, str], LogFollower] = {}
        for phase in plan.phases:
            keys = tuple((str(log.path), log.pattern) for log in phase.error_logs)
            self._phases[phase.id] = keys
            for key in keys:
                if key not in self._followers:
                    self._followers[key] = LogFollower(key[0], key[1], keep, minutes, from_start)

    def poll(self, now: float | None = None) -> dict[int, tuple[LogReading, ...]]:
        now = time.time() if now is None else now
        readings = {key: follower.poll(now) for key, follower in self._followers.items()}
        return {phase_id: tuple(readings[key] for key in keys) for phase_id, keys in self._phases.items()}

    def close(self) -> None:
        for follower in self._followers.values():
            follower.close()
