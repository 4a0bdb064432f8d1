"""The engine's Session split and its threading rule (issue 13).

- Step kinds live as long as their Engine, so the cron step keeps the change its dry-run
  showed: that exact change is the one applied (a crontab edited in between is refused,
  nothing written), and a new Engine starts with no planned change of its own.
- The `*_async` methods of the Journal and the Engine do their fsync'd write in a worker
  thread: the INSERT runs on a thread other than the event loop's, the loop keeps
  running while a slow write is in progress, and the event is on disk when it returns.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from cockpit.cron.scan import MARKER_TAG
from cockpit.engine import Engine
from cockpit.journal import Journal
from cockpit.plan import load_plan
from cockpit.probes.drift import Alert

COLLEAGUE_LINE = "30 2 * * * /usr/local/bin/colleague-hotfix.sh # added by bob during the incident"


def _cron_stop(engine: Engine) -> str:
    return next(s.id for s in engine.plan.phase(10).steps if s.kind == "cron_stop")


# -- step kinds own their state -------------------------------------------------------------
async def test_the_dry_runs_cron_change_is_the_one_the_same_engine_applies(sandbox: Path, open_engine) -> None:
    engine = await open_engine(sandbox)
    step_id = _cron_stop(engine)
    step = engine.plan.phase(10).step(step_id)
    crontab = Path(engine.plan.cron_source.path)

    dry = await engine.dry_run(10, step_id)
    assert not dry.would_refuse, dry.guards
    kind = engine.kinds.cron(step)
    planned = kind.planned(10, step_id)
    assert planned is not None and planned.original_text == crontab.read_text()
    assert engine.kinds.cron(step) is kind, "one instance per kind for the engine's life"

    # a colleague edits the crontab after the operator read the dry-run: the change the
    # operator saw no longer describes the file, so the run must refuse and write nothing
    theirs = crontab.read_text() + COLLEAGUE_LINE + "\n"
    crontab.write_text(theirs)
    refused = await engine.execute(10, step_id)
    assert refused.status == "refused" and refused.guard == "crontab_changed", refused
    assert crontab.read_text() == theirs and MARKER_TAG not in theirs
    assert kind.planned(10, step_id) is None, "a refused change is forgotten: the next run plans afresh"

    done = await engine.execute(10, step_id)
    assert done.status == "done", done.message
    assert COLLEAGUE_LINE in crontab.read_text() and crontab.read_text().count(MARKER_TAG) == 1


async def test_a_fresh_engine_does_not_invent_a_planned_cron_change(sandbox: Path, open_engine) -> None:
    first = await open_engine(sandbox)
    step_id = _cron_stop(first)
    step = first.plan.phase(10).step(step_id)
    crontab = Path(first.plan.cron_source.path)
    await first.dry_run(10, step_id)
    assert first.kinds.cron(step).planned(10, step_id) is not None
    await first.close()

    second = await open_engine(sandbox, operator="bob")
    assert second.kinds.loaded("cron_stop") is None, "kinds are built on first use, per engine"
    assert second.kinds.cron(step).planned(10, step_id) is None
    # the crontab moved after the first engine's dry-run: the second one plans from what is
    # there now (it never saw the first one's change), keeping the colleague's line
    crontab.write_text(crontab.read_text() + COLLEAGUE_LINE + "\n")
    outcome = await second.execute(10, step_id)
    assert outcome.status == "done", outcome.message
    assert COLLEAGUE_LINE in crontab.read_text() and crontab.read_text().count(MARKER_TAG) == 1


# -- the threading rule -----------------------------------------------------------------------
class _InsertWatch:
    """Records the thread of every INSERT the journal's own SQLite connection executes,
    optionally slowing it down (as a slow disk would)."""

    def __init__(self, journal: Journal, delay_s: float = 0.0) -> None:
        self.threads: list[int] = []
        self.statements: list[tuple[int, str]] = []  # (thread, the INSERT with its values expanded)
        self.delay_s = delay_s
        journal._db.set_trace_callback(self._trace)

    def _trace(self, sql: str) -> None:
        if sql.lstrip().upper().startswith("INSERT"):
            self.threads.append(threading.get_ident())
            self.statements.append((threading.get_ident(), sql))
            if self.delay_s:
                time.sleep(self.delay_s)

    def threads_of(self, kind: str) -> list[int]:
        return [thread for thread, sql in self.statements if f"'{kind}'" in sql]


async def _loop_turns_during(work: Awaitable[Any]) -> int:
    """How many times the event loop ran another task while `work` was awaited."""
    turns = 0
    finished = False

    async def ticker() -> None:
        nonlocal turns
        while not finished:
            await asyncio.sleep(0.01)
            turns += 1

    task = asyncio.create_task(ticker())
    try:
        await work
    finally:
        finished = True
        await task
    return turns


async def test_journal_append_async_writes_off_the_loop_and_durably(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    journal = Journal(path, "sandbox", "alice")
    try:
        watch = _InsertWatch(journal, delay_s=0.3)
        loop_thread = threading.get_ident()
        result: dict[str, int] = {}

        async def write() -> None:
            result["id"] = await journal.append_async("note", data={"text": "slow disk"})

        turns = await _loop_turns_during(write())
        assert watch.threads and all(t != loop_thread for t in watch.threads), "the INSERT ran on the event loop's thread"
        assert turns >= 5, f"the loop was blocked during the write ({turns} turns in 0.3 s)"
        # committed before returning: another connection to the real file sees it
        reader = Journal(path, "sandbox", "reader")
        try:
            assert [(e.id, e.kind, e.data) for e in reader.events()] == [(result["id"], "note", {"text": "slow disk"})]
        finally:
            reader.close()
        # and the synchronous method, by contrast, runs where it is called
        journal.append("note", data={"text": "inline"})
        assert watch.threads[-1] == loop_thread
        assert [e.kind for e in await journal.events_async()] == ["note", "note"]
        assert await journal.count_async() == 2 and len(await journal.window_async(10)) == 2
    finally:
        journal.close()


async def test_engine_async_writes_run_in_a_worker_thread(sandbox: Path, open_engine) -> None:
    engine = await open_engine(sandbox)
    item = engine.plan.checklist("before")[0].id
    watch = _InsertWatch(engine.journal)
    loop_thread = threading.get_ident()

    calls: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
        ("tick", lambda: engine.tick_async(10, "before", item, True, "checked")),
        ("note", lambda: engine.note_async("the on-call lead agreed", 10)),
        ("alert", lambda: engine.record_alert_async(Alert("flag_on", 10, "enable_production_dashboard", "back on", 0.0))),
        ("watch_start", lambda: engine.start_watch_async(10, 2)),
    ]
    for kind, call in calls:
        before = len(watch.threads)
        await call()
        assert len(watch.threads) == before + 1 and watch.threads[-1] != loop_thread, kind
        assert engine.events()[-1].kind == kind
    alert_id = (await engine.open_alerts_async())[0].event_id
    await engine.acknowledge_alert_async(alert_id)
    assert watch.threads[-1] != loop_thread and engine.events()[-1].kind == "alert_ack"

    # the reads answer what the synchronous ones do
    assert (await engine.ticks_async(10))[("before", item)].ticked
    assert await engine.open_alerts_async() == []
    assert (await engine.watch_async()) == engine.watch()
    assert [v.status for v in await engine.step_views_async(10)] == [v.status for v in engine.step_views(10)]
    assert (await engine.phase_progress_async(10)) == engine.phase_progress(10)
    assert list(await engine.events_async(10)) == list(engine.events(10))


async def test_async_writes_refuse_like_the_synchronous_ones(sandbox: Path, open_engine) -> None:
    from cockpit.engine import EngineRefused

    await open_engine(sandbox)  # holds the operator lock
    reader = await open_engine(sandbox, operator="bob")
    assert reader.read_only
    try:
        await reader.note_async("not mine to write")
    except EngineRefused as exc:
        assert "read-only" in str(exc) and "alice" in str(exc)
    else:
        raise AssertionError("a read-only cockpit wrote a note from a thread")
    plan = load_plan(sandbox)
    assert plan.target.label  # the plan is the reader's own: nothing journalled by bob
    assert not [e for e in reader.events() if e.operator == "bob"]


async def test_an_actions_intent_and_outcome_are_written_off_the_loop(sandbox: Path, open_engine) -> None:
    engine = await open_engine(sandbox)
    step_id = _cron_stop(engine)
    watch = _InsertWatch(engine.journal)
    loop_thread = threading.get_ident()
    outcome = await engine.execute(10, step_id)
    assert outcome.status == "done", outcome.message
    for kind in ("step_intent", "step_outcome"):
        threads = watch.threads_of(kind)
        assert len(threads) == 1 and threads[0] != loop_thread, (kind, watch.statements)
    # and in journal order: the intent before the step's output, the outcome last
    kinds = [e.kind for e in engine.events(10)]
    assert kinds[0] == "step_intent" and kinds[-1] == "step_outcome" and "step_output" in kinds
