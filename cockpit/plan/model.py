"""The plan as frozen dataclasses.

Everything downstream (probes, engine, views) reads these objects, never the TOML, so a
value that made it here has already been validated: identifiers are plain SQL
identifiers, references resolve, ids are unique.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from cockpit.plan.keep import kept_by_notes

STEP_KINDS = ("flags_off", "flags_on", "cron_stop", "cron_start", "backup", "migration", "manual", "check")
# Kinds the cockpit synthesizes from a plan's migration step (a plan cannot declare them):
# the migration becomes quarantine -> backup (verified by restore) -> final drop, with
# restore as its undo. See Phase.__post_init__.
SYNTHESIZED_KINDS = ("quarantine", "restore")
ABORT_KINDS = frozenset({"flags_on", "cron_start", "restore"})
DESTRUCTIVE_KINDS = frozenset({"migration", "quarantine"})
# Steps that change what the phase's tables are (and so must not run while a cron run of
# the phase is in flight, and are refused as a whole by the abort guards after them).
TABLE_KINDS = frozenset({"migration", "quarantine"})
EVIDENCE_KINDS = ("backup", "flags_off", "cron_stopped", "no_active_users", "error_logs", "watch", "log_written", "smoke")


@dataclass(frozen=True)
class PlanMeta:
    title: str
    purpose: str = ""
    version: str = ""
    last_review: str = ""
    next_review: str = ""
    principles: tuple[str, ...] = ()
    critical_notes: tuple[str, ...] = ()
    contacts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Target:
    """Where the platform's data lives. `kind` is "mysql" (production path) or "sqlite"
    (the embedded sandbox). No credential field exists on purpose."""

    kind: str
    host: str = "127.0.0.1"
    port: int = 3306
    database: str = ""
    socket: str = ""
    option_file: str = ""
    user: str = ""
    path: Path | None = None
    statement_timeout_ms: int = 30000
    lock_wait_timeout_s: int = 5

    @property
    def label(self) -> str:
        if self.kind == "sqlite":
            return f"sandbox {self.path}"
        where = self.socket or f"{self.host}:{self.port}"
        return f"mysql {where}/{self.database}"


@dataclass(frozen=True)
class FlagStore:
    backend: str = "sql"
    table: str = "feature_flag"
    key_column: str = "flag_key"
    value_column: str = "enabled"
    get_command: tuple[str, ...] = ()
    set_command: tuple[str, ...] = ()


@dataclass(frozen=True)
class CronSource:
    source: str = "user"  # user | file | system
    user: str = ""
    path: Path | None = None


@dataclass(frozen=True)
class Watch:
    hours: float = 24
    extended_hours: float = 48
    refresh_seconds: float = 5
    idle_refresh_seconds: float = 30
    notify_urls_file: Path | None = None  # owner-only file of apprise URLs (tokens never in the plan)


@dataclass(frozen=True)
class Paths:
    journal: Path
    backup_dir: Path
    host_disks: tuple[str, ...] = ("/",)


@dataclass(frozen=True)
class LogConfig:
    file: Path
    template: str


@dataclass(frozen=True)
class ChecklistItem:
    id: str
    text: str
    evidence: str = ""


@dataclass(frozen=True)
class Emergency:
    title: str
    flags: tuple[str, ...]
    budget_minutes: float
    data_loss_risk: str
    data_loss_reason: str = ""
    effects: tuple[str, ...] = ()


@dataclass(frozen=True)
class CronJob:
    id: str
    script: str
    schedule: str = ""
    command: str = ""


@dataclass(frozen=True)
class ColumnRef:
    table: str
    column: str


@dataclass(frozen=True)
class ActivityCheck:
    """"Is anyone still using this feature?": rows written to `table` within the window."""

    id: str
    text: str
    table: str
    column: str
    window_minutes: int = 5


@dataclass(frozen=True)
class ErrorLog:
    path: Path
    pattern: str


@dataclass(frozen=True)
class Step:
    id: str
    kind: str
    title: str
    optional: bool = False
    guard_tables: tuple[str, ...] = ()
    drop_tables: tuple[str, ...] = ()
    drop_columns: tuple[ColumnRef, ...] = ()
    as_written: str = ""
    tables: tuple[str, ...] = ()  # backup: which tables; empty means the phase's migration guards
    activity: str = ""  # check: id of an activity check of the phase
    sql: str = ""  # check: a query whose first column of the first row must equal `expect`
    command: tuple[str, ...] = ()  # check: argv that must exit 0
    expect: int = 0
    # (table or "table.column", note): what a `manual` note of the same phase says to keep
    # while this migration/quarantine destroys it (plan/keep.py). Computed once at load.
    kept_by_note: tuple[tuple[str, str], ...] = ()

    @property
    def kept_tables(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.kept_by_note)

    @property
    def destructive(self) -> bool:
        return self.kind in DESTRUCTIVE_KINDS

    @property
    def aborts(self) -> bool:
        """Undoes part of the rollback rather than advancing it."""
        return self.kind in ABORT_KINDS

    @property
    def protected_tables(self) -> tuple[str, ...]:
        """Tables whose rows this migration would destroy: guard tables plus the tables
        that lose a column (a dropped column is production data too)."""
        seen: list[str] = []
        for name in (*self.guard_tables, *self.drop_tables, *(c.table for c in self.drop_columns)):
            if name not in seen:
                seen.append(name)
        return tuple(seen)


@dataclass(frozen=True)
class Phase:
    id: int
    name: str
    budget_minutes: float
    data_loss_risk: str
    data_loss_reason: str
    fallback: tuple[str, ...]
    flags: tuple[str, ...]
    tables: tuple[str, ...]
    columns: tuple[ColumnRef, ...]
    cron: tuple[CronJob, ...]
    activity: tuple[ActivityCheck, ...]
    error_logs: tuple[ErrorLog, ...]
    steps: tuple[Step, ...]
    # Undoing the rollback ("feature flags are safer than code rollback: can re-enable
    # quickly"): flags back on, cron lines restored. Not part of the forward rollback.
    abort_steps: tuple[Step, ...] = ()

    def __post_init__(self) -> None:
        steps, aborts = synthesize_quarantine(self.steps, self.abort_steps)
        steps = mark_kept_by_note(steps)
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "abort_steps", aborts)

    @property
    def title(self) -> str:
        return f"Phase {self.id}: {self.name}"

    @property
    def all_steps(self) -> tuple[Step, ...]:
        return (*self.steps, *self.abort_steps)

    def step(self, step_id: str) -> Step:
        for step in self.all_steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def activity_check(self, check_id: str) -> ActivityCheck:
        for check in self.activity:
            if check.id == check_id:
                return check
        raise KeyError(check_id)

    @property
    def migration_steps(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.kind == "migration")

    @property
    def quarantine_steps(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.kind == "quarantine")

    def quarantine_for(self, step: Step) -> Step | None:
        """The quarantine step that holds the tables `step` (a final drop, a backup or a
        restore) works on: the one with the same tables, else the phase's first."""
        wanted = step.protected_tables
        for candidate in self.quarantine_steps:
            if wanted and candidate.protected_tables == wanted:
                return candidate
        return self.quarantine_steps[0] if self.quarantine_steps else None

    @property
    def guard_tables(self) -> tuple[str, ...]:
        seen: list[str] = []
        for step in self.migration_steps:
            for name in step.protected_tables:
                if name not in seen:
                    seen.append(name)
        return tuple(seen)


def mark_kept_by_note(steps: tuple[Step, ...]) -> tuple[Step, ...]:
    """Each migration/quarantine step with the tables or columns a `manual` note of the
    phase says to keep ("Keep OEM scan rules table") although the step destroys them:
    the plan contradicts itself there, and the operator must see it and confirm it."""
    notes = [s.title for s in steps if s.kind == "manual"]
    out = []
    for step in steps:
        if step.kind in TABLE_KINDS:
            tables = tuple(dict.fromkeys((*step.guard_tables, *step.drop_tables)))
            columns = tuple((c.table, c.column) for c in step.drop_columns)
            step = replace(step, kept_by_note=kept_by_notes(notes, tables, columns))
        out.append(step)
    return tuple(out)


def _synthetic_id(base: str, migration: Step, single: bool) -> str:
    return base if single else f"{migration.id}-{base}"


def synthesize_quarantine(steps: tuple[Step, ...], aborts: tuple[Step, ...]) -> tuple[tuple[Step, ...], tuple[Step, ...]]:
    """A plan's migration step, which the seed writes as DROP statements, becomes the
    shape in which no row can be lost:

      quarantine  one RENAME of all the tables out of production's reach (columns the
                  plan drops are copied out under LOCK TABLES ... WRITE, then dropped);
      backup      the plan's own backup step, moved after the quarantine: it dumps the
                  frozen quarantined tables and is verified by restoring it;
      drop        the plan's migration step, now the final DROP of the quarantined
                  tables, offered once the watch window has passed;
      restore     (undo) the tables back under their names in one RENAME.

    Idempotent: a phase that already holds a quarantine step is left as it is."""
    migrations = [s for s in steps if s.kind == "migration"]
    if not migrations or any(s.kind == "quarantine" for s in steps):
        return tuple(steps), tuple(aborts)
    single = len(migrations) == 1
    guarded: set[str] = {t for m in migrations for t in m.protected_tables}
    backups = [s for s in steps if s.kind == "backup" and set(s.tables or guarded) <= guarded]
    out: list[Step] = []
    restores: list[Step] = []
    for step in steps:
        if step in backups:
            continue
        if step.kind != "migration":
            out.append(step)
            continue
        out.append(replace(step, id=_synthetic_id("quarantine", step, single), kind="quarantine",
                           title="Quarantine the tables (one RENAME, reversible with restore)"))
        mine = [b for b in backups if not b.tables or set(b.tables) <= set(step.protected_tables)] or (
            [] if backups else [Step(id=_synthetic_id("backup", step, single), kind="backup",
                                     title="Back up the quarantined tables", optional=True)])
        for backup in mine:
            if backup in backups:
                backups.remove(backup)
            out.append(replace(backup, title=f"{backup.title} (from the quarantine)"))
        out.append(replace(step, title="Final drop of the quarantined tables (after the watch)"))
        restores.append(replace(step, id=_synthetic_id("restore", step, single), kind="restore", as_written="",
                                title="Abort: restore the quarantined tables under their names (one RENAME)", optional=True))
    out.extend(backups)  # a backup step the migrations did not claim keeps its place at the end
    return tuple(out), (*restores, *aborts)


@dataclass(frozen=True)
class Plan:
    path: Path
    meta: PlanMeta
    target: Target
    flag_store: FlagStore
    cron_source: CronSource
    watch: Watch
    paths: Paths
    log: LogConfig
    checklist_before: tuple[ChecklistItem, ...]
    checklist_after: tuple[ChecklistItem, ...]
    emergency: Emergency
    phases: tuple[Phase, ...]
    sandbox: bool = False
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def rollback_order(self) -> tuple[Phase, ...]:
        """Phases in the order they roll back: the newest first (10 -> 7)."""
        return tuple(sorted(self.phases, key=lambda p: p.id, reverse=True))

    def phase(self, phase_id: int | str) -> Phase:
        wanted = int(str(phase_id).removeprefix("phase").removeprefix("Phase").strip())
        for phase in self.phases:
            if phase.id == wanted:
                return phase
        raise KeyError(phase_id)

    def later_phases(self, phase: Phase) -> tuple[Phase, ...]:
        """Phases that must be rolled back before `phase` may start."""
        return tuple(p for p in self.rollback_order if p.id > phase.id)

    @property
    def all_flags(self) -> tuple[str, ...]:
        seen: list[str] = []
        for phase in self.rollback_order:
            for flag in phase.flags:
                if flag not in seen:
                    seen.append(flag)
        return tuple(seen)

    @property
    def all_tables(self) -> tuple[str, ...]:
        seen: list[str] = []
        for phase in self.rollback_order:
            for table in phase.tables:
                if table not in seen:
                    seen.append(table)
        return tuple(seen)

    @property
    def all_cron_jobs(self) -> tuple[CronJob, ...]:
        return tuple(job for phase in self.rollback_order for job in phase.cron)

    def checklist(self, which: str) -> tuple[ChecklistItem, ...]:
        return self.checklist_before if which == "before" else self.checklist_after
