"""The full dump the plan's before-checklist asks for ("Backup database (full dump)").

The backup step dumps only a phase's quarantined tables; this dumps the whole target
database, so the checklist's evidence can say "full dump" truthfully. It shares the
backup step's machinery (engine/steps/backup.py): a cockpit-written 0600 option file in
the private 0700 directory (the only option file the tool reads, so `[mariadb-dump]
no-data` in ~/.my.cnf cannot empty it), no MYSQL_PWD, the tool in its own process group
and killed with the cockpit, the file checked while it is written (sha256, a CREATE
TABLE per table, the completion line), 0600 files in the 0700 backup directory, a
.partial name until verified. On the SQLite sandbox, sqlite3's online backup API copies
the database and `PRAGMA integrity_check` checks the copy.

It runs outside the step machinery (no phase), but as every action: only from a cockpit
holding the operator lock, with an intent journalled first and an outcome after.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from cockpit.db import queries
from cockpit.db.base import Database
from cockpit.db.errors import DatabaseError
from cockpit.db.options import ConnectionSettings
from cockpit.db.sqlite import integrity_check, self_contained, user_tables

from .steps.backup import (
    COMPLETED,
    BackupInvalid,
    claim,
    discard,
    dump_and_check,
    dump_tool,
    open_partial,
    partial_of,
    private_dir_for,
    publish,
    sweep_interrupted,
    where_args,
    write_option_file,
)
from .types import Outcome

if TYPE_CHECKING:
    from cockpit.journal import Journal
    from cockpit.plan.model import Plan


class Host(Protocol):
    """What the full dump needs of the engine that runs it: the plan, the connection,
    the journal, the clock, and the operator lock's verdict (read-only or not)."""

    @property
    def plan(self) -> Plan: ...
    @property
    def db(self) -> Database | None: ...
    @property
    def journal(self) -> Journal: ...
    @property
    def clock(self) -> Callable[[], float]: ...
    @property
    def read_only(self) -> bool: ...
    @property
    def read_only_reason(self) -> str: ...
    @property
    def db_error(self) -> str: ...

    async def verify_lock(self) -> bool: ...

OPTION_PLACEHOLDER = "<cockpit-written option file>"
CHUNK = 1 << 20


def out_path(plan: Plan, now: float) -> Path:
    """Where the dump goes: the plan's 0700 backup directory, named by target and time."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    if plan.target.kind == "sqlite":
        return plan.paths.backup_dir / f"full-{Path(str(plan.target.path)).stem}-{stamp}.sqlite3"
    return plan.paths.backup_dir / f"full-{plan.target.database}-{stamp}.sql"


def full_dump_argv(tool: str, option_file: str, settings: ConnectionSettings | None, out: Path) -> list[str]:
    """The whole database with its routines, triggers and events, in one consistent
    snapshot. `--defaults-file` first: the only option file read."""
    return [tool, f"--defaults-file={option_file}", "--single-transaction", "--routines", "--triggers", "--events",
            *where_args(settings), f"--result-file={out}", getattr(settings, "database", "")]


def describe(plan: Plan, db: Database | None, now: float) -> tuple[str, Path]:
    """(the dry-run text, the output path): exactly what --execute would run."""
    out = out_path(plan, now)
    if plan.target.kind == "sqlite":
        text = (f"sqlite3 online backup (Connection.backup) of {plan.target.path} -> {out} (0600)\n"
                "-- verified: PRAGMA integrity_check on the copy returns ok; size and sha256 journalled")
    else:
        argv = full_dump_argv(dump_tool() or "mariadb-dump", OPTION_PLACEHOLDER, getattr(db, "settings", None), out)
        text = (" ".join(argv) + "\n"
                f"-- verified while written: exit 0, CREATE TABLE for every table, ends with \"{COMPLETED}\", sha256; "
                "the file is 0600 in the 0700 backup directory")
    return text, out


async def run_full_dump(engine: Host, on_output: Callable[[str], None] | None = None) -> Outcome:
    """Take and verify the full dump; journal `full_backup_intent` then
    `full_backup_verified` (or `full_backup_failed`)."""
    def say(line: str) -> None:
        if on_output is not None:
            on_output(line)

    if engine.read_only:
        return Outcome("refused", f"read-only: {engine.read_only_reason}", "read_only")
    if not await engine.verify_lock():
        return Outcome("refused", f"read-only: {engine.read_only_reason}", "read_only")
    plan, db = engine.plan, engine.db
    sqlite = plan.target.kind == "sqlite"
    if not sqlite:
        if db is None:
            return Outcome("refused", f"no connection to the database: {getattr(engine, 'db_error', '')}".rstrip(": "), "database")
        if dump_tool() is None:
            return Outcome("refused", "neither mariadb-dump nor mysqldump is installed", "dump_tool")
    server = plan.target.label if sqlite else getattr(db, "server_label", plan.target.label)
    for leftover in await asyncio.to_thread(sweep_interrupted, plan.paths.backup_dir):  # under the operator lock
        say(f"removed an interrupted backup's leftover: {leftover}")
    try:
        out = claim(out_path(plan, engine.clock()))
    except OSError as exc:
        return Outcome("failed", f"cannot create the backup file: {exc}", "backup")
    intent = engine.journal.append("full_backup_intent", data={"path": str(out), "server": server})
    partial = partial_of(out)
    started = time.perf_counter()
    try:
        open_partial(partial)
        if sqlite:
            say(f"online backup of {plan.target.path} …")
            tables, size, digest = await asyncio.to_thread(_sqlite_full, Path(str(plan.target.path)), partial)
        else:
            say(f"dumping {plan.target.database} from {server} …")
            tables, size, digest = await _mysql_full(engine, partial)
        publish(partial, out)
    except BaseException as exc:
        discard(out, partial)
        if not isinstance(exc, (BackupInvalid, OSError, sqlite3.Error, DatabaseError, TimeoutError)):
            engine.journal.append("full_backup_failed", data={"path": str(out), "message": exc.__class__.__name__,
                                                              "intent_id": intent})
            raise
        message = f"full dump not accepted: {exc}" if isinstance(exc, BackupInvalid) else f"full dump failed: {exc}"
        engine.journal.append("full_backup_failed", data={"path": str(out), "message": message, "intent_id": intent})
        return Outcome("failed", message, "backup")
    took = round(time.perf_counter() - started, 3)
    engine.journal.append("full_backup_verified", data={
        "path": str(out), "size": size, "sha256": digest, "tables": len(tables), "table_names": list(tables),
        "server": server, "seconds": took, "intent_id": intent})
    say(f"verified: {out} ({size} bytes, sha256 {digest[:12]}…, {len(tables)} tables, {took:.1f} s)")
    return Outcome("done", f"full dump verified: {out} ({len(tables)} tables, {size} bytes)",
                   data={"path": str(out), "sha256": digest, "size": size, "tables": len(tables)})


def _sqlite_full(source: Path, partial: Path) -> tuple[tuple[str, ...], int, str]:
    """Online backup into `partial` (already 0600), then integrity_check on the copy."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            # the copy inherits the source's WAL mode: one self-contained file instead
            self_contained(dst)
        finally:
            dst.close()
    finally:
        src.close()
    copy = sqlite3.connect(f"file:{partial}?mode=ro", uri=True)
    try:
        verdict = integrity_check(copy)
        if verdict != ["ok"]:
            raise BackupInvalid(f"integrity_check on the copy: {'; '.join(str(v) for v in verdict[:3])}")
        tables = user_tables(copy)
    finally:
        copy.close()
    os.chmod(partial, 0o600)
    digest = hashlib.sha256()
    size = 0
    with open(partial, "rb", buffering=0) as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    return tables, size, digest.hexdigest()


async def _mysql_full(engine: Host, partial: Path) -> tuple[tuple[str, ...], int, str]:
    """The whole database through mariadb-dump, checked while it is written."""
    from cockpit.db.mysql import MysqlDatabase

    db = engine.db
    if not isinstance(db, MysqlDatabase):
        raise BackupInvalid("the full dump of a MySQL target needs its MySQL connection")
    settings = db.settings
    rows = await db.fetch_all(queries.BASE_TABLES.bind(settings.database))
    tables = tuple(str(row[0]) for row in rows)
    # which tables hold rows now: each must have an INSERT in the dump (an exit 0 with a
    # well-formed file can still lack the rows: a missing privilege, a `no-data`)
    filled = [t for t in tables
              if await db.fetch_value(queries.HAS_ROWS.bind(table=t))]
    tool = dump_tool()
    if tool is None:
        raise BackupInvalid("neither mariadb-dump nor mysqldump is installed")
    option_file = write_option_file(private_dir_for(Path(engine.plan.paths.journal)), settings)
    try:
        code, reason, size, digest = await dump_and_check(full_dump_argv(tool, str(option_file), settings, partial),
                                                          partial, tables)
    finally:
        try:
            option_file.unlink()
        except OSError:
            pass
    if code != 0:
        hint = (" (the dump account needs SELECT, SHOW VIEW, TRIGGER, EVENT and LOCK TABLES on the database)"
                if "Access denied" in reason else "")
        raise BackupInvalid(f"{Path(tool).name} exited {code}: {reason}{hint}")
    inserted = await asyncio.to_thread(inserted_tables, partial)
    empty = [t for t in filled if t not in inserted]
    if empty:
        raise BackupInvalid(f"{partial.name} has no rows for {', '.join(empty[:5])}"
                            + (f" and {len(empty) - 5} more" if len(empty) > 5 else "") + " (which hold rows)")
    return tables, size, digest


_INSERT = re.compile(rb"\nINSERT INTO `((?:[^`]|``)+)`")


def inserted_tables(path: Path) -> set[str]:
    """The tables with at least one INSERT in a dump: one streaming pass, chunks
    overlapping by a little so a statement's start cut by a chunk edge is still seen."""
    found: set[str] = set()
    tail = b"\n"
    with open(path, "rb", buffering=0) as handle:
        while chunk := handle.read(CHUNK):
            data = tail + chunk
            for match in _INSERT.finditer(data):
                found.add(match.group(1).replace(b"``", b"`").decode("utf-8", "replace"))
            tail = data[-256:]
    return found
