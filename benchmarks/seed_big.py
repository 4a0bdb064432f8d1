"""Fill a sandbox database on MariaDB to production-like sizes, fast.

Rows come from MariaDB's Sequence engine (`seq_1_to_N`) in one INSERT ... SELECT per
table, so a million rows take seconds, not a Python loop. Columns are filled by type
from the sandbox schema, so the big tables keep the shape the probes expect; activity
timestamps stay old so the activity checks read "quiet" as in the drill.

Usage: python -m benchmarks.seed_big  (prints what it would do against a throwaway server)
"""

from __future__ import annotations

import time

from cockpit.db.sql import quote_ident
from cockpit.plan import load_plan
from cockpit.plan.loader import default_plan_path
from cockpit.sandbox.schema import TableSpec, sandbox_tables

BIG_TABLE = "assignment_log"
BIG_ROWS = 1_000_000
OTHER_ROWS = 100_000


def _expression(column: str, kind: str, unique: bool) -> str:
    if unique:
        return f"CONCAT('{column[:8]}-', seq)"
    return {
        "int": "seq % 97 + 1",
        "bigint": "seq",
        "str": f"CONCAT('{column[:12]} ', seq % 1000)",
        "text": "'generated row'",
        "datetime": "TIMESTAMP'2025-06-01 00:00:00' + INTERVAL (seq % 150000) MINUTE",
        "date": "DATE'2025-06-01' + INTERVAL (seq % 120) DAY",
        "decimal": "(seq % 10000) / 7",
        "bool": "seq % 2",
    }[kind]


def fill_statement(spec: TableSpec, rows: int) -> str:
    columns = [(c, kind) for c, kind in spec.columns if kind != "id"]
    names = ", ".join(quote_ident(c) for c, _ in columns)
    values = ", ".join(_expression(c, kind, c in spec.unique) for c, kind in columns)
    return f"INSERT INTO {quote_ident(spec.name)} ({names}) SELECT {values} FROM seq_1_to_{int(rows)}"


def seed_big(cursor, plan_path=None, big_rows: int = BIG_ROWS, other_rows: int = OTHER_ROWS) -> dict[str, float]:
    """Add rows to the guard tables of every phase that has data in the drill (all but
    the empty-cache phase) through a root `cursor` on the sandbox database; returns the
    seconds spent per table."""
    plan = load_plan(plan_path or default_plan_path())
    specs = {s.name: s for s in sandbox_tables(plan)}
    timings: dict[str, float] = {}
    for phase in plan.rollback_order:
        for table in phase.guard_tables:
            spec = specs[table]
            if spec.rows == 0:
                continue  # the drill keeps this phase's tables empty
            started = time.perf_counter()
            cursor.execute(fill_statement(spec, big_rows if table == BIG_TABLE else other_rows))
            timings[table] = time.perf_counter() - started
    cursor.execute("ANALYZE TABLE " + ", ".join(quote_ident(t) for t in timings))
    cursor.fetchall()
    return timings
