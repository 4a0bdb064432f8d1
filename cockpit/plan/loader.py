"""Load `phases.toml` into a validated `Plan`, or fail with one line naming file, line and key.

The loader is the only gate between operator-edited text and SQL: every identifier that
will ever be back-quoted into a statement is checked here, so no later layer needs to
trust a string it did not get from a validated plan.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Callable

from .locate import LineLocator, PathKey
from .model import (
    EVIDENCE_KINDS,
    STEP_KINDS,
    ActivityCheck,
    ChecklistItem,
    ColumnRef,
    CronJob,
    CronSource,
    Emergency,
    ErrorLog,
    FlagStore,
    LogConfig,
    Paths,
    Phase,
    Plan,
    PlanMeta,
    Step,
    Target,
    Watch,
)

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
STEP_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
RISKS = ("none", "low", "medium", "high")


class PlanError(Exception):
    """A plan that cannot be used. `str()` is the one line shown to the operator."""

    def __init__(self, file: Path, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        where = f"{file.name}:{line}" if line else file.name
        super().__init__(f"{where}: {message}")


def _describe(path: PathKey) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Reader:
    """Typed access to one TOML table that reports errors with their line."""

    def __init__(self, loader: "_Loader", data: Any, path: PathKey, label: str) -> None:
        self.loader = loader
        self.path = path
        self.label = label
        if not isinstance(data, dict):
            loader.fail(path, f"{label}: expected a table, got {type(data).__name__}")
        self.data: dict[str, Any] = data
        self._allowed: set[str] = set()

    def _get(self, key: str, required: bool, default: Any) -> Any:
        self._allowed.add(key)
        if key not in self.data:
            if required:
                typo = _closest(key, set(self.data))
                hint = f" (found \"{typo}\": a typo?)" if typo else ""
                self.loader.fail((*self.path, typo) if typo else self.path, f"{self.label}: missing key \"{key}\"{hint}")
            return default
        return self.data[key]

    def _type_error(self, key: str, wanted: str, value: Any) -> None:
        self.loader.fail((*self.path, key), f"{self.label}: key \"{key}\" must be {wanted}, got {type(value).__name__} {value!r}"[:200])

    def str(self, key: str, required: bool = False, default: str = "") -> str:
        value = self._get(key, required, default)
        if not isinstance(value, str):
            self._type_error(key, "a string", value)
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None) -> str:
        value = self.str(key, required=default is None, default=default or "")
        if value not in choices:
            self.loader.fail((*self.path, key), f"{self.label}: key \"{key}\" must be one of {', '.join(choices)}, got \"{value}\"")
        return value

    def number(self, key: str, required: bool = False, default: float = 0, minimum: float | None = 0) -> float:
        value = self._get(key, required, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self._type_error(key, "a number", value)
        if minimum is not None and value < minimum:
            self.loader.fail((*self.path, key), f"{self.label}: key \"{key}\" must be >= {minimum}, got {value}")
        return value

    def int(self, key: str, required: bool = False, default: int = 0) -> int:
        value = self._get(key, required, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self._type_error(key, "an integer", value)
        return value

    def bool(self, key: str, default: bool = False) -> bool:
        value = self._get(key, False, default)
        if not isinstance(value, bool):
            self._type_error(key, "true or false", value)
        return value

    def strings(self, key: str, required: bool = False) -> tuple[str, ...]:
        value = self._get(key, required, [])
        if not isinstance(value, list):
            self._type_error(key, "a list of strings", value)
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self.loader.fail((*self.path, key, index), f"{self.label}: key \"{key}\" item {index + 1} must be a string, got {type(item).__name__}")
        return tuple(value)

    def identifiers(self, key: str, what: str, required: bool = False) -> tuple[str, ...]:
        values = self.strings(key, required)
        for index, value in enumerate(values):
            self.loader.identifier(value, (*self.path, key, index), f"{self.label}: {what}")
        if len(set(values)) != len(values):
            dup = next(v for v in values if values.count(v) > 1)
            self.loader.fail((*self.path, key), f"{self.label}: {what} \"{dup}\" listed twice")
        return values

    def tables(self, key: str) -> list["_Reader"]:
        value = self._get(key, False, [])
        if not isinstance(value, list):
            self._type_error(key, "a list of tables", value)
        readers = []
        for index, item in enumerate(value):
            readers.append(_Reader(self.loader, item, (*self.path, key, index), f"{self.label} {key}[{index + 1}]"))
        return readers

    def table(self, key: str, required: bool = False) -> "_Reader":
        value = self._get(key, required, {})
        return _Reader(self.loader, value, (*self.path, key), key if not self.label else f"{self.label}.{key}" if self.path else key)

    def done(self) -> None:
        """Refuse keys we do not know: a typo must not silently drop a safety setting."""
        for key in self.data:
            if key not in self._allowed:
                suggestion = _closest(key, self._allowed)
                hint = f" (did you mean \"{suggestion}\"?)" if suggestion else ""
                self.loader.fail((*self.path, key), f"{self.label}: unknown key \"{key}\"{hint}")


def _closest(word: str, candidates: set[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.75)
    return found[0] if found else None


class _Loader:
    def __init__(self, path: Path, text: str) -> None:
        self.file = path
        self.base = path.parent
        self.locator = LineLocator(text)

    def fail(self, path: PathKey, message: str) -> None:
        message = " ".join(message.removeprefix(": ").split())  # one line, no empty label
        raise PlanError(self.file, self.locator.line(path), message)

    def identifier(self, value: str, path: PathKey, what: str) -> str:
        if not IDENTIFIER.fullmatch(value):
            shown = value.encode("unicode_escape").decode("ascii")  # a newline must not split the one-line error
            self.fail(path, f"{what} \"{shown}\" is not a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*)")
        return value

    def relative(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.base / path)

    # -- sections -----------------------------------------------------------------
    def load(self, data: dict[str, Any]) -> Plan:
        root = _Reader(self, data, (), "")
        meta = self._meta(root.table("plan", required=True))
        target = self._target(root.table("target", required=True))
        flag_store = self._flag_store(root.table("flags"))
        cron = self._cron(root.table("cron"))
        watch = self._watch(root.table("watch"))
        paths = self._paths(root.table("paths"))
        log = self._log(root.table("log", required=True))
        checklist = root.table("checklist", required=True)
        before = self._checklist(checklist, "before")
        after = self._checklist(checklist, "after")
        checklist.done()
        sandbox = root.bool("sandbox", False)
        phase_readers = root.tables("phase")
        if not phase_readers:
            self.fail(("phase",), "the plan declares no [[phase]]")
        phases = [self._phase(reader) for reader in phase_readers]
        seen: dict[int, int] = {}
        for index, phase in enumerate(phases):
            if phase.id in seen:
                self.fail(("phase", index, "id"), f"phase {phase.id}: duplicate phase id (also phase #{seen[phase.id] + 1})")
            seen[phase.id] = index
        self._check_unique_across(phases, lambda p: p.flags, "flag", "flags")
        self._check_unique_across(phases, lambda p: tuple(j.id for j in p.cron), "cron job", "cron")
        emergency = self._emergency(root.table("emergency", required=True), phases)
        root.done()
        return Plan(
            path=self.file,
            meta=meta,
            target=target,
            flag_store=flag_store,
            cron_source=cron,
            watch=watch,
            paths=paths,
            log=log,
            checklist_before=before,
            checklist_after=after,
            emergency=emergency,
            phases=tuple(phases),
            sandbox=sandbox,
        )

    def _check_unique_across(self, phases: list[Phase], get: Callable[[Phase], tuple[str, ...]], what: str, key: str) -> None:
        owner: dict[str, int] = {}
        for index, phase in enumerate(phases):
            for value in get(phase):
                if value in owner and owner[value] != phase.id:
                    self.fail(("phase", index, key), f"phase {phase.id}: {what} \"{value}\" already belongs to phase {owner[value]}")
                owner[value] = phase.id

    def _meta(self, r: _Reader) -> PlanMeta:
        contacts = []
        for c in r.tables("contacts"):
            contacts.append((c.str("role", required=True), c.str("contact", required=True)))
            c.done()
        meta = PlanMeta(
            title=r.str("title", required=True),
            purpose=r.str("purpose"),
            version=r.str("version"),
            last_review=r.str("last_review"),
            next_review=r.str("next_review"),
            principles=r.strings("principles"),
            critical_notes=r.strings("critical_notes"),
            contacts=tuple(contacts),
        )
        r.done()
        return meta

    def _target(self, r: _Reader) -> Target:
        kind = r.choice("kind", ("mysql", "sqlite"))
        for secret in ("password", "passwd", "pass"):
            if secret in r.data:
                self.fail((*r.path, secret), "target: credentials never go in the plan; use the option file, MYSQL_PWD or the prompt")
        path = r.str("path", required=kind == "sqlite")
        database = r.str("database", required=kind == "mysql")
        if database:
            self.identifier(database, (*r.path, "database"), "target: database")
        target = Target(
            kind=kind,
            host=r.str("host", default="127.0.0.1"),
            port=r.int("port", default=3306),
            database=database,
            socket=r.str("socket"),
            option_file=r.str("option_file"),
            user=r.str("user"),
            path=self.relative(path) if path else None,
            statement_timeout_ms=r.int("statement_timeout_ms", default=30000),
            lock_wait_timeout_s=r.int("lock_wait_timeout_s", default=5),
        )
        if not 0 < target.port < 65536:
            self.fail((*r.path, "port"), f"target: port {target.port} is out of range")
        r.done()
        return target

    def _flag_store(self, r: _Reader) -> FlagStore:
        backend = r.choice("backend", ("sql", "command"), default="sql")
        store = FlagStore(
            backend=backend,
            table=self.identifier(r.str("table", default="feature_flag"), (*r.path, "table"), "flags: table"),
            key_column=self.identifier(r.str("key_column", default="flag_key"), (*r.path, "key_column"), "flags: key_column"),
            value_column=self.identifier(r.str("value_column", default="enabled"), (*r.path, "value_column"), "flags: value_column"),
            get_command=r.strings("get"),
            set_command=r.strings("set"),
        )
        if backend == "command":
            if not store.get_command or not store.set_command:
                self.fail(r.path, "flags: backend \"command\" needs both \"get\" and \"set\" argv lists")
            if not any("{flag}" in a for a in store.get_command):
                self.fail((*r.path, "get"), "flags: \"get\" must contain {flag}")
            if not any("{value}" in a for a in store.set_command):
                self.fail((*r.path, "set"), "flags: \"set\" must contain {value}")
        r.done()
        return store

    def _cron(self, r: _Reader) -> CronSource:
        source = r.choice("source", ("user", "file", "system"), default="user")
        path = r.str("path", required=source in ("file", "system"))
        cron = CronSource(source=source, user=r.str("user"), path=self.relative(path) if path else None)
        r.done()
        return cron

    def _watch(self, r: _Reader) -> Watch:
        watch = Watch(
            hours=r.number("hours", default=24, minimum=0),
            extended_hours=r.number("extended_hours", default=48, minimum=0),
            refresh_seconds=r.number("refresh_seconds", default=5, minimum=0.05),
            idle_refresh_seconds=r.number("idle_refresh_seconds", default=30, minimum=0.05),
            notify_urls_file=self.relative(r.str("notify_urls_file")) if r.str("notify_urls_file") else None,
        )
        r.done()
        return watch

    def _paths(self, r: _Reader) -> Paths:
        paths = Paths(
            journal=self.relative(r.str("journal", default="cockpit-journal.sqlite3")),
            backup_dir=self.relative(r.str("backup_dir", default="backups")),
            host_disks=r.strings("host_disks") or ("/",),
        )
        r.done()
        return paths

    def _log(self, r: _Reader) -> LogConfig:
        log = LogConfig(file=self.relative(r.str("file", required=True)), template=r.str("template", required=True))
        for field_name in ("Date", "Phase", "Reason", "Rolled Back By", "Duration", "Data Loss", "Issues Encountered", "Resolution"):
            if f"**{field_name}:**" not in log.template:
                self.fail((*r.path, "template"), f"log: template lacks the field \"**{field_name}:**\"")
        r.done()
        return log

    def _checklist(self, parent: _Reader, which: str) -> tuple[ChecklistItem, ...]:
        items = []
        seen: set[str] = set()
        for r in parent.tables(which):
            item = ChecklistItem(
                id=r.str("id", required=True),
                text=r.str("text", required=True),
                evidence=r.str("evidence"),
            )
            if not STEP_ID.match(item.id):
                self.fail((*r.path, "id"), f"checklist {which}: id \"{item.id}\" must be lower-case letters, digits, - or _")
            if item.id in seen:
                self.fail((*r.path, "id"), f"checklist {which}: duplicate item id \"{item.id}\"")
            if item.evidence and item.evidence not in EVIDENCE_KINDS:
                self.fail((*r.path, "evidence"), f"checklist {which} \"{item.id}\": unknown evidence \"{item.evidence}\" (one of {', '.join(EVIDENCE_KINDS)})")
            seen.add(item.id)
            r.done()
            items.append(item)
        return tuple(items)

    def _emergency(self, r: _Reader, phases: list[Phase]) -> Emergency:
        declared = {flag for phase in phases for flag in phase.flags}
        flags = r.identifiers("flags", "flag", required=True)
        for index, flag in enumerate(flags):
            if flag not in declared:
                self.fail((*r.path, "flags", index), f"emergency: unknown flag \"{flag}\" (not declared by any phase)")
        risk = r.choice("data_loss_risk", RISKS)
        emergency = Emergency(
            title=r.str("title", default="Emergency rollback"),
            flags=flags,
            budget_minutes=r.number("budget_minutes", required=True),
            data_loss_risk=risk,
            data_loss_reason=r.str("data_loss_reason"),
            effects=r.strings("effects"),
        )
        r.done()
        return emergency

    def _phase(self, r: _Reader) -> Phase:
        phase_id = r.int("id", required=True)
        r.label = f"phase {phase_id}"
        flags = r.identifiers("flags", "flag")
        tables = r.identifiers("tables", "table")
        columns = []
        for c in r.tables("columns"):
            c.label = f"phase {phase_id} column"
            col = ColumnRef(
                table=self.identifier(c.str("table", required=True), (*c.path, "table"), f"phase {phase_id}: table"),
                column=self.identifier(c.str("column", required=True), (*c.path, "column"), f"phase {phase_id}: column"),
            )
            if col.table not in tables:
                self.fail((*c.path, "table"), f"phase {phase_id} column {col.column}: unknown table \"{col.table}\"")
            c.done()
            columns.append(col)
        cron = []
        for c in r.tables("cron"):
            c.label = f"phase {phase_id} cron"
            job = CronJob(id=c.str("id", required=True), script=c.str("script", required=True), schedule=c.str("schedule"), command=c.str("command"))
            if not STEP_ID.match(job.id):
                self.fail((*c.path, "id"), f"phase {phase_id} cron: id \"{job.id}\" must be lower-case letters, digits, - or _")
            if not job.script.strip() or any(ch in job.script for ch in "\n\r#"):
                self.fail((*c.path, "script"), f"phase {phase_id} cron \"{job.id}\": script must be a file name")
            if job.command and job.script not in job.command:
                self.fail((*c.path, "command"), f"phase {phase_id} cron \"{job.id}\": command does not run script \"{job.script}\"")
            if job.schedule:
                self._schedule(job.schedule, (*c.path, "schedule"), f"phase {phase_id} cron \"{job.id}\"")
            if any(j.id == job.id for j in cron):
                self.fail((*c.path, "id"), f"phase {phase_id}: duplicate cron job id \"{job.id}\"")
            c.done()
            cron.append(job)
        activity = []
        for a in r.tables("activity"):
            a.label = f"phase {phase_id} activity"
            check = ActivityCheck(
                id=a.str("id", required=True),
                text=a.str("text", required=True),
                table=self.identifier(a.str("table", required=True), (*a.path, "table"), f"phase {phase_id} activity: table"),
                column=self.identifier(a.str("column", required=True), (*a.path, "column"), f"phase {phase_id} activity: column"),
                window_minutes=a.int("window_minutes", default=5),
            )
            if check.table not in tables:
                self.fail((*a.path, "table"), f"phase {phase_id} activity \"{check.id}\": unknown table \"{check.table}\"")
            a.done()
            activity.append(check)
        error_logs = []
        for e in r.tables("error_logs"):
            e.label = f"phase {phase_id} error_logs"
            pattern = e.str("pattern", required=True)
            try:
                re.compile(pattern)
            except re.error as exc:
                self.fail((*e.path, "pattern"), f"phase {phase_id} error_logs: bad pattern \"{pattern}\": {exc}")
            error_logs.append(ErrorLog(path=self.relative(e.str("path", required=True)), pattern=pattern))
            e.done()
        phase_shell = dict(flags=flags, tables=tables, columns=tuple(columns), activity=tuple(activity), cron=tuple(cron))
        steps = []
        for s in r.tables("step"):
            step = self._step(s, phase_id, phase_shell)
            if any(existing.id == step.id for existing in steps):
                self.fail((*s.path, "id"), f"phase {phase_id}: duplicate step id \"{step.id}\"")
            steps.append(step)
        if not steps:
            self.fail(r.path, f"phase {phase_id}: declares no [[phase.step]]")
        phase = Phase(
            id=phase_id,
            name=r.str("name", required=True),
            budget_minutes=r.number("budget_minutes", required=True),
            data_loss_risk=r.choice("data_loss_risk", RISKS),
            data_loss_reason=r.str("data_loss_reason"),
            fallback=r.strings("fallback"),
            flags=flags,
            tables=tables,
            columns=tuple(columns),
            cron=tuple(cron),
            activity=tuple(activity),
            error_logs=tuple(error_logs),
            steps=tuple(steps),
            abort_steps=_abort_steps(steps, flags, cron),
        )
        r.done()
        return phase

    def _schedule(self, schedule: str, path: PathKey, label: str) -> None:
        from croniter import croniter

        if not croniter.is_valid(schedule):
            self.fail(path, f"{label}: schedule \"{schedule}\" is not a valid cron expression")

    def _step(self, r: _Reader, phase_id: int, phase: dict[str, Any]) -> Step:
        step_id = r.str("id", required=True)
        r.label = f"phase {phase_id} step \"{step_id}\""
        if not STEP_ID.match(step_id):
            self.fail((*r.path, "id"), f"{r.label}: id must be lower-case letters, digits, - or _")
        kind = r.choice("kind", STEP_KINDS)
        tables: tuple[str, ...] = phase["tables"]

        def known_tables(key: str) -> tuple[str, ...]:
            names = r.identifiers(key, "table")
            for index, name in enumerate(names):
                if name not in tables:
                    self.fail((*r.path, key, index), f"{r.label}: unknown table \"{name}\"")
            return names

        drop_columns = []
        for c in r.tables("drop_columns"):
            c.label = r.label
            ref = ColumnRef(
                table=self.identifier(c.str("table", required=True), (*c.path, "table"), f"{r.label}: table"),
                column=self.identifier(c.str("column", required=True), (*c.path, "column"), f"{r.label}: column"),
            )
            if ref not in phase["columns"]:
                self.fail((*c.path, "column"), f"{r.label}: unknown column \"{ref.table}.{ref.column}\" (declare it in the phase's columns)")
            c.done()
            drop_columns.append(ref)
        step = Step(
            id=step_id,
            kind=kind,
            title=r.str("title", required=True),
            optional=r.bool("optional"),
            guard_tables=known_tables("guard_tables"),
            drop_tables=known_tables("drop_tables"),
            drop_columns=tuple(drop_columns),
            as_written=r.str("as_written"),
            tables=known_tables("tables"),
            activity=r.str("activity"),
            sql=r.str("sql"),
            command=r.strings("command"),
            expect=r.int("expect", default=0),
        )
        if kind == "migration":
            if not step.drop_tables and not step.drop_columns:
                self.fail(r.path, f"{r.label}: a migration needs drop_tables or drop_columns")
            if not step.guard_tables:
                self.fail(r.path, f"{r.label}: a migration needs guard_tables (the tables counted before any DROP)")
        elif step.drop_tables or step.drop_columns or step.guard_tables:
            self.fail(r.path, f"{r.label}: drop_tables/drop_columns/guard_tables belong to a migration step")
        if kind == "check":
            given = [bool(step.activity), bool(step.sql), bool(step.command)]
            if sum(given) != 1:
                self.fail(r.path, f"{r.label}: a check needs exactly one of activity, sql or command")
            if step.activity and step.activity not in {a.id for a in phase["activity"]}:
                self.fail((*r.path, "activity"), f"{r.label}: unknown activity check \"{step.activity}\"")
        if kind in ("flags_off", "flags_on") and not phase["flags"]:
            self.fail((*r.path, "kind"), f"{r.label}: the phase declares no flags")
        if kind in ("cron_stop", "cron_start") and not phase["cron"]:
            self.fail((*r.path, "kind"), f"{r.label}: the phase declares no cron jobs")
        r.done()
        return step


def _abort_steps(steps: list[Step], flags: tuple[str, ...], cron: list[CronJob]) -> tuple[Step, ...]:
    """Every phase can be undone even if the plan only describes going back: flags on
    again, the cockpit's cron lines restored — unless the plan declares its own."""
    declared = {s.kind for s in steps}
    ids = {s.id for s in steps}
    out = []
    if flags and "flags_on" not in declared and "flags-on" not in ids:
        out.append(Step(id="flags-on", kind="flags_on", title="Abort: turn the feature flags back on", optional=True))
    if cron and "cron_start" not in declared and "cron-start" not in ids:
        out.append(Step(id="cron-start", kind="cron_start", title="Abort: restore the cron jobs", optional=True))
    return tuple(out)


def parse_plan_text(text: str, path: Path) -> Plan:
    """Validate `text` as if it were the file at `path` (paths resolve next to it)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\(at line (\d+), column \d+\)", message)
        line = int(match.group(1)) if match else None
        reason = re.sub(r" ?\(at line.*\)", "", message)
        raise PlanError(path, line, f"TOML syntax error: {reason}") from None
    return _Loader(path, text).load(data)


def load_plan(path: str | Path) -> Plan:
    """Read and validate the plan file; raises PlanError with one operator-ready line."""
    path = Path(path).expanduser().absolute()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError(path, None, "no such plan file (use --config to name one)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(path, None, f"cannot read the plan: {exc.__class__.__name__}: {exc}") from None
    return parse_plan_text(text, path)


def default_plan_path() -> Path:
    """The plan shipped with the cockpit: the repository's phases.toml in a checkout,
    the packaged copy in an installed wheel."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package.parent / "phases.toml", package / "default_phases.toml"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("the default phases.toml is not installed")
