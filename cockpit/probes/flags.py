"""Feature flags: read and write them where the platform keeps them.

Two backends. `sql`: a table (key column, value column) read and written through the
Database interface. `command`: argv templates for sites whose flags live behind a CLI
(`{flag}` and `{value}` substituted per argument, run without a shell).

Values are read strictly: only a recognised "on" or "off" counts. A row that is absent
is `missing` (the app's default applies, which is not the same as off) and a value we
cannot interpret is `unknown` with the raw text shown, so the cockpit never reports a
flag as off unless it really read "off".
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from typing import Iterable

from ..db.base import Database
from ..db.sql import quote_ident
from ..plan.model import FlagStore
from .snapshot import FlagReading, Freshness

ON_VALUES = frozenset({"1", "true", "on", "yes"})
OFF_VALUES = frozenset({"0", "false", "off", "no", ""})
NULL_MARK = "(null)"  # what the SQL yields for a NULL value, distinct from a missing row (SQL NULL)
COMMAND_TIMEOUT_S = 10
# How a flag is written back: in the vocabulary the table already uses, so the PHP side
# that parses it keeps understanding it.
_VOCABULARIES = (("1", "0"), ("true", "false"), ("on", "off"), ("yes", "no"))


class FlagError(Exception):
    """A flag could not be read or written; `str()` is one operator-ready line."""


def parse_flag_value(raw: object) -> str:
    """"on" | "off" | "unknown" for a raw value (a missing row is handled by the caller)."""
    if raw is None or raw == NULL_MARK:
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
    """The reading for one flag as read from the store."""
    if not present:
        return FlagReading(key, "missing", None, Freshness(fetched_at=fetched_at))
    shown = "NULL" if raw is None or raw == NULL_MARK else (raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw))
    return FlagReading(key, parse_flag_value(raw), shown, Freshness(fetched_at=fetched_at))


def flag_value_sql(store: FlagStore) -> str:
    """A scalar subquery (one `?` for the key) giving a flag's value as text: NULL when
    the row is absent, NULL_MARK when the value itself is NULL. The database probe
    embeds one per flag in its single combined query."""
    table, key, value = quote_ident(store.table), quote_ident(store.key_column), quote_ident(store.value_column)
    return f"(SELECT COALESCE(CAST({value} AS CHAR), '{NULL_MARK}') FROM {table} WHERE {key} = ? LIMIT 1)"


async def read_flags(db: Database | None, store: FlagStore, keys: Iterable[str]) -> dict[str, FlagReading]:
    """Every requested flag's reading. A source failure of the sql backend raises
    DatabaseError (the caller knows how to show a lost database); per-flag command
    failures come back as `unknown` readings carrying the error."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return {}
    if store.backend == "command":
        results = await asyncio.gather(*(_read_command(store, key) for key in keys))
        return dict(zip(keys, results))
    if db is None:
        raise FlagError("the sql flag store needs a database connection")
    table, key_col, value_col = quote_ident(store.table), quote_ident(store.key_column), quote_ident(store.value_column)
    marks = ",".join("?" for _ in keys)
    rows = await db.fetch_all(
        f"SELECT {key_col}, COALESCE(CAST({value_col} AS CHAR), '{NULL_MARK}') FROM {table} WHERE {key_col} IN ({marks})", keys
    )
    now = time.time()
    found = {str(k): v for k, v in rows}
    return {key: reading_from_raw(key, found.get(key), key in found, now) for key in keys}


async def set_flag(db: Database | None, store: FlagStore, key: str, on: bool) -> None:
    """Write one flag and read it back; raises FlagError (or DatabaseError) unless the
    store now reports the wanted state. A flag absent from the table is an error: the
    cockpit never invents a row the application did not create."""
    wanted = "on" if on else "off"
    if store.backend == "command":
        await _run(store.set_command, key, "1" if on else "0", what=f"setting flag {key} {wanted}")
        after = await _read_command(store, key)
    else:
        if db is None:
            raise FlagError("the sql flag store needs a database connection")
        before = (await read_flags(db, store, [key]))[key]
        if before.state == "missing":
            raise FlagError(f"flag {key} is not in table {store.table}; refusing to insert it")
        table, key_col, value_col = quote_ident(store.table), quote_ident(store.key_column), quote_ident(store.value_column)
        changed = await db.execute(f"UPDATE {table} SET {value_col} = ? WHERE {key_col} = ?", (_encode(before.raw, on), key))
        if changed < 1 and before.state != wanted:
            raise FlagError(f"flag {key}: the UPDATE changed no row")
        after = (await read_flags(db, store, [key]))[key]
    if after.state != wanted:
        error = f" ({after.freshness.error})" if after.freshness.error else ""
        raise FlagError(f"flag {key} reads {after.state} (raw {after.raw!r}) after setting it {wanted}{error}")


def _encode(raw: str | None, on: bool) -> object:
    """The new value in the same vocabulary (and letter case) as the current one."""
    text = (raw or "").strip()
    for on_word, off_word in _VOCABULARIES:
        if text.lower() in (on_word, off_word) and not text.isdigit():
            word = on_word if on else off_word
            return word.upper() if text.isupper() else word.capitalize() if text[:1].isupper() else word
    return 1 if on else 0


async def _read_command(store: FlagStore, key: str) -> FlagReading:
    try:
        out = await _run(store.get_command, key, "", what=f"reading flag {key}")
    except FlagError as exc:
        return FlagReading(key, "unknown", None, Freshness(fetched_at=None, stale_since=time.time(), error=str(exc)))
    return reading_from_raw(key, out.strip(), True, time.time())


async def _run(template: tuple[str, ...], flag: str, value: str, what: str) -> str:
    argv = [arg.replace("{flag}", flag).replace("{value}", value) for arg in template]

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, stdin=subprocess.DEVNULL)

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
