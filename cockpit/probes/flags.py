"""Feature flags: READ them where the platform keeps them (probes only read).

Two backends. `sql`: a table (key column, value column) read through the Database
interface. `command`: argv templates for sites whose flags live behind a CLI (`{flag}`
and `{value}` substituted per argument, run without a shell and without the cockpit's
database credentials in the child's environment). Writing a flag is a step of the
engine (cockpit/engine/steps/flags.py), never a probe's business.

Matching is the database's own: each key is looked up with `WHERE key_column = ?`, so
the column's collation decides (on MariaDB's default, `Enable_X` and `enable_x ` both
match `enable_x`), exactly as the application's own lookup would. Nothing is matched
by a Python dict lookup of the keys a query returned.

Values are read strictly: only a recognised "on" or "off" counts. A key that matches no
row is `missing` (the app's default applies, which is not the same as off); a key that
matches more than one row, or a value we cannot interpret, is `unknown`. No guard
accepts anything but `off` as off.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterable

from ..childenv import child_environment
from ..db import queries
from ..db.base import Database
from ..db.queries import AMBIGUOUS_MARK, NULL_MARK, Fragment
from ..plan.model import FlagStore
from .snapshot import FlagReading, Freshness

ON_VALUES = frozenset({"1", "true", "on", "yes"})
OFF_VALUES = frozenset({"0", "false", "off", "no", ""})
AMBIGUOUS_ERROR = "key matches more than one row"
COMMAND_TIMEOUT_S = 10


class FlagError(Exception):
    """A flag could not be read or written; `str()` is one operator-ready line."""


def parse_flag_value(raw: object) -> str:
    """"on" | "off" | "unknown" for a raw value (a missing row is handled by the caller)."""
    if raw is None or raw == NULL_MARK or raw == AMBIGUOUS_MARK:
        return "unknown"
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    text = str(raw).strip().lower()
    if text in ON_VALUES:
        return "on"
    if text in OFF_VALUES:
        return "off"
    return "unknown"


def reading_from_raw(key: str, raw: object, present: bool, fetched_at: float) -> FlagReading:
    """The reading for one flag as read from the store (`raw` as flag_value_part yields it)."""
    if not present:
        return FlagReading(key, "missing", None, Freshness(fetched_at=fetched_at))
    if raw == AMBIGUOUS_MARK:
        return FlagReading(key, "unknown", None, Freshness(fetched_at=fetched_at, error=AMBIGUOUS_ERROR))
    shown = "NULL" if raw is None or raw == NULL_MARK else (raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw))
    return FlagReading(key, parse_flag_value(raw), shown, Freshness(fetched_at=fetched_at))


def is_ambiguous(reading: FlagReading) -> bool:
    return reading.state == "unknown" and reading.freshness.error == AMBIGUOUS_ERROR


def counts_as_off(state: str) -> bool:
    """The one rule every guard uses: only a flag read as `off` is off (missing, unknown
    and ambiguous never are)."""
    return state == "off"


def flag_value_part(store: FlagStore, key: str) -> Fragment:
    """One flag's value as a scalar subquery (queries.flag_value_part): the database
    probe embeds one per flag in its single refresh statement, read_flags the same
    expression, so the watch and the guards can never match keys differently."""
    return queries.flag_value_part(store.table, store.key_column, store.value_column, key)


async def read_flags(db: Database | None, store: FlagStore, keys: Iterable[str]) -> dict[str, FlagReading]:
    """Every requested flag's reading, in one statement for the sql backend. A source
    failure of the sql backend raises DatabaseError (the caller knows how to show a lost
    database); per-flag command failures come back as `unknown` readings carrying the error."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return {}
    if store.backend == "command":
        results = await asyncio.gather(*(_read_command(store, key) for key in keys))
        return dict(zip(keys, results, strict=True))
    if db is None:
        raise FlagError("the sql flag store needs a database connection")
    rows = await db.fetch_all(queries.flag_read(store.table, store.key_column, store.value_column, keys))
    now = time.time()
    values = rows[0] if rows else (None,) * len(keys)
    # positional: value i belongs to key i; the database did the matching (a short row
    # leaves the missing keys unread rather than failing the probe)
    return {key: reading_from_raw(key, raw, raw is not None, now) for key, raw in zip(keys, values, strict=False)}


async def flag_matches(db: Database, store: FlagStore, keys: Iterable[str]) -> dict[str, list[str]]:
    """Key -> the stored keys that match it under the column's collation (for `cockpit
    check`: none is a missing flag, more than one an ambiguous one)."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return {}
    found: dict[str, list[str]] = {key: [] for key in keys}
    for index, stored in await db.fetch_all(queries.flag_matches(store.table, store.key_column, keys)):
        found[keys[int(index)]].append(stored.decode("utf-8", "replace") if isinstance(stored, bytes) else str(stored))
    return found


def command_argv(template: tuple[str, ...], flag: str, value: str) -> tuple[str, ...]:
    """The argv a command template gives for one flag (and value): what is shown is this."""
    return tuple(arg.replace("{flag}", flag).replace("{value}", value) for arg in template)


async def _read_command(store: FlagStore, key: str) -> FlagReading:
    try:
        out = await run_command(command_argv(store.get_command, key, ""), what=f"reading flag {key}")
    except FlagError as exc:
        return FlagReading(key, "unknown", None, Freshness(fetched_at=None, stale_since=time.time(), error=str(exc)))
    return reading_from_raw(key, out.strip(), True, time.time())


async def run_command(argv: tuple[str, ...], what: str) -> str:
    """Run a plan-defined argv without a shell, with a time limit, stdin closed and no
    database credentials in its environment; its stdout, or FlagError naming why not."""

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S,
                              stdin=subprocess.DEVNULL, env=child_environment())

    try:
        done = await asyncio.to_thread(run)
    except subprocess.TimeoutExpired:
        raise FlagError(f"{what}: {argv[0]} did not finish within {COMMAND_TIMEOUT_S} s") from None
    except OSError as exc:
        raise FlagError(f"{what}: cannot run {argv[0]}: {exc.strerror or exc}") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        detail = lines[-1].strip() if lines else "no message"
        raise FlagError(f"{what}: {argv[0]} exited {done.returncode}: {detail}")
    return done.stdout
