"""Load `phases.toml` into a validated `Plan`, or fail with one line naming file, line and key.

The loader is the only gate between operator-edited text and SQL, the crontab and child
processes: every identifier that will ever be back-quoted into a statement, every id
written into a crontab marker, every number that becomes a timeout is checked here, so no
later layer needs to trust a string it did not get from a validated plan. The file itself
is untrusted too (see file.py): only a small regular file is read, nesting and number
sizes are bounded before the TOML parser sees them.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from .errors import PlanError
from .file import MAX_NESTING, nesting_error, read_plan_text
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
from .names import (
    ACCOUNT,
    CONTROL,
    HOST,
    IDENTIFIER,
    LINE_BREAK,
    MAX_ACCOUNT,
    MAX_HOST,
    MAX_IDENTIFIER,
    MAX_SCRIPT,
    MAX_SLUG,
    SCRIPT,
    is_identifier,
    is_slug,
    shown,
)
from .secrets import credential_in_argv, credential_in_command

__all__ = ["IDENTIFIER", "PlanError", "default_plan_path", "load_plan", "parse_plan_text"]

RISKS = ("none", "low", "medium", "high")
IDENTIFIER_RULE = f"([A-Za-z_][A-Za-z0-9_]*) of at most {MAX_IDENTIFIER} characters"
SLUG_RULE = f"must be lower-case letters, digits, - or _ (at most {MAX_SLUG} characters)"
CREDENTIAL_HINT = "credentials never go in the plan; give the tool an option file or a protected environment"

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
MAX_ITEMS = 1000  # entries in any one list (flags, tables, steps, ...)


def _short(value: Any) -> str:
    """A value quoted into an error: bounded, escapes visible (a huge int cannot even be
    turned into decimal text)."""
    if isinstance(value, str):
        return f"'{shown(value, 60)}'"
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        return f"a {type(value).__name__} too large to show"
    return shown(text, 60)


def _fixed(label: str) -> Callable[[ColumnRef], str]:
    """A label that does not depend on the column (for `table_column`)."""
    return lambda _ref: label


def _closest(word: str, candidates: set[str]) -> str | None:
    found = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.75)
    return found[0] if found else None


class _Reader:
    """Typed access to one TOML table that reports errors with their line. Every getter
    records its key, so `done()` can refuse the keys nobody asked for."""

    def __init__(self, loader: _Loader, data: Any, path: PathKey, label: str) -> None:
        self.loader = loader
        self.path = path
        self.label = label
        if not isinstance(data, dict):
            loader.fail(path, f"{label}: expected a table, got {type(data).__name__}")
        self.data: dict[str, Any] = data
        self._allowed: set[str] = set()

    def fail(self, key: str | None, message: str, *more: object) -> NoReturn:
        """Fail at `key` (or this table's header) with the table's label in front."""
        where = self.path if key is None else (*self.path, key, *more)
        self.loader.fail(where, f"{self.label}: {message}")

    def _get(self, key: str, required: bool, default: Any) -> Any:
        self._allowed.add(key)
        if key not in self.data:
            if required:
                typo = _closest(key, set(self.data))
                hint = f" (found \"{shown(typo)}\": a typo?)" if typo else ""
                self.fail(typo, f"missing key \"{key}\"{hint}")
            return default
        return self.data[key]

    def _type_error(self, key: str, wanted: str, value: Any) -> NoReturn:
        self.fail(key, f"key \"{key}\" must be {wanted}, got {type(value).__name__} {_short(value)}")

    def _plain(self, key: str, value: str, single_line: bool, *index: int) -> str:
        bad = CONTROL.search(value) or (LINE_BREAK.search(value) if single_line else None)
        if bad:
            what = "a line break" if LINE_BREAK.match(bad.group(0)) else f"the control character U+{ord(bad.group(0)):04X}"
            item = f" item {index[0] + 1}" if index else ""
            self.fail(key, f"key \"{key}\"{item} holds {what}; plan text must be plain", *index)
        return value

    # -- scalars ------------------------------------------------------------------
    def text(self, key: str, required: bool = False, default: str = "") -> str:
        """Free text (titles, notes, SQL, templates): tabs and newlines allowed."""
        value = self._get(key, required, default)
        if not isinstance(value, str):
            self._type_error(key, "a string", value)
        return self._plain(key, value, single_line=False)

    def line(self, key: str, required: bool = False, default: str = "") -> str:
        """A one-line value: names, paths, patterns, schedules."""
        return self._plain(key, self.text(key, required, default), single_line=True)

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None) -> str:
        value = self.line(key, required=default is None, default=default or "")
        if value not in choices:
            self.fail(key, f"key \"{key}\" must be one of {', '.join(choices)}, got \"{shown(value)}\"")
        return value

    def _bounded(self, key: str, value: Any, bounds: tuple[float, float]) -> None:
        low, high = bounds
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(key, f"key \"{key}\" must be a finite number, got {value}")
        if value < low:
            self.fail(key, f"key \"{key}\" must be >= {low}, got {_short(value)}")
        if value > high:
            self.fail(key, f"key \"{key}\" must be <= {high}, got {_short(value)}")

    def number(self, key: str, bounds: tuple[float, float], required: bool = False, default: float = 0) -> float:
        value = self._get(key, required, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self._type_error(key, "a number", value)
        self._bounded(key, value, bounds)
        return value

    def whole(self, key: str, bounds: tuple[int, int], required: bool = False, default: int = 0) -> int:
        value = self._get(key, required, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self._type_error(key, "an integer", value)
        self._bounded(key, value, bounds)
        return value

    def boolean(self, key: str, default: bool = False) -> bool:
        value = self._get(key, False, default)
        if not isinstance(value, bool):
            self._type_error(key, "true or false", value)
        return value

    def identifier(self, key: str, what: str, required: bool = False, default: str = "") -> str:
        value = self.text(key, required, default)
        if value or required or default:
            self.loader.identifier(value, (*self.path, key), f"{self.label}: {what}")
        return value

    # -- lists --------------------------------------------------------------------
    def _list(self, key: str, required: bool, wanted: str) -> list[Any]:
        value = self._get(key, required, [])
        if not isinstance(value, list):
            self._type_error(key, wanted, value)
        if len(value) > MAX_ITEMS:
            self.fail(key, f"key \"{key}\" has {len(value)} entries, more than {MAX_ITEMS}")
        return value

    def texts(self, key: str, required: bool = False) -> tuple[str, ...]:
        values = self._list(key, required, "a list of strings")
        for index, item in enumerate(values):
            if not isinstance(item, str):
                self.fail(key, f"key \"{key}\" item {index + 1} must be a string, got {type(item).__name__}", index)
            self._plain(key, item, False, index)
        return tuple(values)

    def argv(self, key: str) -> tuple[str, ...]:
        """A command as an argv list (run without a shell). Refused if any word looks like
        a credential; the message names the kind, never the value."""
        values = self.texts(key)
        found = credential_in_argv(values)
        if found:
            index = next((i for i in range(len(values)) if credential_in_argv(values[: i + 1])), 0)
            self.fail(key, f"key \"{key}\" holds a credential ({found}); {CREDENTIAL_HINT}", index)
        return values

    def identifiers(self, key: str, what: str, required: bool = False) -> tuple[str, ...]:
        values = self.texts(key, required)
        for index, value in enumerate(values):
            self.loader.identifier(value, (*self.path, key, index), f"{self.label}: {what}")
        if len(set(values)) != len(values):
            dup = next(v for v in values if values.count(v) > 1)
            self.fail(key, f"{what} \"{dup}\" listed twice")
        return values

    def tables(self, key: str) -> list[_Reader]:
        values = self._list(key, False, "a list of tables")
        return [_Reader(self.loader, item, (*self.path, key, index), f"{self.label} {key}[{index + 1}]".strip())
                for index, item in enumerate(values)]

    def table(self, key: str, required: bool = False) -> _Reader:
        value = self._get(key, required, {})
        return _Reader(self.loader, value, (*self.path, key), f"{self.label}.{key}" if self.label else key)

    def done(self) -> None:
        """Refuse keys we do not know: a typo must not silently drop a safety setting."""
        for key in self.data:
            if key not in self._allowed:
                suggestion = _closest(key, self._allowed)
                hint = f" (did you mean \"{suggestion}\"?)" if suggestion else ""
                self.fail(key, f"unknown key \"{shown(key)}\"{hint}")


class _Loader:
    def __init__(self, path: Path, text: str) -> None:
        self.file = path
        self.base = path.parent
        self.text = text

    def fail(self, path: PathKey, message: str) -> NoReturn:
        # Lines are only needed to report an error, so the text is scanned for them then.
        raise PlanError(self.file, LineLocator(self.text).line(path), message.removeprefix(": "))

    # -- one helper per repeated rule ---------------------------------------------
    def identifier(self, value: str, path: PathKey, what: str) -> str:
        if not is_identifier(value):
            self.fail(path, f"{what} \"{shown(value)}\" is not a plain SQL identifier {IDENTIFIER_RULE}")
        return value

    def slug(self, r: _Reader, key: str, what: str, seen: set[str], duplicate: str) -> str:
        """An id (step, cron job, checklist item, activity check): checked whole — no
        trailing newline — and unique among its siblings."""
        value = r.text(key, required=True)
        if not is_slug(value):
            self.fail((*r.path, key), f"{what.replace('{}', shown(value))} {SLUG_RULE}")
        if value in seen:
            self.fail((*r.path, key), duplicate.replace("{}", value))
        seen.add(value)
        return value

    def table_column(self, r: _Reader, label: Callable[[ColumnRef], str], tables: tuple[str, ...]) -> ColumnRef:
        """`{ table = "...", column = "..." }`: both plain identifiers, the table one of the
        phase's own tables (`label` names the entry in the error)."""
        ref = ColumnRef(table=r.identifier("table", "table", required=True), column=r.identifier("column", "column", required=True))
        if ref.table not in tables:
            self.fail((*r.path, "table"), f"{label(ref)}: unknown table \"{ref.table}\"")
        return ref

    def relative(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.base / path)

    def path(self, r: _Reader, key: str, required: bool = False, default: str = "") -> Path | None:
        value = r.line(key, required=required, default=default)
        return self.relative(value) if value else None

    def named(self, r: _Reader, key: str, pattern: re.Pattern[str], limit: int, what: str) -> str:
        value = r.line(key)
        if value and (len(value) > limit or not pattern.fullmatch(value)):
            r.fail(key, f"key \"{key}\" \"{shown(value)}\" is not a valid {what}")
        return value

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
        sandbox = root.boolean("sandbox", False)
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
        from .smoke import KEY as SMOKE  # smoke checks (issue 12): kept in Plan.extra
        from .smoke import parse_smoke

        smoke = parse_smoke(root.tables(SMOKE), {p.id for p in phases}, self)
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
            extra={SMOKE: smoke},
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

    def _target(self, r: _Reader) -> Target:
        kind = r.choice("kind", ("mysql", "sqlite"))
        for secret in ("password", "passwd", "pass"):
            if secret in r.data:
                r.fail(secret, "credentials never go in the plan; use the option file, MYSQL_PWD or the prompt")
        path = self.path(r, "path", required=kind == "sqlite")
        target = Target(
            kind=kind,
            host=self.named(r, "host", HOST, MAX_HOST, "host name or address") or "127.0.0.1",
            port=r.whole("port", PORT, default=3306),
            database=r.identifier("database", "database", required=kind == "mysql"),
            socket=r.line("socket"),
            option_file=r.line("option_file"),
            user=r.line("user"),
            path=path,
            statement_timeout_ms=r.whole("statement_timeout_ms", STATEMENT_TIMEOUT_MS, default=30000),
            lock_wait_timeout_s=r.whole("lock_wait_timeout_s", LOCK_WAIT_TIMEOUT_S, default=5),
        )
        r.done()
        return target

    def _flag_store(self, r: _Reader) -> FlagStore:
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

    def _cron(self, r: _Reader) -> CronSource:
        source = r.choice("source", ("user", "file", "system"), default="user")
        user = self.named(r, "user", ACCOUNT, MAX_ACCOUNT, "user name")
        cron = CronSource(source=source, user=user, path=self.path(r, "path", required=source in ("file", "system")))
        r.done()
        return cron

    def _watch(self, r: _Reader) -> Watch:
        watch = Watch(
            hours=r.number("hours", WATCH_HOURS, default=24),
            extended_hours=r.number("extended_hours", WATCH_HOURS, default=48),
            refresh_seconds=r.number("refresh_seconds", REFRESH_SECONDS, default=5),
            idle_refresh_seconds=r.number("idle_refresh_seconds", REFRESH_SECONDS, default=30),
            notify_urls_file=self.relative(r.line("notify_urls_file")) if r.line("notify_urls_file") else None,
        )
        r.done()
        return watch

    def _paths(self, r: _Reader) -> Paths:
        journal = self.path(r, "journal", default="cockpit-journal.sqlite3")
        backup_dir = self.path(r, "backup_dir", default="backups")
        assert journal is not None and backup_dir is not None
        host_disks = r.texts("host_disks") or ("/",)
        for index, disk in enumerate(host_disks):
            r._plain("host_disks", disk, True, index)
        paths = Paths(journal=journal, backup_dir=backup_dir, host_disks=host_disks)
        r.done()
        return paths

    def _log(self, r: _Reader) -> LogConfig:
        file = self.path(r, "file", required=True)
        assert file is not None
        log = LogConfig(file=file, template=r.text("template", required=True))
        for field_name in ("Date", "Phase", "Reason", "Rolled Back By", "Duration", "Data Loss", "Issues Encountered", "Resolution"):
            if f"**{field_name}:**" not in log.template:
                r.fail("template", f"template lacks the field \"**{field_name}:**\"")
        r.done()
        return log

    def _checklist(self, parent: _Reader, which: str) -> tuple[ChecklistItem, ...]:
        items = []
        seen: set[str] = set()
        for r in parent.tables(which):
            item_id = self.slug(r, "id", f"checklist {which}: id \"{{}}\"", seen, f"checklist {which}: duplicate item id \"{{}}\"")
            item = ChecklistItem(id=item_id, text=r.line("text", required=True), evidence=r.line("evidence"))
            if item.evidence and item.evidence not in EVIDENCE_KINDS:
                self.fail((*r.path, "evidence"), f"checklist {which} \"{item.id}\": unknown evidence \"{shown(item.evidence)}\" "
                                                 f"(one of {', '.join(EVIDENCE_KINDS)})")
            r.done()
            items.append(item)
        return tuple(items)

    def _emergency(self, r: _Reader, phases: list[Phase]) -> Emergency:
        declared = {flag for phase in phases for flag in phase.flags}
        r.label = "emergency"
        flags = r.identifiers("flags", "flag", required=True)
        for index, flag in enumerate(flags):
            if flag not in declared:
                r.fail("flags", f"unknown flag \"{flag}\" (not declared by any phase)", index)
        emergency = Emergency(
            title=r.line("title", default="Emergency rollback"),
            flags=flags,
            budget_minutes=r.number("budget_minutes", BUDGET_MINUTES, required=True),
            data_loss_risk=r.choice("data_loss_risk", RISKS),
            data_loss_reason=r.text("data_loss_reason"),
            effects=r.texts("effects"),
        )
        r.done()
        return emergency

    # -- a phase ------------------------------------------------------------------
    def _phase(self, r: _Reader) -> Phase:
        phase_id = r.whole("id", PHASE_ID, required=True)
        r.label = f"phase {phase_id}"
        flags = r.identifiers("flags", "flag")
        tables = r.identifiers("tables", "table")
        columns = self._columns(r, phase_id, tables)
        cron = self._cron_jobs(r, phase_id)
        activity = self._activity(r, phase_id, tables)
        error_logs = self._error_logs(r, phase_id)
        shell = _PhaseShell(flags, tables, columns, activity, cron)
        steps: list[Step] = []
        seen: set[str] = set()
        for s in r.tables("step"):
            steps.append(self._step(s, phase_id, shell, seen))
        if not steps:
            r.fail(None, "declares no [[phase.step]]")
        phase = Phase(
            id=phase_id,
            name=r.line("name", required=True),
            budget_minutes=r.number("budget_minutes", BUDGET_MINUTES, required=True),
            data_loss_risk=r.choice("data_loss_risk", RISKS),
            data_loss_reason=r.text("data_loss_reason"),
            fallback=r.texts("fallback"),
            flags=flags,
            tables=tables,
            columns=columns,
            cron=cron,
            activity=activity,
            error_logs=error_logs,
            steps=tuple(steps),
            abort_steps=_abort_steps(steps, flags, list(cron)),
        )
        r.done()
        return phase

    def _columns(self, r: _Reader, phase_id: int, tables: tuple[str, ...]) -> tuple[ColumnRef, ...]:
        columns = []
        for c in r.tables("columns"):
            c.label = f"phase {phase_id}"
            ref = self.table_column(c, lambda ref: f"phase {phase_id} column {ref.column}", tables)
            c.done()
            columns.append(ref)
        return tuple(columns)

    def _cron_jobs(self, r: _Reader, phase_id: int) -> tuple[CronJob, ...]:
        jobs: list[CronJob] = []
        seen: set[str] = set()
        for c in r.tables("cron"):
            c.label = f"phase {phase_id} cron"
            job_id = self.slug(c, "id", f"phase {phase_id} cron: id \"{{}}\"", seen, f"phase {phase_id}: duplicate cron job id \"{{}}\"")
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

    def _activity(self, r: _Reader, phase_id: int, tables: tuple[str, ...]) -> tuple[ActivityCheck, ...]:
        checks = []
        seen: set[str] = set()
        for a in r.tables("activity"):
            a.label = f"phase {phase_id} activity"
            check_id = self.slug(a, "id", f"phase {phase_id} activity: id \"{{}}\"", seen,
                                 f"phase {phase_id}: duplicate activity id \"{{}}\"")
            ref = self.table_column(a, _fixed(f"phase {phase_id} activity \"{check_id}\""), tables)
            check = ActivityCheck(
                id=check_id,
                text=a.line("text", required=True),
                table=ref.table,
                column=ref.column,
                window_minutes=a.whole("window_minutes", WINDOW_MINUTES, default=5),
            )
            a.done()
            checks.append(check)
        return tuple(checks)

    def _error_logs(self, r: _Reader, phase_id: int) -> tuple[ErrorLog, ...]:
        logs = []
        for e in r.tables("error_logs"):
            e.label = f"phase {phase_id} error_logs"
            pattern = e.line("pattern", required=True)
            problem = _re2_problem(pattern)
            if problem:
                e.fail("pattern", f"bad pattern \"{shown(pattern)}\": {problem}")
            path = self.path(e, "path", required=True)
            assert path is not None
            logs.append(ErrorLog(path=path, pattern=pattern))
            e.done()
        return tuple(logs)

    def _schedule(self, schedule: str, path: PathKey, label: str) -> None:
        from croniter import croniter

        if len(schedule) > 200 or not croniter.is_valid(schedule):
            self.fail(path, f"{label}: schedule \"{shown(schedule)}\" is not a valid cron expression")

    # -- a step -------------------------------------------------------------------
    def _step(self, r: _Reader, phase_id: int, phase: _PhaseShell, seen: set[str]) -> Step:
        raw_id = r.data.get("id")
        r.label = f"phase {phase_id} step \"{shown(raw_id) if isinstance(raw_id, str) else raw_id}\""
        step_id = self.slug(r, "id", f"{r.label}: id", seen, f"phase {phase_id}: duplicate step id \"{{}}\"")
        kind = r.choice("kind", STEP_KINDS)

        def known_tables(key: str) -> tuple[str, ...]:
            names = r.identifiers(key, "table")
            for index, name in enumerate(names):
                if name not in phase.tables:
                    r.fail(key, f"unknown table \"{name}\"", index)
            return names

        drop_columns = []
        for c in r.tables("drop_columns"):
            c.label = r.label
            ref = self.table_column(c, _fixed(r.label), phase.tables)
            if ref not in phase.columns:
                c.fail("column", f"unknown column \"{ref.table}.{ref.column}\" (declare it in the phase's columns)")
            c.done()
            drop_columns.append(ref)
        step = Step(
            id=step_id,
            kind=kind,
            title=r.line("title", required=True),
            optional=r.boolean("optional"),
            guard_tables=known_tables("guard_tables"),
            drop_tables=known_tables("drop_tables"),
            drop_columns=tuple(drop_columns),
            as_written=r.text("as_written"),
            tables=known_tables("tables"),
            activity=r.line("activity"),
            sql=r.text("sql"),
            command=r.argv("command"),
            expect=r.whole("expect", EXPECT, default=0),
        )
        if kind == "migration":
            if not step.drop_tables and not step.drop_columns:
                r.fail(None, "a migration needs drop_tables or drop_columns")
            if not step.guard_tables:
                r.fail(None, "a migration needs guard_tables (the tables counted before any DROP)")
        elif step.drop_tables or step.drop_columns or step.guard_tables:
            r.fail(None, "drop_tables/drop_columns/guard_tables belong to a migration step")
        if kind == "check":
            given = [bool(step.activity), bool(step.sql), bool(step.command)]
            if sum(given) != 1:
                r.fail(None, "a check needs exactly one of activity, sql or command")
            if step.activity and step.activity not in {a.id for a in phase.activity}:
                r.fail("activity", f"unknown activity check \"{shown(step.activity)}\"")
        if kind in ("flags_off", "flags_on") and not phase.flags:
            r.fail("kind", "the phase declares no flags")
        if kind in ("cron_stop", "cron_start") and not phase.cron:
            r.fail("kind", "the phase declares no cron jobs")
        r.done()
        return step


class _PhaseShell:
    """What a step may refer to in its phase, read before the steps."""

    def __init__(self, flags: tuple[str, ...], tables: tuple[str, ...], columns: tuple[ColumnRef, ...],
                 activity: tuple[ActivityCheck, ...], cron: tuple[CronJob, ...]) -> None:
        self.flags = flags
        self.tables = tables
        self.columns = columns
        self.activity = activity
        self.cron = cron


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


def _toml(text: str, path: Path) -> dict[str, Any]:
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


def _depth_error(data: Any) -> PathKey | None:
    """Key path of the first value nested deeper than MAX_NESTING tables/arrays (dotted
    keys and table headers nest too, without brackets the pre-scan could count)."""
    stack: list[tuple[Any, PathKey]] = [(data, ())]
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
