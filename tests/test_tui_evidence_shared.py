"""Checklist evidence is the engine's (cockpit/engine/evidence.py): the TUI's checklist
and `cockpit tick --list` show the same verdict from the same journal.

Driven through the real CLI (`cockpit log` writes the entry, `cockpit tick --list`
reads it) and the real app under Pilot on the same sandbox. The test is synchronous
because the CLI runs its own event loop; each app run gets one too."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import DataTable

from cockpit.plan import load_plan
from cockpit.tui.app import CockpitApp
from tests.fixtures.cli import run
from tests.fixtures.tui import settle


def _evidence_lines(out: str, item: str) -> list[str]:
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.split()[:1] == [item])
    return [line.strip() for line in lines[at + 1:at + 2] if line.strip().startswith("evidence:")]


async def _tui_evidence(sandbox: Path, key: str) -> str:
    app = CockpitApp(load_plan(sandbox), operator="alice", auto_refresh=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_checklist(10)
        await settle(pilot)
        table = app.screen.query_one("#checklist", DataTable)
        return str(table.get_cell(key, "evidence"))


def test_log_evidence_is_the_same_in_the_cli_and_the_tui(sandbox: Path, capsys) -> None:
    c = str(sandbox)
    code, out, err = run(capsys, "tick", "10", "--list", "--config", c)
    assert code == 0, err
    assert _evidence_lines(out, "log") == ["evidence: NO: no log entry yet"]
    assert "no log entry yet" in asyncio.run(_tui_evidence(sandbox, "after:log"))

    code, _, err = run(capsys, "run", "10", "flags-off", "--execute", "--config", c)  # a rollback to log
    assert code == 0, err
    code, _, err = run(capsys, "log", "10", "--reason", "errors everywhere", "--resolution", "flags off", "--config", c)
    assert code == 0, err
    code, out, err = run(capsys, "tick", "10", "--list", "--config", c)
    assert code == 0, err
    assert _evidence_lines(out, "log") == ["evidence: yes: log entry appended"]
    assert "✔ log entry appended" in asyncio.run(_tui_evidence(sandbox, "after:log"))
    # each view names its own way to a full dump; the verdict is the same
    assert _evidence_lines(out, "backup") == ["evidence: NO: no verified backup yet; cockpit backup-full takes a full dump"]
    assert "✘ no verified backup yet; b takes a full dump" in asyncio.run(_tui_evidence(sandbox, "before:backup"))
