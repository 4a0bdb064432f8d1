"""The plan as frozen dataclasses.

Everything downstream (probes, engine, views) reads these objects, never the TOML, so a
value that made it here has already been validated: identifiers are plain SQL
identifiers, references resolve, ids are unique.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, get_args

from cockpit.plan.keep import kept_by_notes
from cockpit.plan.record import Record

EVIDENCE_KINDS = ("backup", "flags_off", "cron_stopped", "no_active_users", "error_logs", "watch", "log_written", "smoke")


@dataclass(frozen=True, eq=False, repr=False)
class PlanMeta(Record):
    """The plan's header: what it is for, who reviews it, whom to call."""

    title: str
    purpose: str = ""
    version: str = ""
    last_review: str = ""
    next_review: str = ""
    principles: tuple[str, ...] = ()
    critical_notes: tuple[str, ...] = ()
    contacts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, eq=False, repr=False)
class Target(Record):
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


@dataclass(frozen=True, eq=False, repr=False)
class FlagStore(Record):
    """Where the feature flags live: a SQL table (default) or a pair of commands."""

    backend: str = "sql"
    table: str = "feature_flag"
    key_column: str = "flag_key"
    value_column: str = "enabled"
    get_command: tuple[str, ...] = ()
    set_command: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False, repr=False)
class CronSource(Record):
    """Which crontab the cockpit edits: the user's, one file, or the system's."""

    source: str = "user"  # user | file | system
    user: str = ""
    path: Path | None = None


@dataclass(frozen=True, eq=False, repr=False)
class Watch(Record):
    """How long and how often the platform is watched after a rollback."""

    hours: float = 24
    extended_hours: float = 48
    refresh_seconds: float = 5
    idle_refresh_seconds: float = 30
    notify_urls_file: Path | None = None  # owner-only file of apprise URLs (tokens never in the plan)


@dataclass(frozen=True, eq=False, repr=False)
class Paths(Record):
    """Where the journal and the backups go, and which disks the host probe reports."""

    journal: Path
    backup_dir: Path
    host_disks: tuple[str, ...] = ("/",)


@dataclass(frozen=True, eq=False, repr=False)
class LogConfig(Record):
    """The rollback log the cockpit writes for humans, and its template."""

    file: Path
    template: str


@dataclass(frozen=True, eq=False, repr=False)
class ChecklistItem(Record):
    """One line of a phase's checklist; `evidence` names what proves it done."""

    id: str
    text: str
    evidence: str = ""


@dataclass(frozen=True, eq=False, repr=False)
class Emergency(Record):
    """The one-key emergency switch: the flags it turns off and what that costs."""

    title: str
    flags: tuple[str, ...]
    budget_minutes: float
    data_loss_risk: str
    data_loss_reason: str = ""
    effects: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False, repr=False)
class CronJob(Record):
    """A cron job a phase stops during its rollback (found by its script)."""

    id: str
    script: str
    schedule: str = ""
    command: str = ""


@dataclass(frozen=True, eq=False, repr=False)
class ColumnRef(Record):
    """A table's column, validated against the phase's own tables."""

    table: str
    column: str


@dataclass(frozen=True, eq=False, repr=False)
class ActivityCheck(Record):
    """"Is anyone still using this feature?": rows written to `table` within the window."""

    id: str
    text: str
    table: str
    column: str
    window_minutes: int = 5


@dataclass(frozen=True, eq=False, repr=False)
class SmokeCheck(Record):
    """An HTTP check that the platform (or one phase's feature) works (see plan/smoke.py)."""

    id: str
    url: str
    status: int = 200
    contains: str = ""
    phase: int | None = None  # None: the whole platform
    timeout_s: float = 5.0


@dataclass(frozen=True, eq=False, repr=False)
class ErrorLog(Record):
    """A log file and the RE2 pattern whose matches count as errors in the watch."""

    path: Path
    pattern: str


# -- steps ----------------------------------------------------------------------------
# Each step kind has its own spec type, tagged by a Literal `kind`, so code that checks
# `step.kind == "check"` (or isinstance) gets exactly that kind's fields from mypy.
PlanStepKind = Literal["flags_off", "flags_on", "cron_stop", "cron_start", "backup", "migration", "manual", "check"]
# Kinds the cockpit synthesizes from a plan's migration step (a plan cannot declare them):
# the migration becomes quarantine -> backup (verified by restore) -> final drop, with
# restore as its undo. See Phase.__post_init__.
SynthesizedStepKind = Literal["quarantine", "restore"]
StepKindName = PlanStepKind | SynthesizedStepKind
STEP_KINDS: tuple[PlanStepKind, ...] = get_args(PlanStepKind)
ABORT_KINDS: frozenset[StepKindName] = frozenset({"flags_on", "cron_start", "restore"})
DESTRUCTIVE_KINDS: frozenset[StepKindName] = frozenset({"migration", "quarantine"})
KeptByNote = tuple[tuple[str, str], ...]


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class StepSpec(Record):
    """What every step has, whatever its kind. `protected_tables` and `kept_by_note` are
    empty here and filled by the kinds that destroy tables: views and guards ask them of
    any step (a backup's quarantine, every dry run's warnings) without checking the kind."""

    id: str
    kind: StepKindName  # each kind narrows it to its own Literal
    title: str
    optional: bool = False

    @property
    def destructive(self) -> bool:
        return self.kind in DESTRUCTIVE_KINDS

    @property
    def aborts(self) -> bool:
        """Undoes part of the rollback rather than advancing it."""
        return self.kind in ABORT_KINDS

    @property
    def protected_tables(self) -> tuple[str, ...]:
        """Tables whose rows this step would destroy (none, unless it works on tables)."""
        return ()

    @property
    def kept_by_note(self) -> KeptByNote:
        """(table or "table.column", note) a `manual` note keeps while this step destroys it."""
        return ()

    @property
    def kept_tables(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.kept_by_note)


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class FlagsSpec(StepSpec):
    """Feature flags off (the rollback) or on again (its undo): the phase's `flags`."""

    kind: Literal["flags_off", "flags_on"]


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class CronSpec(StepSpec):
    """The phase's cron jobs commented out (stop) or restored (start)."""

    kind: Literal["cron_stop", "cron_start"]


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class ManualSpec(StepSpec):
    """Something the operator does by hand and ticks off (its title is the instruction)."""

    kind: Literal["manual"] = "manual"


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class BackupSpec(StepSpec):
    """A dump of the tables a later step destroys, verified before anything is dropped."""

    kind: Literal["backup"] = "backup"
    tables: tuple[str, ...] = ()  # which tables; empty means the phase's migration guards


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class CheckSpec(StepSpec):
    """A condition that must hold: exactly one of an activity check, a query or a command."""

    kind: Literal["check"] = "check"
    activity: str = ""  # id of an activity check of the phase
    sql: str = ""  # a query whose first column of the first row must equal `expect`
    command: tuple[str, ...] = ()  # argv that must exit 0
    expect: int = 0


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class TableStepSpec(StepSpec):
    """A step over the tables and columns a plan's migration drops."""

    guard_tables: tuple[str, ...] = ()
    drop_tables: tuple[str, ...] = ()
    drop_columns: tuple[ColumnRef, ...] = ()

    @property
    def protected_tables(self) -> tuple[str, ...]:
        """Guard tables plus the tables that lose a column (a dropped column is
        production data too)."""
        return tuple(dict.fromkeys((*self.guard_tables, *self.drop_tables, *(c.table for c in self.drop_columns))))


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class RestoreSpec(TableStepSpec):
    """(undo) The quarantined tables back under their names in one RENAME."""

    kind: Literal["restore"] = "restore"


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class DestroyingSpec(TableStepSpec):
    """A step that takes tables out of production (quarantine) or drops them (migration)."""

    as_written: str = ""  # the plan's SQL, as the seed wrote it
    # What a `manual` note of the same phase says to keep while this step destroys it
    # (plan/keep.py). Computed once at load (see mark_kept_by_note).
    kept_by_note: KeptByNote = ()


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class MigrationSpec(DestroyingSpec):
    """The plan's migration: after the quarantine, the final DROP of the quarantined tables."""

    kind: Literal["migration"] = "migration"


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class QuarantineSpec(DestroyingSpec):
    """One RENAME of the migration's tables out of production's reach (synthesized)."""

    kind: Literal["quarantine"] = "quarantine"


Step = FlagsSpec | CronSpec | ManualSpec | BackupSpec | CheckSpec | MigrationSpec | QuarantineSpec | RestoreSpec


@dataclass(frozen=True, eq=False, repr=False)
class Phase(Record):
    """One phase of the platform, rolled back as a unit; its steps run in order."""

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
    def migration_steps(self) -> tuple[MigrationSpec, ...]:
        return tuple(s for s in self.steps if isinstance(s, MigrationSpec))

    @property
    def quarantine_steps(self) -> tuple[QuarantineSpec, ...]:
        return tuple(s for s in self.steps if isinstance(s, QuarantineSpec))

    def quarantine_for(self, step: Step) -> QuarantineSpec | None:
        """The quarantine step that holds the tables `step` (a final drop, a backup or a
        restore) works on: the one with the same tables, else the phase's first."""
        wanted = step.protected_tables
        for candidate in self.quarantine_steps:
            if wanted and candidate.protected_tables == wanted:
                return candidate
        return self.quarantine_steps[0] if self.quarantine_steps else None

    @property
    def guard_tables(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for step in self.migration_steps for name in step.protected_tables))


def mark_kept_by_note(steps: tuple[Step, ...]) -> tuple[Step, ...]:
    """Each migration/quarantine step with the tables or columns a `manual` note of the
    phase says to keep ("Keep OEM scan rules table") although the step destroys them:
    the plan contradicts itself there, and the operator must see it and confirm it."""
    notes = [s.title for s in steps if s.kind == "manual"]
    out: list[Step] = []
    for step in steps:
        if isinstance(step, DestroyingSpec):
            tables = tuple(dict.fromkeys((*step.guard_tables, *step.drop_tables)))
            columns = tuple((c.table, c.column) for c in step.drop_columns)
            step = replace(step, kept_by_note=kept_by_notes(notes, tables, columns))
        out.append(step)
    return tuple(out)


def _synthetic_id(base: str, migration: MigrationSpec, single: bool) -> str:
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
    migrations = [s for s in steps if isinstance(s, MigrationSpec)]
    if not migrations or any(s.kind == "quarantine" for s in steps):
        return tuple(steps), tuple(aborts)
    single = len(migrations) == 1
    guarded: set[str] = {t for m in migrations for t in m.protected_tables}
    backups = [s for s in steps if isinstance(s, BackupSpec) and set(s.tables or guarded) <= guarded]
    out: list[Step] = []
    restores: list[Step] = []
    for step in steps:
        if not isinstance(step, MigrationSpec):
            if step not in backups:
                out.append(step)
            continue
        out.append(QuarantineSpec(id=_synthetic_id("quarantine", step, single), optional=step.optional,
                                  title="Quarantine the tables (one RENAME, reversible with restore)",
                                  guard_tables=step.guard_tables, drop_tables=step.drop_tables, drop_columns=step.drop_columns,
                                  as_written=step.as_written))
        mine = [b for b in backups if not b.tables or set(b.tables) <= set(step.protected_tables)] or (
            [] if backups else [BackupSpec(id=_synthetic_id("backup", step, single),
                                           title="Back up the quarantined tables", optional=True)])
        for backup in mine:
            if backup in backups:
                backups.remove(backup)
            out.append(replace(backup, title=f"{backup.title} (from the quarantine)"))
        out.append(replace(step, title="Final drop of the quarantined tables (after the watch)"))
        restores.append(RestoreSpec(id=_synthetic_id("restore", step, single), optional=True,
                                    title="Abort: restore the quarantined tables under their names (one RENAME)",
                                    guard_tables=step.guard_tables, drop_tables=step.drop_tables, drop_columns=step.drop_columns))
    out.extend(backups)  # a backup step the migrations did not claim keeps its place at the end
    return tuple(out), (*restores, *aborts)


@dataclass(frozen=True, eq=False, repr=False)
class Plan(Record):
    """The whole validated plan: target, stores, paths and the phases to roll back."""

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
    smoke: tuple[SmokeCheck, ...] = ()

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
