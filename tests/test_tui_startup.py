"""Start-up order (issue 14): the board is drawn from the plan before the engine opens.

The engine (journal, operator lock, database connection) and the live system open in a
worker behind the first frame, so a database that never answers delays the data, never
the board; until the engine is open the actions that need it are greyed, and a journal
that cannot be opened becomes the strip's state (and one line from `cockpit tui`), never
a traceback.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import cockpit.db.mysql as mysql_backend
from cockpit.plan import Plan, load_plan
from cockpit.tui.app import OPEN_REDRAW_GRACE_S, CockpitApp
from cockpit.tui.screens.board import BoardScreen
from cockpit.tui.screens.journal import JournalScreen
from cockpit.tui.screens.phase import PhaseScreen
from cockpit.tui.widgets.footer import CockpitFooter
from cockpit.tui.widgets.phase_card import PhaseCard
from cockpit.tui.widgets.status_strip import StatusStrip

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word (a MySQL server wedged
    before its handshake, a firewall that swallows the traffic)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)  # kept open, never answered

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        server.close()


def _silent_plan(sandbox: Path, tmp_path: Path, port: int) -> Plan:
    """The sandbox's plan pointed at the silent port as its MySQL target."""
    option_file = tmp_path / "silent.cnf"
    option_file.write_text("[client]\nuser=nobody\npassword=never-used\n", encoding="utf-8")
    option_file.chmod(0o600)
    plan = load_plan(sandbox)
    target = dataclasses.replace(plan.target, kind="mysql", host="127.0.0.1", port=port, database="manufacturing",
                                 socket="", option_file=str(option_file), path=None)
    return dataclasses.replace(plan, target=target)


def _text(widget) -> str:
    return str(widget.render())


def _run_child(path: Path, source: str, config: Path) -> subprocess.CompletedProcess[str]:
    """`cockpit tui --config CONFIG` through a child script (headless, TERM=dumb)."""
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "dumb"}
    return subprocess.run([sys.executable, str(path), "tui", "--config", str(config), "--operator", "alice"],
                          capture_output=True, text=True, timeout=60, env=env, check=False)


async def test_a_database_that_never_answers_cannot_delay_the_board(
    sandbox: Path, tmp_path: Path, silent_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mysql_backend, "CONNECT_TIMEOUT_S", 1)  # the wait for the silent server: 1-2 s, not 3-6 s
    app = CockpitApp(_silent_plan(sandbox, tmp_path, silent_port), operator="alice", auto_refresh=False)
    started = time.monotonic()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        painted_after = time.monotonic() - started
        # the board is there, from the plan alone, while the connection is still pending
        assert isinstance(app.screen, BoardScreen)
        assert app.session_state == "opening" and app.engine is None and app.live is None
        cards = list(app.screen.query(PhaseCard))
        assert [c.phase.id for c in cards] == [p.id for p in app.plan.rollback_order]
        assert all("no reading yet" in _text(c) for c in cards)
        strip = _text(app.screen.query_one(StatusStrip))
        assert "connecting" in strip and "lock held" not in strip, strip  # the lock is not taken yet
        assert "opening the journal" in _text(app.screen.query_one("#lifecycle"))
        assert app.session_state == "opening", f"painted after {painted_after:.2f}s, only once the connection gave up"
        # what needs the engine is greyed, not crashing on a missing engine
        assert app.screen.check_action("open_phase", ()) is None
        assert app.check_action("emergency", ()) is None and app.check_action("journal", ()) is None
        await pilot.press("enter", "j", "exclamation_mark")
        assert isinstance(app.screen, BoardScreen)
        # the footer shows those keys greyed, in the first frame already; a click on one rings
        footer = app.screen.query_one(CockpitFooter)
        keys = {key.key_display: key for key in footer.shown}
        assert not keys["j"].enabled and not keys["!"].enabled and keys["q"].enabled and keys["?"].enabled
        rings: list[str] = []
        monkeypatch.setattr(app, "bell", lambda: rings.append("bell"))
        span = footer.key_span("j")
        assert span is not None
        await pilot.click(CockpitFooter, offset=(span[0], 0))
        await pilot.pause()
        assert rings == ["bell"] and isinstance(app.screen, BoardScreen)
        assert app.session_state == "opening", "the connection attempt outlasted the checks above"

        # the connection gives up; the engine opens without a database. The first reading
        # tries the silent server again: the keys do not wait for it
        for _ in range(300):
            if app.session_state == "open":
                break
            await asyncio.sleep(0.02)
        assert app.session_state == "open"
        await asyncio.sleep(OPEN_REDRAW_GRACE_S + 0.2)
        await pilot.pause()
        # the first reading is still waiting on the silent server (its own connect timeout),
        # yet the views were redrawn for the open engine
        assert app.snapshot is None, "premise: the first reading tries the silent server again"
        keys = {key.key_display: key for key in footer.shown}
        assert keys["j"].enabled and keys["!"].enabled, "the keys wait for a slow first reading"
        assert "opening the journal" not in _text(app.screen.query_one("#lifecycle"))
        await asyncio.wait_for(app.ready.wait(), 30)
        await pilot.pause()
        assert app.session_state == "open" and app.engine is not None and app.engine.db is None
        assert app.snapshot is not None and app.snapshot.connection.state == "lost"
        strip = _text(app.screen.query_one(StatusStrip))
        assert "LOST" in strip and "operator alice (lock held)" in strip, strip
        assert app.screen.check_action("open_phase", ()) is True
        keys = {key.key_display: key for key in footer.shown}
        assert keys["j"].enabled and keys["!"].enabled, "the footer's keys turned on with the engine"
        await pilot.press("enter")  # the actions work now
        await pilot.pause()
        assert isinstance(app.screen, PhaseScreen)


async def test_quitting_while_the_database_is_silent_leaves_at_once(
    sandbox: Path, tmp_path: Path, silent_port: int
) -> None:
    """The default 3 s connect timeout: `q` must not wait for it."""
    app = CockpitApp(_silent_plan(sandbox, tmp_path, silent_port), operator="alice", auto_refresh=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.session_state == "opening"
        started = time.monotonic()
        await pilot.press("q")
    assert time.monotonic() - started < 2.0
    assert app.engine is None  # nothing half-open was left behind to close


async def test_a_journal_that_cannot_be_opened_is_a_state_not_a_traceback(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    plan = dataclasses.replace(plan, paths=dataclasses.replace(plan.paths, journal=sandbox / "journal.db"))  # under a file
    app = CockpitApp(plan, operator="alice", auto_refresh=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await asyncio.wait_for(app.ready.wait(), 30)
        await pilot.pause()
        assert app.session_state == "failed" and app.engine is None
        assert "cannot open the journal" in app.session_error
        strip = _text(app.screen.query_one(StatusStrip))
        assert "CANNOT OPEN THE COCKPIT" in strip and "cannot open the journal" in strip, strip
        assert app.screen.check_action("open_phase", ()) is None and app.check_action("emergency", ()) is None
        await pilot.press("enter", "question_mark")  # help still opens; the phase does not
        await pilot.pause()
        assert not isinstance(app.screen, PhaseScreen)
        assert app.is_running


CHILD = """
import sys
import cockpit.tui.app as app_module

class Headless(app_module.CockpitApp):
    async def run_async(self, **kwargs):
        async def leave_when_ready():
            await self.ready.wait()
            self.exit(0)
        self.call_later(lambda: self.run_worker(leave_when_ready()))
        return await super().run_async(headless=True, size=(80, 24))

app_module.CockpitApp = Headless
from cockpit.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_cockpit_tui_repeats_the_failure_as_one_line(sandbox: Path, tmp_path: Path) -> None:
    """`cockpit tui` on a plan whose journal cannot be opened: the app shows it, and on
    leaving the command prints one plain line and exits 1, as before the TUI drew first."""
    config = sandbox.parent / "broken.toml"
    text = sandbox.read_text(encoding="utf-8")
    # the journal under a regular file (the config itself): it can never be created
    broken = text.replace('journal = "cockpit-journal.sqlite3"', f'journal = "{sandbox.name}/journal.db"')
    assert broken != text
    config.write_text(broken, encoding="utf-8")
    assert load_plan(config).paths.journal == sandbox / "journal.db"
    proc = _run_child(tmp_path / "headless_tui.py", CHILD, config)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("cockpit: cannot open the cockpit: cannot open the journal"), proc.stderr


async def test_a_click_on_a_footer_key_presses_it(sandbox: Path) -> None:
    """The footer is one widget drawing every key: a click lands on the key under the pointer."""
    app = CockpitApp(load_plan(sandbox), operator="alice", auto_refresh=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await asyncio.wait_for(app.ready.wait(), 30)
        await pilot.pause()
        footer = app.screen.query_one(CockpitFooter)
        shown = [key.key_display for key in footer.shown]
        assert shown[:4] == ["⏎", "c", "w", "l"] and footer.shown[-1].palette, shown
        assert all(key.enabled for key in footer.shown)
        span = footer.key_span("j")
        assert span is not None and span[1] <= 80
        await pilot.hover(CockpitFooter, offset=(span[0], 0))
        assert "j" in str(footer.render())  # drawn highlighted, still one line
        await pilot.click(CockpitFooter, offset=(span[1] - 1, 0))  # the last column of "j Journal"
        await pilot.pause()
        assert isinstance(app.screen, JournalScreen)
        # the journal screen's own footer: its keys, not the board's
        keys = [key.action for key in app.screen.query_one(CockpitFooter).shown]
        assert "open_phase" not in keys and "app.pop_screen" in keys, keys


GC_CHILD = """
import gc, json, sys
import cockpit.tui.app as app_module

seen = {}

class Headless(app_module.CockpitApp):
    def on_mount(self):
        seen["collecting at the first frame"] = gc.isenabled()
        self.run_worker(self.leave_when_live())

    async def leave_when_live(self):
        await self.ready.wait()
        seen["collecting while the first reading is drawn"] = gc.isenabled()
        self.call_after_refresh(self.painted)

    def painted(self):
        self.call_after_refresh(self.leave)  # the app resumes the collector after this frame

    def leave(self):
        seen["collecting after the first live frame"] = gc.isenabled()
        seen["snapshot"] = self.snapshot is not None
        self.exit(0)

    async def run_async(self, **kwargs):
        return await super().run_async(headless=True, size=(80, 24))

app_module.CockpitApp = Headless
from cockpit.cli import main
code = main(sys.argv[1:])
seen["collecting after the app left"] = gc.isenabled()
print(json.dumps(seen))
sys.exit(code)
"""


def test_cockpit_tui_collects_garbage_again_once_the_live_data_is_drawn(sandbox: Path, tmp_path: Path) -> None:
    """`cockpit tui` pauses the cyclic garbage collector for start-up (tui/gc_pause.py) and
    turns it back on after the first frame with live data: a cockpit that ran for a day
    with the collector off would keep every reference cycle it ever made."""
    proc = _run_child(tmp_path / "gc_tui.py", GC_CHILD, sandbox)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen == {
        "collecting at the first frame": False,
        "collecting while the first reading is drawn": False,
        "collecting after the first live frame": True,
        "snapshot": True,
        "collecting after the app left": True,
    }, seen


async def test_the_engine_and_its_first_reading_are_drawn_in_one_redraw(
    sandbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The board is redrawn for its first frame (from the plan), then once for the open
    engine and its first reading together: not once for the engine and again for the
    reading right behind it. (The grace for a slow reading is made long here, so the one
    redraw can only be the reading's.)"""
    monkeypatch.setattr("cockpit.tui.app.OPEN_REDRAW_GRACE_S", 30.0)
    redraws: list[tuple[str, bool]] = []
    original = BoardScreen.redraw

    def counted(board: BoardScreen) -> None:
        redraws.append((board.cockpit_app.session_state, board.cockpit_app.snapshot is not None))
        original(board)

    monkeypatch.setattr(BoardScreen, "redraw", counted)
    app = CockpitApp(load_plan(sandbox), operator="alice", auto_refresh=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await asyncio.wait_for(app.ready.wait(), 30)
        await pilot.pause()
        assert app.session_open and app.snapshot is not None
        # (the board's one-second tick may redraw too: before the engine opens, or after)
        assert redraws[0] == ("opening", False) and ("open", True) in redraws, redraws
        assert ("open", False) not in redraws, f"a redraw for the engine alone: {redraws}"
        keys = {key.key_display: key for key in app.screen.query_one(CockpitFooter).shown}
        assert keys["j"].enabled and keys["!"].enabled
