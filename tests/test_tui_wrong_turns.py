"""The operator's wrong turns at 80×24, each driven by keys through the real app on a
real sandbox: arrows choose a phase, no toast covers a dialog, the output pane wraps, the
footer keeps `!`, `?` and `j`, a refused step is never offered as a plain "Run", the
manual-task dialog names no CLI option, the log takes an entry once and lists the
emergency, and the board shows the drill, the lifecycle and the contacts."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Button, Input, Static
from textual.widgets._toast import Toast

from cockpit.plan import load_plan
from cockpit.tui.app import CockpitApp
from cockpit.tui.screens.confirm import ConfirmScreen
from cockpit.tui.screens.phase import PhaseScreen
from cockpit.tui.screens.rollback_log import RollbackLogScreen
from cockpit.tui.widgets.footer import CockpitFooter
from tests.fixtures.tui import settle

SIZE = (80, 24)


def make_app(sandbox: Path) -> CockpitApp:
    return CockpitApp(load_plan(sandbox), operator="alice", auto_refresh=False)


def text_of(widget: Static) -> str:
    return str(widget.render())


def overlaps(a, b) -> bool:
    return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom


async def test_arrows_choose_a_phase(sandbox: Path) -> None:
    app = make_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PhaseScreen) and app.screen.phase_id == 8
        await pilot.press("escape", "up", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PhaseScreen) and app.screen.phase_id == 9


async def test_no_toast_covers_a_dialog_or_its_box(sandbox: Path) -> None:
    app = make_app(sandbox)
    steps = app.plan.phase(10).all_steps
    index = next(i for i, s in enumerate(steps) if s.kind == "quarantine")
    assert steps[index].destructive
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.notify("a long alert that would sit on the dialog " * 3, title="ALERT", severity="error", timeout=30)
        await pilot.press("enter", *["down"] * index)  # phase 10, step quarantine (destructive: typed token)
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and app.screen.title_text.startswith(f"Run 10/{steps[index].id}:")
        app.notify("another toast arriving while the dialog is open", timeout=30)
        for _ in range(5):
            await pilot.pause()
        box = app.screen.query_one("#dialog-token", Input)
        toasts = list(app.screen.query(Toast))
        assert toasts, "the notifications exist; they are only kept off the dialog"
        for toast in toasts:
            assert not toast.visible or not overlaps(toast.region, box.region)
            assert not toast.visible or not overlaps(toast.region, app.screen.query_one("#dialog").region)
        # a mistyped token is said inside the dialog, next to the box
        await pilot.press("9", "enter")
        await pilot.pause()
        assert "That is not '10'" in text_of(app.screen.query_one("#dialog-mistyped", Static))
        await pilot.press("escape")
        await settle(pilot)


async def test_output_pane_wraps_refusal_reasons(sandbox: Path) -> None:
    app = make_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("down", "x")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("down", "down", "x")
        await settle(pilot)
        await pilot.press("1", "0", "enter")
        await settle(pilot)
        log = app.screen.query_one("#output")
        width = log.scrollable_content_region.width
        assert log.lines and all(len(line) <= width for line in log.lines), (width, log.lines)
        joined = " ".join(line.strip() for line in log.lines)
        refusal = app.engine.step_views(10)[3].last_message
        assert " ".join(refusal.split()) in joined, "the whole reason is readable"


async def test_footer_at_80_columns_keeps_emergency_help_and_journal(sandbox: Path) -> None:
    app = make_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(CockpitFooter)
        keys = {k.key_display: k for k in footer.shown}
        palette = next((k for k in footer.shown if k.palette), None)
        palette_span = footer.key_span(palette.key_display) if palette is not None else None
        for key in ("!", "?", "j"):
            assert key in keys, f"{key} missing from the footer"
            span = footer.key_span(key)
            assert span is not None, f"{key} does not fit in the footer"
            start, end = span
            assert end - start > 0 and end <= 80
            if palette_span is not None:
                assert end <= palette_span[0], f"{key} hidden under the palette key"
        assert "EMERGENCY" in keys["!"].description


async def test_a_refused_step_is_never_offered_as_plain_run(sandbox: Path) -> None:
    app = make_app(sandbox)
    steps = app.plan.phase(10).all_steps
    drop = next(i for i, s in enumerate(steps) if s.kind == "migration")  # the final drop: refused before a quarantine
    assert steps[drop].destructive
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "down", "enter")  # phase 7: later phases not rolled back
        await settle(pilot)
        assert app.screen.phase_id == 7
        await pilot.press("x")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        label = str(dialog.query_one("#yes", Button).label)
        assert label == "Run anyway — will be refused (y)"
        await pilot.press("y")
        await settle(pilot)
        assert app.engine.step_views(7)[0].status == "refused"
        # a destructive step that would be refused says so where the token is typed
        await pilot.press("escape", "up", "up", "up", "enter", *["down"] * drop, "x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and app.screen.title_text.startswith(f"Run 10/{steps[drop].id}:")
        hint = text_of(app.screen.query_one("#dialog-hint", Static))
        assert "will be refused" in hint and "Guards say this would be refused" in text_of(app.screen.query_one("#dialog-warning", Static))
        await pilot.press("escape")
        await settle(pilot)


async def test_manual_task_dialog_names_no_cli_option(sandbox: Path) -> None:
    app = make_app(sandbox)
    plan = app.plan
    index = next(i for i, s in enumerate(plan.phase(10).all_steps) if s.kind == "manual")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter", *["down"] * index, "x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        body = text_of(app.screen.query_one("#dialog-text", Static))
        assert "Manual task" in body and "--" not in body.replace("—", "")
        await pilot.press("n")
        await settle(pilot)


async def test_log_once_and_emergency_in_it(sandbox: Path) -> None:
    app = make_app(sandbox)
    plan = app.plan
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("exclamation_mark")
        await settle(pilot)
        assert "Lead Architect [Contact]" in text_of(app.screen.query_one("#emergency-contacts", Static))
        await pilot.press("x")
        await settle(pilot)
        await pilot.press(*"EMERGENCY", "enter")
        await settle(pilot)
        await pilot.press("escape", "l")
        await settle(pilot)
        assert isinstance(app.screen, RollbackLogScreen)
        await pilot.press(*"errors everywhere", "enter", *"every flag off")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
    text = plan.log.file.read_text()
    assert text.count("## Rollback Log Entry") == 1
    issues = next(line for line in text.splitlines() if line.startswith("**Issues Encountered:**"))
    assert "emergency rollback by alice" in issues


async def test_board_shows_drill_lifecycle_and_contacts(sandbox: Path) -> None:
    app = make_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        board = app.screen
        assert not board.query_one("#drill-banner").display
        assert "no drill recorded · quarterly drill overdue" in text_of(board.query_one("#lifecycle", Static))
        assert "Database Admin [Contact]" in text_of(board.query_one("#contacts", Static))
        await pilot.press("D")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        banner = board.query_one("#drill-banner", Static)
        assert banner.display and text_of(banner).startswith("DRILL 1 · sandbox")
        assert str(banner.styles.background) != str(board.query_one("#alerts-banner").styles.background)
        await pilot.press("D")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert not banner.display
        assert "last drill" in text_of(board.query_one("#lifecycle", Static))
        assert "incomplete" in text_of(board.query_one("#lifecycle", Static))
