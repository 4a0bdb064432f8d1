"""SIGKILL the cockpit anywhere inside `cockpit run 10 STEP --execute`, for every kind of
step that changes something (flags_off, cron_stop, backup, migration).

Kill points per kind: at process start, right after the intent is journalled (the
engine's pause hook), and at staggered delays after the intent appears in the journal
(0 to 128 ms), which lands inside the action itself. After each kill:
  - the journal opens and reads (ids in order),
  - the step is `interrupted` (intent, no outcome) or finished with its outcome — never
    `done` without a done outcome paired with the last intent,
  - the lock is free (a new cockpit is not read-only),
  - re-running the step finishes and does not do the action twice (one marker per cron
    job, the flag off once, every verified backup still matches its hash, a migration
    that already dropped tables says they are absent).
Then the live state is reset to the pristine sandbox for the next kill point.
"""

from __future__ import annotations

import signal
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from cockpit.cron.scan import MARKER_TAG
from cockpit.engine import PAUSE_HOOK, Engine
from cockpit.engine import state as engine_state
from cockpit.engine.guards import sha256_of
from cockpit.engine.statements import quarantine_name
from cockpit.journal import Journal
from cockpit.plan import load_plan

from . import cli

INTENT_DELAYS_S = (
    0.0, 0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.006,
    0.008, 0.012, 0.016, 0.024, 0.032, 0.048, 0.064, 0.096, 0.128,
)  # with "at start" and the pause hook: 23 kill points per step kind
FINAL = {"done", "failed", "refused", "interrupted"}


@dataclass
class KillReport:
    label: str
    status: str | None  # the step's status on restart


def _copy_db(src: Path, dst: Path) -> None:
    """Copy a WAL-mode SQLite database through the backup API (WAL contents included)."""
    with sqlite3.connect(src) as source, sqlite3.connect(dst) as target:
        source.backup(target)
    source.close()
    target.close()


def _max_intent(journal_path: Path) -> int:
    if not journal_path.exists():
        return 0
    conn = sqlite3.connect(f"file:{journal_path}?mode=ro", uri=True, timeout=5)
    try:
        return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM event WHERE kind = 'step_intent'").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def _kill_run(config: Path, plan, step: str, *, extra: tuple[str, ...], after_intent: float | None,
              at_start: float | None = None, hook: bool = False) -> int | None:
    """Start `cockpit run 10 STEP --execute` and SIGKILL it at the chosen point.
    Returns the exit code if the process finished before the kill (None when killed)."""
    baseline = _max_intent(plan.paths.journal)
    env = {PAUSE_HOOK: "30"} if hook else {}
    proc = cli.start("run", "10", step, "--execute", *extra, "--config", str(config), env=env)
    try:
        if at_start is not None:
            time.sleep(at_start)
        else:
            deadline = time.monotonic() + 30
            while _max_intent(plan.paths.journal) <= baseline:
                if proc.poll() is not None:
                    return proc.returncode
                if time.monotonic() > deadline:
                    raise AssertionError("the step intent never appeared")
                time.sleep(0.0005)
            if after_intent:
                time.sleep(after_intent)
        if proc.poll() is not None:
            return proc.returncode
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        return None
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()


def _check_journal(plan, step: str) -> str | None:
    """The journal after a kill: readable, ordered, and never done without its outcome."""
    journal = Journal(plan.paths.journal, plan.target.label, "inspector")
    try:
        events = journal.events()
    finally:
        journal.close()
    ids = [e.id for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    record = engine_state.step_record(events, 10, step)
    assert record.status in FINAL | {None}
    mine = [e for e in events if e.phase == 10 and e.step == step and e.kind in ("step_intent", "step_outcome")]
    intents = [e for e in mine if e.kind == "step_intent"]
    if record.status == "done":
        last_outcome = [e for e in mine if e.kind == "step_outcome"][-1]
        assert last_outcome.data["status"] == "done"
        assert last_outcome.data.get("intent_id") == intents[-1].id, "done must pair with the last intent"
        assert last_outcome.id > intents[-1].id
    if intents and not any(e.kind == "step_outcome" and e.data.get("intent_id") == intents[-1].id for e in mine):
        assert record.status == "interrupted", record
    return record.status


def _verified_backups_intact(plan) -> None:
    journal = Journal(plan.paths.journal, plan.target.label, "inspector")
    try:
        backups = journal.events(kinds=["backup_verified"])
    finally:
        journal.close()
    for event in backups:
        path = Path(event.data["path"])
        assert path.exists(), f"verified backup {path} is gone"
        assert sha256_of(path) == event.data["sha256"], f"verified backup {path} was overwritten after it was verified"


class Kind:
    """What one step kind changes, how to tell it happened exactly once, how to undo it."""

    step = ""
    extra: tuple[str, ...] = ()

    def __init__(self, config: Path) -> None:
        self.config = config
        self.plan = load_plan(config)
        self.db_path = Path(self.plan.target.path)
        self.crontab = Path(self.plan.cron_source.path)

    async def prepare(self) -> None:
        """Run the prerequisites, then keep a pristine copy of the live state."""
        self.pristine_db = self.db_path.with_name("pristine.db")
        _copy_db(self.db_path, self.pristine_db)
        self.pristine_crontab = self.crontab.read_text()

    def reset(self) -> None:
        _copy_db(self.pristine_db, self.db_path)
        self.crontab.write_text(self.pristine_crontab)

    def effect_done(self) -> bool:
        raise NotImplementedError

    def check_once(self, outcome, effect_before: bool) -> None:
        raise NotImplementedError

    def _sql(self, query: str, *params) -> list[tuple]:
        with sqlite3.connect(self.db_path) as conn:
            rows = conn.execute(query, params).fetchall()
        conn.close()
        return rows


class FlagsOff(Kind):
    step = "flags-off"

    def effect_done(self) -> bool:
        return self._sql("SELECT enabled FROM feature_flag WHERE flag_key = 'enable_production_dashboard'")[0][0] == 0

    def check_once(self, outcome, effect_before: bool) -> None:
        assert self.effect_done()
        already = any("already off" in line for line in outcome.output)
        assert already == effect_before, outcome.output
        assert len(self._sql("SELECT * FROM feature_flag WHERE flag_key = 'enable_production_dashboard'")) == 1


class CronStop(Kind):
    step = "cron-stop"

    def effect_done(self) -> bool:
        return MARKER_TAG in self.crontab.read_text()

    def check_once(self, outcome, effect_before: bool) -> None:
        text = self.crontab.read_text()
        assert text.count(MARKER_TAG) == 1, text
        assert text.count("refresh_dashboard_materialized_views.php") == 1, text
        assert text.count("people_sync_operators.php") == 1 and MARKER_TAG not in next(
            line for line in text.splitlines() if "people_sync_operators.php" in line)
        assert not [p for p in self.crontab.parent.iterdir() if p.name.endswith(".cockpit-tmp")]
        edits = [line for line in outcome.output if line.startswith("refresh-dashboard-mv:")]
        assert len(edits) == (0 if effect_before else 1), outcome.output


async def _prepare_steps(plan, *steps: str) -> None:
    engine = await Engine.open(plan, operator="prep")
    try:
        for step in steps:
            outcome = await engine.execute(10, step, confirm="10")
            assert outcome.status == "done", (step, outcome)
    finally:
        await engine.close()


class Backup(Kind):
    step = "backup"

    async def prepare(self) -> None:
        await _prepare_steps(self.plan, "flags-off", "cron-stop", "quarantine")  # a backup reads the quarantine
        await super().prepare()

    def effect_done(self) -> bool:
        return False  # every run makes a new file; "twice" is not a hazard, overwriting is

    def check_once(self, outcome, effect_before: bool) -> None:
        assert outcome.status == "done", outcome
        journal = Journal(self.plan.paths.journal, self.plan.target.label, "inspector")
        try:
            paths = [e.data["path"] for e in journal.events(kinds=["backup_verified"])]
        finally:
            journal.close()
        assert paths[-1] not in paths[:-1], f"the new backup reused an earlier verified file: {paths[-1]}"
        _verified_backups_intact(self.plan)


class TableKind(Kind):
    """Quarantine and final drop change where the tables are, which the journal records:
    each round starts again from the pristine database AND the pristine journal."""

    resets_journal = True
    extra = ("--confirm", "10")

    async def prepare(self) -> None:
        await super().prepare()
        self.pristine_journal = self.db_path.with_name("pristine-journal.sqlite3")
        _copy_db(Path(self.plan.paths.journal), self.pristine_journal)

    def reset(self) -> None:
        super().reset()
        _copy_db(self.pristine_journal, Path(self.plan.paths.journal))

    def _names(self) -> set[str]:
        return {r[0] for r in self._sql("SELECT name FROM sqlite_master WHERE type = 'table'")}


class Quarantine(TableKind):
    step = "quarantine"

    async def prepare(self) -> None:
        await _prepare_steps(self.plan, "flags-off", "cron-stop")
        await super().prepare()

    def effect_done(self) -> bool:
        return not self._names() & set(self.plan.phase(10).tables)

    def check_once(self, outcome, effect_before: bool) -> None:
        names = self._names()
        assert not names & set(self.plan.phase(10).tables)
        assert {quarantine_name(10, t) for t in self.plan.phase(10).tables} <= names
        said_already = any("already quarantined" in line for line in outcome.output)
        assert said_already == effect_before, outcome.output


class Migration(TableKind):
    step = "drop"
    override = "crash drill: the watch is not the point"

    async def prepare(self) -> None:
        await _prepare_steps(self.plan, "flags-off", "cron-stop", "quarantine", "backup")
        await super().prepare()
        self.extra = ("--confirm", "10", "--override", self.override)

    def tables_left(self) -> set[str]:
        return self._names() & {quarantine_name(10, t) for t in self.plan.phase(10).tables}

    def effect_done(self) -> bool:
        return len(self.tables_left()) < len(self.plan.phase(10).tables)

    def check_once(self, outcome, effect_before: bool) -> None:
        assert self.tables_left() == set()
        gone_before = effect_before
        said_absent = any("absent" in line for line in outcome.output)
        assert said_absent == gone_before, outcome.output


KINDS = {"flags_off": FlagsOff, "cron_stop": CronStop, "backup": Backup, "quarantine": Quarantine, "migration": Migration}


@pytest.mark.parametrize("kind_name", list(KINDS))
async def test_sigkill_anywhere_never_loses_or_doubles(kind_name: str, sandbox: Path) -> None:
    kind = KINDS[kind_name](sandbox)
    await kind.prepare()
    points: list[tuple[str, dict]] = [("at start", {"at_start": 0.0, "after_intent": None})]
    points.append(("pause hook after intent", {"hook": True, "after_intent": 0.05}))
    points += [(f"{d * 1000:g} ms after intent", {"after_intent": d}) for d in INTENT_DELAYS_S]
    reports: list[KillReport] = []
    for label, how in points:
        code = _kill_run(sandbox, kind.plan, kind.step, extra=kind.extra, **how)
        if code is not None:
            assert code == 0, f"{label}: the run finished with {code}"
        status = _check_journal(kind.plan, kind.step)
        reports.append(KillReport(label, status))
        effect_before = kind.effect_done()
        if status == "done" and getattr(kind, "resets_journal", False):
            # the run finished before the kill: a table step is not re-run over its own
            # result (a second quarantine would restart the watch); its effect is checked
            assert effect_before, f"{label}: done in the journal but not in the database"
            _verified_backups_intact(kind.plan)
            kind.reset()
            continue

        engine = await Engine.open(kind.plan, operator="recover")
        try:
            assert not engine.read_only, f"{label}: the killed cockpit's lock outlived it ({engine.read_only_reason})"
            view = next(v for v in engine.step_views(10) if v.step.id == kind.step)
            if status == "interrupted":
                assert view.label == "interrupted — verify"
            outcome = await engine.execute(10, kind.step, confirm="10" if kind.extra else None,
                                           override_reason=getattr(kind, "override", None))
            assert outcome.status == "done", f"{label}: {outcome}"
            kind.check_once(outcome, effect_before)
            assert next(v for v in engine.step_views(10) if v.step.id == kind.step).status == "done"
        finally:
            await engine.close()
        _verified_backups_intact(kind.plan)
        kind.reset()

    interrupted = [r.label for r in reports if r.status == "interrupted"]
    print(f"{kind_name}: " + "; ".join(f"{r.label} -> {r.status}" for r in reports))
    assert "pause hook after intent" in interrupted, reports
    assert len(reports) >= 8

    # a later cockpit reads the whole story through the CLI
    journal = cli.run("journal", "--json", "--config", str(sandbox))
    assert journal.code == 0, journal
    events = journal.json()
    if getattr(kind, "resets_journal", False):
        return  # each round restored the pristine journal: the per-round checks above are the proof
    intents = [e for e in events if e["kind"] == "step_intent" and e["step"] == kind.step]
    assert len(intents) >= len(interrupted)
    steps = cli.run("steps", "10", "--json", "--config", str(sandbox))
    assert steps.code == 0, steps
    assert next(s for s in steps.json()["steps"] if s["id"] == kind.step)["status"] == "done"


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
    _verified_backups_intact(engine.plan)
