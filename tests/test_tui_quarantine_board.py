"""The board at 80×24 after the quarantine path: a quarantined table is shown as
quarantined (not "absent", which would read as lost), a finally dropped one as dropped
with its backup, and a restored one by the catalogue alone, as before."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cockpit import cli
from cockpit.plan import load_plan
from cockpit.tui.app import CockpitApp
from cockpit.tui.widgets.phase_card import PhaseCard
from tests.fixtures.tui import settle


def _run(*argv: str) -> int:
    try:
        return cli.main(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)


async def _card_text(sandbox: Path, phase_id: int) -> str:
    app = CockpitApp(load_plan(sandbox), operator="alice", auto_refresh=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        return str(app.screen.query_one(f"#phase-{phase_id}", PhaseCard).render())


def test_card_shows_where_the_tables_went(sandbox: Path, capsys) -> None:
    c = str(sandbox)
    tables = load_plan(sandbox).phase(10).tables
    for step in ("flags-off", "cron-stop"):
        assert _run("run", "10", step, "--execute", "--config", c) == 0
    assert _run("run", "10", "quarantine", "--execute", "--confirm", "10", "--config", c) == 0
    text = " ".join(asyncio.run(_card_text(sandbox, 10)).split())
    assert all(f"{t} quarantined" in text for t in tables), text
    assert "absent" not in text

    assert _run("run", "10", "restore", "--execute", "--config", c) == 0
    text = " ".join(asyncio.run(_card_text(sandbox, 10)).split())
    assert "quarantined" not in text and "rows" in text

    assert _run("run", "10", "quarantine", "--execute", "--confirm", "10", "--config", c) == 0
    assert _run("run", "10", "backup", "--execute", "--config", c) == 0
    assert _run("run", "10", "drop", "--execute", "--confirm", "10", "--override", "drill", "--config", c) == 0
    capsys.readouterr()
    text = " ".join(asyncio.run(_card_text(sandbox, 10)).split())
    assert all(f"{t} dropped (backed up)" in text for t in tables), text
