"""`cockpit check`: is the plan valid and can every source be reached? Exit 0, 2 or 3.

Run it before an incident, not during one: each source is tried for real and reported
as ok or with the reason it failed, so a missing grant or a wrong crontab path is found
while nobody is waiting.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cockpit.commands.common import EXIT_OK, EXIT_UNREACHABLE, add_common_arguments, load_config
from cockpit.plan import Plan

if TYPE_CHECKING:
    from cockpit.db.base import Database


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("check", help="validate the plan and try every connection (exit 0, 2 or 3)")
    add_common_arguments(parser)
    parser.set_defaults(handler=main)


def _writable_dir(path: Path) -> str | None:
    """None when files can be created in `path` (or it can be created); else the reason."""
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is not a directory"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"{probe} is not writable"
    return None


async def _check_database(plan: Plan) -> list[tuple[str, bool, str]]:
    from cockpit.db import open_database
    from cockpit.db.errors import DatabaseError

    results: list[tuple[str, bool, str]] = []
    db = open_database(plan.target)
    try:
        try:
            await db.connect()
        except DatabaseError as exc:
            return [(f"database {plan.target.label}", False, str(exc))]
        results.append((f"database {plan.target.label}", True, db.server_version))
        try:
            facts = await db.table_facts(plan.all_tables)
            missing = [name for name, fact in facts.items() if not fact.exists]
            detail = f"{len(facts) - len(missing)} of {len(facts)} plan tables present"
            results.append(("plan tables", True, detail + (f" (absent: {', '.join(missing)})" if missing else "")))
            from cockpit.probes.database import activity_index_results

            results.extend(activity_index_results(plan, facts))
        except DatabaseError as exc:
            results.append(("plan tables", False, str(exc)))
        if plan.flag_store.backend == "sql":
            results.append(await _check_flag_keys(db, plan))
    finally:
        await db.close()
    return results


async def _check_flag_keys(db: Database, plan: Plan) -> tuple[str, bool, str]:
    """Every plan flag must match exactly one row under the key column's own collation
    (as the application's lookup does): a missing key is not off, and a key matching
    several rows (`Enable_X` and `enable_x ` under a case-insensitive, PAD SPACE
    collation) has no single value. Both fail the check, naming the keys. Stored text
    is shown with repr(), which escapes control characters."""
    from cockpit.db.errors import DatabaseError
    from cockpit.probes.flags import flag_matches, read_flags

    store = plan.flag_store
    label = f"flag store {store.table}"
    try:
        matches = await flag_matches(db, store, plan.all_flags)
        readings = await read_flags(db, store, plan.all_flags)
    except DatabaseError as exc:
        return (label, False, str(exc))
    missing = [k for k, rows in matches.items() if not rows]
    ambiguous = [f"{k} ({len(rows)} rows: {', '.join(repr(r) for r in rows)})" for k, rows in matches.items() if len(rows) > 1]
    differing = [f"{k} as {rows[0]!r}" for k, rows in matches.items() if len(rows) == 1 and rows[0] != k]
    unreadable = [f"{k} ({(r.raw or '')!r})" for k, r in readings.items() if r.state == "unknown" and len(matches.get(k, [])) == 1]
    detail = f"{len(matches) - len(missing) - len(ambiguous)} of {len(matches)} flags match exactly one row"
    if missing:
        detail += f"; missing (not off: the application's default applies): {', '.join(missing)}"
    if ambiguous:
        detail += f"; ambiguous: {'; '.join(ambiguous)}"
    if unreadable:
        detail += f"; unreadable values: {', '.join(unreadable)}"
    if differing:
        detail += f"; stored with another case or spacing (matched by the collation): {', '.join(differing)}"
    return (label, not (missing or ambiguous or unreadable), detail)


def _check_flag_command(plan: Plan) -> list[tuple[str, bool, str]]:
    if plan.flag_store.backend != "command":
        return []
    program = plan.flag_store.get_command[0]
    found = shutil.which(program) or (Path(program).is_file() and program)
    return [("flag command", bool(found), found or f"{program} not found")]


def _check_cron(plan: Plan) -> list[tuple[str, bool, str]]:
    if not plan.all_cron_jobs:
        return []
    from cockpit.probes.cron import read_cron

    readings = read_cron(plan)
    unknown = [r for r in readings.values() if r.state == "unknown"]
    if unknown:
        return [("crontab", False, unknown[0].freshness.error or "unreadable")]
    summary = ", ".join(f"{r.script}: {r.state}" for r in readings.values())
    return [("crontab", True, summary)]


def _check_files(plan: Plan) -> list[tuple[str, bool, str]]:
    results = []
    for label, folder in (
        ("journal folder", plan.paths.journal.parent),
        ("backup folder", plan.paths.backup_dir),
        ("rollback log folder", plan.log.file.parent),
    ):
        problem = _writable_dir(folder)
        results.append((label, problem is None, problem or str(folder)))
    if plan.target.kind == "mysql":
        dump = shutil.which("mariadb-dump") or shutil.which("mysqldump")
        results.append(("dump tool", bool(dump), dump or "neither mariadb-dump nor mysqldump is installed: backups will refuse"))
    seen: set[Path] = set()
    for phase in plan.phases:
        for log in phase.error_logs:
            if log.path in seen:
                continue
            seen.add(log.path)
            readable = log.path.is_file() and os.access(log.path, os.R_OK)
            # a missing log is worth knowing but does not make the target unreachable
            results.append((f"error log {log.path}", True, "readable" if readable else "not there yet (followed when it appears)"))
    return results


def main(args: argparse.Namespace) -> int:
    plan = load_config(args.config)
    print(f"plan {plan.path}: ok ({len(plan.phases)} phases, {len(plan.all_flags)} flags, {len(plan.all_tables)} tables, "
          f"{len(plan.all_cron_jobs)} cron jobs)")
    results = asyncio.run(_check_database(plan)) + _check_flag_command(plan) + _check_cron(plan) + _check_files(plan)
    width = max(len(name) for name, _, _ in results)
    for name, ok, detail in results:
        print(f"{'ok  ' if ok else 'FAIL'}  {name:<{width}}  {detail}")
    from cockpit.drill.lifecycle import print_check_warnings  # placeholder contacts, review date (issue 12)

    print_check_warnings(plan)
    from cockpit.engine.confirm import contradiction_lines  # the plan contradicting itself (issue 12)
    from cockpit.text import clean

    for line in contradiction_lines(plan.rollback_order):
        print(f"warn  {clean(line)}")
    failures = [name for name, ok, _ in results if not ok]
    if failures:
        print(f"cockpit: unreachable or unusable: {', '.join(failures)}", file=sys.stderr)
        return EXIT_UNREACHABLE
    return EXIT_OK

