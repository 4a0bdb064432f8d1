"""The foundation's CLI contract, end to end in real processes: sandbox init, status, check."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cockpit(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("MYSQL_PWD", None)
    return subprocess.run([sys.executable, "-m", "cockpit", *args], capture_output=True, text=True, timeout=120, env=full_env, cwd=cwd)


def test_sandbox_init_then_status_json_shows_four_live_phases(tmp_path: Path) -> None:
    created = cockpit("sandbox", "init", str(tmp_path / "x"))
    assert created.returncode == 0, created.stderr
    config = Path(created.stdout.strip())
    assert config == tmp_path / "x" / "phases.toml" and config.is_file()
    again = cockpit("sandbox", "init", str(tmp_path / "x"))
    assert again.returncode == 0 and Path(again.stdout.strip()) == config
    assert "already" in again.stderr.lower() or "unchanged" in again.stderr.lower()

    status = cockpit("status", "--config", str(config), "--json")
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["schema"] == 1
    assert [p["id"] for p in data["phases"]] == [10, 9, 8, 7]
    assert all(p["state"] == "live" for p in data["phases"])
    assert data["connection"]["state"] == "connected"
    assert data["connection"]["queries_last_refresh"] <= 3
    phase10 = data["phases"][0]
    assert phase10["flags"][0] == {**phase10["flags"][0], "key": "enable_production_dashboard", "state": "on"}
    assert phase10["flags"][0]["freshness"]["fetched_at"] > 0
    assert {t["name"]: t["has_rows"] for t in phase10["tables"]}["mv_token_flow_summary"] is True
    phase9 = data["phases"][1]
    assert all(t["has_rows"] is False for t in phase9["tables"])
    assert [c["state"] for c in phase9["cron"]] == ["enabled", "enabled"]


def test_status_text_and_check_on_the_sandbox(sandbox: Path) -> None:
    text = cockpit("status", "--config", str(sandbox))
    assert text.returncode == 0, text.stderr
    assert "Phase 10: Production dashboard — live" in text.stdout
    assert "enable_oem_mode" in text.stdout and "people_sync_teams.php" in text.stdout
    check = cockpit("check", "--config", str(sandbox))
    assert check.returncode == 0, check.stdout + check.stderr
    assert "FAIL" not in check.stdout
    assert "ok    database sandbox" in check.stdout


def test_status_and_check_against_mariadb(mysql_sandbox, mariadb) -> None:
    status = cockpit("status", "--config", str(mysql_sandbox.config_path), "--json")
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["connection"]["server"].startswith("MariaDB")
    assert all(p["state"] == "live" for p in data["phases"])
    assert data["connection"]["queries_last_refresh"] <= 3
    assert mariadb.password not in status.stdout + status.stderr
    check = cockpit("check", "--config", str(mysql_sandbox.config_path))
    assert check.returncode == 0, check.stdout + check.stderr
    assert mariadb.password not in check.stdout + check.stderr


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_database_exits_3_with_one_line(tmp_path: Path) -> None:
    text = (ROOT / "phases.toml").read_text(encoding="utf-8").replace("port = 3306", f"port = {_closed_port()}")
    text = text.replace('option_file = "~/.my.cnf"', 'option_file = ""')
    config = tmp_path / "phases.toml"
    config.write_text(text, encoding="utf-8")
    check = cockpit("check", "--config", str(config), env={"COCKPIT_MYSQL_USER": "nobody"})
    assert check.returncode == 3, check
    assert "Traceback" not in check.stderr and len(check.stderr.strip().splitlines()) == 1
    assert "FAIL  database mysql 127.0.0.1" in check.stdout
    status = cockpit("status", "--config", str(config), "--json", env={"COCKPIT_MYSQL_USER": "nobody"})
    assert status.returncode == 3, status
    data = json.loads(status.stdout)
    assert data["connection"]["state"] == "lost"
    assert all(p["state"] == "unknown" or all(f["state"] == "unknown" for f in p["flags"]) for p in data["phases"])


def test_bad_mysql_spec_is_exit_2(tmp_path: Path) -> None:
    result = cockpit("sandbox", "init", str(tmp_path / "y"), "--mysql", "localhost:3306")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("cockpit: --mysql must look like")
