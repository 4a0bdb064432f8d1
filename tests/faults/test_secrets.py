"""The MySQL password never leaves the option file.

A whole session against the MariaDB sandbox — check, status, steps, flags off, a real
backup with the dump tool, the journal, the rollback log — plus connections that fail
(wrong port, wrong password). The password must appear in no stdout/stderr, no file the
cockpit wrote (journal and its WAL, log, backups and their names, crash files) and in no
child process's argv or environment: the dump tool gets it through a 0600
defaults-extra-file. A wrapper placed first in PATH stands in for `mariadb-dump`: it
records its argv, environment, its own /proc cmdline and environ and the full-width
`ps` listing while it runs (so the listing holds the dump process itself), then execs
the real tool, so the check covers the real process table, not a mock.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import tomllib
from pathlib import Path

import pytest
import tomli_w

from . import cli

pytestmark = pytest.mark.mariadb


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dump_wrapper(bin_dir: Path, record: Path) -> None:
    real = shutil.which("mariadb-dump") or shutil.which("mysqldump")
    assert real, "the dump tool must be installed for this test"
    bin_dir.mkdir()
    script = bin_dir / "mariadb-dump"
    script.write_text(
        "#!/bin/sh\n"
        f'REC="{record}"\n'
        'printf "%s\\n" "$@" > "$REC/argv"\n'
        'env > "$REC/env"\n'
        'for a in "$@"; do case "$a" in --defaults-file=*) f="${a#--defaults-file=}";'
        ' stat -c "%a" "$f" > "$REC/optmode"; echo "$f" > "$REC/optpath"; stat -c "%a" "$(dirname "$f")" > "$REC/dirmode";;'
        ' esac; done\n'
        # the process table as another local user sees it, while this very process (the
        # dump tool's argv) is in it: -ww, full width whatever COLUMNS says (ps cuts lines
        # at $COLUMNS otherwise, and a cut line would hide exactly the tail a secret sits in)
        'echo $$ > "$REC/pid"\n'
        'tr "\\0" "\\n" < /proc/$$/cmdline > "$REC/cmdline"\n'
        'tr "\\0" "\\n" < /proc/$$/environ > "$REC/environ"\n'
        'ps -ww -eo pid,args > "$REC/ps"\n'
        f'exec "{real}" "$@"\n',
        encoding="utf-8",
    )
    script.chmod(0o755)


def _config_variant(config: Path, name: str, **target: object) -> Path:
    data = tomllib.loads(config.read_text(encoding="utf-8"))
    data["target"].update(target)
    path = config.with_name(name)
    path.write_text(tomli_w.dumps(data, multiline_strings=True), encoding="utf-8")
    return path


def _files_holding(root: Path, needle: bytes) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if needle.decode() in path.name:
            found.append(f"name: {path}")
        if path.is_file() and needle in path.read_bytes():
            found.append(str(path))
    return found


def test_the_password_appears_nowhere(mariadb, mysql_sandbox, tmp_path: Path) -> None:
    password = mariadb.password
    config = mysql_sandbox.config_path
    sandbox_dir = config.parent
    state = tmp_path / "state"
    record = tmp_path / "record"
    record.mkdir()
    _dump_wrapper(tmp_path / "bin", record)
    env = {"XDG_STATE_HOME": str(state), "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()

    wrong_port = _config_variant(config, "phases-wrong-port.toml", port=_free_port())
    bad_options = tmp_path / "wrong.cnf"
    wrong_password = "pw-WRONG-" + password[::-1]
    bad_options.write_text(f"[client]\nuser={mariadb.user}\npassword={wrong_password}\n", encoding="utf-8")
    bad_options.chmod(0o600)
    wrong_pw = _config_variant(config, "phases-wrong-password.toml", option_file=str(bad_options))

    c = str(config)
    results = [
        (cli.run("check", "--config", c, env=env), {0}),
        (cli.run("status", "--json", "--config", c, env=env), {0}),
        (cli.run("steps", "10", "--config", c, env=env), {0}),
        (cli.run("run", "10", "flags-off", "--execute", "--config", c, env=env), {0}),
        (cli.run("run", "10", "cron-stop", "--execute", "--config", c, env=env), {0}),
        (cli.run("run", "10", "quarantine", "--execute", "--confirm", "10", "--config", c, env=env), {0}),
        (cli.run("run", "10", "backup", "--config", c, env=env), {0}),  # the dry-run shows the dump command
        (cli.run("run", "10", "backup", "--execute", "--config", c, env=env), {0}),
        (cli.run("journal", "--json", "--config", c, env=env), {0}),
        (cli.run("log", "10", "--reason", "secret drill", "--resolution", "none needed", "--config", c, env=env), {0}),
        (cli.run("check", "--config", str(wrong_port), env=env), {3}),
        (cli.run("status", "--json", "--config", str(wrong_port), env=env), {3}),
        (cli.run("run", "10", "flags-off", "--execute", "--config", str(wrong_port), env=env), {1, 3}),
        (cli.run("check", "--config", str(wrong_pw), env=env), {3}),
        (cli.run("status", "--json", "--config", str(wrong_pw), env=env), {3}),
    ]
    for result, codes in results:
        assert result.code in codes, result
        assert "Traceback" not in result.stderr, result
        for secret in (password, wrong_password):
            assert secret not in result.stdout and secret not in result.stderr, f"password printed by: {result.argv}"

    # the failing connections said why, in one line on stderr, naming the cause
    for result, _ in results[10:]:
        assert len(result.stderr_lines) <= 1, result
        if result.argv[0] == "status":  # --json carries the reason in the document
            error = result.json()["connection"]["error"]
            assert error and "\n" not in error, result
        else:
            assert len(result.stderr_lines) == 1, result
    assert "connect" in results[10][0].stdout + results[10][0].stderr and str(mariadb.port) not in results[10][0].stderr
    assert "access denied" in (results[13][0].stdout + results[13][0].stderr).lower(), results[13][0]

    # the backup really ran through the wrapper, credentials via a 0600 option file only
    argv = (record / "argv").read_text()
    # --defaults-file: the ONLY option file read, so the operator's [mariadb-dump] groups cannot change the dump
    assert argv.splitlines()[0].startswith("--defaults-file="), argv
    assert password not in argv
    assert (record / "optmode").read_text().strip() == "600"
    option_path = Path((record / "optpath").read_text().strip())
    assert not option_path.exists(), "the temporary option file must be deleted"
    assert (record / "dirmode").read_text().strip() == "700", "the option file lives in a private 0700 directory"
    assert not str(option_path).startswith(str(tmp_path / "tmp")), "never in a shared temporary directory"
    assert password not in (record / "env").read_text(), "the password reached the dump tool's environment"
    # what the kernel shows anyone for the dump process: its argv and its environment
    cmdline = (record / "cmdline").read_text()
    assert "mariadb-dump" in cmdline and argv.splitlines()[0] in cmdline.splitlines(), cmdline
    assert password not in cmdline and password not in (record / "environ").read_text()
    ps = (record / "ps").read_text()
    pid = (record / "pid").read_text().strip()
    own = [line for line in ps.splitlines() if line.split(None, 1)[0] == pid]
    assert own, f"the dump process {pid} is missing from the listing it took of itself"
    assert all(arg in own[0] for arg in argv.splitlines()), f"the listing cut the dump's argv: {own[0]}"
    assert password not in ps, "the password is visible in the process table"

    backups = list((sandbox_dir / "backups").glob("*.sql"))
    assert backups, "the backup step should have written a dump"
    leaks = _files_holding(sandbox_dir, password.encode()) + _files_holding(tmp_path / "tmp", password.encode())
    if state.exists():
        leaks += _files_holding(state, password.encode())
    assert leaks == []
    journal_files = list(sandbox_dir.glob("cockpit-journal.sqlite3*"))
    assert journal_files and (sandbox_dir / "ROLLBACK_LOG.md").exists()
    # the option file itself is the only place the password lives, readable by its owner only
    assert stat.S_IMODE(mysql_sandbox.option_file.stat().st_mode) == 0o600
