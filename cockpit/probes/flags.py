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
from ..db.base import Database
from ..db.sql import quote_ident
from ..plan.model import FlagStore
from .snapshot import FlagReading, Freshness

ON_VALUES = frozenset({"1", "true", "on", "yes"})
OFF_VALUES = frozenset({"0", "false", "off", "no", ""})
NULL_MARK = "(null)"  # what the SQL yields for a NULL value, distinct from a missing row (SQL NULL)
AMBIGUOUS_MARK = "(ambiguous)"  # what the SQL yields when the key matches more than one row
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
    """The reading for one flag as read from the store (`raw` as flag_value_sql yields it)."""
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


def flag_value_sql(store: FlagStore) -> str:
    """A scalar subquery (one `?` for the key) giving a flag's value as text, matched by
    the database under the key column's collation: NULL when no row matches,
    AMBIGUOUS_MARK when more than one does, NULL_MARK when the value itself is NULL.
    The database probe embeds one per flag in its single combined query; read_flags
    uses the same expression, so the watch and the guards can never match differently."""
    table, key, value = quote_ident(store.table), quote_ident(store.key_column), quote_ident(store.value_column)
    return (
        f"(SELECT CASE WHEN COUNT(*) > 1 THEN '{AMBIGUOUS_MARK}' "
        f"ELSE MAX(COALESCE(CAST({value} AS CHAR), '{NULL_MARK}')) END FROM {table} WHERE {key} = ?)"
    )


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
    expression = flag_value_sql(store)
    rows = await db.fetch_all("SELECT " + ", ".join(expression for _ in keys), keys)
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
    table, key_col = quote_ident(store.table), quote_ident(store.key_column)
    sql = " UNION ALL ".join(f"SELECT {i}, {key_col} FROM {table} WHERE {key_col} = ?" for i in range(len(keys)))
    found: dict[str, list[str]] = {key: [] for key in keys}
    for index, stored in await db.fetch_all(sql, keys):
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
