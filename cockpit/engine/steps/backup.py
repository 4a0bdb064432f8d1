"""backup: a dump of the phase's quarantined tables that counts only once restored.

"The dump command exited 0" proves nothing: an option file the operator's account reads
(`[mariadb-dump] no-data` in ~/.my.cnf) can strip the rows, a full disk can cut the file.
So the dump runs with `--defaults-file=<a file the cockpit wrote>` (no other option file
is read), the file is checked in one streaming pass while it is written (sha256, a
CREATE TABLE per table, the completion line; memory flat whatever the dump's size), then
RESTORED into a scratch schema (SQLite: a scratch database) and every table compared
with its quarantined source, measured after the dump, by exact row count and checksum.
How long each part took is shown and journalled with the step.
Only then is `backup_verified` journalled, with those counts and checksums: the final
drop re-checks that the quarantined tables still match them.

Secrets: the backup directory is 0700 and every file in it 0600 from creation on; the
credential reaches the tools through an option file in a private 0700 directory under
the cockpit's state directory (never a shared /tmp), removed after use and swept at the
start of the next run; the tools' environment has no MYSQL_PWD; each runs in its own
process group and is killed if the cockpit dies (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import asyncio
import ctypes
import hashlib
import os
import re
import shutil
import signal
import sqlite3
import time
from pathlib import Path
from typing import IO

from cockpit.db import queries
from cockpit.db.errors import DatabaseError
from cockpit.db.options import ConnectionSettings
from cockpit.faults import fault_point
from cockpit.paths import fsync_dir
from cockpit.plan.model import BackupSpec

from .. import state, table_guards
from ..types import GuardResult, Outcome
from .base import StepContext, StepKind
from .connection import connected, server

COMPLETED = "-- Dump completed"
DUMP_TIMEOUT_S = 3600.0
CHUNK = 1 << 20  # bytes read at a time when checking a dump
FOLLOW_S = 0.02  # how often a growing dump is read while the tool runs
PR_SET_PDEATHSIG = 1
TIMING_LABELS = {"measure": "measuring the source", "dump": "dump (file checked as written)", "check": "file check",
                 "backup": "backup before verifying it", "restore": "restore and compare"}
_BLANK = frozenset(b" \t\n\r\x0b\x0c")  # what bytes.strip() removes
_CREATE = re.compile(rb"CREATE TABLE (?:IF NOT EXISTS )?[`\"]?([A-Za-z0-9_]+)[`\"]?[\s(]")


class BackupInvalid(Exception):
    """The dump cannot be trusted; the message says why in one line."""


def backup_tables(ctx: StepContext) -> tuple[str, ...]:
    """The quarantined tables when the step backs up a migration's tables (the only data
    that will be dropped), else step.tables or the phase's tables."""
    if ctx.phase.quarantine_for(ctx.step) is not None:
        current = table_guards.q_state(ctx.journal.events(), ctx.phase, ctx.step)
        if current.held:
            return current.quarantined_names
        quarantine = ctx.phase.quarantine_for(ctx.step) or ctx.step
        tables, copies = table_guards.names_for(ctx.phase, quarantine)
        return (*tables.values(), *copies.values())
    return ctx.spec(BackupSpec).tables or ctx.phase.guard_tables or ctx.phase.tables


class DumpCheck:
    """The file checks, fed chunk by chunk: sha256, a CREATE TABLE per table, the
    completion line last. Each chunk is scanned whole by C code (hash, bytes.find),
    never line by line in Python: MariaDB 10.11's dump writes one row per line, 1.5
    million lines per 100 MB. Only the first HEAD bytes of an unfinished line are kept,
    so memory stays flat even for a multi-megabyte line (a row with a big BLOB), and
    the check can follow a dump while it is being written."""

    HEAD = 256

    def __init__(self, tables: tuple[str, ...]) -> None:
        self.tables = tables
        self.digest = hashlib.sha256()
        self.size = 0
        self.created: set[str] = set()
        self.carry = b""  # the start (<= HEAD bytes) of the line not finished yet
        self.carry_blank: bool | None = None  # None: no unfinished line
        self.last = b""  # the start of the last non-blank line

    def feed(self, chunk: bytes) -> None:
        self.digest.update(chunk)
        self.size += len(chunk)
        end = chunk.rfind(b"\n") + 1  # complete lines end here
        if end == 0:  # the whole chunk lies inside one line
            self._extend(chunk)
            return
        start = 0
        if self.carry_blank is not None:  # a line began in an earlier chunk
            start = chunk.find(b"\n") + 1
            self._extend(chunk[:start])
            self._lines(self.carry, 0, len(self.carry), not self.carry_blank)
        self._lines(chunk, start, end)
        self.carry, self.carry_blank = b"", None
        if end < len(chunk):
            self._extend(chunk[end:])

    def _extend(self, part: bytes) -> None:
        """Add to the unfinished line: its first HEAD bytes, and whether it is blank."""
        if len(self.carry) < self.HEAD:
            self.carry += part[:self.HEAD - len(self.carry)]
        if self.carry_blank is not False:
            self.carry_blank = not part.strip()

    def _lines(self, data: bytes, start: int, end: int, nonblank: bool | None = None) -> None:
        """The complete lines in data[start:end], scanned without copying them."""
        at = start if data.startswith(b"CREATE TABLE", start) else data.find(b"\nCREATE TABLE", start, end)
        while at >= 0:  # bytes.find, not a MULTILINE regex (which tries `^` at every byte)
            match = _CREATE.match(data, at + (data[at] == 0x0A), end)
            if match:
                self.created.add(match.group(1).decode("ascii", "replace"))
            at = data.find(b"\nCREATE TABLE", at + 1, end)
        if nonblank is not None:  # one line, known to be blank or not
            if nonblank:
                self.last = data[start:start + self.HEAD]
            return
        stop = end
        while stop > start and data[stop - 1] in _BLANK:
            stop -= 1
        if stop > start:
            line = max(start, data.rfind(b"\n", start, stop) + 1)
            self.last = data[line:min(stop, line + self.HEAD)]

    def result(self, path: Path) -> tuple[int, str]:
        """(size, sha256) if the dump passed, else BackupInvalid naming `path`."""
        if self.carry_blank is not None:
            self._lines(self.carry, 0, len(self.carry), not self.carry_blank)
            self.carry, self.carry_blank = b"", None
        if self.size == 0 or not self.last:
            raise BackupInvalid(f"{path} is empty")
        missing = [t for t in self.tables if t not in self.created]
        if missing:
            raise BackupInvalid(f"{path} lacks CREATE TABLE for {', '.join(missing)}")
        if not self.last.startswith(COMPLETED.encode()):
            raise BackupInvalid(f"{path} does not end with \"{COMPLETED}\" (truncated?)")
        return self.size, self.digest.hexdigest()


def verify_dump(path: Path, tables: tuple[str, ...]) -> tuple[int, str]:
    """(size, sha256) of a dump that passes the file checks, else BackupInvalid. One
    streaming pass: memory does not grow with the dump."""
    check = DumpCheck(tables)
    try:
        with open(path, "rb", buffering=0) as handle:
            while chunk := handle.read(CHUNK):
                check.feed(chunk)
    except OSError as exc:
        raise BackupInvalid(f"{path} is unreadable: {exc.strerror or exc}") from None
    return check.result(path)


async def dump_and_check(argv: list[str], path: Path, tables: tuple[str, ...]) -> tuple[int, str, int, str]:
    """Run the dump (writing `path` itself, --result-file) and check the file as it
    grows, so the check costs no second pass after the dump: (exit code, tool's last
    stderr line, size, sha256). The followed bytes count only if they are the whole
    file at the end (same inode, same size); otherwise, e.g. a file rewritten or cut
    after being written, it is checked again from the start."""
    check = DumpCheck(tables)
    with open(path, "rb", buffering=0) as handle:
        tool = asyncio.ensure_future(run_tool(argv))
        try:
            while True:
                finished = tool.done()
                while chunk := handle.read(CHUNK):
                    check.feed(chunk)
                if finished:
                    break
                await asyncio.wait({tool}, timeout=FOLLOW_S)
                await fault_point("backup.mid_dump")
        except BaseException:
            tool.cancel()
            await asyncio.gather(tool, return_exceptions=True)
            raise
        code, reason = tool.result()
        same = os.fstat(handle.fileno()).st_ino == os.stat(path).st_ino and os.stat(path).st_size == check.size
    if code != 0:
        return code, reason, 0, ""
    size, digest = check.result(path) if same else verify_dump(path, tables)
    return code, reason, size, digest


def dump_tool() -> str | None:
    return shutil.which("mariadb-dump") or shutil.which("mysqldump")


def client_tool() -> str | None:
    return shutil.which("mariadb") or shutil.which("mysql")


def where_args(settings: ConnectionSettings | None) -> list[str]:
    socket = getattr(settings, "socket", "")
    if socket:
        return [f"--socket={socket}"]
    return [f"--host={getattr(settings, 'host', '127.0.0.1')}", f"--port={getattr(settings, 'port', 3306)}"]


def dump_argv(tool: str, option_file: str, settings: ConnectionSettings | None, tables: tuple[str, ...], out: Path) -> list[str]:
    """The dump command. `--defaults-file` must come first: it is then the ONLY option
    file read, so no `[mariadb-dump]` group of the operator's can change the dump."""
    return [tool, f"--defaults-file={option_file}", "--single-transaction", "--skip-lock-tables", *where_args(settings),
            f"--result-file={out}", getattr(settings, "database", ""), *tables]


def restore_argv(tool: str, option_file: str, settings: ConnectionSettings | None, schema: str) -> list[str]:
    return [tool, f"--defaults-file={option_file}", *where_args(settings), "--batch", schema]


def scratch_schema(database: str) -> str:
    """Where a dump is restored to be verified: beside the production schema, never in it
    (a dump starts with DROP TABLE IF EXISTS of every table it holds)."""
    return f"{database}_cockpit_verify"[:64]


def private_dir(ctx: StepContext) -> Path:
    """A 0700 directory under the cockpit's state directory (beside the journal) for the
    option file; what a killed run left there is removed now."""
    return private_dir_for(Path(ctx.plan.paths.journal))


def private_dir_for(journal: Path) -> Path:
    """The private directory beside `journal` (0700), swept of what a killed run left."""
    path = Path(journal).parent / ".cockpit-private"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    for stale in path.iterdir():
        try:
            stale.unlink()
        except OSError:
            pass
    return path


def write_option_file(directory: Path, settings: ConnectionSettings) -> Path:
    """The credential in a 0600 option file (created exclusively, 0600 from the start) in
    the private directory: the tools read it through --defaults-file, never MYSQL_PWD.
    The caller removes it after use (and the next run's sweep does, if it is killed)."""
    option_file = directory / f"client-{os.getpid()}-{time.monotonic_ns()}.cnf"
    fd = os.open(option_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("[client]\n")
        handle.write(f"user={settings.user}\n")
        if settings.password:
            escaped = settings.password.replace("\\", "\\\\").replace('"', '\\"')
            handle.write(f"password=\"{escaped}\"\n")
    return option_file


def _die_with_parent() -> None:
    """In the child before exec: killed when the cockpit dies (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


async def run_tool(argv: list[str], stdin: IO[bytes] | None = None, timeout: float = DUMP_TIMEOUT_S) -> tuple[int, str]:
    """Run a MySQL tool in its own process group, killed with the cockpit; no MYSQL_PWD."""
    env = {k: v for k, v in os.environ.items() if k != "MYSQL_PWD"}
    proc = await asyncio.create_subprocess_exec(*argv, stdin=stdin, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
                                                env=env, start_new_session=True, preexec_fn=_die_with_parent)
    try:
        _, err = await asyncio.wait_for(proc.communicate(), timeout)
    except (TimeoutError, asyncio.CancelledError):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        await proc.wait()
        raise
    lines = err.decode(errors="replace").strip().splitlines()
    return proc.returncode or 0, lines[-1] if lines else "no message"


def _sqlite_dump(db_path: Path, tables: tuple[str, ...], out: Path) -> None:
    """iterdump filtered to the tables: their schema (tables, indexes) and rows."""
    from cockpit.db.sqlite import schema_of

    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        schema = schema_of(conn, tables)
        inserts = tuple(queries.sqlite_dump_insert_prefix(t) for t in tables)
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(f"-- rollback-cockpit sandbox dump of {', '.join(tables)}\n{queries.SQLITE_DUMP_BEGIN}\n")
            for line in conn.iterdump():
                if line.rstrip(";") in schema or line.startswith(inserts):
                    handle.write(line + "\n")
            handle.write(f"{queries.SQLITE_DUMP_COMMIT}\n")
            handle.write(f"{COMPLETED} on {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
            handle.flush()
            os.fsync(handle.fileno())
    finally:
        conn.close()


def _sqlite_restore_check(dump: Path, scratch: Path, tables: tuple[str, ...]) -> dict[str, tuple[int, str]]:
    """Replay the dump statement by statement into a scratch database (streaming) and
    measure each table the way the source was measured."""
    from cockpit.db.sqlite import content_hash, local_count

    try:
        scratch.unlink()
    except FileNotFoundError:
        pass
    conn = sqlite3.connect(scratch, isolation_level=None)
    try:
        pending = ""
        with open(dump, encoding="utf-8") as handle:
            for line in handle:
                if not pending and line.startswith("--"):
                    continue
                pending += line
                if sqlite3.complete_statement(pending):
                    conn.execute(pending)
                    pending = ""
        out = {}
        for table in tables:
            try:
                rows = local_count(conn, table)
            except sqlite3.OperationalError as exc:
                raise BackupInvalid(f"restoring the dump gives no {table}: {exc}") from None
            out[table] = (rows, content_hash(conn, table))
        return out
    except sqlite3.Error as exc:
        raise BackupInvalid(f"the dump does not restore: {exc}") from None
    finally:
        conn.close()
        try:
            scratch.unlink()
        except FileNotFoundError:
            pass


class BackupStep(StepKind):
    async def guards(self, ctx: StepContext) -> list[GuardResult]:
        results = table_guards.backup_guards(
            table_guards.snapshot_inputs(ctx.plan, ctx.journal.events(), ctx.phase, ctx.step, None,
                                         ctx.engine.clock()), ctx.phase, ctx.step)
        if ctx.db is not None and ctx.db.dialect != "sqlite":
            if dump_tool() is None:
                results.append(GuardResult("dump_tool", False, "neither mariadb-dump nor mysqldump is installed"))
            if client_tool() is None:
                results.append(GuardResult("dump_tool", False, "no mariadb/mysql client to verify the dump by restoring it"))
        return results

    def _out_path(self, ctx: StepContext) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(ctx.engine.clock()))
        return ctx.plan.paths.backup_dir / f"phase{ctx.phase.id}-{ctx.step.id}-{stamp}.sql"

    async def describe(self, ctx: StepContext) -> str:
        tables = backup_tables(ctx)
        out = self._out_path(ctx)
        if ctx.plan.target.kind == "sqlite":
            body = f"sqlite3 iterdump of {ctx.plan.target.path} tables {', '.join(tables)} > {out}"
            check = "restored into a scratch SQLite database"
        else:
            settings = getattr(ctx.db, "settings", None)
            option = "<cockpit-written 0600 option file, the only one read>"
            body = " ".join(dump_argv(dump_tool() or "mariadb-dump", option, settings, tables, out))
            schema = scratch_schema(ctx.plan.target.database)
            body += "\n" + " ".join(restore_argv(client_tool() or "mariadb", option, settings, schema)) + f" < {out}"
            check = f"restored into the scratch schema {schema} (dropped afterwards)"
        return (
            f"{body}\n-- verified: exit 0, CREATE TABLE per table, ends with \"{COMPLETED}\" (one streaming pass, sha256);\n"
            f"-- then {check}: every table's exact rows and checksum must equal the quarantined source's"
        )

    async def run(self, ctx: StepContext) -> Outcome:
        wanted = backup_tables(ctx)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        try:
            facts = await connected(ctx).table_facts(wanted)
        except DatabaseError as exc:
            return ctx.failed(f"cannot measure the tables: {exc}", guard="database")
        tables = tuple(t for t in wanted if facts[t].exists)
        if not tables:
            return ctx.done("nothing to back up: every table is absent")
        for leftover in await asyncio.to_thread(sweep_interrupted, ctx.plan.paths.backup_dir):
            ctx.emit(f"removed an interrupted backup's leftover: {leftover}")
        try:
            out = claim(self._out_path(ctx))
        except OSError as exc:
            return ctx.failed(f"backup failed: cannot create the backup file: {exc}", guard="backup")
        # The source's exact counts and checksums (two full scans) are taken after the dump,
        # as part of the verification by restore, not alongside it: on a busy server the
        # scans and the dump slow each other down more than they overlap. Safe in either
        # order: a write between the two makes the restored copy differ, and the backup
        # is refused.
        # The dump goes to a .partial file (0600 from creation) and replaces the claimed
        # name only once it is verified by restore: a crash or a lying dump never leaves a
        # file under a backup's name, and a claimed name is never reused.
        partial = partial_of(out)
        try:
            open_partial(partial)
            if connected(ctx).dialect == "sqlite":
                source = await _measure(ctx, tables, timings)
                mark = time.perf_counter()
                await asyncio.to_thread(_sqlite_dump, Path(str(ctx.plan.target.path)), tables, partial)
                timings["dump"] = time.perf_counter() - mark
                mark = time.perf_counter()
                size, digest = verify_dump(partial, tables)
                timings["check"] = time.perf_counter() - mark
                mark = time.perf_counter()
                restored = await asyncio.to_thread(_sqlite_restore_check, partial, private_dir(ctx) / "verify.sqlite3", tables)
                timings["restore"] = time.perf_counter() - mark
            else:
                size, digest, source, restored = await self._mysql(ctx, tables, partial, timings, started)
            bad = [f"{t}: {source[t][0]} rows in the source, {restored.get(t, (None,))[0]} restored"
                   + ("" if restored.get(t, (None, None))[1] == source[t][1] else ", content differs")
                   for t in tables if restored.get(t) != source[t]]
            if bad:
                raise BackupInvalid("the restored dump differs from the quarantined tables: " + "; ".join(bad))
            await fault_point("backup.before_replace")
            publish(partial, out)
        except _MeasureFailed as exc:
            discard(out, partial)
            return ctx.failed(f"cannot measure the tables: {exc}", guard="database")
        except BackupInvalid as exc:
            discard(out, partial)
            ctx.emit(f"rejected: {exc}")
            return ctx.failed(f"backup not accepted: {exc}", guard="backup")
        except (TimeoutError, OSError, sqlite3.Error, DatabaseError) as exc:
            discard(out, partial)
            return ctx.failed(f"backup failed: {exc or exc.__class__.__name__}", guard="backup")
        events = ctx.journal.events()
        flags_off = state.flags_off_at(events, ctx.phase)
        counts = {t: source[t][0] for t in tables}
        checksums = {t: source[t][1] for t in tables}
        ctx.journal.append("backup_verified", phase=ctx.phase.id, step=ctx.step.id, data={
            "tables": list(tables), "rows": counts, "checksums": checksums, "path": str(out), "size": size, "sha256": digest,
            "verified_by_restore": True, "after_flags_off": flags_off is not None, "flags_off_at": flags_off,
        })
        ctx.emit(f"verified by restore: {out} ({size} bytes, sha256 {digest[:12]}…, {sum(counts.values())} rows)")
        # Where the time went (a big table's restore dominates): shown and journalled so an
        # operator can size the next one, and the benchmark reads the split from here.
        ctx.emit("took " + ", ".join(f"{TIMING_LABELS[k]} {v:.1f} s" for k, v in timings.items()),
                 timings={k: round(v, 4) for k, v in timings.items()})
        return ctx.done(f"backup verified by restore: {out} ({size} bytes; "
                        + ", ".join(f"{t}: {n}" for t, n in counts.items()) + ")", path=str(out), sha256=digest)

    async def _mysql(self, ctx: StepContext, tables: tuple[str, ...], partial: Path, timings: dict[str, float],
                     started: float) -> tuple[int, str, dict[str, tuple[int, str]], dict[str, tuple[int, str]]]:
        """(size, sha256, source measures, restored measures) of a dump checked as it was
        written, then restored into the scratch schema."""
        tool, client = dump_tool(), client_tool()
        if tool is None or client is None:
            raise BackupInvalid("mariadb-dump and the mariadb client are both needed")
        db = server(ctx)
        settings = db.settings
        option_file = write_option_file(private_dir(ctx), settings)
        try:
            mark = time.perf_counter()
            code, reason, size, digest = await dump_and_check(dump_argv(tool, str(option_file), settings, tables, partial),
                                                              partial, tables)
            if code != 0:
                raise BackupInvalid(f"{Path(tool).name} exited {code}: {reason}")
            timings["dump"] = time.perf_counter() - mark  # the file check ran while the dump was written
            timings["backup"] = time.perf_counter() - started
            source = await _measure(ctx, tables, timings)
            mark = time.perf_counter()
            schema = scratch_schema(settings.database)
            if await db.fetch_value(queries.SCHEMA_EXISTS.bind(schema)):
                await db.execute(queries.DROP_SCHEMA.bind(schema=schema))  # left by a killed run
            await db.execute(queries.CREATE_SCHEMA.bind(schema=schema))
            try:
                with open(partial, "rb") as feed:  # the client reads the file itself: no copy in memory
                    code, reason = await run_tool(restore_argv(client, str(option_file), settings, schema), stdin=feed)
                if code != 0:
                    raise BackupInvalid(f"the dump does not restore: {Path(client).name} exited {code}: {reason}")
                restored: dict[str, tuple[int, str]] = {}
                for table in tables:
                    try:
                        where = queries.qualified(schema, table)
                        rows = int(await db.fetch_value(queries.SCRATCH_COUNT_ROWS.bind(table=where)))
                        checksum = await db.fetch_all(queries.SCRATCH_CHECKSUM.bind(table=where))
                    except DatabaseError as exc:
                        raise BackupInvalid(f"restoring the dump gives no {table}: {exc}") from None
                    restored[table] = (rows, str(checksum[0][1]))
            finally:
                try:
                    await db.execute(queries.DROP_SCHEMA.bind(schema=schema))
                except DatabaseError:
                    pass
            timings["restore"] = time.perf_counter() - mark
            return size, digest, source, restored
        finally:
            try:
                option_file.unlink()
            except OSError:
                pass


class _MeasureFailed(Exception):
    """The source tables could not be counted or checksummed (a database error)."""


async def _measure(ctx: StepContext, tables: tuple[str, ...], timings: dict[str, float]) -> dict[str, tuple[int, str]]:
    """Each table's exact row count and checksum, as the restored copy will be measured."""
    started = time.perf_counter()
    try:
        db = connected(ctx)
        source = {t: (await db.exact_count(t, timeout_ms=max(ctx.plan.target.statement_timeout_ms, 600_000)),
                      await db.table_checksum(t)) for t in tables}
    except DatabaseError as exc:
        raise _MeasureFailed(str(exc)) from None
    timings["measure"] = time.perf_counter() - started
    return source


def claim(path: Path) -> Path:
    """Create `path` exclusively, 0600 in a 0700 directory (adding -1, -2, ... on a
    clash), and return the name won: two backups in one second never share a file."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    candidate, number = path, 0
    while True:
        try:
            os.close(os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            return candidate
        except FileExistsError:
            number += 1
            candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")


def sweep_interrupted(directory: Path) -> list[str]:
    """Remove what a backup killed mid-way left in `directory`: its `.partial` dump (real
    production rows, 0600) and the empty name it had claimed. Safe only under the operator
    lock, which every dump holds: no other dump can be running. A claimed name that holds
    bytes is never touched (a verified backup is renamed onto it whole). One line per file."""
    removed: list[str] = []
    try:
        partials = sorted(directory.glob("*.partial"))
    except OSError:
        return removed
    for partial in partials:
        claimed = partial.with_name(partial.name[: -len(".partial")])
        try:
            size = partial.stat().st_size
            partial.unlink()
            removed.append(f"{partial.name} ({size} bytes)")
            if claimed.exists() and claimed.stat().st_size == 0:
                claimed.unlink()
                removed.append(f"{claimed.name} (empty)")
        except OSError:
            continue
    return removed


def partial_of(out: Path) -> Path:
    """Where the dump for `out` is written until it is verified (sweep_interrupted knows it)."""
    return out.with_name(out.name + ".partial")


def open_partial(partial: Path) -> None:
    """Create the `.partial` file, exclusively and 0600 from the start: a crash or a lying
    dump never leaves bytes under a backup's claimed name."""
    os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def publish(partial: Path, out: Path) -> None:
    """The verified dump takes its claimed name in one rename, still 0600 (a dump tool may
    have recreated the file with its own mode), and the rename is made durable."""
    if os.stat(partial).st_mode & 0o077:
        os.chmod(partial, 0o600)
    os.replace(partial, out)
    fsync_dir(out.parent)


def discard(*paths: Path) -> None:
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
