"""SIGKILL the cockpit at every named point inside `cockpit run 10 STEP --execute`, for
every kind of step that changes something (flags_off, cron_stop, quarantine, backup, the
final drop), on the SQLite sandbox and on MariaDB.

Each kill lands exactly where its name says: the child runs with
`COCKPIT_FAULT=<point>:kill` (cockpit/faults.py) and SIGKILLs itself there, so the path
a kill exercises does not depend on how fast the machine is, and a point the run never
reaches fails the test (the child would exit 0 instead of dying of SIGKILL). Points per
kind: right after the step's intent is journalled (nothing done yet), inside the action
(after the flag UPDATE, after the crontab rewrite, after the RENAME's intent / after the
RENAME, mid-dump / dump verified but not yet under its name, after a DROP's intent /
after the second DROP), and after the action returned but before its outcome is
journalled. After each kill:
  - the journal opens and reads (ids in order) and the step reads `interrupted — verify`
    (an intent without an outcome), never `done`;
  - whether the action took effect is what the point implies (asserted per point);
  - no row is lost: every quarantined table holds the rows the production table had,
    and every verified backup still matches its hash;
  - the lock is free (a new cockpit is not read-only);
  - re-running the step finishes `done` and does not do the action twice (one marker per
    cron job, the flag said "already off", the tables said "already quarantined" /
    "absent"), and the next step of the phase runs on the result.
Each kill point starts from its own fresh sandbox with the prerequisites already run.
"""

from __future__ import annotations

import itertools
import signal
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cockpit.cron.scan import MARKER_TAG
from cockpit.engine import Engine
from cockpit.engine import state as engine_state
from cockpit.engine.guards import sha256_of
from cockpit.engine.statements import quarantine_name
from cockpit.faults import ENV as FAULT_ENV
from cockpit.faults import POINTS
from cockpit.journal import Journal
from cockpit.plan import Plan, load_plan
from cockpit.sandbox import MysqlSpec, create_sandbox

from . import cli


@dataclass
class World:
    """One fresh sandbox: its config, plan and a root-level view of its database."""

    config: Path
    plan: Plan
    sql: Callable[[str], list[tuple[Any, ...]]]
    dialect: str

    def tables(self) -> set[str]:
        if self.dialect == "sqlite":
            return {r[0] for r in self.sql("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {r[0] for r in self.sql("SHOW TABLES")}

    def count(self, table: str) -> int:
        return int(self.sql(f"SELECT COUNT(*) FROM {table}")[0][0])

    def events(self, kinds: list[str] | None = None) -> list[Any]:
        journal = Journal(self.plan.paths.journal, self.plan.target.label, "inspector")
        try:
            return journal.events(kinds=kinds)
        finally:
            journal.close()


@pytest.fixture(params=["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)])
def new_world(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], World]:
    """A factory of fresh sandboxes on the parametrised backend."""
    numbers = itertools.count(1)
    if request.param == "sqlite":
        def make() -> World:
            result = create_sandbox(tmp_path / f"sb{next(numbers)}")
            plan = load_plan(result.config_path)

            def sql(query: str) -> list[tuple[Any, ...]]:
                with sqlite3.connect(plan.target.path) as conn:
                    rows = conn.execute(query).fetchall()
                conn.close()
                return rows
            return World(result.config_path, plan, sql, "sqlite")
        make.dialect = "sqlite"  # type: ignore[attr-defined]
        return make

    mariadb = request.getfixturevalue("mariadb")
    monkeypatch.delenv("MYSQL_PWD", raising=False)
    monkeypatch.delenv("COCKPIT_MYSQL_USER", raising=False)

    def make_mysql() -> World:
        n = next(numbers)
        database = mariadb.new_database()
        option_file = tmp_path / f"my{n}.cnf"
        option_file.write_text(f"[client]\nuser={mariadb.user}\npassword={mariadb.password}\n", encoding="utf-8")
        option_file.chmod(0o600)
        spec = MysqlSpec(host=mariadb.host, port=mariadb.port, database=database, user=mariadb.user, option_file=str(option_file))
        result = create_sandbox(tmp_path / f"sb{n}", mysql=spec)
        return World(result.config_path, load_plan(result.config_path),
                     lambda query: mariadb.root_execute(query, database=database), "mariadb")
    make_mysql.dialect = "mariadb"  # type: ignore[attr-defined]
    return make_mysql


async def _run_steps(plan: Plan, *steps: str, override: str | None = None) -> None:
    engine = await Engine.open(plan, operator="prep")
    try:
        for step in steps:
            outcome = await engine.execute(10, step, confirm="10", override_reason=override)
            assert outcome.status == "done", (step, outcome)
    finally:
        await engine.close()


def _check_interrupted(world: World, step: str) -> None:
    """The journal after a kill between intent and outcome: readable, ordered, and the
    step `interrupted`, never done."""
    events = world.events()
    ids = [e.id for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    mine = [e for e in events if e.phase == 10 and e.step == step and e.kind in ("step_intent", "step_outcome")]
    assert mine and mine[-1].kind == "step_intent", "the killed run left an outcome after its intent"
    assert engine_state.step_record(events, 10, step).status == "interrupted"


def _verified_backups_intact(world: World) -> None:
    for event in world.events(kinds=["backup_verified"]):
        path = Path(event.data["path"])
        assert path.exists(), f"verified backup {path} is gone"
        assert sha256_of(path) == event.data["sha256"], f"verified backup {path} was overwritten after it was verified"


class Kind:
    """What one step kind changes, where to crash it, how to tell it happened once."""

    step = ""
    prerequisites: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    override: str | None = None
    confirm: str | None = None
    next_step: str | None = None
    # point -> did the action take effect when the process died there
    points: dict[str, bool] = {}
    mariadb_only: frozenset[str] = frozenset()
    sqlite_only = False

    def __init__(self, world: World) -> None:
        self.world = world

    def remember(self) -> None:
        """What must survive: read once the prerequisites ran, before the kill."""

    def effect_done(self) -> bool:
        raise NotImplementedError

    def check_once(self, output: tuple[str, ...], effect_before: bool) -> None:
        raise NotImplementedError


class FlagsOff(Kind):
    step = "flags-off"
    next_step = "cron-stop"
    points = {"step.after_intent": False, "flags.after_update": True, "step.before_outcome": True}

    def _enabled(self) -> list[tuple[Any, ...]]:
        return self.world.sql("SELECT enabled FROM feature_flag WHERE flag_key = 'enable_production_dashboard'")

    def effect_done(self) -> bool:
        return int(self._enabled()[0][0]) == 0

    def check_once(self, output: tuple[str, ...], effect_before: bool) -> None:
        assert self.effect_done() and len(self._enabled()) == 1
        assert any("already off" in line for line in output) == effect_before, output


class CronStop(Kind):
    step = "cron-stop"
    prerequisites = ("flags-off",)
    next_step = "quarantine"
    confirm = "10"
    points = {"step.after_intent": False, "cron.after_edit": True, "step.before_outcome": True}
    sqlite_only = True  # the crontab edit touches no database: on MariaDB it would repeat the SQLite run exactly

    def _text(self) -> str:
        return Path(self.world.plan.cron_source.path).read_text()

    def effect_done(self) -> bool:
        return MARKER_TAG in self._text()

    def check_once(self, output: tuple[str, ...], effect_before: bool) -> None:
        text = self._text()
        assert text.count(MARKER_TAG) == 1, text
        assert text.count("refresh_dashboard_materialized_views.php") == 1, text
        assert text.count("people_sync_operators.php") == 1 and MARKER_TAG not in next(
            line for line in text.splitlines() if "people_sync_operators.php" in line)
        assert not [p for p in Path(self.world.plan.cron_source.path).parent.iterdir() if p.name.endswith(".cockpit-tmp")]
        edits = [line for line in output if line.startswith("refresh-dashboard-mv:")]
        assert len(edits) == (0 if effect_before else 1), output


class TableKind(Kind):
    """Quarantine, backup and drop move or copy production's tables: the rows each had
    before the kill must all be somewhere afterwards."""

    def remember(self) -> None:
        self.rows: dict[str, int] = {}
        present = self.world.tables()
        for table in self.world.plan.phase(10).tables:
            name = table if table in present else quarantine_name(10, table)
            self.rows[table] = self.world.count(name) if name in present else 0
        assert sum(self.rows.values()) > 0, "the sandbox seeded no rows: the crash would prove nothing"

    def quarantined(self) -> set[str]:
        return self.world.tables() & {quarantine_name(10, t) for t in self.world.plan.phase(10).tables}

    def no_row_lost(self) -> None:
        present = self.world.tables()
        for table, rows in self.rows.items():
            q = quarantine_name(10, table)
            where = [n for n in (table, q) if n in present]
            assert len(where) == 1, f"{table}: found as {where}"
            assert self.world.count(where[0]) == rows, f"{where[0]}: rows lost or added by the crash"


class Quarantine(TableKind):
    step = "quarantine"
    prerequisites = ("flags-off", "cron-stop")
    extra = ("--confirm", "10")
    confirm = "10"
    next_step = "backup"
    points = {"step.after_intent": False, "quarantine.after_intent": False, "quarantine.after_rename": True,
              "step.before_outcome": True}

    def effect_done(self) -> bool:
        return not self.world.tables() & set(self.world.plan.phase(10).tables)

    def check_once(self, output: tuple[str, ...], effect_before: bool) -> None:
        assert self.effect_done() and len(self.quarantined()) == len(self.world.plan.phase(10).tables)
        self.no_row_lost()
        assert any("already quarantined" in line for line in output) == effect_before, output


class Backup(TableKind):
    step = "backup"
    prerequisites = ("flags-off", "cron-stop", "quarantine")
    next_step = "drop"
    override = "crash drill: the watch is not the point"
    points = {"step.after_intent": False, "backup.mid_dump": False, "backup.before_replace": False,
              "step.before_outcome": True}
    mariadb_only = frozenset({"backup.mid_dump"})  # the SQLite sandbox's dump is one call in a thread

    def effect_done(self) -> bool:
        return bool(self.world.events(kinds=["backup_verified"]))

    def check_once(self, output: tuple[str, ...], effect_before: bool) -> None:
        paths = [e.data["path"] for e in self.world.events(kinds=["backup_verified"])]
        assert len(paths) == 1 + effect_before and len(set(paths)) == len(paths), paths
        assert not [p for p in paths if p.endswith(".partial")], paths  # a killed dump's .partial is never vouched for
        # and the re-run swept what the killed one left: no stray copy of production's
        # rows, no empty file under a backup's name
        left = sorted(p.name for p in self.world.plan.paths.backup_dir.iterdir()
                      if p.name.endswith(".partial") or (p.is_file() and p.stat().st_size == 0))
        assert left == [], left
        self.no_row_lost()


class Drop(TableKind):
    step = "drop"
    prerequisites = ("flags-off", "cron-stop", "quarantine", "backup")
    extra = ("--confirm", "10", "--override", "crash drill: the watch is not the point")
    confirm = "10"
    override = "crash drill: the watch is not the point"
    points = {"step.after_intent": False, "drop.after_intent": False, "drop.after_drop@2": True, "step.before_outcome": True}

    def effect_done(self) -> bool:
        return len(self.quarantined()) < len(self.world.plan.phase(10).tables)

    def remember(self) -> None:
        super().remember()
        verified = self.world.events(kinds=["backup_verified"])
        assert len(verified) == 1
        self.backed_up = verified[0].data["rows"]

    def no_row_lost(self) -> None:
        """A table not yet dropped still holds all its rows; a dropped one's rows are in
        the verified backup the drop's guard checked (hash intact: _verified_backups_intact)."""
        assert self.backed_up == {quarantine_name(10, t): n for t, n in self.rows.items()}, (self.backed_up, self.rows)
        present = self.world.tables()
        for table, rows in self.rows.items():
            assert table not in present, f"{table} is back under its production name"
            q = quarantine_name(10, table)
            if q in present:
                assert self.world.count(q) == rows, f"{q}: rows lost or added by the crash"

    def check_once(self, output: tuple[str, ...], effect_before: bool) -> None:
        assert self.quarantined() == set()
        self.no_row_lost()
        assert any("absent" in line for line in output) == effect_before, output


class Restore(TableKind):
    """The undo of a quarantine: killed after its RENAME, the tables are back under their
    names with every row; the re-run finds them there, records the restore, and the
    phase can be quarantined again."""

    step = "restore"
    prerequisites = ("flags-off", "cron-stop", "quarantine")
    extra = ("--confirm", "10")
    confirm = "10"
    next_step = "quarantine"
    points = {"step.after_intent": False, "restore.after_rename": True, "step.before_outcome": True}

    def effect_done(self) -> bool:
        return set(self.world.plan.phase(10).tables) <= self.world.tables()

    def check_once(self, output: tuple[str, ...], effect_before: bool) -> None:
        assert self.effect_done() and self.quarantined() == set()
        self.no_row_lost()
        assert any(line.startswith("renamed back") for line in output) == (not effect_before), output


KINDS: dict[str, type[Kind]] = {"flags_off": FlagsOff, "cron_stop": CronStop, "quarantine": Quarantine,
                                "backup": Backup, "migration": Drop, "restore": Restore}
CASES = [(kind, point) for kind, cls in KINDS.items() for point in cls.points]


def test_every_point_named_here_exists() -> None:
    """A renamed point would make its kill silently never fire; each one is in cockpit/faults.py."""
    for _, cls in KINDS.items():
        for point in cls.points:
            assert point.partition("@")[0] in POINTS, point


@pytest.mark.parametrize(("kind_name", "point"), CASES, ids=[f"{k}-{p}" for k, p in CASES])
async def test_sigkill_at_a_named_point_never_loses_or_doubles(kind_name: str, point: str, new_world: Callable[[], World]) -> None:
    cls = KINDS[kind_name]
    if point in cls.mariadb_only and new_world.dialect != "mariadb":  # type: ignore[attr-defined]
        pytest.skip(f"{point} is on the MariaDB path only")
    if cls.sqlite_only and new_world.dialect != "sqlite":  # type: ignore[attr-defined]
        pytest.skip(f"{cls.step} changes no database: the SQLite run covers it")
    world = new_world()
    kind = cls(world)
    await _run_steps(world.plan, *kind.prerequisites, override=kind.override)
    kind.remember()
    name, _, nth = point.partition("@")
    fault = f"{name}:kill" + (f"@{nth}" if nth else "")

    killed = cli.run("run", "10", kind.step, "--execute", *kind.extra, "--config", str(world.config), env={FAULT_ENV: fault})
    assert killed.code == -signal.SIGKILL, f"the run never reached {point}: {killed}"

    _check_interrupted(world, kind.step)
    effect_before = kind.effect_done()
    assert effect_before == kind.points[point], f"{point}: the action {'did' if effect_before else 'did not'} take effect"
    if isinstance(kind, TableKind):
        kind.no_row_lost()
    _verified_backups_intact(world)

    engine = await Engine.open(world.plan, operator="recover")
    try:
        assert not engine.read_only, f"{point}: the killed cockpit's lock outlived it ({engine.read_only_reason})"
        view = next(v for v in engine.step_views(10) if v.step.id == kind.step)
        assert view.label == "interrupted — verify", view
        outcome = await engine.execute(10, kind.step, confirm=kind.confirm, override_reason=kind.override)
        assert outcome.status == "done", f"{point}: {outcome}"
        kind.check_once(outcome.output, effect_before)
        assert next(v for v in engine.step_views(10) if v.step.id == kind.step).status == "done"
        if kind.next_step is not None:
            after = await engine.execute(10, kind.next_step, confirm="10", override_reason=kind.override)
            assert after.status == "done", f"after recovering from {point}, {kind.next_step}: {after}"
    finally:
        await engine.close()
    _verified_backups_intact(world)


async def test_back_to_back_backups_never_overwrite_a_verified_one(sandbox: Path, open_engine) -> None:
    """Two backups within one second (the clock does not move here) must be two files:
    a retry, or a second run killed mid-dump, must never replace the dump an earlier
    `backup_verified` vouches for."""
    engine = await open_engine(sandbox)
    for step in ("flags-off", "cron-stop", "quarantine"):
        assert (await engine.execute(10, step, confirm="10")).status == "done"
    first = await engine.execute(10, "backup")
    second = await engine.execute(10, "backup")
    assert first.status == "done" and second.status == "done", (first, second)
    paths = [e.data["path"] for e in engine.journal.events(kinds=["backup_verified"])]
    assert len(paths) == 2 and len(set(paths)) == 2, f"both backups were written to the same file: {paths}"
    for event in engine.journal.events(kinds=["backup_verified"]):
        assert sha256_of(Path(event.data["path"])) == event.data["sha256"], event.data


async def test_sigkill_after_the_emergency_intent_changes_nothing_and_the_rerun_turns_every_flag_off(
        new_world: Callable[[], World]) -> None:
    """The emergency's own point: killed after its intent is journalled and before any flag
    is written, the flags are as they were, the lock dies with the process, the journal
    holds an intent with no outcome, and running the emergency again turns every flag off."""
    world = new_world()
    keys = world.plan.emergency.flags
    in_list = ", ".join(f"'{k}'" for k in keys)

    def enabled() -> dict[str, int]:
        return {str(k): int(v) for k, v in world.sql(f"SELECT flag_key, enabled FROM feature_flag WHERE flag_key IN ({in_list})")}

    before = enabled()
    assert set(before) == set(keys) and any(before.values()), before
    killed = cli.run("emergency", "--execute", "--confirm", "EMERGENCY", "--config", str(world.config),
                     env={FAULT_ENV: "emergency.after_intent:kill"})
    assert killed.code == -signal.SIGKILL, f"the emergency never reached its point: {killed}"
    assert enabled() == before, "a flag changed before the emergency's first write"
    kinds = [e.kind for e in world.events(kinds=["emergency_intent", "emergency_outcome"])]
    assert kinds == ["emergency_intent"], kinds

    status = cli.run("status", "--config", str(world.config))  # no lock held, the killed holder is gone
    assert status.stdout.startswith("EMERGENCY ROLLBACK INTERRUPTED"), status
    assert "cockpit emergency --execute" in status.stdout.splitlines()[0], status

    engine = await Engine.open(world.plan, operator="recover")
    try:
        assert not engine.read_only, f"the killed cockpit's lock outlived it ({engine.read_only_reason})"
        warning = engine.emergency_warning(None)  # what the board says before anything is re-run
        assert warning is not None and "EMERGENCY ROLLBACK INTERRUPTED" in warning.text and not warning.running, warning
        outcome = await engine.emergency_execute(confirm="EMERGENCY")
        assert outcome.status == "done", outcome
        assert engine.emergency_warning(None) is None
    finally:
        await engine.close()
    assert set(enabled().values()) == {0}, enabled()
    kinds = [e.kind for e in world.events(kinds=["emergency_intent", "emergency_outcome"])]
    assert kinds == ["emergency_intent", "emergency_intent", "emergency_outcome"], kinds
    assert "EMERGENCY" not in cli.run("status", "--config", str(world.config)).stdout
