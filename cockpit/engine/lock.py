"""One operator at a time per target.

Two layers: an `fcntl.flock` on `<journal>.lock` (covers the sandbox, and two cockpits
on one bastion), and on MySQL a server-side `GET_LOCK('rollback-cockpit:<db>', 0)`
(covers two bastions). Both are released by the OS/server when the holder dies, so a
`kill -9` or a dropped SSH session never leaves a stale lock that someone must delete
by hand. The lock file holds who/where/since so a second cockpit can name the holder.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable


@dataclass(frozen=True)
class LockHolder:
    operator: str
    pid: int
    host: str
    since: float

    def describe(self) -> str:
        when = time.strftime("%H:%M", time.localtime(self.since))
        return f"lock held by {self.operator}@{self.host} (pid {self.pid}) since {when}"


def server_lock_name(database: str) -> str:
    return f"rollback-cockpit:{database}"


class OperatorLock:
    """The local half: an exclusive, non-blocking flock with the holder written inside."""

    def __init__(self, journal_path: Path) -> None:
        self.path = Path(f"{journal_path}.lock")
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, operator: str, clock: Callable[[], float] = time.time) -> LockHolder | None:
        """Take the lock and return None, or return who holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return self.holder() or LockHolder("another cockpit", 0, "?", clock())
        holder = LockHolder(operator, os.getpid(), socket.gethostname(), clock())
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder.__dict__).encode(), 0)
        os.fsync(fd)
        self._fd = fd
        return None

    def holder(self) -> LockHolder | None:
        try:
            data: dict[str, Any] = json.loads(self.path.read_text() or "{}")
            return LockHolder(str(data["operator"]), int(data["pid"]), str(data["host"]), float(data["since"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None


async def server_lock_holder(db: Any, name: str) -> str:
    """Who holds a server lock, as `user@host` from the process list (best effort)."""
    try:
        rows = await db.fetch_all(
            "SELECT p.USER, p.HOST FROM information_schema.PROCESSLIST p WHERE p.ID = IS_USED_LOCK(?)", (name,)
        )
    except Exception:  # noqa: BLE001 - naming the holder is a courtesy; the refusal stands without it
        return "another cockpit"
    if rows:
        return f"{rows[0][0]}@{rows[0][1]}"
    return "another cockpit"
