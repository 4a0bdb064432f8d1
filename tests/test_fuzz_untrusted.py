"""Hostile text through every untrusted source, into the real views (issue 10).

`hypothesis` generates text made of what breaks terminals and markup parsers — Rich/Textual
markup (`[/]`, `[bold`, `[@click=…]`), terminal escapes (`\\x1b]0;title\\x07`, `\\x1b[2J`, C1
CSI/OSC), control bytes, invalid UTF-8, bidi overrides, huge lines — with a marker word in
the middle. It goes in through the real sources: error-log lines appended to the sandbox's
log file, crontab lines written to its crontab file, flag values in its SQLite flag table,
notes, another session's SQL quoted in a refusal, drift alerts, and plan strings. Then the
real views run: the Textual app under Pilot (every screen pushed), the CLI (`journal`,
`status`, refusals on stderr) and the Markdown log writer.

Each view must: not crash (the app still running), put no escape or control byte in its
output (for the TUI: what the terminal would receive, minus the app's own colour codes),
and still show the marker word. Bounded: a few dozen examples per source, ~20 s in all.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rich.console import Console

from cockpit import cli
from cockpit.journal import Journal
from cockpit.plan import PlanError, load_plan
from cockpit.probes.drift import Alert
from cockpit.report import append_entry, render_entry
from cockpit.sandbox import create_sandbox
from cockpit.text import clean, escape_markup, md_escape, plain
from cockpit.tui.app import CockpitApp
from tests.fixtures.tui import settle

TOKENS = [
    "[/]", "[bold]", "[b", "[/", "[", "]", "\\", "\\[", "[$accent]", "[@click=app.quit]",
    "[link=https://evil.example]x[/link]", "\x1b]0;pwned title\x07", "\x1b]8;;https://evil\x1b\\",
    "\x1b[2J", "\x1b[H", "\x1b[31m", "\x1b[?1049l", "\x1bc", "\x1bP1$r\x1b\\", "\x1b]", "\x1b[",
    "\x9b2J", "\x9d0;t\x9c", "\x07", "\x00", "\x08", "\x7f", "\x85", "\r", "\t", "\n", "\u202e",
    "\u2028", "\ufeff", "%s", "{0}", "$(id)", "`", "*", "_", "<img src=x>", "|", "#", "🙂", "漢字",
]
BYTE_TOKENS = [b"\xff", b"\xfe\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\x1b", b"\x9b"]
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# what the app itself sends: colours (SGR) and cursor positioning (CUP) of its layout update
OWN_SEQUENCES = re.compile(r"\x1b\[[0-9;:]*[mH]")

fragment = st.one_of(st.sampled_from(TOKENS), st.text(max_size=6))
garbage = st.lists(fragment, max_size=10).map("".join)
short_garbage = st.lists(fragment, max_size=2).map("".join).map(lambda s: s[:6])
word = st.from_regex(r"qz[a-z]{6}", fullmatch=True)
huge = st.sampled_from(["", "", "", "H" * 8_000])


@st.composite
def hostile(draw: Any) -> tuple[str, str]:
    """(text, marker): garbage, the marker on its own line, garbage, sometimes a huge tail."""
    marker = draw(word)
    return f"{draw(short_garbage)}\n{marker}\n{draw(garbage)}{draw(huge)}", marker


@st.composite
def hostile_bytes(draw: Any) -> tuple[bytes, str]:
    """Bytes for file sources: hostile text, invalid UTF-8 around it, no newline inside."""
    text, marker = draw(hostile())
    raw = text.replace("\n", " ").encode("utf-8", "surrogatepass")
    extra = b"".join(draw(st.lists(st.sampled_from(BYTE_TOKENS), max_size=3)))
    return extra + raw + extra, marker


def assert_clean(output: str, where: str) -> None:
    found = CONTROL.search(output)
    assert found is None, f"{where}: control character {found.group()!r} in output: {output[max(0, found.start() - 40):found.end() + 40]!r}"


# --------------------------------------------------------------------------- the text layer
@settings(max_examples=60, deadline=None)
@given(hostile())
def test_clean_and_escape_keep_text_readable_and_inert(sample: tuple[str, str]) -> None:
    from textual.content import Content

    text, marker = sample
    for multiline in (False, True):
        shown = clean(text, multiline=multiline)
        assert_clean(shown.replace("\n", "").replace("\t", ""), "clean")
        assert marker in shown
        assert Content.from_markup(f"[b]{escape_markup(text, multiline=multiline)}[/b]").plain.replace("\u200b", "") == shown
    assert plain(text).plain == clean(text)
    assert marker in md_escape(text) and not re.search(r"(?<!\\)[\[\]<>`|*]", md_escape(text).replace("\\\\", ""))
    assert len(clean(text, limit=50)) <= 50


# --------------------------------------------------------------------------- Markdown log
_PLANS: dict[Path, Any] = {}


def _plan(config: Path) -> Any:
    """Loaded once per sandbox: the writer is under test here, not the loader."""
    if config not in _PLANS:
        _PLANS[config] = load_plan(config)
    return _PLANS[config]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(note=hostile(), sql=hostile(), reason=hostile(), resolution=hostile())
def test_rollback_log_writer(tmp_path: Path, sandbox: Path, note, sql, reason, resolution) -> None:
    plan = _plan(sandbox)
    journal = Journal(plan.paths.journal, plan.target.label, "fuzz")
    try:
        journal.append("step_outcome", phase=10, step="flags-off", data={"status": "done", "message": "ok"})
        journal.append("note", phase=10, data={"text": note[0]}, operator=note[0][:30])
        journal.append("step_outcome", phase=10, step="drop",
                       data={"status": "refused", "guard": "lock", "message": f"blocked by session 7: {sql[0]}"})
        events = journal.events()
    finally:
        journal.close()
    entry = render_entry(plan, events, plan.phase(10), reason[0], resolution[0])
    path = append_entry(plan, tmp_path / "ROLLBACK_LOG.md", entry)
    written = path.read_text(encoding="utf-8")
    assert_clean(written.replace("\n", ""), "ROLLBACK_LOG.md")
    for marker in (note[1], sql[1], reason[1], resolution[1]):
        assert marker in written


# --------------------------------------------------------------------------- sources on disk
def _append_log(config: Path, log_lines: list[bytes]) -> None:
    with open(config.parent / "logs" / "error.log", "ab") as handle:
        for line in log_lines:
            handle.write(b"dashboard " + line + b"\n")


def _inject_files(config: Path, flag: str, log_lines: list[bytes], cron: bytes) -> None:
    """Hostile values into the sandbox's real sources: flag table, error log, crontab."""
    plan = load_plan(config)
    with sqlite3.connect(plan.target.path) as conn:
        conn.execute("UPDATE feature_flag SET enabled = ? WHERE flag_key = ?", (flag, "enable_production_dashboard"))
    _append_log(config, log_lines)
    crontab = config.parent / "crontab"
    lines = crontab.read_bytes().splitlines()
    lines[0] = lines[0].replace(b" # refresh-dashboard-mv", b" --tag " + cron.replace(b"#", b"") + b" # refresh-dashboard-mv")
    crontab.write_bytes(b"\n".join([*lines, b"# " + cron, cron]) + b"\n")


# --------------------------------------------------------------------------- the CLI
# no shrinking for the slow ones: a failure is reported as generated, within the time budget
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)


@settings(max_examples=8, deadline=None, phases=NO_SHRINK, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(note=hostile(), flag=hostile(), log=hostile_bytes(), cron=hostile_bytes(), step=hostile())
def test_cli_views(sandbox: Path, capsys, note, flag, log, cron, step) -> None:
    _inject_files(sandbox, flag[0], [log[0]], cron[0])
    # `--` ends the options: a note that starts with "-" is text, as in any argparse CLI
    assert cli.main(["note", "--phase", "10", "--config", str(sandbox), "--", note[0]]) == 0
    capsys.readouterr()
    assert cli.main(["journal", "--config", str(sandbox)]) == 0
    out = capsys.readouterr().out
    assert_clean(out.replace("\n", "").replace("\t", ""), "cockpit journal")
    assert note[1] in out
    code = cli.main(["status", "--config", str(sandbox)])
    out = capsys.readouterr().out
    assert code in (0, 1, 3)
    assert_clean(out.replace("\n", "").replace("\t", ""), "cockpit status")
    # a refusal naming what the operator typed goes to stderr through fail()
    with pytest.raises(SystemExit) as refused:
        cli.main(["run", "10", step[0], "--config", str(sandbox)])
    assert refused.value.code in (1, 2)
    err = capsys.readouterr().err
    assert_clean(err.replace("\n", ""), "refusal on stderr")
    assert step[1] in err


# --------------------------------------------------------------------------- the TUI
def screen_text(app: CockpitApp) -> tuple[str, str]:
    """(terminal bytes minus the app's own colour and cursor codes, plain text) of the screen."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    raw = console.file.getvalue()  # type: ignore[attr-defined]
    return OWN_SEQUENCES.sub("", raw), console.export_text(styles=False)


def toml_string(text: str) -> str:
    """A TOML basic string holding `text` exactly (controls as \\u escapes)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _hostile_plan(config: Path, name: str, fallback: str, item: str) -> Path:
    source = config.read_text(encoding="utf-8")
    source = source.replace('name = "Production dashboard"', f"name = {toml_string(name)}", 1)
    source = source.replace('"Views remain but are not refreshed"', toml_string(fallback), 1)
    source = source.replace('text = "Check error logs"', f"text = {toml_string(item)}", 1)
    hostile_config = config.with_name("hostile.toml")
    hostile_config.write_text(source, encoding="utf-8")
    return hostile_config


async def _drive(app: CockpitApp, config: Path, log: bytes, notes: list, sqls: list, alerts: list,
                 checks: list[tuple[str, str]]) -> None:
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await settle(pilot)
        _append_log(config, [log] * 3)  # the follower reads what is written after its first poll
        engine = app.engine
        for note, _ in notes:
            engine.note(note, 10)
        for sql, _ in sqls:
            engine.journal.append("step_outcome", phase=10, step="drop",
                                  data={"status": "refused", "guard": "lock", "message": f"{sql} (another session's SQL)"})
        app._raise_alerts([Alert("log_spike", 10, "logs/error.log", alert, app.now()) for alert, _ in alerts])
        app.journal_changed()
        app.refresh_now()
        await settle(pilot)
        shots = {"board+toast": screen_text(app)}
        for name, opener in (
            ("phase", lambda: app.open_phase(10)),
            ("journal", app.action_journal),
            ("watch", lambda: app.open_watch(10)),
            ("checklist", lambda: app.open_checklist(10)),
            ("log", lambda: app.open_log(10)),
            ("help", app.action_help),
        ):
            while len(app.screen_stack) > 1:  # back to the board, the bottom of the stack
                app.pop_screen()
                await pilot.pause()
            # the alerts' toasts (checked on the board above) overlay the right of every
            # screen for seconds: cleared, so a screen's own text is what is read
            app.clear_notifications()
            opener()
            await settle(pilot)
            assert app.is_running, f"the app died on the {name} screen"
            shots[name] = screen_text(app)
        for name, (raw, text) in shots.items():
            assert_clean(raw.replace("\n", ""), f"TUI {name} screen")
            assert "\x1b" not in text
        for screen, marker in checks:
            assert marker in shots[screen][1], f"{marker} not readable on the {screen} screen:\n{shots[screen][1]}"


# Each example is one app session (~8 s on a loaded 2-core box), so an example carries a
# batch: two notes, two refusals, two alerts, a flag value, log lines, a crontab line and a
# plan string, all on screen at once.
@settings(max_examples=2, deadline=None, phases=NO_SHRINK, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(notes=st.lists(hostile(), min_size=2, max_size=2), sqls=st.lists(hostile(), min_size=2, max_size=2),
       alerts=st.lists(hostile(), min_size=2, max_size=2), plan_text=hostile(), flag=hostile(),
       log=hostile_bytes(), cron=hostile_bytes())
def test_tui_screens_survive_hostile_text(tmp_path_factory, utc, notes, sqls, alerts, plan_text, flag, log, cron) -> None:
    config = create_sandbox(tmp_path_factory.mktemp("fuzz") / "sandbox").config_path
    _inject_files(config, flag[0], [], cron[0])
    # a toast is cut to a few lines by design (a long alert's marker may fall past the cut):
    # the board+toast screen is checked for crashes and escapes, the full text on the watch
    checks = [("journal", m) for _, m in notes + sqls] + [("watch", m) for _, m in alerts]
    try:
        plan = load_plan(_hostile_plan(config, plan_text[0], plan_text[0], plan_text[0]))
        checks += [("phase", plan_text[1]), ("checklist", plan_text[1])]
    except PlanError:
        plan = load_plan(config)  # the loader may refuse control characters in plan strings: fine
    app = CockpitApp(plan, operator="fuzz", auto_refresh=False)
    asyncio.run(_drive(app, config, log[0], notes, sqls, alerts, checks))
