"""The plan contradicts itself: "Keep cache tables (can be empty)" (phase 9) and "Keep OEM
scan rules table (can be empty)" (phase 8) while the same phases' rollback SQL drops those
tables. The contradiction is found on the real plan, shown in the dry-run (CLI and TUI),
listed by `cockpit check`, and its destructive steps ask for the kept tables by name."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Static

from cockpit.engine.confirm import confirm_matches, confirm_token
from cockpit.plan import load_plan
from cockpit.plan.keep import kept_by_notes, kept_subject
from cockpit.tui.app import CockpitApp
from cockpit.tui.screens.confirm import ConfirmScreen
from cockpit.tui.screens.phase import PhaseScreen
from tests.fixtures.cli import run
from tests.fixtures.tui import settle

REPO = Path(__file__).resolve().parents[1]
CACHE_NOTE = "Keep cache tables (can be empty)"
SCAN_NOTE = "Keep OEM scan rules table (can be empty)"


def test_the_real_plan_names_the_kept_tables() -> None:
    plan = load_plan(REPO / "phases.toml")
    for step_id in ("quarantine", "drop"):
        assert plan.phase(9).step(step_id).kept_by_note == (
            ("people_operator_cache", CACHE_NOTE), ("people_team_cache", CACHE_NOTE), ("people_availability_cache", CACHE_NOTE))
        assert plan.phase(8).step(step_id).kept_by_note == (("oem_scan_rule", SCAN_NOTE),)
        # "Keep dashboard UI files" and "Keep `AssignmentResolverService.php`" keep no table
        assert plan.phase(10).step(step_id).kept_by_note == ()
        assert plan.phase(7).step(step_id).kept_by_note == ()
    assert plan.phase(9).step("restore").kept_by_note == ()  # restore puts tables back: nothing to confirm


def test_the_matching_rule() -> None:
    assert kept_subject("Keep dashboard UI files (can show \"Coming soon\")") is None
    assert kept_subject(SCAN_NOTE) == (("oem", "scan", "rules"), "table")
    assert kept_subject("Remove OEM scan rules table") is None  # only a "Keep" note keeps anything
    tables = ("oem_job_ticket", "oem_job_ticket_step", "oem_scan_rule", "scan_log")
    assert kept_by_notes([SCAN_NOTE], tables) == (("oem_scan_rule", SCAN_NOTE),)  # every word, not any
    assert kept_by_notes(["Keep `oem_scan_rule` table"], tables) == (("oem_scan_rule", "Keep `oem_scan_rule` table"),)
    assert kept_by_notes(["Keep policies table"], ("people_masking_policy",))[0][0] == "people_masking_policy"
    assert kept_by_notes(["Keep priority column"], (), (("assignment_plan_node", "priority"),)) == (
        ("assignment_plan_node.priority", "Keep priority column"),)
    assert kept_by_notes(["Keep cache"], ("people_team_cache",)) == ()  # names no table or column


def test_the_confirm_token() -> None:
    plan = load_plan(REPO / "phases.toml")
    p8, p9, p10 = plan.phase(8), plan.phase(9), plan.phase(10)
    assert confirm_token(p10, p10.step("drop")) == "10"
    assert confirm_token(p8, p8.step("drop")) == "8:oem_scan_rule"
    assert confirm_matches(p8, p8.step("quarantine"), " 8 : oem_scan_rule ")
    assert not confirm_matches(p8, p8.step("quarantine"), "8")
    assert not confirm_matches(p8, p8.step("quarantine"), "8:oem_scan_rule,oem_job_ticket")
    assert not confirm_matches(p8, p8.step("quarantine"), "7:oem_scan_rule")
    q9 = p9.step("quarantine")
    assert confirm_matches(p9, q9, "9:people_team_cache, people_availability_cache,people_operator_cache")  # any order
    assert not confirm_matches(p9, q9, "9:people_team_cache,people_availability_cache")


def test_cli_shows_the_note_and_asks_for_the_kept_table(sandbox: Path, capsys) -> None:
    c = str(sandbox)
    code, out, _ = run(capsys, "run", "8", "drop", "--config", c)
    assert "WARNING: the plan says: Keep OEM scan rules table (can be empty) — this step drops oem_scan_rule" in out
    assert "--execute --confirm 8:oem_scan_rule" in out
    code, out, _ = run(capsys, "run", "8", "quarantine", "--config", c)
    assert "— this step takes out of production oem_scan_rule" in out

    code, out, err = run(capsys, "check", "--config", c)
    assert f'warn  phase 8: the plan says "{SCAN_NOTE}" but its rollback SQL drops oem_scan_rule' in out
    assert sum(f'"{CACHE_NOTE}"' in line for line in out.splitlines()) == 3
    assert "phase 10:" not in out and "phase 7:" not in out

    assert run(capsys, "run", "8", "flags-off", "--execute", "--override", "test: phase 8 alone", "--config", c)[0] == 0
    quarantine = ("run", "8", "quarantine", "--execute", "--override", "test: phase 8 alone", "--config", c)
    code, out, err = run(capsys, *quarantine, "--confirm", "8")
    assert code == 1 and "refused [confirm]" in err and "type 8:oem_scan_rule" in err and err.count("\n") == 1
    assert "oem_scan_rule" in _tables(sandbox)  # nothing ran
    code, out, err = run(capsys, *quarantine, "--confirm", "8:oem_scan_rule")
    assert code == 0, err
    assert "oem_scan_rule" not in _tables(sandbox) and "_cockpit_q8_oem_scan_rule" in _tables(sandbox)


def _tables(config: Path) -> set[str]:
    import sqlite3

    with sqlite3.connect(load_plan(config).target.path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


async def test_dialog_asks_for_the_kept_table(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    app = CockpitApp(plan, operator="alice", auto_refresh=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        position = [p.id for p in plan.rollback_order].index(8)
        await pilot.press(*["down"] * position, "enter")
        await settle(pilot)
        assert isinstance(app.screen, PhaseScreen) and app.screen.phase_id == 8
        steps = [s.id for s in plan.phase(8).steps]
        await pilot.press(*["down"] * steps.index("quarantine"))
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        assert dialog.token == "8:oem_scan_rule"
        hint = str(dialog.query_one("#dialog-hint", Static).render())
        assert "Type 8:oem_scan_rule and press enter" in hint
        assert dialog.query_one(Input).placeholder == "type 8:oem_scan_rule"
        body = str(dialog.query_one("#dialog-text", Static).render())
        assert f"the plan says: {SCAN_NOTE} — this step takes out of production oem_scan_rule" in body
        await pilot.press("8", "enter")  # the phase id alone is not enough
        await settle(pilot)
        dialog = app.screen  # the engine refused the token; the dialog asks again, saying why
        mistyped = str(dialog.query_one("#dialog-mistyped", Static).render())
        assert isinstance(dialog, ConfirmScreen) and "That is not '8:oem_scan_rule'" in mistyped
        await pilot.press("escape")
        await settle(pilot)
        assert "oem_scan_rule" in _tables(sandbox)
