"""The credential spotter behind the loader's refusal of command templates.

Each positive names the kind of credential and never the value; each negative is a
template an operator may legitimately write (placeholders, files that hold a secret,
mysql's prompting `-p`, ordinary options), so the refusal does not cry wolf.
"""

from __future__ import annotations

import pytest

from cockpit.plan.secrets import credential_in_argv, credential_in_command

SECRET = "Zq9-s3cr3t"

FOUND: list[tuple[list[str], str]] = [
    (["mysql", "-uroot", f"-p{SECRET}", "-e", "SELECT 1"], "a -p<password> option"),
    (["/usr/bin/mariadb-admin", f"-p{SECRET}", "ping"], "a -p<password> option"),
    (["mysql", f"--password={SECRET}"], "a --password value"),
    (["flagctl", "--db-pass", SECRET, "get", "{flag}"], "a --db-pass value"),
    (["flagctl", f"--api-key={SECRET}"], "a --api-key value"),
    (["env", f"MYSQL_PWD={SECRET}", "flagctl", "{flag}"], "MYSQL_PWD=…"),
    (["env", f"PASSWORD={SECRET}", "flagctl"], "PASSWORD=…"),
    (["sudo", "-u", "app", "env", f"DB_PASSWORD={SECRET}", "flagctl"], "DB_PASSWORD=…"),
    (["curl", f"https://ops:{SECRET}@flags.internal/{{flag}}"], "a URL with user:password@"),
    (["curl", f"https://flags.internal/{{flag}}?x=1&token={SECRET}"], "token=…"),
    (["curl", "-H", f"Authorization: Bearer {SECRET}", "https://flags"], "an Authorization: header"),
    (["curl", "-H", f"X-Api-Key: {SECRET}", "https://flags"], "a X-Api-Key: header"),
    (["curl", "-u", f"ops:{SECRET}", "https://flags"], "a user:password option"),
    (["sshpass", "-p", SECRET, "ssh", "host", "flagctl"], "a sshpass -p password"),
    (["redis-cli", "-a", SECRET, "GET", "{flag}"], "a redis-cli -a password"),
    (["sh", "-c", f"mysql -uro -p{SECRET} -e 'SELECT 1'"], "a -p<password> option"),
    (["bash", "-c", f"curl -H 'Authorization: token {SECRET}' https://x"], "an Authorization: header"),
]

CLEAN: list[list[str]] = [
    ["python3", "/opt/flags/flag.py", "get", "{flag}"],
    ["flagctl", "set", "{flag}", "{value}"],
    ["flagctl", "--token={value}", "{flag}"],  # the cockpit's placeholder, not a secret
    ["mysql", "-p", "-e", "SELECT 1"],  # prompts
    ["mysql", "--password", "flags"],  # prompts; "flags" is the database
    ["mysql", "-P3306", "-hdb", "--defaults-extra-file=/etc/cockpit/flags.cnf"],
    ["flagctl", "--password-file=/run/secrets/flags", "get", "{flag}"],
    ["env", "TOKEN_PATH=/run/secrets/t", "flagctl"],
    ["curl", "-s", "https://flags.internal/{flag}?passthrough=1"],
    ["tool", "--bypass-cache", "--compass=north"],
    ["sh", "-c", "flagctl get {flag} | grep -q on"],
]


@pytest.mark.parametrize("argv, kind", FOUND, ids=[" ".join(a)[:40] for a, _ in FOUND])
def test_a_credential_is_found_and_named_by_kind_only(argv: list[str], kind: str) -> None:
    found = credential_in_argv(argv)
    assert found == kind
    assert SECRET not in found


@pytest.mark.parametrize("argv", CLEAN, ids=[" ".join(a)[:40] for a in CLEAN])
def test_an_ordinary_template_is_not_a_credential(argv: list[str]) -> None:
    assert credential_in_argv(argv) is None


def test_a_crontab_command_line() -> None:
    assert credential_in_command(f"MYSQL_PWD={SECRET} /usr/bin/php /var/www/app/cron/sync.php") == "MYSQL_PWD=…"
    assert credential_in_command(f"/usr/bin/mysqldump -uapp -p{SECRET} app > /tmp/x") == "a -p<password> option"
    assert credential_in_command("/usr/bin/php /var/www/app/cron/sync.php >/dev/null 2>&1") is None
    assert credential_in_command("php 'unbalanced") is None
