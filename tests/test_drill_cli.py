"""Drills and config safety from the shell, on a real sandbox through the real CLI.

- a command that can act never falls back to ./phases.toml: exit 2, naming the target;
- a read-only command writes nothing (no journal file, no session events);
- a drill is marked (drill_start/drill_end; events between belong to it), its log entry
  goes to the drill log headed as a drill, and it is scored from the journal;
- the log never takes the identical entry twice, lists the emergency and interrupted steps;
- `tick` names the valid ids and `tick --list` lists them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cockpit.drill.record import drill_events, drills
from cockpit.engine.confirm import confirm_token
from cockpit.journal import Journal
from cockpit.plan import load_plan
from tests.fixtures.cli import run


def _token(config: str, phase: int, step: str) -> str:
    """What the engine asks an operator to type (phase 9 and 8 also name the tables a note keeps)."""
    plan = load_plan(config)
    return confirm_token(plan.phase(phase), plan.phase(phase).step(step))

REPO = Path(__file__).resolve().parents[1]


def events(plan):
    journal = Journal(plan.paths.journal, plan.target.label, "inspector")
    try:
        return journal.events()
    finally:
        journal.close()


@pytest.fixture
def bare_dir(tmp_path: Path, monkeypatch) -> Path:
    """A folder holding only the shipped plan (production target), as the README's repo root."""
    folder = tmp_path / "repo"
    folder.mkdir()
    shutil.copy(REPO / "phases.toml", folder / "phases.toml")
    monkeypatch.chdir(folder)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return folder


ACTING = [
    ("run", "10", "flags-off", "--execute"),
    ("emergency", "--execute", "--confirm", "EMERGENCY"),
    ("tick", "10", "backup"),
    ("note", "hello"),
    ("log", "10", "--reason", "r", "--resolution", "s"),
    ("drill", "start"),
    ("tui",),
]


@pytest.mark.parametrize("argv", ACTING, ids=[a[0] for a in ACTING])
def test_acting_without_config_refuses_naming_the_target(bare_dir: Path, capsys, argv) -> None:
    code, _out, err = run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1, err
    assert "no --config given" in err and "mysql 127.0.0.1:3306/manufacturing" in err and "--config" in err
    assert sorted(p.name for p in bare_dir.iterdir()) == ["phases.toml"], "nothing may be written"


def test_acting_without_config_in_a_real_process(bare_dir: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(bare_dir.parent / "home")}
    env.pop("COCKPIT_CONFIG", None)
    proc = subprocess.run([sys.executable, "-m", "cockpit", "run", "10", "flags-off", "--execute"], cwd=bare_dir, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("cockpit: no --config given; ./phases.toml targets mysql 127.0.0.1:3306/manufacturing"
                                   " — name it with --config (or COCKPIT_CONFIG) to act on it")
    assert "Traceback" not in proc.stderr


def test_cockpit_config_env_names_the_plan(sandbox: Path, bare_dir: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COCKPIT_CONFIG", str(sandbox))
    code, _out, err = run(capsys, "note", "from the env")
    assert code == 0, err
    assert any(e.kind == "note" for e in events(load_plan(sandbox)))


def test_read_only_commands_say_what_they_read_and_write_nothing(sandbox: Path, bare_dir: Path, capsys) -> None:
    code, _out, err = run(capsys, "run", "10", "flags-off")  # a dry-run of the default plan
    assert "reading ./phases.toml (target mysql 127.0.0.1:3306/manufacturing)" in err
    assert sorted(p.name for p in bare_dir.iterdir()) == ["phases.toml"]
    assert not (bare_dir.parent / "home").exists(), "no journal in the state folder either"

    plan = load_plan(sandbox)
    assert not plan.paths.journal.exists()
    for argv in (("status", "--config", str(sandbox)), ("steps", "10", "--config", str(sandbox)),
                 ("journal", "--config", str(sandbox)), ("run", "10", "flags-off", "--config", str(sandbox)),
                 ("tick", "10", "--list", "--config", str(sandbox)), ("log", "10", "--reason", "r", "--resolution", "s",
                                                                       "--preview", "--config", str(sandbox))):
        run(capsys, *argv)
        assert not plan.paths.journal.exists(), f"{argv[0]} created the journal"
    code, _, err = run(capsys, "note", "first write", "--config", str(sandbox))
    assert code == 0, err
    before = [e.kind for e in events(plan)]
    run(capsys, "status", "--config", str(sandbox))
    run(capsys, "steps", "10", "--config", str(sandbox))
    run(capsys, "journal", "--config", str(sandbox))
    assert [e.kind for e in events(plan)] == before


def test_shipped_plan_keeps_its_journal_in_the_state_folder(bare_dir: Path) -> None:
    plan = load_plan(bare_dir / "phases.toml")
    assert plan.paths.journal == Path.home() / ".local/state/rollback-cockpit/cockpit-journal.sqlite3"


def test_tick_names_the_valid_ids(sandbox: Path, capsys) -> None:
    code, _, err = run(capsys, "tick", "10", "bakup", "--config", str(sandbox))
    assert code == 2 and err.count("\n") == 1
    assert "before: backup, flags, cron" in err and "after: verify" in err
    code, out, _ = run(capsys, "tick", "10", "--list", "--config", str(sandbox))
    assert code == 0 and "backup" in out and "[ ]" in out and "after:" in out


def test_refusal_names_the_way_out(sandbox: Path, capsys) -> None:
    c = str(sandbox)
    code, _, err = run(capsys, "run", "7", "flags-off", "--execute", "--config", c)
    assert code == 1 and "--override REASON" in err
    run(capsys, "run", "10", "flags-off", "--execute", "--config", c)
    run(capsys, "run", "10", "cron-stop", "--execute", "--config", c)
    # the final drop before anything is quarantined names the quarantine as the way out
    code, _, err = run(capsys, "run", "10", "drop", "--execute", "--confirm", "10", "--config", c)
    assert code == 1 and "refused [quarantine]" in err and "cockpit run PHASE quarantine --execute --confirm PHASE" in err
    code, _, err = run(capsys, "run", "10", "backup", "--execute", "--config", c)
    assert code == 1 and "cockpit run PHASE quarantine --execute --confirm PHASE" in err
    assert run(capsys, "run", "10", "quarantine", "--execute", "--confirm", "10", "--config", c)[0] == 0
    # refused by two guards (the watch, rows with no backup): each one's way out is named
    code, _, err = run(capsys, "run", "10", "drop", "--execute", "--confirm", "10", "--config", c)
    assert code == 1 and err.count("\n") == 1
    assert "--override REASON" in err and "cockpit run PHASE backup --execute" in err
    # an override gives way on the watch, never on the rows: the backup is still named
    code, _, err = run(capsys, "run", "10", "drop", "--execute", "--confirm", "10", "--override", "drill", "--config", c)
    assert code == 1 and "refused [data]" in err and "cockpit run PHASE backup --execute" in err
    # rolling forward while the tables are quarantined names the restore
    code, _, err = run(capsys, "run", "10", "flags-on", "--execute", "--config", c)
    assert code == 1 and "cockpit run PHASE restore --execute" in err


def test_drill_start_end_report(sandbox: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COCKPIT_OPERATOR", "drill-op")
    c = str(sandbox)
    plan = load_plan(sandbox)
    run(capsys, "note", "before the drill", "--config", c)
    code, out, err = run(capsys, "drill", "start", "--config", c)
    assert code == 0 and "drill 1 started" in out, err
    code, _, err = run(capsys, "drill", "start", "--config", c)
    assert code == 1 and "drill 1 is still running" in err

    run(capsys, "tick", "10", "backup", "--config", c)
    assert run(capsys, "run", "10", "flags-off", "--execute", "--config", c)[0] == 0
    assert run(capsys, "run", "10", "cron-stop", "--execute", "--config", c)[0] == 0
    drop = ("run", "10", "drop", "--execute", "--confirm", "10", "--config", c)
    assert run(capsys, *drop)[0] == 1  # nothing quarantined yet
    assert run(capsys, "run", "10", "quarantine", "--execute", "--confirm", "10", "--config", c)[0] == 0
    early = ("--override", "drill: no 24 h watch")
    assert run(capsys, *drop, *early)[0] == 1  # past the watch by override, but rows and no backup
    assert run(capsys, "run", "10", "backup", "--execute", "--config", c)[0] == 0
    assert run(capsys, *drop, *early)[0] == 0
    for step in plan.phase(10).steps:
        if step.kind in ("manual", "check") and not step.optional:
            assert run(capsys, "run", "10", step.id, "--execute", "--config", c)[0] == 0, step.id
    code, out, err = run(capsys, "log", "10", "--reason", "drill", "--resolution", "practised", "--config", c)
    assert code == 0, err
    drill_log = plan.log.file.with_name("ROLLBACK_LOG.drill.md")
    assert f"appended to {drill_log}" in out
    assert not plan.log.file.exists(), "a drill's entry never goes to the production log"
    text = drill_log.read_text()
    assert text.startswith("# Drill Log") and "## Drill Log Entry — drill 1 (sandbox, not a production rollback)" in text

    code, out, err = run(capsys, "drill", "end", "--config", c)
    assert code == 0, err
    assert "drill 1: PASS WITH FINDINGS" in out
    report_file = plan.log.file.with_name("ROLLBACK_LOG.drill-1-report.md")
    assert f"report: {report_file}" in out and report_file.exists()

    everything = events(plan)
    (drill,) = drills(everything)
    mine = drill_events(everything, drill)
    assert mine[0].kind == "drill_start" and mine[-1].kind == "drill_end"
    assert not any(e.kind == "note" and e.data.get("text") == "before the drill" for e in mine)
    assert mine[-1].data["verdict"] == "pass with findings"

    code, out, _ = run(capsys, "journal", "--json", "--config", c)
    marked = [(e["kind"], e["drill"]) for e in json.loads(out)]
    assert ("note", None) in marked and ("tick", 1) in marked and ("step_intent", 1) in marked
    code, out, err = run(capsys, "drill", "report", "--json", "--config", c)
    assert code == 0, err
    score = json.loads(out)
    assert score["drill"] == 1 and score["verdict"] == "pass with findings" and score["not_attempted"] == [9, 8, 7]
    (p10,) = score["phases"]
    assert p10["phase"] == 10 and p10["completed"] is True and p10["within_budget"] is True and p10["budget_minutes"] == 10
    assert [(r["step"], r["guard"], r["resolved"]) for r in p10["refusals"]] == [("drop", "quarantine", True), ("drop", "data", True)]
    # each refusal is resolved by what really got past it: the override of the watch
    # window does not count for the refusals by the quarantine and data guards
    assert [r["resolution"] for r in p10["refusals"]] == ["done after quarantine, backup", "done after backup"]
    assert p10["overrides"] == ["watch_window: drill: no 24 h watch"] * 2
    steps = {s["step"]: s for s in p10["steps"]}
    assert steps["drop"]["attempts"] == 3 and steps["drop"]["status"] == "done" and steps["drop"]["seconds"] >= 0
    assert steps["quarantine"]["attempts"] == 1 and steps["backup"]["status"] == "done"
    assert p10["tables"].startswith("quarantined and dropped (kept in ") and "phase10-backup" in p10["tables"]
    assert "before: backup" not in p10["unticked"] and "before: flags" in p10["unticked"]
    assert any("unticked" in f for f in score["findings"]) and "phase 10: 2 override(s)" in score["findings"]
    code, out, _ = run(capsys, "drill", "report", "1", "--config", c)
    assert "| drop | done | 3 |" in out and "| quarantine | done | 1 |" in out
    assert "drop [quarantine]" in out and "→ done after quarantine, backup" in out
    assert "drop [data]" in out and "→ done after backup" in out and "Tables: quarantined and dropped" in out
    code, _, err = run(capsys, "drill", "report", "7", "--config", c)
    assert code == 2 and "no drill 7" in err


def test_drill_refuses_a_production_target(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    plan = tmp_path / "phases.toml"
    shutil.copy(REPO / "phases.toml", plan)
    code, _, err = run(capsys, "drill", "start", "--config", str(plan))
    assert code == 1 and "is not a sandbox" in err and "--staging" in err


def test_log_is_idempotent_and_lists_undo_emergency_and_interruptions(sandbox: Path, capsys) -> None:
    c = str(sandbox)
    plan = load_plan(sandbox)
    assert run(capsys, "run", "10", "flags-off", "--execute", "--config", c)[0] == 0
    # an interrupted run: an intent with no outcome, as a kill -9 leaves it, then run again
    journal = Journal(plan.paths.journal, plan.target.label, "ghost")
    journal.append("step_intent", phase=10, step="cron-stop", data={"kind": "cron_stop", "title": "x"})
    journal.close()
    assert run(capsys, "run", "10", "cron-stop", "--execute", "--config", c)[0] == 0
    assert run(capsys, "run", "10", "cron-start", "--execute", "--config", c)[0] == 0  # undo
    assert run(capsys, "run", "10", "flags-on", "--execute", "--config", c)[0] == 0
    assert run(capsys, "emergency", "--execute", "--confirm", "EMERGENCY", "--config", c)[0] == 0
    argv = ("log", "10", "--reason", "errors", "--resolution", "flags off", "--config", c)
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "appended to" in out
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "not written again" in out
    text = plan.log.file.read_text()
    assert text.count("## Rollback Log Entry") == 1
    issues = next(line for line in text.splitlines() if line.startswith("**Issues Encountered:**"))
    assert "rollback undone" in issues and "emergency rollback by" in issues
    assert "step cron-stop interrupted at" in issues
    assert len([e for e in events(plan) if e.kind == "log_written"]) == 1


def test_check_warns_about_placeholder_contacts_and_the_review_date(sandbox: Path, capsys) -> None:
    code, out, _ = run(capsys, "check", "--config", str(sandbox))
    assert code == 0, out
    assert "warn  emergency contact still a placeholder: Lead Architect, Database Admin, DevOps" in out
    sandbox.write_text(sandbox.read_text().replace('next_review = "2026-02-11"', 'next_review = "2020-01-01"'))
    code, out, _ = run(capsys, "check", "--config", str(sandbox))
    assert code == 0 and "warn  plan review overdue since 2020-01-01 (plan next_review)" in out


def test_drill_score_reads_the_quarantine_path(sandbox: Path, capsys) -> None:
    """Phase 10 quarantined and backed up, its final drop refused by the watch alone: left
    for after the watch, not a wrong turn. Phase 9 (empty tables: no backup needed) the same.
    Phase 8 quarantined with rows and no verified backup: a finding, and its drop refused
    by the watch AND the data guard stays unresolved."""
    c = str(sandbox)
    assert run(capsys, "drill", "start", "--config", c)[0] == 0
    for phase, steps in ((10, ("flags-off", "cron-stop")), (9, ("flags-off", "cron-stop")), (8, ("flags-off",))):
        for step in steps:
            assert run(capsys, "run", str(phase), step, "--execute", "--config", c)[0] == 0, (phase, step)
        token = _token(c, phase, "quarantine")
        assert run(capsys, "run", str(phase), "quarantine", "--execute", "--confirm", token, "--config", c)[0] == 0, phase
    assert run(capsys, "run", "10", "backup", "--execute", "--config", c)[0] == 0
    assert run(capsys, "run", "10", "drop", "--execute", "--confirm", "10", "--config", c)[0] == 1
    assert run(capsys, "run", "9", "drop", "--execute", "--confirm", _token(c, 9, "drop"), "--config", c)[0] == 1
    assert run(capsys, "run", "8", "drop", "--execute", "--confirm", _token(c, 8, "drop"), "--config", c)[0] == 1
    code, out, err = run(capsys, "drill", "end", "--config", c)
    assert code == 0, err
    code, out, err = run(capsys, "drill", "report", "--json", "--config", c)
    score = {p["phase"]: p for p in json.loads(out)["phases"]}
    (p10_drop,) = score[10]["refusals"]
    assert (p10_drop["guard"], p10_drop["resolved"]) == ("watch_window", True)
    assert p10_drop["resolution"].startswith("left for after the watch")
    assert score[10]["tables"] == "quarantined, backup verified by restore; final drop after the watch"
    (p9_drop,) = score[9]["refusals"]
    assert p9_drop["guard"] == "watch_window" and p9_drop["resolved"] is True  # empty tables: nothing to back up
    assert score[9]["tables"] == "quarantined, no verified backup; final drop after the watch"
    assert score[8]["tables"] == "quarantined, no verified backup; final drop after the watch"
    findings = json.loads(out)["findings"]
    assert any(f.startswith("phase 8: ") and "quarantined rows without a backup verified by restore" in f for f in findings)
    assert not any(f.startswith("phase 9: ") and "quarantined rows" in f for f in findings)
    (p8_drop,) = score[8]["refusals"]
    assert p8_drop["guard"] == "watch_window" and "data:" in p8_drop["message"] and p8_drop["resolved"] is False
    assert [f for f in findings if "refusal(s) unresolved" in f] == ["phase 8: 1 refusal(s) unresolved"]
