"""The cockpit's hold on its target: journal, operator lock, database connection.

A Session is the part of the engine that is about *being allowed to act*, not about
what to do: it opens the journal, takes the operator lock (the `<journal>.lock` file,
and on MySQL/MariaDB the server lock of `engine/lock.py`), connects the database and
reconnects it, keeps the server lock alive with a heartbeat, and turns the cockpit
read-only the moment that lock is lost. The Engine (engine.py) holds one Session and
asks it before every write; the steps, guards and derived state stay in the Engine.

States, and who changes them:
- `database` is the target's one Database object for the whole session (None only when
  opened without a connection, or after close); `db` is that same object while it is
  reachable, else None — steps that need it refuse with `unreachable()`.
- `read_only` starts from `--read-only` or a lock held elsewhere, and becomes True (never
  back) when the server lock is lost or cannot be taken on a reconnect.
- `closed`: after `close()` nothing is written; `session_end` was the last word.

Threading rule (the whole engine follows it): the synchronous methods here and in the
Engine do blocking I/O — every journal write is a committed, fsync'd SQLite transaction,
and journal reads hit the file. They are safe to call from any thread (the journal
serialises its connection), but never from an event loop's thread: async callers (the
TUI) use the `*_async` counterparts, which run the same method in a worker thread via
`asyncio.to_thread`. Methods that are `async` already (open, close, reconnect,
verify_lock) await the database driver and run their own file work (opening the journal,
the lock file, session_start/session_end) in a thread too. The one inline write is the
`lock_lost` record: it must be the holder's last word before anything else can run.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Callable

from cockpit.db.base import Database
from cockpit.db.errors import DatabaseError
from cockpit.db.options import ConnectionSettings
from cockpit.journal import Journal
from cockpit.plan.model import Plan

from .errors import EngineRefused
from .lock import OperatorLock, ServerLock, server_lock_holder, server_lock_name
from .types import DATABASE, GuardResult


class Session:
    """One per cockpit process: the journal, the operator lock and the database connection."""

    def __init__(self, plan: Plan, journal: Journal, operator: str, *, clock: Callable[[], float],
                 database: Database | None = None, reachable: bool = False, db_error: str = "",
                 read_only: bool = False, read_only_reason: str = "") -> None:
        self.plan = plan
        self.journal = journal
        self.operator = operator
        self.clock = clock
        self.database = database
        self._reachable = reachable and database is not None
        self.db_error = db_error
        self.read_only = read_only
        self.read_only_reason = read_only_reason
        self.closed = False
        # why the operator lock was lost while this cockpit held it (None: not lost);
        # the TUI registers a listener to show it the moment it happens
        self.lock_lost: str | None = None
        self.lock_listeners: list[Callable[[str], None]] = []
        self._lock: OperatorLock | None = None
        self._server_lock: ServerLock | None = None
        self._session_open = False

    # -- lifecycle ----------------------------------------------------------------------
    @classmethod
    async def open(cls, plan: Plan, *, operator: str, read_only: bool = False, interactive: bool = False,
                   clock: Callable[[], float] = time.time, connect: bool = True,
                   settings: ConnectionSettings | None = None) -> Session:
        """Journal always; database if reachable (else `db` None, and steps needing it
        refuse); the operator lock unless read-only (held elsewhere -> read-only naming
        the holder). `settings`: connection settings resolved beforehand (the TUI asks for
        a password before it takes the terminal, then opens the engine behind its first
        frame)."""
        # opening the journal (a file, its schema, its indexes) is blocking I/O: in a thread
        journal = await asyncio.to_thread(Journal, plan.paths.journal, plan.target.label, operator, clock=clock)
        session = cls(plan, journal, operator, clock=clock, read_only=read_only,
                      read_only_reason="--read-only" if read_only else "")
        try:
            if connect:
                from cockpit.db import open_database

                session.database = open_database(plan.target, interactive=interactive, settings=settings)
                await session._connect()
            if not read_only:
                await asyncio.to_thread(session._take_file_lock)
                await session._take_server_lock()
            if not session.read_only:
                await journal.append_async("session_start", data={"pid": os.getpid(), "host": socket.gethostname()})
                session._session_open = True
        except BaseException:
            await session.close()
            raise
        return session

    async def close(self) -> None:
        """Idempotent: session end journalled, server lock, connection and lock file released."""
        if self.closed:
            return
        self.closed = True
        if self._session_open:
            try:
                await self.journal.append_async("session_end")
            except Exception:  # noqa: BLE001 - closing must never mask the real exit path
                pass
        if self._server_lock is not None:
            await self._server_lock.release()
            self._server_lock = None
        database, self.database, self._reachable = self.database, None, False
        if database is not None:
            await database.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        await asyncio.to_thread(self.journal.close)

    # -- the database -------------------------------------------------------------------
    @property
    def db(self) -> Database | None:
        """The target database while it is reachable (as of the last attempt), else None."""
        return self.database if self._reachable else None

    def unreachable(self) -> GuardResult:
        """The one refusal of anything that needs the database while it is not reachable."""
        return GuardResult(DATABASE, False, f"database unreachable: {self.db_error or 'not connected'}")

    async def _connect(self) -> None:
        database = self.database
        if database is None:
            return
        try:
            await database.connect()
        except DatabaseError as exc:
            self._reachable, self.db_error = False, str(exc)
        else:
            self._reachable, self.db_error = True, ""

    async def reconnect(self) -> None:
        """Before any check or action: a database that was unreachable at start, or went
        away since, is tried again (the live probe shares the same object and may already
        have reconnected it). Coming back, the server lock is taken if this cockpit never
        had it — if another cockpit took it meanwhile, this one turns read-only rather
        than act beside it."""
        database = self.database
        if database is None:
            return
        if not database.connected:
            await self._connect()
            if not self._reachable:
                return
        self._reachable, self.db_error = True, ""
        await self._take_server_lock()

    # -- the operator lock: taken once, kept alive, verified ---------------------------------
    def _take_file_lock(self) -> None:
        lock = OperatorLock(self.plan.paths.journal)
        holder = lock.acquire(self.operator, self.clock)
        if holder is None:
            self._lock = lock
        else:
            self.read_only, self.read_only_reason = True, holder.describe()

    async def _take_server_lock(self) -> None:
        """The server half of the operator lock, on its own session (lock.py), for a
        MySQL/MariaDB target. The only place it is taken: at open, or on the first
        reconnect when the database was down at open. Never re-taken once held and lost
        (another cockpit may have taken it and acted in between). Held elsewhere, or the
        lock session cannot be opened (acting without it would be acting blind): the
        file lock goes too and the cockpit is read-only, saying why."""
        db = self.db
        if (db is None or self.plan.target.kind != "mysql" or self.read_only or self._lock is None
                or self._server_lock is not None or self.lock_lost is not None):
            return
        name = server_lock_name(self.plan.target.database)
        server_lock = ServerLock(db, name)
        try:
            got = await server_lock.acquire()
        except DatabaseError as exc:
            await server_lock.release()
            self._turn_read_only(f"cannot take the operator lock on the database ({name}): {exc}")
            return
        if not got:
            self._turn_read_only(f"lock held by {await server_lock_holder(db, name)} on the database ({name})")
            return
        self._server_lock = server_lock
        server_lock.start_heartbeat(self._on_lock_lost)

    def _turn_read_only(self, reason: str) -> None:
        self.read_only, self.read_only_reason = True, reason
        if self._lock is not None:  # the local half goes too: this cockpit no longer acts
            self._lock.release()
            self._lock = None

    async def verify_lock(self) -> bool:
        """True when this cockpit may act right now: not read-only, and the server lock
        (if this target has one) is proven to be this session's. A loss turns the
        cockpit read-only at once and is journalled."""
        if self.read_only:
            return False
        if self._server_lock is None:
            return True
        if await self._server_lock.verify():
            return True
        self._on_lock_lost(self._server_lock.lost or "lost")
        return False

    def _on_lock_lost(self, why: str) -> None:
        if self.lock_lost is not None:
            return
        name = self._server_lock.name if self._server_lock is not None else server_lock_name(self.plan.target.database)
        self.lock_lost = why
        self.read_only = True
        self.read_only_reason = (f"operator lock lost ({name}: {why}); another cockpit may act now — "
                                 "restart the cockpit to take the lock again")
        try:  # journalled while this cockpit still holds the lock file: its last word as the holder
            self.journal.append("lock_lost", data={"name": name, "reason": why, "pid": os.getpid()})
        except Exception:  # noqa: BLE001 - a journal failure must not hide the loss: read-only stands
            pass
        self._turn_read_only(self.read_only_reason)
        for listener in list(self.lock_listeners):
            try:
                listener(self.read_only_reason)
            except Exception:  # noqa: BLE001 - a view's failure must not undo the read-only switch
                pass

    def lock_fresh(self) -> bool:
        """For the journal-only writes (tick, note, watch): synchronous, so they cannot
        ask the server; they require a proof of ownership no older than three heartbeats."""
        if self._server_lock is None:
            return True
        return self._server_lock.verified_within(max(3 * self._server_lock.heartbeat_s, 15.0))

    def writable(self) -> None:
        """Raise EngineRefused unless a journal-only write may happen now."""
        if self.closed:
            # the session ended (quit, hang-up, watchdog): `session_end` is its last word
            raise EngineRefused("the cockpit's session has ended")
        if self.read_only:
            raise EngineRefused(f"read-only: {self.read_only_reason}")
        if not self.lock_fresh():
            raise EngineRefused("the operator lock has not been verified recently (its heartbeat is not running); "
                                "retry in a moment or restart the cockpit")


__all__ = ["Session"]
