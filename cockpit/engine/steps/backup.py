"""backup: a dump of the phase's tables that is verified before it counts.

A backup only protects data if it can be restored, so "the dump command exited 0" is not
enough: the file must be non-empty, hold a CREATE TABLE for every table and end with the
dump's completion line (a truncated dump lacks it). Only then is `backup_verified`
journalled with size and sha256 — the migration guard re-hashes the file before trusting
it. Credentials reach mariadb-dump through a 0600 temporary option file, never argv.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from cockpit.paths import fsync_dir
from cockpit.db.errors import DatabaseError

from .. import guards, state
from ..types import GuardResult, Outcome
from .base import StepContext, StepKind

COMPLETED = "-- Dump completed"
DUMP_TIMEOUT_S = 3600.0


class BackupInvalid(Exception):
    """The dump cannot be trusted; the message says why in one line."""


def backup_tables(ctx: StepContext) -> tuple[str, ...]:
    """step.tables, or every table the phase's migrations protect."""
    return ctx.step.tables or ctx.phase.guard_tables or ctx.phase.tables


def verify_dump(path: Path, tables: tuple[str, ...]) -> tuple[int, str]:
    """(size, sha256) of a dump that passes every check, else BackupInvalid."""
    try:
        size = path.stat().st_size
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise BackupInvalid(f"{path} is unreadable: {exc.strerror or exc}") from None
    if size == 0 or not text.strip():
        raise BackupInvalid(f"{path} is empty")
    missing = [t for t in tables if not re.search(rf"CREATE TABLE (IF NOT EXISTS )?[`\"]?{re.escape(t)}[`\"]?[\s(]", text)]
    if missing:
        raise BackupInvalid(f"{path} lacks CREATE TABLE for {', '.join(missing)}")
    last = text.rstrip().splitlines()[-1]
    if not last.startswith(COMPLETED):
        raise BackupInvalid(f"{path} does not end with \"{COMPLETED}\" (truncated?)")
    return size, guards.sha256_of(path)


def dump_tool() -> str | None:
    return shutil.which("mariadb-dump") or shutil.which("mysqldump")


def dump_argv(tool: str, option_file: str, settings: object, tables: tuple[str, ...], out: Path) -> list[str]:
    """The dump command; the credential is only in `option_file`, which must come first."""
    argv = [tool, f"--defaults-extra-file={option_file}", "--single-transaction", "--skip-lock-tables"]
    socket = getattr(settings, "socket", "")
    if socket:
        argv.append(f"--socket={socket}")
    else:
        argv += [f"--host={getattr(settings, 'host', '127.0.0.1')}", f"--port={getattr(settings, 'port', 3306)}"]
    argv += [f"--result-file={out}", getattr(settings, "database", ""), *tables]
    return argv


def _sqlite_dump(db_path: Path, tables: tuple[str, ...], out: Path) -> None:
    """iterdump filtered to the tables: their schema (tables, indexes) and rows."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        schema = {row[0] for row in conn.execute(
            f"SELECT sql FROM sqlite_master WHERE tbl_name IN ({','.join('?' for _ in tables)}) AND sql IS NOT NULL", tables)}
        inserts = tuple(f'INSERT INTO "{t}" ' for t in tables)
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(f"-- rollback-cockpit sandbox dump of {', '.join(tables)}\nBEGIN TRANSACTION;\n")
            for line in conn.iterdump():
                if line.rstrip(";") in schema or line.startswith(inserts):
                    handle.write(line + "\n")
            handle.write("COMMIT;\n")
            handle.write(f"{COMPLETED} on {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
            handle.flush()
            os.fsync(handle.fileno())
    finally:
        conn.close()


class BackupStep(StepKind):
    async def guards(self, ctx: StepContext) -> list[GuardResult]:
        results = []
        if ctx.db is not None and ctx.db.dialect != "sqlite" and dump_tool() is None:
            results.append(GuardResult("dump_tool", False, "neither mariadb-dump nor mysqldump is installed"))
        return results

    def _out_path(self, ctx: StepContext) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(ctx.engine.clock()))
        return ctx.plan.paths.backup_dir / f"phase{ctx.phase.id}-{ctx.step.id}-{stamp}.sql"

    async def describe(self, ctx: StepContext) -> str:
        tables = backup_tables(ctx)
        out = self._out_path(ctx)
        if ctx.plan.target.kind == "sqlite":
            body = f"sqlite3 iterdump of {ctx.plan.target.path} tables {', '.join(tables)} > {out}"
        else:
            settings = getattr(ctx.db, "settings", None)
            tool = dump_tool() or "mariadb-dump"
            body = " ".join(dump_argv(tool, "<temporary 0600 option file with the credentials>", settings, tables, out))
        flags_off = state.flags_off_at(ctx.journal.events(), ctx.phase)
        when = "after the flags went off" if flags_off else "BEFORE the flags are off: it will not unlock the migration"
        return (
            f"{body}\n-- only tables that exist are dumped\n"
            f"-- verified: exit 0, non-empty, CREATE TABLE per table, ends with \"{COMPLETED}\"; size + sha256 journalled\n"
            f"-- taken {when}"
        )

    async def run(self, ctx: StepContext) -> Outcome:
        wanted = backup_tables(ctx)
        try:
            facts = await ctx.db.table_facts(wanted)
            counts = {t: await ctx.db.exact_count(t) for t in wanted if facts[t].exists}
        except DatabaseError as exc:
            return ctx.failed(f"cannot inspect the tables: {exc}", guard="database")
        tables = tuple(counts)
        if not tables:
            return ctx.done("nothing to back up: every table is absent")
        try:
            out = _claim(self._out_path(ctx))
        except OSError as exc:
            return ctx.failed(f"backup failed: cannot create the backup file: {exc}", guard="backup")
        # The dump goes to a .partial file and replaces the claimed name only once it is
        # verified: a crash or a lying dump never leaves a file under a backup's name, and
        # a claimed name is never reused, so no verified backup is ever overwritten.
        partial = out.with_name(out.name + ".partial")
        try:
            if ctx.db.dialect == "sqlite":
                await asyncio.to_thread(_sqlite_dump, Path(ctx.plan.target.path), tables, partial)
            else:
                problem = await self._mysql_dump(ctx, tables, partial)
                if problem:
                    _discard(out, partial)
                    return ctx.failed(problem, guard="backup")
            size, digest = verify_dump(partial, tables)
            os.replace(partial, out)
            fsync_dir(out.parent)
        except BackupInvalid as exc:
            _discard(out, partial)
            ctx.emit(f"rejected: {exc}")
            return ctx.failed(f"backup not accepted: {exc}", guard="backup")
        except (OSError, sqlite3.Error) as exc:
            _discard(out, partial)
            return ctx.failed(f"backup failed: {exc}", guard="backup")
        events = ctx.journal.events()
        flags_off = state.flags_off_at(events, ctx.phase)
        after = flags_off is not None
        ctx.journal.append("backup_verified", phase=ctx.phase.id, step=ctx.step.id, data={
            "tables": list(tables), "rows": counts, "path": str(out), "size": size, "sha256": digest,
            "after_flags_off": after, "flags_off_at": flags_off,
        })
        ctx.emit(f"verified {out} ({size} bytes, sha256 {digest[:12]}…)")
        when = "after the flags went off" if after else "before the flags went off (does not unlock the migration)"
        return ctx.done(f"backup verified: {out} ({size} bytes), taken {when}", path=str(out), sha256=digest)

    async def _mysql_dump(self, ctx: StepContext, tables: tuple[str, ...], out: Path) -> str | None:
        tool = dump_tool()
        if tool is None:
            return "neither mariadb-dump nor mysqldump is installed"
        settings = ctx.db.settings
        fd, option_file = tempfile.mkstemp(prefix="cockpit-dump-", suffix=".cnf")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write("[client]\n")
                handle.write(f"user={settings.user}\n")
                if settings.password:
                    escaped = settings.password.replace("\\", "\\\\").replace('"', '\\"')
                    handle.write(f"password=\"{escaped}\"\n")
            argv = dump_argv(tool, option_file, settings, tables, out)
            env = {k: v for k, v in os.environ.items() if k != "MYSQL_PWD"}
            proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env=env)
            try:
                _, err = await asyncio.wait_for(proc.communicate(), DUMP_TIMEOUT_S)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
                return f"{Path(tool).name} did not finish within {DUMP_TIMEOUT_S:.0f}s"
        finally:
            try:
                os.unlink(option_file)
            except OSError:
                pass
        if proc.returncode != 0:
            reason = err.decode(errors="replace").strip().splitlines()
            return f"{Path(tool).name} exited {proc.returncode}: {reason[-1] if reason else 'no message'}"
        return None


def _claim(path: Path) -> Path:
    """Create `path` exclusively (adding -1, -2, ... on a clash) and return the name won.
    Two backups in the same second, or a retry after a crash, get distinct files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    candidate, number = path, 0
    while True:
        try:
            os.close(os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            return candidate
        except FileExistsError:
            number += 1
            candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")


def _discard(*paths: Path) -> None:
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            pass

