"""Broken plans: each gets exactly one line naming file, line and key, and exit code 2.

Every case edits the real phases.toml so the tests follow the plan as it evolves. The
expected line is found from the text: `{line}` is the line where the edited text (or the
given anchor) sits, so the assertion checks the locator as much as the message.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cockpit.plan import PlanError, load_plan

ROOT = Path(__file__).resolve().parent.parent
PLAN_TEXT = (ROOT / "phases.toml").read_text(encoding="utf-8")

# (case id, text to replace, replacement, expected message, anchor text for {line} or None = replacement)
CASES: list[tuple[str, str, str, str, str | None]] = [
    ("unknown-table-in-drop", '"oem_job_ticket_step", "oem_job_ticket", "oem_scan_rule"]\nas_written',
     '"oem_job_ticket_step", "oem_job_tickt", "oem_scan_rule"]\nas_written',
     'phase 8 step "drop": unknown table "oem_job_tickt"', None),
    ("toml-syntax-header", "[watch]", "[watch", "TOML syntax error: Expected ']' at the end of a table declaration", None),
    ("toml-syntax-string", 'title = "Complete System Rollback"', 'title = "Complete System Rollback', "TOML syntax error:", None),
    ("duplicate-key", 'budget_minutes = 10\n', 'budget_minutes = 10\nbudget_minutes = 11\n', "TOML syntax error:", "budget_minutes = 11"),
    ("typo-key-in-phase", "budget_minutes = 20", "budget_minute = 20", 'phase 8: missing key "budget_minutes" (found "budget_minute": a typo?)', None),
    ("typo-key-in-target", "lock_wait_timeout_s = 5 ", "lock_wait_timout_s = 5 ", 'target: unknown key "lock_wait_timout_s" (did you mean "lock_wait_timeout_s"?)', None),
    ("unknown-top-level", "[watch]", "[wacth]\nhours = 1\n[watch]", 'unknown key "wacth"', "[wacth]"),
    ("port-not-int", "port = 3306", 'port = "3306"', "target: key \"port\" must be an integer, got str '3306'", None),
    ("port-range", "port = 3306", "port = 70000", 'target: key "port" must be <= 65535, got 70000', None),
    ("budget-not-number", "budget_minutes = 15\ndata_loss_risk = \"low\"\ndata_loss_reason = \"cache", "budget_minutes = \"fifteen\"\ndata_loss_risk = \"low\"\ndata_loss_reason = \"cache", "phase 9: key \"budget_minutes\" must be a number, got str 'fifteen'", None),
    ("negative-budget", "budget_minutes = 10", "budget_minutes = -10", 'phase 10: key "budget_minutes" must be >= 0, got -10', None),
    ("bad-risk", 'data_loss_risk = "medium"', 'data_loss_risk = "moderate"', 'phase 8: key "data_loss_risk" must be one of none, low, medium, high, got "moderate"', None),
    ("duplicate-phase-id", "id = 9\n", "id = 10\n", "phase 10: duplicate phase id (also phase #1)", "id = 10\nname = \"People"),
    ("flag-with-quote", '"enable_oem_mode", "oem_shadow_run"]', '"enable_oem_mode", "oem\'shadow"]', "phase 8: flag \"oem'shadow\" is not a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*)", None),
    ("flag-with-backtick", '"enable_oem_mode", "oem_shadow_run"]', '"enable_oem_mode", "oem`shadow"]', 'phase 8: flag "oem`shadow" is not a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*)', None),
    ("table-with-semicolon", 'tables = ["oem_job_ticket",', 'tables = ["oem_job_ticket;DROP",', 'phase 8: table "oem_job_ticket;DROP" is not a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*)', None),
    ("table-with-space", 'tables = ["oem_job_ticket",', 'tables = ["oem job_ticket",', 'phase 8: table "oem job_ticket" is not a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*)', None),
    ("column-injection", '{ table = "assignment_plan_job", column = "priority" },\n]\ndrop_tables', '{ table = "assignment_plan_job", column = "priority`; DROP TABLE x; --" },\n]\ndrop_tables',
     'phase 7 step "drop": column "priority`; DROP TABLE x; --" is not a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*)', None),
    ("flag-table-quote", 'table = "feature_flag"', 'table = "feature\\"flag"', 'flags: table "feature"flag" is not a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*)', None),
    ("database-name", 'database = "manufacturing"', 'database = "manu-facturing"', 'target: database "manu-facturing" is not a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*)', None),
    ("unknown-guard-table", 'guard_tables = ["people_sync_error_log",', 'guard_tables = ["people_sync_eror_log",', 'phase 9 step "drop": unknown table "people_sync_eror_log"', None),
    ("undeclared-column", '{ table = "assignment_plan_node", column = "priority" },\n    { table = "assignment_plan_job", column = "priority" },\n]\ndrop_tables',
     '{ table = "assignment_plan_node", column = "prio" },\n    { table = "assignment_plan_job", column = "priority" },\n]\ndrop_tables',
     'phase 7 step "drop": unknown column "assignment_plan_node.prio" (declare it in the phase\'s columns)', None),
    ("emergency-unknown-flag", '    "oem_shadow_run",\n]\nbudget_minutes = 5', '    "oem_shadow_rn",\n]\nbudget_minutes = 5', 'emergency: unknown flag "oem_shadow_rn" (not declared by any phase)', '    "oem_shadow_rn",'),
    ("unknown-step-kind", 'kind = "cron_stop"\ntitle = "Stop sync jobs"', 'kind = "cron_halt"\ntitle = "Stop sync jobs"', 'phase 9 step "cron-stop": key "kind" must be one of', None),
    ("duplicate-step-id", 'id = "code-kanban"', 'id = "code-endpoints"', 'phase 8: duplicate step id "code-endpoints"', 'id = "code-endpoints"\nkind = "manual"\ntitle = "Remove OEM Kanban'),
    ("bad-step-id", 'id = "code-kanban"', 'id = "Code Kanban"', 'phase 8 step "Code Kanban": id must be lower-case letters, digits, - or _', None),
    ("migration-without-guard", 'guard_tables = ["oem_job_ticket", "oem_job_ticket_step", "oem_scan_rule"]\n', "", 'phase 8 step "drop": a migration needs guard_tables (the tables counted before any DROP)', '[[phase.step]]\nid = "drop"\nkind = "migration"\ntitle = "Rollback migration (optional)"\noptional = true\ndrop_tables = ["oem_job_ticket_step"'),
    ("drop-on-manual-step", 'id = "code-kanban"\nkind = "manual"', 'id = "code-kanban"\nkind = "manual"\ndrop_tables = ["oem_scan_rule"]', 'phase 8 step "code-kanban": drop_tables/drop_columns/guard_tables belong to a migration step', '[[phase.step]]\nid = "code-kanban"'),
    ("check-unknown-activity", 'activity = "oem-tickets"', 'activity = "oem-ticket"', 'phase 8 step "verify-stopped": unknown activity check "oem-ticket"', None),
    ("cron-bad-schedule", 'schedule = "7 * * * *"', 'schedule = "61 * * * *"', 'phase 9 cron "people-sync-teams": schedule "61 * * * *" is not a valid cron expression', None),
    ("cron-command-mismatch", 'command = "/usr/bin/php /var/www/app/cron/people_sync_teams.php"', 'command = "/usr/bin/php /var/www/app/cron/people_sync_team.php"', 'phase 9 cron "people-sync-teams": command does not run script "people_sync_teams.php"', None),
    ("cron-on-phase-without-jobs", 'id = "verify-stopped"\nkind = "check"\ntitle = "Stop OEM', 'id = "verify-stopped"\nkind = "cron_stop"\ntitle = "Stop OEM', 'phase 8 step "verify-stopped": the phase declares no cron jobs', 'kind = "cron_stop"\ntitle = "Stop OEM'),
    ("flag-in-two-phases", 'flags = ["enable_oem_mode", "oem_shadow_run"]', 'flags = ["enable_oem_mode", "enable_production_dashboard"]', 'phase 8: flag "enable_production_dashboard" already belongs to phase 10', 'flags = ["enable_oem_mode", "enable_production_dashboard"]'),
    ("password-in-plan", 'option_file = "~/.my.cnf"', 'option_file = "~/.my.cnf"\npassword = "hunter2"', "target: credentials never go in the plan; use the option file, MYSQL_PWD or the prompt", 'password = "hunter2"'),
    ("bad-regex", 'pattern = "oem_|OEM"', 'pattern = "oem_(|OEM"', 'phase 8 error_logs: bad pattern "oem_(|OEM"', None),
    ("checklist-bad-evidence", 'evidence = "cron_stopped"', 'evidence = "cron_stoped"', 'checklist before "cron": unknown evidence "cron_stoped"', None),
    ("checklist-duplicate", '{ id = "notify", text', '{ id = "staging", text', 'checklist before: duplicate item id "staging"', '{ id = "staging", text = "Notify'),
    ("template-missing-field", "**Data Loss:** Yes/No\n", "", 'log: template lacks the field "**Data Loss:**"', 'template = """'),
    ("list-of-non-strings", 'flags = ["enable_production_dashboard"]', "flags = [1]", 'phase 10: key "flags" item 1 must be a string, got int', None),
    ("table-not-list", 'tables = ["oem_job_ticket", "oem_job_ticket_step", "oem_scan_rule"]', 'tables = "oem_job_ticket"', "phase 8: key \"tables\" must be a list of strings, got str 'oem_job_ticket'", None),
    ("optional-not-bool", 'optional = true\nguard_tables = ["oem_job_ticket"', 'optional = "yes"\nguard_tables = ["oem_job_ticket"', "phase 8 step \"drop\": key \"optional\" must be true or false, got str 'yes'", None),
    ("activity-unknown-table", 'table = "oem_job_ticket", column = "created_at"', 'table = "oem_ticket", column = "created_at"', 'phase 8 activity "oem-tickets": unknown table "oem_ticket"', None),
]


def _broken(old: str, new: str) -> str:
    assert PLAN_TEXT.count(old) >= 1, f"case text not found in phases.toml: {old!r}"
    return PLAN_TEXT.replace(old, new, 1)


def _expected_line(text: str, anchor: str) -> int:
    # the error points at the first line of the anchor that holds something
    index = text.index(anchor)
    skipped = len(anchor) - len(anchor.lstrip("\n"))
    return text.count("\n", 0, index + skipped) + 1


@pytest.mark.parametrize("case_id, old, new, message, anchor", CASES, ids=[c[0] for c in CASES])
def test_broken_plan_names_file_line_and_key(tmp_path: Path, case_id: str, old: str, new: str, message: str, anchor: str | None) -> None:
    text = _broken(old, new)
    path = tmp_path / "phases.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    error = str(caught.value)
    assert "\n" not in error
    assert message in error, error
    if case_id.startswith("toml-syntax") or case_id == "duplicate-key":
        assert error.startswith("phases.toml:"), error
    else:
        line = _expected_line(text, anchor if anchor is not None else new)
        assert error.startswith(f"phases.toml:{line}: "), f"expected line {line}: {error}"


def test_there_are_at_least_thirty_broken_plans() -> None:
    assert len({c[0] for c in CASES}) >= 30


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="no such plan file"):
        load_plan(tmp_path / "nope.toml")


@pytest.mark.parametrize("case_id", ["unknown-table-in-drop", "toml-syntax-header", "column-injection"])
def test_cockpit_check_exits_2_with_one_line(tmp_path: Path, case_id: str) -> None:
    _, old, new, message, _ = next(c for c in CASES if c[0] == case_id)
    path = tmp_path / "phases.toml"
    path.write_text(_broken(old, new), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "cockpit", "check", "--config", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert message in lines[0] and "phases.toml:" in lines[0]
    assert result.stdout == ""
