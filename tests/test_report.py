"""The Markdown rollback log: fields from the journal, append-only, golden-checked."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from cockpit.drill import logbook
from cockpit.report import HEADING

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def _drill_phase_10(engine, clock) -> None:
    for step in ("flags-off", "cron-stop"):
        assert (await engine.execute(10, step)).status == "done"
        clock.advance(60)
    assert (await engine.execute(10, "quarantine", confirm="10")).status == "done"
    clock.advance(30)
    early = "the dashboard tables are not coming back"  # the final drop before the watch ends
    assert (await engine.execute(10, "drop", confirm="10", override_reason=early)).guard == "data"  # refused: rows, no backup
    clock.advance(30)
    assert (await engine.execute(10, "backup")).status == "done"
    clock.advance(60)
    assert (await engine.execute(10, "drop", confirm="10", override_reason=early)).status == "done"
    clock.advance(120)
    engine.note("dashboard API returned 500s during the drop; cleared after cache flush", phase_id=10)
    for step in ("code-endpoints", "code-cron", "code-ui"):
        assert (await engine.execute(10, step)).status == "done"
        clock.advance(150)


async def test_log_entry_matches_golden(sandbox, open_engine, clock, utc):
    engine = await open_engine(sandbox, operator="alice")
    await _drill_phase_10(engine, clock)
    path = logbook.append(engine, 10, "dashboard queries overloaded the primary", "phase 10 rolled back; monitoring 24h").path
    text = path.read_text().replace(str(sandbox.parent), "<SANDBOX>")
    golden = GOLDEN / "rollback_log_phase10.md"
    if os.environ.get("UPDATE_GOLDEN"):  # regenerate deliberately, then review the diff
        golden.write_text(text)
    expected = golden.read_text()
    assert text == expected
    assert [e.kind for e in engine.events(10)][-1] == "log_written"


async def test_log_is_append_only(sandbox, open_engine, clock, utc):
    engine = await open_engine(sandbox)
    log = engine.plan.log.file
    log.write_text(HEADING + "\n## Rollback Log Entry\n\n**Date:** 2025-01-01 00:00\n")
    earlier = log.read_text()
    await engine.execute(10, "flags-off")
    assert logbook.append(engine, 10, "r", "s").written
    assert logbook.append(engine, 10, "r2", "s2").written
    text = log.read_text()
    assert text.startswith(earlier) and text.count("## Rollback Log Entry") == 3


async def test_phase_without_data_loss_says_no(sandbox, open_engine, clock, utc):
    engine = await open_engine(sandbox)
    for step in ("flags-off", "cron-stop"):
        await engine.execute(10, step)
    for step in ("flags-off", "cron-stop"):
        await engine.execute(9, step)
    clock.advance(600)
    assert (await engine.execute(9, "quarantine", confirm="9:people_operator_cache,people_team_cache,people_availability_cache")).status == "done"
    entry = logbook.preview(engine, 9, "sync bug", "rolled back")
    assert "**Data Loss:** No" in entry
    assert "**Duration:** 10 minutes (budget ~15 minutes)" in entry
    assert "**Issues Encountered:** None" in entry
