"""The CLI drill: phase 10 -> 7 on the sandbox, journal and log truthful at each point."""

from __future__ import annotations

import json

from cockpit.engine.confirm import confirm_token
from cockpit.plan import load_plan
from tests.fixtures.cli import run


def journal(capsys, config) -> list[dict]:
    code, out, _ = run(capsys, "journal", "--json", "--config", str(config))
    assert code == 0
    return json.loads(out)


def test_cli_drill_10_to_7(sandbox, capsys, monkeypatch):
    monkeypatch.setenv("COCKPIT_OPERATOR", "drill-op")
    config = str(sandbox)
    plan = load_plan(sandbox)

    # reverse order: phase 7 cannot start first
    code, _, err = run(capsys, "run", "7", "flags-off", "--execute", "--config", config)
    assert code == 1 and "order" in err and err.count("\n") == 1

    # dry-run by default: nothing changes, the SQL is shown
    code, out, _ = run(capsys, "run", "10", "quarantine", "--config", config)
    assert code == 1 and "ALTER TABLE `mv_token_flow_summary` RENAME TO `_cockpit_q10_mv_token_flow_summary`;" in out
    assert not [e for e in journal(capsys, config) if e["kind"] == "step_intent"]

    for phase in plan.rollback_order:
        for step in phase.steps:
            argv = ["run", str(phase.id), step.id, "--execute", "--config", config]
            if step.destructive:
                argv += ["--confirm", confirm_token(phase, step)]
            if step.kind == "migration":  # the final drop waits for the watch unless told why not
                argv += ["--override", "drill: no watch in a drill"]
            code, out, err = run(capsys, *argv)
            assert code == 0, f"phase {phase.id} {step.id}: {err}"
            assert "done:" in out
        events = [e for e in journal(capsys, config) if e["phase"] == phase.id]
        outcomes = {e["step"]: e["data"]["status"] for e in events if e["kind"] == "step_outcome"}
        assert outcomes == {s.id: "done" for s in phase.steps}
        assert {e["operator"] for e in events} == {"drill-op"}

        code, out, _ = run(capsys, "steps", str(phase.id), "--json", "--config", config)
        listed = json.loads(out)["steps"]
        assert code == 0 and {s["status"] for s in listed if not s["abort"]} == {"done"}
        assert {s["id"] for s in listed if s["abort"]} <= {"restore", "flags-on", "cron-start"}

        code, out, err = run(capsys, "log", str(phase.id), "--reason", f"drill of phase {phase.id}",
                             "--resolution", "restored from staging", "--config", config)
        assert code == 0, err
        assert f"**Phase:** Phase {phase.id}" in out and "**Rolled Back By:** drill-op" in out

    log = plan.log.file.read_text()
    assert log.startswith("# Rollback Log") and log.count("## Rollback Log Entry") == 4
    assert "**Data Loss:** Yes — " in log  # phases 10, 8, 7 held rows (backed up first)
    kinds = [e["kind"] for e in journal(capsys, config)]
    assert kinds.count("log_written") == 4 and "backup_verified" in kinds


def test_cli_tick_note_and_bad_input(sandbox, capsys):
    config = str(sandbox)
    assert run(capsys, "tick", "10", "backup", "--config", config)[0] == 0
    assert run(capsys, "tick", "10", "verify", "--after", "--untick", "--config", config)[0] == 0
    assert run(capsys, "note", "paged DBA", "--phase", "10", "--config", config)[0] == 0
    code, _, err = run(capsys, "tick", "10", "nonsense", "--config", config)
    assert code == 2 and "nonsense" in err
    code, _, err = run(capsys, "run", "10", "no-such-step", "--config", config)
    assert code == 2 and "no step" in err
    kinds = [(e["kind"], e["data"].get("item") or e["data"].get("text")) for e in journal(capsys, config)]
    assert ("tick", "backup") in kinds and ("untick", "verify") in kinds and ("note", "paged DBA") in kinds


def test_cli_destructive_needs_confirm_and_emergency(sandbox, capsys):
    config = str(sandbox)
    code, _, err = run(capsys, "run", "10", "drop", "--execute", "--config", config)
    assert code == 1 and "confirm" in err
    code, out, _ = run(capsys, "emergency", "--config", config)
    assert code == 0 and "EMERGENCY" in out
    code, _, err = run(capsys, "emergency", "--execute", "--confirm", "emergency", "--config", config)
    assert code == 1
    code, out, _ = run(capsys, "emergency", "--execute", "--confirm", "EMERGENCY", "--config", config)
    assert code == 0 and "flags off" in out
    assert [e["kind"] for e in journal(capsys, config)].count("emergency_outcome") == 1


def test_cli_unreachable_database_exits_3(tmp_path, capsys, sandbox):
    (sandbox.parent / "sandbox.db").unlink()
    code, _, err = run(capsys, "run", "10", "flags-off", "--execute", "--config", str(sandbox))
    assert code == 3 and "unreachable" in err


def test_cli_log_refuses_a_phase_that_never_rolled_back(sandbox, capsys):
    code, out, err = run(capsys, "log", "9", "--reason", "drill", "--resolution", "none", "--config", str(sandbox))
    assert code == 1 and "no rollback in the journal" in err
    assert not load_plan(sandbox).log.file.exists()
