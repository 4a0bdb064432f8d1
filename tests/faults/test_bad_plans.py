"""Broken plans through the real CLI, and no SQL built from an unchecked identifier.

Every broken phases.toml (the plan-error cases of tests/test_plan_errors.py plus whole-
file breakages: empty, binary, a directory, wrong types, injection attempts) is given to
`check`, `status` and `run 10 flags-off --execute` in child processes. Each must exit 2
with exactly one stderr line naming the file, print nothing on stdout, write no journal
and show no traceback. Then a static pass over cockpit/ proves every identifier spliced
into an SQL f-string went through `quote_ident`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cockpit.db.sql import quote_ident
from tests.test_plan_errors import CASES, _broken

from . import cli

PLAN = cli.ROOT / "phases.toml"
PLAN_TEXT = PLAN.read_text(encoding="utf-8")

COMMANDS: tuple[tuple[str, ...], ...] = (("check",), ("status",), ("run", "10", "flags-off", "--execute"))


def _sub(old: str, new: str) -> bytes:
    assert old in PLAN_TEXT, old
    return PLAN_TEXT.replace(old, new, 1).encode()


# whole-file breakages on top of the line-level CASES: (id, bytes or None for a directory, text in the message)
EXTRA: list[tuple[str, bytes | None, str]] = [
    ("empty-file", b"", 'missing key "plan"'),
    ("a-directory", None, "cannot read the plan"),
    ("binary-garbage", bytes(range(256)) * 2, "cannot read the plan"),
    ("not-utf8", b"\xff\xfe[plan]\n", "cannot read the plan"),
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
]


def _write_case(folder: Path, content: bytes | None) -> Path:
    folder.mkdir()
    path = folder / "phases.toml"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    return path


def test_every_broken_plan_exits_2_with_one_line_through_every_command(tmp_path: Path) -> None:
    cases: list[tuple[str, Path, str]] = []
    for case_id, old, new, message, _ in CASES:
        cases.append((case_id, _write_case(tmp_path / case_id, _broken(old, new).encode()), message))
    for case_id, content, message in EXTRA:
        cases.append((case_id, _write_case(tmp_path / case_id, content), message))
    assert len(cases) >= 30

    runs = [(case_id, path, message, (*command, "--config", str(path))) for case_id, path, message in cases for command in COMMANDS]
    results = cli.run_many([argv for *_, argv in runs], env={"XDG_STATE_HOME": str(tmp_path / "state")}, workers=4)

    problems = []
    for (case_id, path, message, argv), result in zip(runs, results):
        lines = result.stderr_lines
        ok = (
            result.code == 2
            and result.stdout == ""
            and len(lines) == 1
            and "Traceback" not in result.stderr
            and lines[0].startswith("cockpit: phases.toml")
            and message in lines[0]
        )
        if not ok:
            problems.append(f"{case_id} / {' '.join(argv[:-2])}: exit {result.code}, stdout {result.stdout[:80]!r}, stderr {result.stderr[:300]!r}")
    assert problems == [], "\n".join(problems)
    # nothing acted on a broken plan: no journal, no backups, no crash report
    assert not list(tmp_path.rglob("cockpit-journal*")) and not list(tmp_path.rglob("backups"))
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
    # the probes, the engine's statements (quarantine, drop, restore) and flags, the db layer and the sandbox build SQL
    assert len(checked) >= 15 and {c.split(":")[0] for c in checked} >= {
        "cockpit/probes/flags.py", "cockpit/engine/statements.py", "cockpit/probes/database.py"}, checked
    assert found == [], "identifiers spliced into SQL without quote_ident:\n" + "\n".join(found)
