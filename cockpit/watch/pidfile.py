"""One watcher per target: a flock'd pidfile next to the journal.

The kernel drops a flock when its holder dies, even by SIGKILL, so a stale pidfile never
blocks a restart, and a live one names its holder (pid, host, start) for the refusal.
This is not the operator lock (`<journal>.lock`): the watcher is an observer and never
takes it, so an operator can act while the watch runs.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Holder:
    pid: int
    host: str
    started_at: float
    config: str = ""

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started_at)) if self.started_at else "?"
        return f"pid {self.pid} on {self.host}, started {when}"


def pidfile_path(journal: Path, target: str) -> Path:
    """Next to the journal, one per target (a journal file may hold several targets)."""
    digest = hashlib.sha256(target.encode("utf-8")).hexdigest()[:10]
    return Path(f"{journal}.watch-{digest}.pid")


class WatcherLock:
    """Held for the watcher's whole life; `acquire()` returns the holder when refused."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self, config: str = "") -> Holder | None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return read_holder(self.path) or Holder(0, "?", 0.0)
        me = Holder(os.getpid(), socket.gethostname(), time.time(), config)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me.__dict__).encode("utf-8"), 0)
        os.fsync(fd)
        self._fd = fd
        return None

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        except OSError:
            pass
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


def read_holder(path: Path) -> Holder | None:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8") or "{}")
        return Holder(int(data["pid"]), str(data["host"]), float(data["started_at"]), str(data.get("config", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def running_holder(path: Path) -> Holder | None:
    """The live watcher holding `path`, or None (probing the lock without keeping it)."""
    if not Path(path).exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return read_holder(path) or Holder(0, "?", 0.0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
