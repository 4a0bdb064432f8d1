"""The environment a plan-defined child process gets: the cockpit's own, minus credentials.

Plan strings (flag get/set commands, hooks) name programs the cockpit does not control.
The cockpit's database password may sit in its environment (`MYSQL_PWD` is one of the
ways an operator supplies it), so every child it starts on the plan's behalf runs
without any variable the MySQL/MariaDB clients read for connection or credentials.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

# Prefixes the mysql/mariadb clients (and the cockpit itself) read: MYSQL_PWD,
# MYSQL_HOST, MYSQL_TCP_PORT, MYSQL_UNIX_PORT, MARIADB_*, COCKPIT_MYSQL_USER, ...
CREDENTIAL_PREFIXES = ("MYSQL_", "MARIADB_", "COCKPIT_MYSQL_", "LIBMYSQL_")
CREDENTIAL_NAMES = frozenset({"MYSQL_PWD", "MYSQL_HOST", "MYSQL_HISTFILE", "MYSQL_TEST_LOGIN_FILE", "MARIADB_PWD"})


def is_credential_variable(name: str) -> bool:
    upper = name.upper()
    return upper in CREDENTIAL_NAMES or upper.startswith(CREDENTIAL_PREFIXES)


def child_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of `environ` (default: this process's) without any database credential variable."""
    source = os.environ if environ is None else environ
    return {name: value for name, value in source.items() if not is_credential_variable(name)}
