"""Feature flags: the sql backend (SQLite sandbox and MariaDB) and the command backend."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cockpit.db import open_database
from cockpit.engine.steps.flags import set_flag
from cockpit.plan import load_plan
from cockpit.plan.model import FlagStore
from cockpit.probes.flags import FlagError, parse_flag_value, read_flags


@pytest.mark.parametrize("raw,state", [
    (1, "on"), ("1", "on"), ("TRUE", "on"), (" on ", "on"), ("yes", "on"), (b"1", "on"),
    (0, "off"), ("0", "off"), ("false", "off"), ("Off", "off"), ("no", "off"), ("", "off"),
    ("2", "unknown"), ("maybe", "unknown"), (None, "unknown"),
])
def test_value_parsing(raw, state: str) -> None:
    assert parse_flag_value(raw) == state


async def test_sql_flags_read_write_missing_unknown(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    store = plan.flag_store
    async with open_database(plan.target) as db:
        flags = await read_flags(db, store, [*plan.all_flags, "never_created"])
        assert all(flags[k].state == "on" for k in plan.all_flags)
        assert flags["never_created"].state == "missing" and flags["never_created"].raw is None
        await set_flag(db, store, "enable_oem_mode", False)
        assert (await read_flags(db, store, ["enable_oem_mode"]))["enable_oem_mode"].state == "off"
        await set_flag(db, store, "enable_oem_mode", False)  # idempotent
        await set_flag(db, store, "enable_oem_mode", True)
        assert (await read_flags(db, store, ["enable_oem_mode"]))["enable_oem_mode"].state == "on"
        with pytest.raises(FlagError, match="no row of feature_flag matches 'never_created'"):
            await set_flag(db, store, "never_created", False)
        assert await db.fetch_value("SELECT COUNT(*) FROM feature_flag WHERE flag_key = 'never_created'") == 0
        await db.execute("UPDATE feature_flag SET enabled = 'maybe' WHERE flag_key = 'oem_shadow_run'")
        await db.execute("UPDATE feature_flag SET enabled = NULL WHERE flag_key = 'enable_assignment_preview'")
        flags = await read_flags(db, store, ["oem_shadow_run", "enable_assignment_preview"])
        assert (flags["oem_shadow_run"].state, flags["oem_shadow_run"].raw) == ("unknown", "maybe")
        assert (flags["enable_assignment_preview"].state, flags["enable_assignment_preview"].raw) == ("unknown", "NULL")


async def test_sql_flag_write_keeps_the_tables_vocabulary(sandbox: Path) -> None:
    plan = load_plan(sandbox)
    async with open_database(plan.target) as db:
        await db.execute("UPDATE feature_flag SET enabled = 'True' WHERE flag_key = 'oem_shadow_run'")
        await set_flag(db, plan.flag_store, "oem_shadow_run", False)
        assert await db.fetch_value("SELECT enabled FROM feature_flag WHERE flag_key = 'oem_shadow_run'") == "False"


@pytest.mark.mariadb
async def test_sql_flags_on_mariadb(mysql_sandbox) -> None:
    plan = load_plan(mysql_sandbox.config_path)
    async with open_database(plan.target) as db:
        assert db.dialect == "mariadb"
        await set_flag(db, plan.flag_store, "enable_production_dashboard", False)
        # setting it again changes no row (MySQL reports 0 affected) and is still fine
        await set_flag(db, plan.flag_store, "enable_production_dashboard", False)
        flags = await read_flags(db, plan.flag_store, ["enable_production_dashboard", "enable_oem_mode", "ghost"])
        assert [flags[k].state for k in ("enable_production_dashboard", "enable_oem_mode", "ghost")] == ["off", "on", "missing"]
        with pytest.raises(FlagError):
            await set_flag(db, plan.flag_store, "ghost", True)


def _flag_script(tmp_path: Path) -> Path:
    """A tiny flag CLI keeping its state in files, like a site's `bin/console flag`."""
    script = tmp_path / "flagctl.py"
    script.write_text(
        "import sys, pathlib\n"
        f"state = pathlib.Path({str(tmp_path / 'state')!r})\n"
        "state.mkdir(exist_ok=True)\n"
        "cmd, flag = sys.argv[1], sys.argv[2]\n"
        "if flag == 'broken':\n"
        "    print('warming up', file=sys.stderr); print('flag store offline', file=sys.stderr); sys.exit(3)\n"
        "f = state / flag\n"
        "if cmd == 'get':\n"
        "    print(f.read_text() if f.exists() else 'on')\n"
        "else:\n"
        "    f.write_text(sys.argv[3])\n"
        f"    pathlib.Path({str(tmp_path / 'last-set.json')!r}).write_text(__import__('json').dumps("
        "{'argv': sys.argv[1:], 'env': dict(__import__('os').environ)}))\n",
        encoding="utf-8",
    )
    return script


async def test_command_backend(tmp_path: Path) -> None:
    script = _flag_script(tmp_path)
    store = FlagStore(
        backend="command",
        get_command=(sys.executable, str(script), "get", "{flag}"),
        set_command=(sys.executable, str(script), "set", "{flag}", "{value}"),
    )
    flags = await read_flags(None, store, ["a", "b"])
    assert flags["a"].state == "on" and flags["a"].raw == "on"
    await set_flag(None, store, "a", False)
    assert (tmp_path / "state" / "a").read_text() == "0"
    assert (await read_flags(None, store, ["a"]))["a"].state == "off"
    broken = (await read_flags(None, store, ["broken"]))["broken"]
    assert broken.state == "unknown" and broken.freshness.error.endswith("exited 3: flag store offline")
    with pytest.raises(FlagError, match="exited 3: flag store offline"):
        await set_flag(None, store, "broken", False)
    missing = FlagStore(backend="command", get_command=(str(tmp_path / "nope"), "{flag}"), set_command=("x", "{value}"))
    assert "cannot run" in (await read_flags(None, missing, ["a"]))["a"].freshness.error


async def test_command_backend_shows_the_argv_it_runs_and_passes_no_credentials(tmp_path: Path, monkeypatch) -> None:
    """Issue 10: a plan-defined child never sees the cockpit's database credentials;
    issue 9: the argv the dry-run shows is the argv that runs."""
    import json
    import shlex

    from cockpit.engine.steps.flags import plan_flag_write

    script = _flag_script(tmp_path)
    store = FlagStore(
        backend="command",
        get_command=(sys.executable, str(script), "get", "{flag}"),
        set_command=(sys.executable, str(script), "set", "{flag}", "{value}"),
    )
    for name, value in {"MYSQL_PWD": "s3cret", "MYSQL_HOST": "db.internal", "MARIADB_PASSWORD": "s3cret",
                        "COCKPIT_MYSQL_USER": "ops", "MYSQL_TCP_PORT": "3307", "COCKPIT_FLAG_TEST": "kept"}.items():
        monkeypatch.setenv(name, value)
    reading = (await read_flags(None, store, ["a"]))["a"]
    write = plan_flag_write(store, reading, False)
    shown = write.render()
    await set_flag(None, store, "a", False)
    ran = json.loads((tmp_path / "last-set.json").read_text())
    assert shown == shlex.join([sys.executable, str(script), *ran["argv"]])
    leaked = {k for k in ran["env"] if k.startswith(("MYSQL_", "MARIADB_", "COCKPIT_MYSQL_"))}
    assert not leaked and "s3cret" not in json.dumps(ran["env"])
    assert ran["env"]["COCKPIT_FLAG_TEST"] == "kept"
