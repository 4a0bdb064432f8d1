"""Plausible schemas and deterministic seed rows for the sandbox tables.

A drill is only useful if the tables look like production's: an `id` key, the columns
the app writes, and the timestamps the plan's activity checks read. Tables the plan
names but this module does not know get a generic shape, and any column the plan
refers to (an activity column, a column a migration drops) is added, so a custom plan
still gets a sandbox its checks can run against.

Seeding is deterministic and old: every timestamp lies in October 2025, so activity
checks report "no recent activity". Row counts follow the drill's design: phases 10, 8
and 7 hold rows in their guard tables (a migration is refused until a backup), phase
9's cache tables are empty (its migration is allowed at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..db.sql import quote_ident
from ..plan.model import Plan

SEED_EPOCH = datetime(2025, 10, 1, 6, 0, 0)
DEFAULT_ROWS = 10

# portable type -> (SQLite, MySQL/MariaDB)
TYPES: dict[str, tuple[str, str]] = {
    "id": ("INTEGER PRIMARY KEY", "BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY"),
    "int": ("INTEGER", "INT"),
    "str": ("TEXT", "VARCHAR(191)"),
    "text": ("TEXT", "TEXT"),
    "datetime": ("TEXT", "DATETIME"),
    "date": ("TEXT", "DATE"),
    "decimal": ("REAL", "DECIMAL(10,2)"),
    "bool": ("INTEGER", "TINYINT(1)"),
}

SeedValue = str | int | float  # what a seeded column holds (dates as text)


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[tuple[str, str], ...]  # (column, portable type), "id" first
    rows: int = DEFAULT_ROWS
    indexes: tuple[str, ...] = ()  # single-column indexes (activity timestamps)
    unique: tuple[str, ...] = ()


def _spec(name: str, rows: int, *columns: str, indexes: tuple[str, ...] = (), unique: tuple[str, ...] = ()) -> TableSpec:
    cols = [("id", "id")]
    for item in columns:
        column, kind = item.split(":")
        cols.append((column, kind))
    return TableSpec(name, tuple(cols), rows, indexes, unique)


KNOWN: dict[str, TableSpec] = {spec.name: spec for spec in (
    # Phase 10: dashboard materialized views (analytics, rebuilt every 5 minutes)
    _spec("mv_token_flow_summary", 24, "node_id:int", "tokens_in:int", "tokens_out:int", "avg_wait_seconds:decimal",
          "period_start:datetime", "refreshed_at:datetime", indexes=("refreshed_at",)),
    _spec("mv_node_bottlenecks", 12, "node_id:int", "node_name:str", "queue_length:int", "avg_wait_seconds:decimal",
          "refreshed_at:datetime"),
    _spec("mv_team_workload", 8, "team_id:int", "team_name:str", "open_tokens:int", "operators_online:int",
          "refreshed_at:datetime"),
    _spec("mv_cycle_time_analytics", 30, "product_code:str", "day:date", "cycle_time_minutes:decimal", "samples:int",
          "refreshed_at:datetime"),
    # Phase 9: people-system caches (rebuildable, empty in the drill)
    _spec("people_sync_error_log", 0, "source:str", "external_id:str", "error_message:text", "created_at:datetime",
          indexes=("created_at",)),
    _spec("people_operator_cache", 0, "external_id:str", "account_id:int", "display_name:str", "team_external_id:str",
          "synced_at:datetime", "expires_at:datetime", indexes=("synced_at",), unique=("external_id",)),
    _spec("people_team_cache", 0, "external_id:str", "team_name:str", "synced_at:datetime", "expires_at:datetime"),
    _spec("people_availability_cache", 0, "external_id:str", "available_from:datetime", "available_to:datetime",
          "synced_at:datetime"),
    _spec("people_masking_policy", 0, "field_name:str", "policy:str", "updated_at:datetime"),
    # Phase 8: OEM job tickets
    _spec("oem_job_ticket", 18, "ticket_no:str", "customer_code:str", "product_code:str", "quantity:int", "status:str",
          "created_at:datetime", "updated_at:datetime", indexes=("created_at",), unique=("ticket_no",)),
    _spec("oem_job_ticket_step", 54, "ticket_id:int", "step_no:int", "node_id:int", "status:str", "scanned_at:datetime",
          "created_at:datetime"),
    _spec("oem_scan_rule", 6, "station_code:str", "pattern:str", "action:str", "active:bool", "created_at:datetime"),
    # Phase 7: assignment system
    _spec("assignment_log", 40, "token_id:int", "node_id:int", "account_id:int", "rule:str", "reason:text",
          "created_at:datetime", indexes=("created_at",)),
    _spec("leave_request", 9, "account_id:int", "starts_on:date", "ends_on:date", "status:str", "created_at:datetime"),
    _spec("operator_availability", 15, "account_id:int", "day:date", "shift:str", "available:bool", "updated_at:datetime"),
    _spec("team_availability", 6, "team_id:int", "day:date", "capacity:int", "updated_at:datetime"),
    _spec("assignment_plan_node", 20, "plan_id:int", "node_id:int", "team_id:int", "priority:int", "created_at:datetime"),
    _spec("assignment_plan_job", 12, "plan_id:int", "job_code:str", "account_id:int", "priority:int", "created_at:datetime"),
    # The fallback every phase relies on: the platform's own accounts
    _spec("account", 25, "username:str", "display_name:str", "team_id:int", "active:bool", "created_at:datetime",
          unique=("username",)),
)}

STATUSES = ("queued", "in_progress", "done", "cancelled")


def flag_table_spec(plan: Plan) -> TableSpec:
    store = plan.flag_store
    return TableSpec(
        store.table,
        (("id", "id"), (store.key_column, "str"), (store.value_column, "bool"), ("updated_at", "datetime")),
        rows=0,
        unique=(store.key_column,),
    )


def sandbox_tables(plan: Plan) -> list[TableSpec]:
    """Every plan table (shaped so the plan's columns and activity checks exist), plus
    the `account` fallback table. The flag table is separate: see flag_table_spec."""
    needed: dict[str, dict[str, str]] = {}
    for phase in plan.phases:
        for table in phase.tables:
            needed.setdefault(table, {})
        for ref in phase.columns:
            needed[ref.table].setdefault(ref.column, "int")
        for step in phase.migration_steps:
            for ref in step.drop_columns:
                needed[ref.table].setdefault(ref.column, "int")
        for check in phase.activity:
            needed[check.table][check.column] = "datetime"
    needed.setdefault("account", {})
    specs = []
    for table, extra in needed.items():
        spec = KNOWN.get(table) or _spec(table, DEFAULT_ROWS, "name:str", "created_at:datetime", "updated_at:datetime")
        have = {c for c, _ in spec.columns}
        added = tuple((c, kind) for c, kind in extra.items() if c not in have)
        activity_cols = tuple(c for c, kind in extra.items() if kind == "datetime" and c not in spec.indexes)
        specs.append(TableSpec(spec.name, spec.columns + added, spec.rows, spec.indexes + activity_cols, spec.unique))
    return specs


def create_statements(spec: TableSpec, dialect: str) -> list[str]:
    """CREATE TABLE (+ indexes) for "sqlite" or "mysql"."""
    pick = 0 if dialect == "sqlite" else 1
    cols = [f"{quote_ident(c)} {TYPES[kind][pick]}" for c, kind in spec.columns]
    table = quote_ident(spec.name)
    if dialect == "sqlite":
        out = [f"CREATE TABLE {table} ({', '.join(cols)})"]
        out += [f"CREATE UNIQUE INDEX {quote_ident(f'ux_{spec.name}_{c}')} ON {table} ({quote_ident(c)})" for c in spec.unique]
        out += [f"CREATE INDEX {quote_ident(f'ix_{spec.name}_{c}')} ON {table} ({quote_ident(c)})" for c in spec.indexes]
        return out
    keys = [f"UNIQUE KEY {quote_ident(f'ux_{c}')} ({quote_ident(c)})" for c in spec.unique]
    keys += [f"KEY {quote_ident(f'ix_{c}')} ({quote_ident(c)})" for c in spec.indexes]
    body = ", ".join(cols + keys)
    return [f"CREATE TABLE {table} ({body}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"]


def _value(table: str, column: str, kind: str, i: int) -> SeedValue:
    """Row i's value: varied enough to look real, identical on every run."""
    when = SEED_EPOCH + timedelta(minutes=37 * i + len(table))
    if kind == "datetime":
        return when.strftime("%Y-%m-%d %H:%M:%S")
    if kind == "date":
        return (SEED_EPOCH + timedelta(days=i % 28)).strftime("%Y-%m-%d")
    if kind == "bool":
        return 1 if i % 5 else 0
    if kind == "decimal":
        return round(3.5 + (i * 7919 % 1000) / 37.0, 2)
    if kind == "int":
        if column == "priority":
            return i % 5 + 1
        return (i * 7 + len(column)) % 97 + 1
    if column == "status":
        return STATUSES[i % len(STATUSES)]
    if column in ("username", "external_id", "ticket_no", "job_code", "product_code", "customer_code", "station_code"):
        return f"{column.split('_')[0][:4].upper()}-{1000 + i}"
    if kind == "text":
        return f"{table} note {i}"
    return f"{column.replace('_', ' ')} {i}"


def seed_rows(spec: TableSpec) -> tuple[list[str], list[tuple[SeedValue, ...]]]:
    """Column names (without id) and the rows to insert."""
    columns = [(c, kind) for c, kind in spec.columns if kind != "id"]
    rows = [tuple(_value(spec.name, c, kind, i) for c, kind in columns) for i in range(1, spec.rows + 1)]
    return [c for c, _ in columns], rows


def insert_statement(spec: TableSpec, columns: list[str], count: int) -> str:
    """A multi-row INSERT with `?` placeholders (the Database layer adapts them)."""
    row = "(" + ", ".join("?" for _ in columns) + ")"
    return f"INSERT INTO {quote_ident(spec.name)} ({', '.join(quote_ident(c) for c in columns)}) VALUES " + ", ".join([row] * count)
