"""Broken and hostile plans through the real CLI, and no SQL built from an unchecked identifier.

Every broken phases.toml (the plan-error cases of tests/test_plan_errors.py plus whole-
file breakages: empty, binary, a directory, a FIFO, a device, a huge file, wrong types,
injection attempts) is given to `check`, `status` and `run 10 flags-off --execute`. Each
must exit 2 with exactly one stderr line naming the file, print nothing on stdout, never
echo a credential, write no journal and show no traceback — and never block.

They run in process (`cli.main(argv)`, output captured), which takes seconds; one real
child process per command kind proves the same holds across the process boundary (exit
status, stderr) for the nastiest inputs: a FIFO, RecursionError-deep nesting, a 20-digit
phase id. Then a static pass over cockpit/ proves every identifier spliced into an SQL
f-string went through `quote_ident`.
"""

from __future__ import annotations

import ast
import os
import signal
from dataclasses import dataclass
from pathlib import Path

import pytest

from cockpit import cli as cockpit_cli
from cockpit.db.sql import quote_ident
from cockpit.plan.file import MAX_PLAN_BYTES
from tests.test_plan_errors import CASES, SECRETS, _broken

from . import cli

PLAN = cli.ROOT / "phases.toml"
PLAN_TEXT = PLAN.read_text(encoding="utf-8")

COMMANDS: tuple[tuple[str, ...], ...] = (("check",), ("status",), ("run", "10", "flags-off", "--execute"))
CALL_TIMEOUT_S = 20


def _sub(old: str, new: str) -> bytes:
    assert old in PLAN_TEXT, old
    return PLAN_TEXT.replace(old, new, 1).encode()


FIFO = "fifo"
DIRECTORY = "directory"
SPARSE = "sparse"
# whole-file breakages on top of the line-level CASES:
# (id, bytes or one of FIFO/DIRECTORY/SPARSE or an absolute path, text in the message)
EXTRA: list[tuple[str, bytes | str, str]] = [
    ("empty-file", b"", 'missing key "plan"'),
    ("a-directory", DIRECTORY, "cannot read the plan: it is a directory, not a regular file"),
    ("a-fifo", FIFO, "cannot read the plan: it is a FIFO (named pipe), not a regular file"),
    ("dev-zero", "/dev/zero", "cannot read the plan: it is a character device, not a regular file"),
    ("sparse-4-gib", SPARSE, f"over the {MAX_PLAN_BYTES} byte limit"),
    ("over-the-size-limit", PLAN_TEXT.encode() + b"#" * MAX_PLAN_BYTES, "over the"),
    ("binary-garbage", bytes(range(256)) * 2, "cannot read the plan: not UTF-8 text"),
    ("not-utf8", b"\xff\xfe[plan]\n", "cannot read the plan: not UTF-8 text (byte 0xff)"),
    ("nul-bytes", PLAN_TEXT.encode().replace(b"[watch]", b"[watch]\x00", 1), "TOML syntax error"),
    ("unknown-target-kind", _sub('kind = "mysql"', 'kind = "postgres"'), 'key "kind" must be one of'),
    ("phase-id-string", _sub("id = 10\n", 'id = "ten"\n'), 'key "id" must be an integer'),
    ("unknown-flag-backend", _sub('backend = "sql"', 'backend = "redis"'), 'key "backend" must be one of'),
    ("unknown-cron-source", _sub('source = "user"', 'source = "elsewhere"'), 'key "source" must be one of'),
    ("key-column-injection", _sub('key_column = "flag_key"', 'key_column = "flag_key` OR 1=1 -- "'), "not a plain SQL identifier"),
    ("activity-column-injection", _sub('column = "refreshed_at"', 'column = "refreshed_at\\"; DROP TABLE x; --"'), "not a plain SQL identifier"),
    ("negative-watch", _sub("hours = 24 ", "hours = -1 "), 'key "hours" must be >= 0'),
    # Python's `$` also matches before a trailing newline: the validator must not
    ("identifier-trailing-newline", _sub('table = "feature_flag"', 'table = "feature_flag\\n"'), "not a plain SQL identifier"),
    ("drop-table-injection", _sub('drop_tables = ["mv_cycle_time_analytics"', 'drop_tables = ["mv_cycle_time_analytics`; DROP DATABASE manufacturing; --"'), "not a plain SQL identifier"),
    ("recursion-deep", _sub("[watch]", "x = " + "[" * 100_000 + "]" * 100_000 + "\n[watch]"), "nested deeper than 16 levels"),
    ("typo-key-with-escape", _sub("budget_minutes = 20", '"budget_minutes\\u001b" = 20'), 'missing key "budget_minutes" (found "budget_minutes\\x1b": a typo?)'),
    ("unknown-key-with-escape", _sub("[watch]", "\"\\u001b]0;owned\\u0007\" = 1\n[watch]"), 'unknown key "\\x1b]0;owned\\x07"'),
]


@dataclass(frozen=True)
class Case:
    case_id: str
    path: Path
    message: str

    @property
    def shown_name(self) -> str:
        return self.path.name


def _write_case(folder: Path, content: bytes | str) -> Path:
    if isinstance(content, str) and content.startswith("/"):
        return Path(content)
    folder.mkdir(parents=True)
    path = folder / "phases.toml"
    if content == DIRECTORY:
        path.mkdir()
    elif content == FIFO:
        os.mkfifo(path)
    elif content == SPARSE:
        with path.open("wb") as handle:
            handle.truncate(4 << 30)
    else:
        assert isinstance(content, bytes)
        path.write_bytes(content)
    return path


def _all_cases(tmp_path: Path) -> list[Case]:
    cases = [Case(case_id, _write_case(tmp_path / case_id, _broken(old, new).encode()), message) for case_id, old, new, message, _ in CASES]
    cases += [Case(case_id, _write_case(tmp_path / case_id, content), message) for case_id, content, message in EXTRA]
    assert len({c.case_id for c in cases}) == len(cases) >= 90
    return cases


@dataclass(frozen=True)
class Outcome:
    code: int | None
    stdout: str
    stderr: str

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


class _Hung(Exception):
    pass


def _in_process(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Outcome:
    """`cockpit ARGV` as the console script runs it, in this process, bounded in time: a
    call that blocks (a FIFO opened for reading) fails the case instead of the suite."""
    def alarm(signum: int, frame: object) -> None:
        raise _Hung(f"blocked for {CALL_TIMEOUT_S}s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(CALL_TIMEOUT_S)
    try:
        code: int | None = cockpit_cli.main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except _Hung as exc:
        code = None
        print(f"HUNG: {exc}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    out, err = capsys.readouterr()
    return Outcome(code, out, err)


def _problem(case: Case, argv: tuple[str, ...], result: Outcome) -> str | None:
    lines = result.stderr_lines
    ok = (
        result.code == 2
        and result.stdout == ""
        and len(lines) == 1
        and "Traceback" not in result.stderr
        and lines[0].startswith(f"cockpit: {case.shown_name}")
        and case.message in lines[0]
        and not any(secret in result.stderr + result.stdout for secret in SECRETS)
        and "\x1b" not in result.stderr
    )
    if ok:
        return None
    return f"{case.case_id} / {' '.join(argv[:-2])}: exit {result.code}, stdout {result.stdout[:80]!r}, stderr {result.stderr[:300]!r}"


def test_every_broken_plan_exits_2_with_one_line_through_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("COCKPIT_OPERATOR", "fault-op")
    monkeypatch.delenv("MYSQL_PWD", raising=False)
    monkeypatch.chdir(tmp_path)
    cases = _all_cases(tmp_path / "plans")
    problems = []
    for case in cases:
        for command in COMMANDS:
            argv = (*command, "--config", str(case.path))
            problem = _problem(case, argv, _in_process(list(argv), capsys))
            if problem:
                problems.append(problem)
    assert problems == [], "\n".join(problems)
    # nothing acted on a broken plan: no journal, no backups, no crash report
    assert not list(tmp_path.rglob("cockpit-journal*")) and not list(tmp_path.rglob("backups"))
    assert not (tmp_path / "state").exists()


def test_one_real_process_per_command_kind(tmp_path: Path) -> None:
    """The same contract across a real process boundary, for the inputs that used to hang
    (a FIFO), crash with RecursionError (deep nesting) or OverflowError (a 20-digit id)."""
    chosen = {"check": "a-fifo", "status": "recursion-deep", "run": "phase-id-20-digits"}
    cases = {c.case_id: c for c in _all_cases(tmp_path / "plans") if c.case_id in chosen.values()}
    runs = [(cases[chosen[command[0]]], (*command, "--config", str(cases[chosen[command[0]]].path))) for command in COMMANDS]
    results = cli.run_many([argv for _, argv in runs], env={"XDG_STATE_HOME": str(tmp_path / "state")}, workers=3)
    problems = [_problem(case, argv, Outcome(r.code, r.stdout, r.stderr)) for (case, argv), r in zip(runs, results)]
    assert [p for p in problems if p] == []
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize("name", ["a;b", "a`b", "a'b", 'a"b', "a b", "1abc", "", "a-b", "t)--", "x\n", "é", "a.b"])
def test_quote_ident_refuses_anything_but_a_plain_identifier(name: str) -> None:
    with pytest.raises(ValueError):
        quote_ident(name)


def test_quote_ident_refuses_non_strings() -> None:
    for value in (None, 5, b"abc", ["a"]):
        with pytest.raises(ValueError):
            quote_ident(value)  # type: ignore[arg-type]
    assert quote_ident("mv_token_flow_summary") == "`mv_token_flow_summary`"


# -- static check: identifiers in SQL f-strings --------------------------------------------
# A `{...}` right after one of these words sits where SQL expects an identifier.
IDENT_WORDS = ("FROM", "TABLE", "INTO", "UPDATE", "JOIN", "COLUMN", "EXISTS", "INDEX", "ON", "KEY", "BY", "SET", "WHERE")
SQL_START = ("SELECT ", "INSERT ", "UPDATE ", "DELETE ", "DROP ", "ALTER ", "CREATE ", "(SELECT ", "EXISTS(", "SET STATEMENT")


def _quoted_names(func: ast.AST) -> set[str]:
    """Names bound from quote_ident(...) in this function (plain or tuple assignment)."""
    names: set[str] = set()
    for node in ast.walk(func):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            pairs: list[tuple[ast.AST, ast.AST]] = []
            if isinstance(target, ast.Name):
                pairs = [(target, node.value)]
            elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                pairs = list(zip(target.elts, node.value.elts))
            for name, value in pairs:
                if isinstance(name, ast.Name) and _is_quote_call(value):
                    names.add(name.id)
    return names


def _is_quote_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "quote_ident"


def unquoted_identifiers(source: str, filename: str = "<src>", checked: list[str] | None = None) -> list[str]:
    """Every `{expr}` placed after an identifier keyword in an SQL f-string that is not a
    quote_ident(...) call nor a name bound from one. `checked` collects every placement
    looked at, so a test can prove the scan is not vacuous."""
    tree = ast.parse(source, filename)
    scopes: list[ast.AST] = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))] + [tree]
    found: list[str] = []
    seen: set[int] = set()
    for scope in scopes:
        safe = _quoted_names(scope)
        for node in ast.walk(scope):
            if not isinstance(node, ast.JoinedStr) or id(node) in seen:
                continue
            seen.add(id(node))
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values).lstrip()
            if not text.upper().startswith(SQL_START) and not any(f" {w} {{}}" in text for w in ("FROM", "TABLE", "INTO")):
                continue
            previous = ""
            for value in node.values:
                if isinstance(value, ast.Constant):
                    previous = str(value.value)
                    continue
                words = previous.split()
                if previous.endswith(" ") and words and words[-1].upper().lstrip("(") in IDENT_WORDS:
                    expr = value.value
                    if checked is not None:
                        checked.append(f"{filename}:{value.lineno}")
                    if not (_is_quote_call(expr) or (isinstance(expr, ast.Name) and expr.id in safe)):
                        found.append(f"{filename}:{value.lineno}: {ast.unparse(expr)} after {words[-1]!r}")
                previous = ""
    return found


def test_the_static_check_catches_an_unquoted_identifier() -> None:
    bad = 'def f(db, table):\n    return db.execute(f"SELECT COUNT(*) FROM {table} WHERE x = 1")\n'
    good = 'def f(db, t):\n    table = quote_ident(t)\n    return db.execute(f"SELECT COUNT(*) FROM {table}")\n'
    also_good = 'def f(db, t):\n    return db.execute(f"DROP TABLE IF EXISTS {quote_ident(t)}")\n'
    sneaky = 'def f(db, t, c):\n    table, column = quote_ident(t), c\n    return db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")\n'
    assert len(unquoted_identifiers(bad)) == 1
    assert unquoted_identifiers(good) == [] and unquoted_identifiers(also_good) == []
    assert [f.split(": ", 1)[1] for f in unquoted_identifiers(sneaky)] == ["column after 'COLUMN'"]


def test_no_sql_in_cockpit_splices_an_unvalidated_identifier() -> None:
    package = cli.ROOT / "cockpit"
    sources = sorted(package.rglob("*.py"))
    assert len(sources) > 20
    found: list[str] = []
    checked: list[str] = []
    for path in sources:
        found += unquoted_identifiers(path.read_text(encoding="utf-8"), str(path.relative_to(cli.ROOT)), checked)
    # every statement of the live path is built in cockpit/db/queries.py (tests/test_queries.py keeps it so);
    # the sandbox builds its own
    assert len(checked) >= 15 and {c.split(":")[0] for c in checked} >= {"cockpit/db/queries.py", "cockpit/sandbox/schema.py"}, checked
    assert found == [], "identifiers spliced into SQL without quote_ident:\n" + "\n".join(found)
