"""Every screen, pixel-stable, at the SSH minimum (80×24) and a comfortable 120×36.

Data are frozen (tests/fixtures/tui.py) so a change in these images is a change in what
the operator sees; review the SVGs when one fails (`pytest --snapshot-update` after).
"""

from __future__ import annotations

import pytest

from cockpit.probes.drift import Alert
from tests.fixtures.tui import T0, settle

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]


def _steady_cursor(app) -> None:
    """No blinking: the text cursor is drawn where the focus is, whenever the picture is
    taken (a blink timer would show or hide it depending on the machine's speed)."""
    from textual.widgets import Input, TextArea

    for widget in app.screen.query("Input, TextArea"):
        if isinstance(widget, (Input, TextArea)):
            widget.cursor_blink = False
            widget._cursor_visible = widget.has_focus  # Textual has no public setter for the paused state


def run(*keys: str, before=None):
    async def run_before(pilot) -> None:
        await settle(pilot)
        if before is not None:
            await before(pilot)
            await settle(pilot)
        if keys:
            await pilot.press(*keys)  # each key is processed before the next (Pilot waits for idle)
            await settle(pilot)  # then every worker the keys started has finished
        _steady_cursor(pilot.app)
        # toasts expire on wall-clock time; a slow run must not change the picture
        pilot.app.clear_notifications()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_board(snap_compare, frozen_app, size):
    assert snap_compare(frozen_app(), terminal_size=size, run_before=run())


@pytest.mark.parametrize("size", SIZES)
def test_board_read_only(snap_compare, frozen_app, size):
    assert snap_compare(frozen_app(read_only=True), terminal_size=size, run_before=run())


@pytest.mark.parametrize("size", SIZES)
def test_phase(snap_compare, frozen_app, size):
    assert snap_compare(frozen_app(), terminal_size=size, run_before=run("enter"))


@pytest.mark.parametrize("size", SIZES)
def test_checklist(snap_compare, frozen_app, size):
    assert snap_compare(frozen_app(), terminal_size=size, run_before=run("c", "space"))


@pytest.mark.parametrize("size", SIZES)
def test_emergency(snap_compare, frozen_app, size):
    assert snap_compare(frozen_app(), terminal_size=size, run_before=run("exclamation_mark"))


async def _alert(pilot) -> None:
    app = pilot.app
    app.engine.record_alert(Alert("flag_on", 10, "enable_production_dashboard", "flag enable_production_dashboard is back on", T0))
    app.journal_changed()


async def _watcher(pilot) -> None:
    """A `cockpit watch` process beating in the journal (at the frozen clock), with one alert."""
    journal = pilot.app.engine.journal
    journal.append("watch_start", data={"hours": 24.0, "pid": 4242, "host": "bastion"})
    journal.append("watch_heartbeat", data={"pid": 4242, "host": "bastion", "interval": 60, "phases": [10], "db": "connected"})
    await _alert(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_watch(snap_compare, frozen_app, size):
    assert snap_compare(frozen_app(), terminal_size=size, run_before=run("w", before=_watcher))


@pytest.mark.parametrize("size", SIZES)
def test_rollback_log(snap_compare, frozen_app, size):
    assert snap_compare(frozen_app(), terminal_size=size, run_before=run("l", *"dashboard errors", "enter", *"flags off"))


@pytest.mark.parametrize("size", SIZES)
def test_journal(snap_compare, frozen_app, size):
    assert snap_compare(frozen_app(), terminal_size=size, run_before=run("c", "space", "escape", "j"))


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, frozen_app, size):
    assert snap_compare(frozen_app(), terminal_size=size, run_before=run("question_mark"))


async def _start_drill(pilot) -> None:
    from cockpit.drill import control

    control.start(pilot.app.engine)
    pilot.app.journal_changed()


@pytest.mark.parametrize("size", SIZES)
def test_board_drill(snap_compare, frozen_app, size):
    """A drill running: the magenta DRILL banner no real run uses."""
    assert snap_compare(frozen_app(), terminal_size=size, run_before=run(before=_start_drill))


@pytest.fixture
def overdue_config(sandbox):
    """The sandbox plan reviewed late, with its last drill four months before the frozen clock."""
    from cockpit.journal import Journal
    from cockpit.plan import load_plan

    text = sandbox.read_text(encoding="utf-8")
    assert 'next_review = "2026-02-11"' in text
    sandbox.write_text(text.replace('next_review = "2026-02-11"', 'next_review = "2025-10-01"'), encoding="utf-8")
    plan = load_plan(sandbox)
    old = T0 - 120 * 86400
    clock = iter([old, old + 600])
    journal = Journal(plan.paths.journal, plan.target.label, "bob", clock=lambda: next(clock))
    journal.append("drill_start", data={"drill": 1, "staging": False})
    journal.append("drill_end", data={"drill": 1, "verdict": "pass"})
    journal.close()
    return sandbox


@pytest.mark.parametrize("size", SIZES)
def test_board_overdue(snap_compare, frozen_app, overdue_config, size):
    """"quarterly drill overdue" and "plan review overdue since …" on the board."""
    assert snap_compare(frozen_app(config=overdue_config), terminal_size=size, run_before=run())
