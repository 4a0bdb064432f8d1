"""Identifier quoting, placeholder translation and credential resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.db import open_database, quote_ident, read_option_file, resolve_settings
from cockpit.db.mysql import to_pyformat
from cockpit.db.sql import statement_kind, tagged
from cockpit.plan.model import Target


@pytest.mark.parametrize("name", ["assignment_log", "_x", "T1"])
def test_quote_ident_accepts_plain_names(name: str) -> None:
    assert quote_ident(name) == f"`{name}`"


@pytest.mark.parametrize("name", ["", "1abc", "a-b", "a`b", "t; DROP TABLE x", "a b", "täble", None])
def test_quote_ident_refuses_anything_else(name) -> None:
    with pytest.raises(ValueError):
        quote_ident(name)


def test_placeholders_translate_outside_quotes_only() -> None:
    sql = "SELECT '?', \"%\", `a?` FROM t WHERE a = ? AND b LIKE '50%' /* ? % */ AND c % 2 = ?"
    assert to_pyformat(sql) == "SELECT '?', \"%%\", `a?` FROM t WHERE a = %s AND b LIKE '50%%' /* ? %% */ AND c %% 2 = %s"
    assert to_pyformat("SELECT 'it''s ?' , ?") == "SELECT 'it''s ?' , %s"


def test_statement_kind_and_tag() -> None:
    assert statement_kind("/* rollback-cockpit */ select 1") == "SELECT"
    assert tagged("SELECT 1") == "/* rollback-cockpit */ SELECT 1"
    assert tagged(tagged("SELECT 1")) == "/* rollback-cockpit */ SELECT 1"


def test_option_file_client_then_mysql_and_include_ignored(tmp_path: Path) -> None:
    cnf = tmp_path / "my.cnf"
    cnf.write_text(
        "!include /etc/does-not-exist.cnf\n!includedir /etc/nowhere\n"
        "[client]\nuser = alice\npassword = \"s3cr%t#x\"\nport=3307\n"
        "[mysql]\nuser = bob\nno-auto-rehash\n[mysqldump]\npassword=other\n",
        encoding="utf-8",
    )
    found = read_option_file(cnf)
    assert found == {"user": "bob", "password": "s3cr%t#x", "port": "3307"}
    assert read_option_file(tmp_path / "missing.cnf") == {}


def test_settings_precedence_and_masked_repr(tmp_path: Path) -> None:
    cnf = tmp_path / "my.cnf"
    cnf.write_text("[client]\nuser=fileuser\npassword=filepass\n", encoding="utf-8")
    target = Target(kind="mysql", database="manufacturing", option_file=str(cnf))
    s = resolve_settings(target, environ={})
    assert (s.user, s.password, s.password_source) == ("fileuser", "filepass", "option file")
    assert "filepass" not in repr(s) and "filepass" not in str(s) and "***" in repr(s)
    s = resolve_settings(target, environ={"MYSQL_PWD": "envpass", "COCKPIT_MYSQL_USER": "envuser"})
    assert (s.user, s.password, s.password_source) == ("envuser", "envpass", "MYSQL_PWD")
    s = resolve_settings(Target(kind="mysql", database="d", user="planuser", option_file=str(cnf)), environ={})
    assert s.user == "planuser"


def test_prompt_only_when_interactive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or "typed")
    target = Target(kind="mysql", database="d", user="u", option_file=str(tmp_path / "none.cnf"))
    assert resolve_settings(target, interactive=False, environ={}).password == ""
    assert asked == []
    s = resolve_settings(target, interactive=True, environ={})
    assert s.password == "typed" and s.password_source == "prompt" and len(asked) == 1


def test_open_database_picks_backend(tmp_path: Path) -> None:
    assert open_database(Target(kind="sqlite", path=tmp_path / "x.db")).__class__.__name__ == "SqliteDatabase"
    assert open_database(Target(kind="mysql", database="d", option_file=str(tmp_path / "n"))).__class__.__name__ == "MysqlDatabase"
    with pytest.raises(ValueError):
        open_database(Target(kind="oracle"))
