"""Load `phases.toml` into a validated `Plan`, or fail with one line naming file, line and key.

The loader is the only gate between operator-edited text and SQL, the crontab and child
processes: every identifier that will ever be back-quoted into a statement, every id
written into a crontab marker, every number that becomes a timeout is checked here, so no
later layer needs to trust a string it did not get from a validated plan. The file itself
is untrusted too (see file.py): only a small regular file is read, nesting and number
sizes are bounded before the TOML parser sees them.

It reads top-down like the plan: one method per section (`[plan]`, `[target]`, ...,
`[[phase]]`), a phase one method per part of it (flags and tables, columns, cron jobs,
activity checks, error logs, steps), a step one method per kind. Typed reads of a table
(and their error lines) live in reader.py.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, TypedDict

from .cron_syntax import plainly_valid
from .errors import PlanError
from .file import MAX_NESTING, nesting_error, read_plan_text
from .locate import LineLocator, PathKey
from .model import (
    EVIDENCE_KINDS,
    STEP_KINDS,
    ActivityCheck,
    BackupSpec,
    ChecklistItem,
    CheckSpec,
    ColumnRef,
    CronJob,
    CronSource,
    CronSpec,
    Emergency,
    ErrorLog,
    FlagsSpec,
    FlagStore,
    LogConfig,
    ManualSpec,
    MigrationSpec,
    Paths,
    Phase,
    Plan,
    PlanMeta,
    PlanStepKind,
    SmokeCheck,
    Step,
    Target,
    Watch,
)
from .names import ACCOUNT, HOST, MAX_ACCOUNT, MAX_HOST, MAX_SCRIPT, SCRIPT, shown
from .reader import CREDENTIAL_HINT, TableReader, TomlValue
from .secrets import credential_in_command

__all__ = ["PlanError", "default_plan_path", "load_plan", "parse_plan_text"]

RISKS = ("none", "low", "medium", "high")

# Sane ranges: a value outside is a typo or an attack, never a plan (issue 10: a lock wait
# of 99999999999 s was accepted; a 20-digit phase id crashed `run --execute`).
PHASE_ID = (1, 9999)
PORT = (1, 65535)
STATEMENT_TIMEOUT_MS = (100, 3_600_000)  # 0 would mean "no limit" to MariaDB
LOCK_WAIT_TIMEOUT_S = (1, 300)
WINDOW_MINUTES = (1, 7 * 24 * 60)
BUDGET_MINUTES = (0, 24 * 60)
WATCH_HOURS = (0, 30 * 24)
REFRESH_SECONDS = (0.05, 3600)
EXPECT = (-(2**63), 2**63 - 1)
SMOKE_PHASE = (0, 9999)
SMOKE_STATUS = (100, 599)
SMOKE_TIMEOUT_S = (0.1, 120)
LOG_FIELDS = ("Date", "Phase", "Reason", "Rolled Back By", "Duration", "Data Loss", "Issues Encountered", "Resolution")

# Keys of a step that belong to one kind only: on another kind they would be silently
# ignored, so they are refused with the kind they belong to.
MIGRATION_KEYS = ("guard_tables", "drop_tables", "drop_columns")
KIND_KEYS = {"as_written": "migration", "tables": "backup", "activity": "check", "sql": "check", "command": "check",
             "expect": "check"}


@dataclass(frozen=True)
class _PhaseShell:
    """What a step may refer to in its phase, read before the steps."""

    flags: tuple[str, ...]
    tables: tuple[str, ...]
    columns: tuple[ColumnRef, ...]
    cron: tuple[CronJob, ...]
    activity: tuple[ActivityCheck, ...]
    error_logs: tuple[ErrorLog, ...]


class _StepHead(TypedDict):
    """The fields every step kind has."""

    id: str
    title: str
    optional: bool


class _Loader:
    """One load of one plan text: the sections in the order the file gives them, every
    failure mapped back to its line."""

    def __init__(self, path: Path, text: str) -> None:
        self.file = path
        self.base = path.parent
        self.text = text

    def fail(self, path: PathKey, message: str) -> NoReturn:
        # Lines are only needed to report an error, so the text is scanned for them then.
        raise PlanError(self.file, LineLocator(self.text).line(path), message.removeprefix(": "))

    # -- one helper per repeated rule ---------------------------------------------
    def column_ref(self, r: TableReader, tables: tuple[str, ...], label: str | Callable[[ColumnRef], str]) -> ColumnRef:
        """`{ table = "...", column = "..." }`: both plain identifiers, the table one of the
        phase's own tables (`label` names the entry in the error)."""
        ref = ColumnRef(table=r.identifier("table", "table", required=True), column=r.identifier("column", "column", required=True))
        if ref.table not in tables:
            self.fail((*r.path, "table"), f"{label if isinstance(label, str) else label(ref)}: unknown table \"{ref.table}\"")
        return ref

    def column_refs(self, r: TableReader, key: str, tables: tuple[str, ...], label: str | Callable[[ColumnRef], str],
                    declared: tuple[ColumnRef, ...] | None = None) -> tuple[ColumnRef, ...]:
        """`[[key]]` of column refs (a phase's `columns`, a migration's `drop_columns`);
        with `declared`, each must be one of them."""
        refs = []
        for c in r.array_of_tables(key):
            c.label = r.label
            ref = self.column_ref(c, tables, label)
            if declared is not None and ref not in declared:
                c.fail("column", f"unknown column \"{ref.table}.{ref.column}\" (declare it in the phase's columns)")
            c.done()
            refs.append(ref)
        return tuple(refs)

    def relative(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.base / path)

    def path(self, r: TableReader, key: str, default: str = "") -> Path | None:
        value = r.line(key, default=default)
        return self.relative(value) if value else None

    def required_path(self, r: TableReader, key: str) -> Path:
        value = r.line(key, required=True)
        if not value:
            r.fail(key, f"key \"{key}\" must not be empty")
        return self.relative(value)

    def named(self, r: TableReader, key: str, pattern: re.Pattern[str], limit: int, what: str) -> str:
        value = r.line(key)
        if value and (len(value) > limit or not pattern.fullmatch(value)):
            r.fail(key, f"key \"{key}\" \"{shown(value)}\" is not a valid {what}")
        return value

    # -- the plan, section by section -----------------------------------------------
    def load(self, data: dict[str, TomlValue]) -> Plan:
        root = TableReader(self.fail, data, (), "")
        meta = self._meta(root.section("plan", required=True))
        target = self._target(root.section("target", required=True))
        flag_store = self._flag_store(root.section("flags"))
        cron = self._cron(root.section("cron"))
        watch = self._watch(root.section("watch"))
        paths = self._paths(root.section("paths"))
        log = self._log(root.section("log", required=True))
        checklist = root.section("checklist", required=True)
        before = self._checklist(checklist, "before")
        after = self._checklist(checklist, "after")
        checklist.done()
        sandbox = root.boolean("sandbox", False)
        phases = self._phases(root)
        emergency = self._emergency(root.section("emergency", required=True), phases)
        smoke = self._smoke(root, {p.id for p in phases})
        root.done()
        return Plan(path=self.file, meta=meta, target=target, flag_store=flag_store, cron_source=cron, watch=watch,
                    paths=paths, log=log, checklist_before=before, checklist_after=after, emergency=emergency,
                    phases=phases, sandbox=sandbox, smoke=smoke)

    def _meta(self, r: TableReader) -> PlanMeta:
        contacts = []
        for c in r.array_of_tables("contacts"):
            contacts.append((c.line("role", required=True), c.line("contact", required=True)))
            c.done()
        meta = PlanMeta(
            title=r.line("title", required=True),
            purpose=r.text("purpose"),
            version=r.line("version"),
            last_review=r.line("last_review"),
            next_review=r.line("next_review"),
            principles=r.texts("principles"),
            critical_notes=r.texts("critical_notes"),
            contacts=tuple(contacts),
        )
        r.done()
        return meta

    def _target(self, r: TableReader) -> Target:
        kind = r.choice("kind", ("mysql", "sqlite"))
        for secret in ("password", "passwd", "pass"):
            if secret in r.data:
                r.fail(secret, "credentials never go in the plan; use the option file, MYSQL_PWD or the prompt")
        path = self.required_path(r, "path") if kind == "sqlite" else self.path(r, "path")
        target = Target(
            kind=kind,
            host=self.named(r, "host", HOST, MAX_HOST, "host name or address") or "127.0.0.1",
            port=r.integer("port", PORT, default=3306),
            database=r.identifier("database", "database", required=kind == "mysql"),
            socket=r.line("socket"),
            option_file=r.line("option_file"),
            user=r.line("user"),
            path=path,
            statement_timeout_ms=r.integer("statement_timeout_ms", STATEMENT_TIMEOUT_MS, default=30000),
            lock_wait_timeout_s=r.integer("lock_wait_timeout_s", LOCK_WAIT_TIMEOUT_S, default=5),
        )
        r.done()
        return target

    def _flag_store(self, r: TableReader) -> FlagStore:
        backend = r.choice("backend", ("sql", "command"), default="sql")
        store = FlagStore(
            backend=backend,
            table=r.identifier("table", "table", default="feature_flag"),
            key_column=r.identifier("key_column", "key_column", default="flag_key"),
            value_column=r.identifier("value_column", "value_column", default="enabled"),
            get_command=r.argv("get"),
            set_command=r.argv("set"),
        )
        if backend == "command":
            if not store.get_command or not store.set_command:
                r.fail(None, "backend \"command\" needs both \"get\" and \"set\" argv lists")
            if not any("{flag}" in a for a in store.get_command):
                r.fail("get", "\"get\" must contain {flag}")
            if not any("{value}" in a for a in store.set_command):
                r.fail("set", "\"set\" must contain {value}")
        r.done()
        return store

    def _cron(self, r: TableReader) -> CronSource:
        source = r.choice("source", ("user", "file", "system"), default="user")
        user = self.named(r, "user", ACCOUNT, MAX_ACCOUNT, "user name")
        path = self.required_path(r, "path") if source in ("file", "system") else self.path(r, "path")
        cron = CronSource(source=source, user=user, path=path)
        r.done()
        return cron

    def _watch(self, r: TableReader) -> Watch:
        watch = Watch(
            hours=r.number("hours", WATCH_HOURS, default=24),
            extended_hours=r.number("extended_hours", WATCH_HOURS, default=48),
            refresh_seconds=r.number("refresh_seconds", REFRESH_SECONDS, default=5),
            idle_refresh_seconds=r.number("idle_refresh_seconds", REFRESH_SECONDS, default=30),
            notify_urls_file=self.path(r, "notify_urls_file"),
        )
        r.done()
        return watch

    def _paths(self, r: TableReader) -> Paths:
        paths = Paths(
            journal=self.relative(r.line("journal", default="cockpit-journal.sqlite3") or "cockpit-journal.sqlite3"),
            backup_dir=self.relative(r.line("backup_dir", default="backups") or "backups"),
            host_disks=r.lines("host_disks") or ("/",),
        )
        r.done()
        return paths

    def _log(self, r: TableReader) -> LogConfig:
        log = LogConfig(file=self.required_path(r, "file"), template=r.text("template", required=True))
        for field_name in LOG_FIELDS:
            if f"**{field_name}:**" not in log.template:
                r.fail("template", f"template lacks the field \"**{field_name}:**\"")
        r.done()
        return log

    def _checklist(self, parent: TableReader, which: str) -> tuple[ChecklistItem, ...]:
        items = []
        seen: set[str] = set()
        for r in parent.array_of_tables(which):
            item_id = r.slug("id", f"checklist {which}: id \"{{}}\"", seen, f"checklist {which}: duplicate item id \"{{}}\"")
            item = ChecklistItem(id=item_id, text=r.line("text", required=True), evidence=r.line("evidence"))
            if item.evidence and item.evidence not in EVIDENCE_KINDS:
                self.fail((*r.path, "evidence"), f"checklist {which} \"{item.id}\": unknown evidence \"{shown(item.evidence)}\" "
                                                 f"(one of {', '.join(EVIDENCE_KINDS)})")
            r.done()
            items.append(item)
        return tuple(items)

    def _emergency(self, r: TableReader, phases: tuple[Phase, ...]) -> Emergency:
        r.label = "emergency"
        declared = {flag for phase in phases for flag in phase.flags}
        emergency = Emergency(
            flags=r.known("flags", "flag", declared, " (not declared by any phase)", required=True),
            title=r.line("title", default="Emergency rollback"),
            budget_minutes=r.number("budget_minutes", BUDGET_MINUTES, required=True),
            data_loss_risk=r.choice("data_loss_risk", RISKS),
            data_loss_reason=r.text("data_loss_reason"),
            effects=r.texts("effects"),
        )
        r.done()
        return emergency

    def _smoke(self, root: TableReader, phase_ids: set[int]) -> tuple[SmokeCheck, ...]:
        """`[[smoke]]`: HTTP checks that the platform works (plan/smoke.py)."""
        checks: list[SmokeCheck] = []
        seen: set[str] = set()
        for r in root.array_of_tables("smoke"):
            check_id = r.line("id", required=True)
            url = r.line("url", required=True)
            if not url.startswith(("http://", "https://")):
                self.fail((*r.path, "url"), f"smoke \"{check_id}\": url must start with http:// or https://")
            phase = r.integer("phase", SMOKE_PHASE, default=0) or None
            if phase is not None and phase not in phase_ids:
                self.fail((*r.path, "phase"), f"smoke \"{check_id}\": no phase {phase} in the plan")
            r.unique("id", check_id, seen, "smoke \"{}\": duplicate id")
            checks.append(SmokeCheck(id=check_id, url=url, status=r.integer("status", SMOKE_STATUS, default=200),
                                     contains=r.text("contains"), phase=phase,
                                     timeout_s=float(r.number("timeout_s", SMOKE_TIMEOUT_S, default=5))))
            r.done()
        return tuple(checks)

    # -- the phases -----------------------------------------------------------------
    def _phases(self, root: TableReader) -> tuple[Phase, ...]:
        """Every `[[phase]]`: ids unique, and a flag or cron job owned by one phase only."""
        readers = root.array_of_tables("phase")
        if not readers:
            self.fail(("phase",), "the plan declares no [[phase]]")
        phases = tuple(self._phase(reader) for reader in readers)
        seen: dict[int, int] = {}
        for index, phase in enumerate(phases):
            if phase.id in seen:
                self.fail(("phase", index, "id"), f"phase {phase.id}: duplicate phase id (also phase #{seen[phase.id] + 1})")
            seen[phase.id] = index
        self._unique_across(phases, lambda p: p.flags, "flag", "flags")
        self._unique_across(phases, lambda p: tuple(j.id for j in p.cron), "cron job", "cron")
        return phases

    def _unique_across(self, phases: tuple[Phase, ...], get: Callable[[Phase], tuple[str, ...]], what: str, key: str) -> None:
        owner: dict[str, int] = {}
        for index, phase in enumerate(phases):
            for value in get(phase):
                if value in owner and owner[value] != phase.id:
                    self.fail(("phase", index, key), f"phase {phase.id}: {what} \"{value}\" already belongs to phase {owner[value]}")
                owner[value] = phase.id

    def _phase(self, r: TableReader) -> Phase:
        phase_id = r.integer("id", PHASE_ID, required=True)
        r.label = f"phase {phase_id}"
        shell = self._phase_shell(r, phase_id)
        steps = self._steps(r, phase_id, shell)
        phase = Phase(
            id=phase_id,
            name=r.line("name", required=True),
            budget_minutes=r.number("budget_minutes", BUDGET_MINUTES, required=True),
            data_loss_risk=r.choice("data_loss_risk", RISKS),
            data_loss_reason=r.text("data_loss_reason"),
            fallback=r.texts("fallback"),
            flags=shell.flags,
            tables=shell.tables,
            columns=shell.columns,
            cron=shell.cron,
            activity=shell.activity,
            error_logs=shell.error_logs,
            steps=steps,
            abort_steps=_abort_steps(steps, shell),
        )
        r.done()
        return phase

    def _phase_shell(self, r: TableReader, phase_id: int) -> _PhaseShell:
        """What the phase owns (flags, tables, columns, cron jobs, activity checks, error
        logs): read before its steps, which may only refer to these."""
        flags = r.identifiers("flags", "flag")
        tables = r.identifiers("tables", "table")
        return _PhaseShell(
            flags=flags,
            tables=tables,
            columns=self.column_refs(r, "columns", tables, lambda ref: f"phase {phase_id} column {ref.column}"),
            cron=self._cron_jobs(r, phase_id),
            activity=self._activity(r, phase_id, tables),
            error_logs=self._error_logs(r, phase_id),
        )

    def _cron_jobs(self, r: TableReader, phase_id: int) -> tuple[CronJob, ...]:
        jobs: list[CronJob] = []
        seen: set[str] = set()
        for c in r.array_of_tables("cron"):
            c.label = f"phase {phase_id} cron"
            job_id = c.slug("id", f"phase {phase_id} cron: id \"{{}}\"", seen, f"phase {phase_id}: duplicate cron job id \"{{}}\"")
            c.label = f"phase {phase_id} cron \"{job_id}\""
            job = CronJob(id=job_id, script=c.line("script", required=True), schedule=c.line("schedule"), command=c.line("command"))
            if len(job.script) > MAX_SCRIPT or not SCRIPT.fullmatch(job.script):
                c.fail("script", "script must be a file name (letters, digits, . _ + - and /)")
            if job.command and job.script not in job.command:
                c.fail("command", f"command does not run script \"{job.script}\"")
            found = credential_in_command(job.command)
            if found:
                c.fail("command", f"key \"command\" holds a credential ({found}); {CREDENTIAL_HINT}")
            if job.schedule:
                self._schedule(job.schedule, (*c.path, "schedule"), c.label)
            c.done()
            jobs.append(job)
        return tuple(jobs)

    def _schedule(self, schedule: str, path: PathKey, label: str) -> None:
        if plainly_valid(schedule):  # no croniter import before the TUI's first frame
            return
        from croniter import croniter

        if len(schedule) > 200 or not croniter.is_valid(schedule):
            self.fail(path, f"{label}: schedule \"{shown(schedule)}\" is not a valid cron expression")

    def _activity(self, r: TableReader, phase_id: int, tables: tuple[str, ...]) -> tuple[ActivityCheck, ...]:
        checks = []
        seen: set[str] = set()
        for a in r.array_of_tables("activity"):
            a.label = f"phase {phase_id} activity"
            check_id = a.slug("id", f"phase {phase_id} activity: id \"{{}}\"", seen, f"phase {phase_id}: duplicate activity id \"{{}}\"")
            ref = self.column_ref(a, tables, f"phase {phase_id} activity \"{check_id}\"")
            check = ActivityCheck(
                id=check_id,
                text=a.line("text", required=True),
                table=ref.table,
                column=ref.column,
                window_minutes=a.integer("window_minutes", WINDOW_MINUTES, default=5),
            )
            a.done()
            checks.append(check)
        return tuple(checks)

    def _error_logs(self, r: TableReader, phase_id: int) -> tuple[ErrorLog, ...]:
        logs = []
        for e in r.array_of_tables("error_logs"):
            e.label = f"phase {phase_id} error_logs"
            pattern = e.line("pattern", required=True)
            problem = _re2_problem(pattern)
            if problem:
                e.fail("pattern", f"bad pattern \"{shown(pattern)}\": {problem}")
            logs.append(ErrorLog(path=self.required_path(e, "path"), pattern=pattern))
            e.done()
        return tuple(logs)

    # -- the steps, one method per kind -----------------------------------------------
    def _steps(self, r: TableReader, phase_id: int, phase: _PhaseShell) -> tuple[Step, ...]:
        seen: set[str] = set()
        steps = tuple(self._step(s, phase_id, phase, seen) for s in r.array_of_tables("step"))
        if not steps:
            r.fail(None, "declares no [[phase.step]]")
        return steps

    def _step(self, r: TableReader, phase_id: int, phase: _PhaseShell, seen: set[str]) -> Step:
        raw_id = r.data.get("id")
        r.label = f"phase {phase_id} step \"{shown(raw_id) if isinstance(raw_id, str) else raw_id}\""
        step_id = r.slug("id", f"{r.label}: id", seen, f"phase {phase_id}: duplicate step id \"{{}}\"")
        kind = r.choice("kind", STEP_KINDS)
        head = _StepHead(id=step_id, title=r.line("title", required=True), optional=r.boolean("optional"))
        step = self._kind_step(r, kind, phase, head)
        if kind != "migration" and any(key in r.data for key in MIGRATION_KEYS):
            r.fail(None, "drop_tables/drop_columns/guard_tables belong to a migration step")
        for key, owner in KIND_KEYS.items():
            if key in r.data and kind != owner:
                r.fail(key, f"key \"{key}\" belongs to a {owner} step")
        r.done()
        return step

    def _kind_step(self, r: TableReader, kind: PlanStepKind, phase: _PhaseShell, head: _StepHead) -> Step:
        """The rest of a step, read as its kind wants it."""
        match kind:
            case "flags_off" | "flags_on":
                if not phase.flags:
                    r.fail("kind", "the phase declares no flags")
                return FlagsSpec(kind=kind, **head)
            case "cron_stop" | "cron_start":
                if not phase.cron:
                    r.fail("kind", "the phase declares no cron jobs")
                return CronSpec(kind=kind, **head)
            case "manual":
                return ManualSpec(**head)
            case "backup":
                return BackupSpec(tables=r.known("tables", "table", phase.tables), **head)
            case "check":
                return self._check_step(r, phase, head)
            case "migration":
                return self._migration_step(r, phase, head)

    def _check_step(self, r: TableReader, phase: _PhaseShell, head: _StepHead) -> CheckSpec:
        step = CheckSpec(activity=r.line("activity"), sql=r.text("sql"), command=r.argv("command"),
                         expect=r.integer("expect", EXPECT, default=0), **head)
        if sum((bool(step.activity), bool(step.sql), bool(step.command))) != 1:
            r.fail(None, "a check needs exactly one of activity, sql or command")
        if step.activity and step.activity not in {a.id for a in phase.activity}:
            r.fail("activity", f"unknown activity check \"{shown(step.activity)}\"")
        return step

    def _migration_step(self, r: TableReader, phase: _PhaseShell, head: _StepHead) -> MigrationSpec:
        step = MigrationSpec(
            guard_tables=r.known("guard_tables", "table", phase.tables),
            drop_tables=r.known("drop_tables", "table", phase.tables),
            drop_columns=self.column_refs(r, "drop_columns", phase.tables, r.label, declared=phase.columns),
            as_written=r.text("as_written"),
            **head,
        )
        if not step.drop_tables and not step.drop_columns:
            r.fail(None, "a migration needs drop_tables or drop_columns")
        if not step.guard_tables:
            r.fail(None, "a migration needs guard_tables (the tables counted before any DROP)")
        return step


def _re2_problem(pattern: str) -> str | None:
    """Why RE2 (the linear-time engine the log probe matches with) refuses `pattern`, or None.
    A pattern Python's backtracking engine would take but RE2 will not (backreferences,
    lookaround) is refused here rather than at 3 a.m. in the watch."""
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print its own error line on stderr
    try:
        re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        reason = str(reason).split(": ", 1)[0]  # RE2 appends the pattern; it is shown once already
        return f"the linear-time regex engine (RE2) cannot take it: {reason}"
    return None


def _abort_steps(steps: tuple[Step, ...], phase: _PhaseShell) -> tuple[Step, ...]:
    """Every phase can be undone even if the plan only describes going back: flags on
    again, the cockpit's cron lines restored — unless the plan declares its own."""
    declared = {s.kind for s in steps}
    ids = {s.id for s in steps}
    out: list[Step] = []
    if phase.flags and "flags_on" not in declared and "flags-on" not in ids:
        out.append(FlagsSpec(id="flags-on", kind="flags_on", title="Abort: turn the feature flags back on", optional=True))
    if phase.cron and "cron_start" not in declared and "cron-start" not in ids:
        out.append(CronSpec(id="cron-start", kind="cron_start", title="Abort: restore the cron jobs", optional=True))
    return tuple(out)


def _toml(text: str, path: Path) -> dict[str, TomlValue]:
    """tomllib.loads with every way it can fail turned into one PlanError line."""
    problem = nesting_error(text)
    if problem:
        raise PlanError(path, problem[0], f"TOML too deep or too large: {problem[1]}")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\(at line (\d+), column \d+\)", message)
        line = int(match.group(1)) if match else None
        reason = re.sub(r" ?\(at line.*\)", "", message)
        raise PlanError(path, line, f"TOML syntax error: {reason}") from None
    except RecursionError:  # the pre-scan should have caught it; never a traceback
        raise PlanError(path, None, f"TOML too deep: nested more than {MAX_NESTING} levels") from None
    except ValueError as exc:  # e.g. an integer beyond Python's digit limit
        raise PlanError(path, None, f"TOML value error: {str(exc)[:120]}") from None


def _depth_error(data: TomlValue) -> PathKey | None:
    """Key path of the first value nested deeper than MAX_NESTING tables/arrays (dotted
    keys and table headers nest too, without brackets the pre-scan could count)."""
    stack: list[tuple[TomlValue, PathKey]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > 2 * MAX_NESTING:
            return path
        if isinstance(value, dict):
            stack.extend((v, (*path, k)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(value))
    return None


def parse_plan_text(text: str, path: Path) -> Plan:
    """Validate `text` as if it were the file at `path` (paths resolve next to it)."""
    data = _toml(text, path)
    loader = _Loader(path, text)
    deep = _depth_error(data)
    if deep is not None:
        loader.fail(deep, f"TOML too deep: keys and tables nested more than {2 * MAX_NESTING} levels")
    return loader.load(data)


def load_plan(path: str | Path) -> Plan:
    """Read and validate the plan file; raises PlanError with one operator-ready line.
    Only a small regular file is read (never a FIFO, a device or a directory)."""
    path = Path(path).expanduser().absolute()
    return parse_plan_text(read_plan_text(path), path)


def default_plan_path() -> Path:
    """The plan shipped with the cockpit: the repository's phases.toml in a checkout,
    the packaged copy in an installed wheel."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package.parent / "phases.toml", package / "default_phases.toml"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("the default phases.toml is not installed")
