"""Broken plans: each gets exactly one line naming file, line and key, and exit code 2.

Every case edits the real phases.toml so the tests follow the plan as it evolves. The
expected line is found from the text: `{line}` is the line where the edited text (or the
given anchor) sits, so the assertion checks the locator as much as the message.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from cockpit import cli
from cockpit.plan import PlanError, load_plan
from cockpit.plan.file import MAX_PLAN_BYTES

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
] + [
    # -- issue 10: hostile plans ----------------------------------------------------------
    # A trailing newline in every kind of id: Python's `$` matches before it, fullmatch does not.
    ("step-id-newline", 'id = "flags-off"', 'id = "flags-off\\n"', 'phase 10 step "flags-off\\n": id must be lower-case letters, digits, - or _', None),
    ("cron-id-newline", 'id = "refresh-dashboard-mv"', 'id = "refresh-dashboard-mv\\n"', 'phase 10 cron: id "refresh-dashboard-mv\\n" must be lower-case letters', None),
    ("checklist-id-newline", '{ id = "staging", text', '{ id = "staging\\n", text', 'checklist before: id "staging\\n" must be lower-case letters', None),
    ("activity-id-newline", '{ id = "mv-refresh", text', '{ id = "mv-refresh\\n", text', 'phase 10 activity: id "mv-refresh\\n" must be lower-case letters', None),
    ("flag-key-newline", 'flags = ["enable_production_dashboard"]', 'flags = ["enable_production_dashboard\\n"]', 'phase 10: flag "enable_production_dashboard\\n" is not a plain SQL identifier', None),
    ("table-newline", 'tables = ["oem_job_ticket",', 'tables = ["oem_job_ticket\\n",', 'phase 8: table "oem_job_ticket\\n" is not a plain SQL identifier', None),
    ("column-newline", 'column = "refreshed_at"', 'column = "refreshed_at\\n"', 'phase 10 activity: column "refreshed_at\\n" is not a plain SQL identifier', None),
    ("key-column-newline", 'key_column = "flag_key"', 'key_column = "flag_key\\n"', 'flags: key_column "flag_key\\n" is not a plain SQL identifier', None),
    ("database-newline", 'database = "manufacturing"', 'database = "manufacturing\\n"', 'target: database "manufacturing\\n" is not a plain SQL identifier', None),
    ("emergency-flag-newline", '    "oem_shadow_run",\n]\nbudget_minutes = 5', '    "oem_shadow_run\\n",\n]\nbudget_minutes = 5', 'emergency: flag "oem_shadow_run\\n" is not a plain SQL identifier', '    "oem_shadow_run\\n",'),
    ("cron-script-newline", 'script = "people_sync_teams.php"', 'script = "people_sync_teams.php\\n"', 'phase 9 cron "people-sync-teams": key "script" holds a line break', None),
    ("cron-script-not-a-file", 'script = "people_sync_teams.php"', 'script = "people_sync_teams.php; rm -rf /"', 'phase 9 cron "people-sync-teams": script must be a file name', None),
    ("step-activity-newline", 'activity = "oem-tickets"', 'activity = "oem-tickets\\n"', 'phase 8 step "verify-stopped": key "activity" holds a line break', None),
    ("cron-user-newline", 'user = ""\n\n[watch]', 'user = "root\\n"\n\n[watch]', 'cron: key "user" holds a line break', None),
    ("cron-user-option", 'user = ""\n\n[watch]', 'user = "-r"\n\n[watch]', 'cron: key "user" "-r" is not a valid user name', None),
    ("identifier-too-long", 'flags = ["enable_production_dashboard"]', 'flags = ["' + "f" * 65 + '"]', "is not a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*) of at most 64 characters", None),
    # integers and numbers: sane ranges, finite, no 20-digit phase ids
    ("phase-id-20-digits", "id = 10\n", "id = 99999999999999999999\n", 'phase[1]: key "id" must be <= 9999, got 99999999999999999999', None),
    ("phase-id-zero", "id = 10\n", "id = 0\n", 'phase[1]: key "id" must be >= 1, got 0', None),
    ("phase-id-5000-digits", "id = 10\n", "id = 1" + "0" * 5000 + "\n", "TOML too deep or too large: a number with more than 40 digits", None),
    ("lock-wait-huge", "lock_wait_timeout_s = 5 ", "lock_wait_timeout_s = 99999999999 ", 'target: key "lock_wait_timeout_s" must be <= 300, got 99999999999', None),
    ("statement-timeout-zero", "statement_timeout_ms = 30000", "statement_timeout_ms = 0", 'target: key "statement_timeout_ms" must be >= 100, got 0', None),
    ("port-zero", "port = 3306", "port = 0", 'target: key "port" must be >= 1, got 0', None),
    ("window-huge", "window_minutes = 15", "window_minutes = 9999999", 'phase 10 activity: key "window_minutes" must be <= 10080, got 9999999', None),
    ("watch-hours-inf", "hours = 24 ", "hours = inf ", 'watch: key "hours" must be a finite number, got inf', None),
    ("watch-refresh-nan", "refresh_seconds = 5", "refresh_seconds = nan", 'watch: key "refresh_seconds" must be a finite number, got nan', None),
    ("budget-huge", "budget_minutes = 10", "budget_minutes = 1e308", 'phase 10: key "budget_minutes" must be <= 1440, got 1e+308', None),
    # nesting: tomllib recurses per level (RecursionError) and is quadratic in dotted keys
    ("deep-arrays", "[watch]", "deep = " + "[" * 5000 + "]" * 5000 + "\n[watch]", "TOML too deep or too large: arrays or inline tables nested deeper than 16 levels", "deep = "),
    ("deep-inline-tables", "[watch]", "deep = " + "{ a = " * 300 + "1" + " }" * 300 + "\n[watch]", "nested deeper than 16 levels", "deep = "),
    ("dotted-key-parts", "[watch]\n", "[watch]\n" + "a." * 5000 + "a = 1\n", "TOML too deep or too large: a dotted key of more than 16 parts", "a.a.a"),
    # regexes: RE2 (linear time) must take them; backreferences and lookaround it cannot
    ("regex-backreference", 'pattern = "oem_|OEM"', 'pattern = "(oem)\\\\1"', 'phase 8 error_logs: bad pattern "(oem)\\\\1": the linear-time regex engine (RE2) cannot take it: invalid escape sequence', None),
    ("regex-lookahead", 'pattern = "oem_|OEM"', 'pattern = "oem_(?=x)"', 'bad pattern "oem_(?=x)": the linear-time regex engine (RE2) cannot take it: invalid perl operator', None),
    # credentials in command templates: named by kind and line, never echoed
    ("flags-get-password", 'backend = "sql"\n', 'backend = "command"\nget = ["flagctl", "--password=hunter2", "get", "{flag}"]\nset = ["flagctl", "set", "{flag}", "{value}"]\n',
     'flags: key "get" holds a credential (a --password value); credentials never go in the plan', 'get = ['),
    ("flags-set-mysql-p", 'backend = "sql"\n', 'backend = "command"\nget = ["flagctl", "get", "{flag}"]\nset = ["mysql", "-uflags", "-pS3cretPw", "-e", "UPDATE f SET v={value} WHERE k=\'{flag}\'"]\n',
     'flags: key "set" holds a credential (a -p<password> option)', 'set = ['),
    ("flags-env-mysql-pwd", 'backend = "sql"\n', 'backend = "command"\nget = ["env", "MYSQL_PWD=S3cretPw", "flagctl", "{flag}"]\nset = ["flagctl", "set", "{flag}", "{value}"]\n',
     'flags: key "get" holds a credential (MYSQL_PWD=…)', 'get = ['),
    ("flags-url-userinfo", 'backend = "sql"\n', 'backend = "command"\nget = ["curl", "-s", "https://ops:S3cretPw@flags.internal/{flag}"]\nset = ["flagctl", "set", "{flag}", "{value}"]\n',
     'flags: key "get" holds a credential (a URL with user:password@)', 'get = ['),
    ("flags-auth-header", 'backend = "sql"\n', 'backend = "command"\nget = ["flagctl", "get", "{flag}"]\nset = ["curl", "-H", "Authorization: Bearer S3cretTok", "-d", "{value}", "https://flags/{flag}"]\n',
     'flags: key "set" holds a credential (an Authorization: header)', 'set = ['),
    ("flags-token-query", 'backend = "sql"\n', 'backend = "command"\nget = ["curl", "https://flags/{flag}?token=S3cretTok"]\nset = ["flagctl", "set", "{flag}", "{value}"]\n',
     'flags: key "get" holds a credential (token=…)', 'get = ['),
    ("check-command-password", 'activity = "oem-tickets"', 'command = ["sh", "-c", "mysql -uro -pS3cretPw -e \'SELECT 1\'"]',
     'phase 8 step "verify-stopped": key "command" holds a credential (a -p<password> option)', None),
    ("cron-command-password", 'command = "/usr/bin/php /var/www/app/cron/people_sync_teams.php"', 'command = "MYSQL_PWD=S3cretPw /usr/bin/php /var/www/app/cron/people_sync_teams.php"',
     'phase 9 cron "people-sync-teams": key "command" holds a credential (MYSQL_PWD=…)', None),
    # terminal escapes and bidi overrides are refused in plan text
    ("escape-in-title", 'title = "Complete System Rollback"', 'title = "Complete \\u001b[2J System Rollback"', 'emergency: key "title" holds the control character U+001B; plan text must be plain', None),
    ("bidi-in-step-title", 'title = "Disable feature flags"', 'title = "Disable \\u202e feature flags"', 'phase 10 step "flags-off": key "title" holds the control character U+202E', None),
]

# Credentials written into the cases above: no output may ever contain one.
SECRETS = ("hunter2", "S3cretPw", "S3cretTok")


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
def test_cockpit_check_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], case_id: str) -> None:
    """In process: `cli.main` as the console script calls it (tests/faults/test_bad_plans.py
    keeps one real subprocess per command kind)."""
    _, old, new, message, _ = next(c for c in CASES if c[0] == case_id)
    path = tmp_path / "phases.toml"
    path.write_text(_broken(old, new), encoding="utf-8")
    with pytest.raises(SystemExit) as leaving:
        cli.main(["check", "--config", str(path)])
    out, err = capsys.readouterr()
    assert leaving.value.code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert message in lines[0] and "phases.toml:" in lines[0]
    assert out == ""


def test_no_refusal_echoes_a_credential(tmp_path: Path) -> None:
    cases = [c for c in CASES if any(secret in c[2] for secret in SECRETS)]
    assert len(cases) >= 8
    for case_id, old, new, _, _ in cases:
        path = tmp_path / f"{case_id}.toml"
        path.write_text(_broken(old, new), encoding="utf-8")
        with pytest.raises(PlanError) as caught:
            load_plan(path)
        assert "credential" in str(caught.value)
        assert not any(secret in str(caught.value) for secret in SECRETS), str(caught.value)


# -- what the path points at ------------------------------------------------------------
class _Hung(Exception):
    pass


def _load_within(path: Path, seconds: int = 10) -> str:
    """load_plan's error line; a load that blocks (a FIFO opened for reading) fails the
    test instead of hanging the suite."""
    def alarm(signum: int, frame: object) -> None:
        raise _Hung(f"load_plan({path}) blocked for {seconds}s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        load_plan(path)
    except PlanError as exc:
        return str(exc)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    raise AssertionError(f"{path} loaded")


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "phases.toml"
    os.mkfifo(fifo)
    started = time.monotonic()
    assert _load_within(fifo) == "phases.toml: cannot read the plan: it is a FIFO (named pipe), not a regular file"
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_device_is_refused(tmp_path: Path, device: str) -> None:
    if not Path(device).exists():
        pytest.skip(f"{device} missing")
    assert _load_within(Path(device)).endswith("cannot read the plan: it is a character device, not a regular file")
    link = tmp_path / "phases.toml"
    link.symlink_to(device)  # a symlink is followed, then refused for what it points at
    assert _load_within(link) == "phases.toml: cannot read the plan: it is a character device, not a regular file"


def test_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "phases.toml").mkdir()
    assert _load_within(tmp_path / "phases.toml") == "phases.toml: cannot read the plan: it is a directory, not a regular file"


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "phases.toml"
    with path.open("wb") as handle:  # sparse: 4 GiB on paper, nothing on disk
        handle.truncate(4 << 30)
    started = time.monotonic()
    assert _load_within(path) == f"phases.toml: cannot read the plan: {4 << 30} bytes, over the {MAX_PLAN_BYTES} byte limit"
    assert time.monotonic() - started < 2
    path.write_text(PLAN_TEXT + "#" * MAX_PLAN_BYTES)
    assert "over the" in _load_within(path)


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "phases.toml"
    path.write_bytes(PLAN_TEXT.encode().replace(b"[watch]", b"[watch]\n# caf\xe9", 1))
    line = PLAN_TEXT[: PLAN_TEXT.index("[watch]")].count("\n") + 2
    assert _load_within(path) == f"phases.toml:{line}: cannot read the plan: not UTF-8 text (byte 0xe9)"


# -- regexes: accepted ones are safe, refused ones say why ------------------------------
def test_a_catastrophic_regex_for_backtracking_is_accepted_and_linear_under_re2(tmp_path: Path) -> None:
    """`(a+)+$` hangs Python's re on "aaaa…!"; RE2 takes it in linear time, so the loader
    accepts it (the log probe matches with RE2)."""
    import re2

    path = tmp_path / "phases.toml"
    path.write_text(_broken('pattern = "oem_|OEM"', 'pattern = "(a+)+$"'), encoding="utf-8")
    plan = load_plan(path)
    assert plan.phase(8).error_logs[0].pattern == "(a+)+$"
    line = "a" * 200_000 + "!"
    started = time.monotonic()
    assert re2.compile(plan.phase(8).error_logs[0].pattern).search(line) is None
    assert time.monotonic() - started < 1.0


def test_the_shipped_plan_loads_fast() -> None:
    started = time.monotonic()
    for _ in range(5):
        load_plan(ROOT / "phases.toml")
    assert (time.monotonic() - started) / 5 < 0.5


@pytest.mark.parametrize("shape", ["array-tables", "multiline-arrays", "long-array"])
def test_a_plan_at_the_size_limit_is_refused_in_bounded_time(tmp_path: Path, shape: str) -> None:
    """Every pass over the text is linear: a file just under the limit, shaped to stress the
    TOML parser or the line locator, is answered within seconds."""
    unit = {"array-tables": "[[a]]\n", "multiline-arrays": "k{} = [\n1,\n]\n", "many-keys": "k{} = 1\n", "long-array": "1,"}[shape]
    parts, size, index = [], 0, 0
    if shape == "long-array":
        parts.append("x = [")
    while size < MAX_PLAN_BYTES - 64:
        part = unit.format(index)
        parts.append(part)
        size += len(part)
        index += 1
    if shape == "long-array":
        parts.append("]\n")
    path = tmp_path / "phases.toml"
    path.write_text("".join(parts))
    started = time.monotonic()
    assert _load_within(path, 30).startswith("phases.toml")
    assert time.monotonic() - started < 15


def test_a_path_with_a_newline_or_escape_stays_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "evil\n\x1b[2Jname.toml"
    assert _load_within(missing) == "evil\\n\\x1b[2Jname.toml: no such plan file (use --config to name one)"
