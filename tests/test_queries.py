"""The live path's SQL lives in one place (cockpit/db/queries.py), and it stays there.

Three checks: every named entry is tagged with its name, bounded in time and named
uniquely; no module of the cockpit outside queries.py (and the sandbox builder and the
journal's own SQLite) holds an SQL statement as a string literal; and on the session's
real MariaDB, what the server's general log records from a refresh, a flag read, a flag
write, counts, checksums, a drop and the operator lock carries the tags, with the
server-side time limit on the entries that declare one.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from cockpit.db import open_database, queries
from cockpit.db.queries import Bound, Fragment, Query
from cockpit.engine.statements import drop_script
from cockpit.engine.steps.flags import set_flag
from cockpit.plan import load_plan
from cockpit.probes.database import DatabaseProbe, activity_part
from cockpit.probes.flags import read_flags

PACKAGE = Path(__file__).resolve().parent.parent / "cockpit"
ALLOWED = ("db/queries.py", "journal.py", "sandbox/")
# statements as the cockpit writes them: upper-case keywords at the start of a literal
# (after an optional opening parenthesis), or the lock functions and server catalogues
SQL_LITERAL = re.compile(
    r"^\s*\(?\s*(?:SELECT|UPDATE|INSERT\s+INTO|DELETE\s+FROM|RENAME\s+TABLE|DROP\s+(?:TABLE|DATABASE|INDEX)|ALTER\s+TABLE"
    r"|(?:UN)?LOCK\s+TABLES|CHECKSUM\s+TABLE|SHOW\s|SET\s+(?:STATEMENT|SESSION|GLOBAL|@@)|CREATE\s+(?:TABLE|DATABASE|INDEX)"
    r"|EXISTS\s*\(|PRAGMA\s|BEGIN(?:\s+IMMEDIATE|\s+TRANSACTION)?\s*;?\s*$|COMMIT\s*;?\s*$|ROLLBACK\s*;?\s*$|KILL\s|TRUNCATE\s)"
    r"|GET_LOCK\s*\(|RELEASE_LOCK\s*\(|IS_USED_LOCK\s*\(|information_schema\.|performance_schema\.|sqlite_master"
)


def _fill(query: Query) -> queries.Sql:
    """Bind any entry with placeholder identifiers (`t_<field>`)."""
    if query.verbatim:
        return query.verbatim_sql("SELECT 1")
    fields = {f for _, f, _, _ in string.Formatter().parse(query.template) if f}
    values: dict[str, str | Fragment] = {f: f"t_{f}" for f in fields}
    marks = sum(literal.count("?") for literal, _, _, _ in string.Formatter().parse(query.template))
    return query.bind(*range(marks), **values)


def test_every_entry_is_named_once_tagged_and_bounded() -> None:
    entries = queries.all_queries()
    names = [q.name for q in entries]
    assert len(entries) > 40 and len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    for query in entries:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", query.name), query.name
        sql = _fill(query)
        assert "{" not in sql.text and "}" not in sql.text, (query.name, sql.text)
        assert sql.tagged.startswith(f"/* rollback-cockpit:{query.name} */ "), sql.tagged
        assert query.bound is not Bound.NONE, f"{query.name} has no time bound"
        sent = queries.bounded_text("mariadb", sql, 5000)
        assert sent.startswith(query.tag), sent
        if query.bound is Bound.STATEMENT:
            ms = max(5000, query.floor_ms)
            assert f"SET STATEMENT max_statement_time={ms / 1000:.3f} FOR {sql.text}" in sent, sent
            if sql.text.startswith("SELECT"):  # MySQL's own bound, SELECT only
                assert f"MAX_EXECUTION_TIME({ms})" in queries.bounded_text("mysql", sql, 5000)
        elif query.bound is Bound.LOCAL:
            assert query.dialect == "sqlite", f"{query.name}: only the sandbox's local files run unbounded"
        elif query.bound is Bound.INSTANT:  # claims it cannot wait: a setting, an unlock, a transaction end
            assert re.match(r"(SET SESSION|UNLOCK TABLES|COMMIT|ROLLBACK|PRAGMA|SELECT VERSION\(\))", query.template), query.name
        elif query.bound is Bound.LOCK_FUNCTION:
            assert "GET_LOCK(?, ?)" in query.template  # the timeout is the function's own argument
        else:
            assert query.bound is Bound.LOCK_WAIT
            assert re.match(r"(RENAME|DROP|ALTER|CREATE|LOCK TABLES|BEGIN IMMEDIATE)", query.template), query.name


def test_identifiers_only_through_quote_ident_values_only_as_parameters() -> None:
    with pytest.raises(ValueError):
        queries.COUNT_ROWS.bind(table="t; DROP TABLE x")
    with pytest.raises(ValueError):
        queries.flag_update("feature_flag", "flag_key", "enabled` = 1 -- ", "0", "k")
    with pytest.raises(ValueError):
        queries.column_type("int; DROP TABLE x")
    with pytest.raises(ValueError, match="parameter"):
        queries.FLAG_UPDATE.bind("0", table="f", value="v", key="k")  # one value short
    with pytest.raises(ValueError, match="parameter"):
        queries.COUNT_ROWS.bind("extra", table="t")
    update = queries.flag_update("feature_flag", "flag_key", "enabled", "0'; --", "enable_x")
    assert update.text == "UPDATE `feature_flag` SET `enabled` = ? WHERE `flag_key` = ?"
    assert update.params == ("0'; --", "enable_x")
    # a fragment's parameters travel where the fragment stands, each time it stands there
    facts = queries.table_facts(["a", "b"])
    assert facts.text.count("IN (?, ?)") == 3 and facts.params == ("a", "b") * 3
    refresh = queries.refresh([queries.flag_value_part("f", "k", "v", "x"),
                               *filter(None, [queries.activity_part("mariadb", "t", "c", True, None, 7)])])
    assert refresh.params == ("x", 7) and "INTERVAL ? MINUTE" in refresh.text


def _literals(tree: ast.AST) -> list[tuple[int, str]]:
    """String constants and f-strings (with `{}` for their fields), docstrings left out."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    found: list[tuple[int, str]] = []
    inside_fstring: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            inside_fstring.update(id(v) for v in node.values)
            found.append((node.lineno, "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                and id(node) not in inside_fstring):
            found.append((node.lineno, node.value))
    return found


def test_no_sql_literal_outside_queries_py() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(ALLOWED):
            continue
        for line, text in _literals(ast.parse(path.read_text(encoding="utf-8"))):
            if SQL_LITERAL.search(text):
                offenders.append(f"cockpit/{relative}:{line}: {text[:80]!r}")
    assert not offenders, "SQL outside cockpit/db/queries.py:\n" + "\n".join(offenders)


def test_the_scan_would_see_a_statement() -> None:
    """The scan is not blind: the shapes the cockpit used to write inline are caught."""
    samples = ['f"UPDATE {t} SET {v} = ? WHERE {k} = ?"', '"SELECT GET_LOCK(?, ?)"', 'f"RENAME TABLE {a} TO {b}"',
               '"SET SESSION lock_wait_timeout = DEFAULT"', 'f"CHECKSUM TABLE {t} EXTENDED"', '"UNLOCK TABLES"',
               'f"EXISTS(SELECT 1 FROM {t} LIMIT 1)"', '"PRAGMA integrity_check"',
               '"SELECT p.USER FROM information_schema.PROCESSLIST p"']
    for sample in samples:
        texts = [t for _, t in _literals(ast.parse(f"x = {sample}"))]
        assert any(SQL_LITERAL.search(t) for t in texts), sample
    assert not any(SQL_LITERAL.search(t) for t in ("select a step to see its dry-run", "Rollback cockpit", "lock held by x",
                                                   "DROP", "create a sandbox"))


@pytest.mark.mariadb
async def test_what_the_server_sees_is_tagged_and_bounded(mariadb, mysql_sandbox) -> None:
    """The general log (the one place a server records every statement it received, with
    the session that sent it) after the live path's main statements."""
    plan = load_plan(mysql_sandbox.config_path)
    mariadb.root_execute("CREATE TABLE gone_soon (id INT PRIMARY KEY)", database=mysql_sandbox.database)
    mariadb.root_execute("TRUNCATE TABLE mysql.general_log", "SET GLOBAL log_output = 'TABLE'", "SET GLOBAL general_log = 1")
    try:
        async with open_database(plan.target) as db:
            facts = await DatabaseProbe(db).refresh(plan)
            assert facts.connection.queries_last_refresh == 2
            store = plan.flag_store
            key = plan.all_flags[0]
            assert (await read_flags(db, store, [key]))[key].state == "on"
            assert (await set_flag(db, store, key, on=False)).state == "off"
            assert await db.exact_count("assignment_log") == 40
            await db.table_checksum("assignment_log")
            await drop_script("gone_soon").run(db)
            assert await db.get_lock("rollback-cockpit:test", 0, session_wait_timeout_s=60)
            assert await db.lock_owned("rollback-cockpit:test")
            await db.release_lock("rollback-cockpit:test")
    finally:
        mariadb.root_execute("SET GLOBAL general_log = 0")
    rows = mariadb.root_execute(
        "SELECT thread_id, command_type, CONVERT(argument USING utf8mb4) FROM mysql.general_log ORDER BY event_time")
    mariadb.root_execute("TRUNCATE TABLE mysql.general_log")
    ours = {thread for thread, kind, text in rows
            if kind == "Connect" and f" on {mysql_sandbox.database} " in f"{text} " and text.startswith(mariadb.user)}
    sent = [str(text) for thread, kind, text in rows if thread in ours and kind == "Query"]
    assert sent, rows
    untagged = [t for t in sent if not t.startswith("/* rollback-cockpit:")]
    assert not untagged, untagged
    entries = {q.name: q for q in queries.all_queries()}
    seen = set()
    for text in sent:
        name = re.match(r"/\* rollback-cockpit:([a-z0-9_]+) \*/", text)
        assert name and name.group(1) in entries, text
        seen.add(name.group(1))
        bounded = " SET STATEMENT max_statement_time=" in text
        assert bounded == (entries[name.group(1)].bound is Bound.STATEMENT), text
    assert {"server_version", "table_facts", "refresh", "flag_read", "flag_update", "count_rows", "table_checksum",
            "set_lock_wait", "drop_table", "reset_lock_wait", "set_wait_timeout", "get_lock", "lock_owned",
            "release_lock"} <= seen, seen
    refresh = next(t for t in sent if t.startswith("/* rollback-cockpit:refresh */"))
    assert "max_statement_time=2.000 FOR SELECT EXISTS(" in refresh  # the refresh's own 2 s bound


async def test_the_check_step_and_the_refresh_run_one_activity_query(target_config, open_engine) -> None:
    """One activity query: the `check` step shows and runs the very expression the
    refresh (and so the watch) embeds, and both see a row written inside the window."""
    engine = await open_engine(target_config)
    for phase, steps in ((10, ("flags-off", "cron-stop")), (9, ("flags-off", "cron-stop")), (8, ("flags-off",))):
        for step in steps:
            assert (await engine.execute(phase, step)).status == "done", (phase, step)
    check = engine.plan.phase(8).activity_check("oem-tickets")
    fact = (await engine.db.table_facts([check.table]))[check.table]
    part = activity_part(engine.db.dialect, check, fact)
    assert part is not None and check.column in fact.indexed
    dry = await engine.dry_run(8, "verify-stopped")
    assert f"SELECT {part.text}" in dry.text, dry.text
    quiet = await engine.execute(8, "verify-stopped")
    assert quiet.status == "done" and "0 rows" in quiet.message, quiet.message

    now = "datetime('now')" if engine.db.dialect == "sqlite" else "NOW()"
    await engine.db.execute(f"UPDATE oem_job_ticket SET created_at = {now} WHERE id = (SELECT m FROM "
                            "(SELECT MIN(id) AS m FROM oem_job_ticket) AS first)")
    facts = await DatabaseProbe(engine.db).refresh(engine.plan)
    assert facts.activity[(8, "oem-tickets")].recent_rows == 1
    busy = await engine.execute(8, "verify-stopped")
    assert busy.status == "failed" and "still active: 1 rows" in busy.message, busy.message
