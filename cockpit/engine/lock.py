"""One operator at a time per target.

Two layers: an `fcntl.flock` on `<journal>.lock` (covers the sandbox, and two cockpits
on one bastion), and on MySQL a server-side `GET_LOCK('rollback-cockpit:<db>', 0)`
(covers two bastions). Both are released by the OS/server when the holder dies, so a
`kill -9` or a dropped SSH session never leaves a stale lock that someone must delete
by hand. The lock file holds who/where/since so a second cockpit can name the holder.

The server lock belongs to a session, and a session can die under a running cockpit:
the server kills it after `wait_timeout` idle seconds, a restart drops it, an admin
KILLs it. `ServerLock` therefore (1) holds it on a connection of its own, never shared
with the probes (whose resets must not drop it), (2) sets that session's `wait_timeout`
and keeps it alive with a heartbeat well inside it, and (3) re-verifies ownership
(`IS_USED_LOCK(name) = CONNECTION_ID()`, asked on the lock's own connection) before
every action. Once lost it stays lost: it is never silently re-taken, because another
cockpit may have taken it and acted in between; the engine turns read-only, journals
`lock_lost` and tells the operator to restart the cockpit (which takes the lock again
only if nobody holds it).
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cockpit.db.base import Database


@dataclass(frozen=True)
class LockHolder:
    """Who holds the operator lock (read from the lock file)."""

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


async def server_lock_holder(db: Database, name: str) -> str:
    """Who holds a server lock, as `user@host` from the process list (best effort)."""
    from cockpit.db.queries import LOCK_HOLDER

    try:
        rows = await db.fetch_all(LOCK_HOLDER.bind(name))
    except Exception:  # noqa: BLE001 - naming the holder is a courtesy; the refusal stands without it
        return "another cockpit"
    if rows:
        return f"{rows[0][0]}@{rows[0][1]}"
    return "another cockpit"


class ServerLock:
    """The server half, for MySQL/MariaDB: GET_LOCK on a dedicated session, kept alive
    and verified. `lost` holds why it was lost (None while held or never taken)."""

    HEARTBEAT_S = 5.0  # one trivial SELECT on the lock connection this often
    SESSION_WAIT_TIMEOUT_S = 300  # the lock session's idle limit: 60 heartbeats
    VERIFY_WAIT_S = 10.0  # a verification unanswered this long means the session is gone

    def __init__(self, db: Database, name: str, *, heartbeat_s: float | None = None, wait_timeout_s: int | None = None) -> None:
        # imported here: only a MySQL/MariaDB target has a server lock, and its driver is
        # loaded already (the sandbox's SQLite never imports aiomysql)
        from cockpit.db.mysql import MysqlDatabase

        if not isinstance(db, MysqlDatabase):
            raise TypeError(f"a server lock needs a MySQL/MariaDB database, not {db.dialect or type(db).__name__}")
        # a Database object of its own (no pool is ever opened on it, only the lock
        # connection), sharing the settings already resolved (a prompted password too)
        self._db = MysqlDatabase(db.target, settings=db.settings)
        self.name = name
        self.heartbeat_s = float(heartbeat_s if heartbeat_s is not None else self.HEARTBEAT_S)
        self.wait_timeout_s = int(wait_timeout_s if wait_timeout_s is not None else self.SESSION_WAIT_TIMEOUT_S)
        self.held = False
        self.lost: str | None = None
        self.verified_at: float | None = None  # time.monotonic() of the last proof of ownership
        self._io = asyncio.Lock()  # the heartbeat and an action's verification share one connection
        self._heartbeat: asyncio.Task[None] | None = None

    async def acquire(self) -> bool:
        """Take the lock without waiting; False when another session holds it."""
        async with self._io:
            got = await self._db.get_lock(self.name, 0, session_wait_timeout_s=self.wait_timeout_s)
        if got:
            self.held, self.lost, self.verified_at = True, None, time.monotonic()
        else:
            await self._db.close()
        return got

    async def verify(self) -> bool:
        """True while this session still owns the lock. The first failure (connection
        gone, ownership gone, no answer) records why in `lost`, closes the lock session
        (so a session that might still hold the lock cannot keep others out) and is final."""
        from cockpit.db.errors import DatabaseError

        if not self.held:
            return False
        try:
            async with self._io:
                owned = await self._db.lock_owned(self.name, wait_s=self.VERIFY_WAIT_S)
            reason = None if owned else "the server no longer counts this session as the lock's owner"
        except DatabaseError as exc:
            reason = str(exc)
        if reason is None:
            self.verified_at = time.monotonic()
            return True
        self.held, self.lost = False, reason
        await self._db.close()
        return False

    def start_heartbeat(self, on_lost: Callable[[str], None]) -> None:
        """Verify every `heartbeat_s` on the running loop (keeping the session from idling
        out), calling `on_lost(reason)` once when the lock is gone, even while nobody acts."""
        if self._heartbeat is not None or not self.held:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return

        async def beat() -> None:
            while self.held:
                await asyncio.sleep(self.heartbeat_s)
                if not await self.verify():
                    on_lost(self.lost or "lost")
                    return

        self._heartbeat = loop.create_task(beat(), name="cockpit-lock-heartbeat")

    async def stop_heartbeat(self) -> None:
        task, self._heartbeat = self._heartbeat, None
        if task is None or task is asyncio.current_task():
            return
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, Exception):  # noqa: BLE001 - it only verifies
            pass

    def verified_within(self, seconds: float) -> bool:
        return self.held and self.verified_at is not None and time.monotonic() - self.verified_at <= seconds

    async def release(self) -> None:
        """Release and close the lock session. Never raises."""
        from cockpit.db.errors import DatabaseError

        await self.stop_heartbeat()
        try:
            if self.held:
                async with self._io:
                    await self._db.release_lock(self.name)
        except DatabaseError:
            pass
        finally:
            self.held = False
            await self._db.close()
