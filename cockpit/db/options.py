"""Where MySQL credentials come from: never the plan.

The plan names host, port, socket, database and an option file; the password comes from
that option file (`~/.my.cnf` style, `[client]` then `[mysql]`), from `MYSQL_PWD`, or
from a prompt when a human is at the keyboard. The resulting settings object masks the
password in its repr so it cannot leak into a log line or a traceback.
"""

from __future__ import annotations

import configparser
import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..plan.model import Target

_DEFAULT_OPTION_FILE = "~/.my.cnf"


@dataclass(frozen=True)
class ConnectionSettings:
    """Resolved MySQL connection settings; the password never leaves the process."""

    host: str
    port: int
    socket: str
    database: str
    user: str
    password: str = field(default="", repr=False)
    password_source: str = ""  # "option file" | "MYSQL_PWD" | "prompt" | ""

    def __repr__(self) -> str:
        where = self.socket or f"{self.host}:{self.port}"
        masked = "***" if self.password else "(none)"
        return f"ConnectionSettings({self.user}@{where}/{self.database}, password={masked})"

    __str__ = __repr__


def read_option_file(path: str | Path) -> dict[str, str]:
    """The `[client]` then `[mysql]` keys of a my.cnf-style file ({} when unreadable).

    `!include`/`!includedir` lines are dropped rather than followed: the cockpit reads
    exactly the file the plan names, and a directive must not break parsing."""
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("!")]
    parser = configparser.ConfigParser(allow_no_value=True, strict=False, interpolation=None, inline_comment_prefixes=("#", ";"))
    try:
        parser.read_string("\n".join(lines))
    except configparser.Error:
        return {}
    found: dict[str, str] = {}
    for section in ("client", "mysql"):
        if not parser.has_section(section):
            continue
        for key in ("user", "password", "host", "port", "socket"):
            value = parser.get(section, key, fallback=None)
            if value is None:
                continue
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            found[key] = value  # [mysql] overrides [client], as the mysql client does
    return found


def resolve_settings(target: Target, interactive: bool = False, environ: Mapping[str, str] | None = None) -> ConnectionSettings:
    """Combine the plan's target, the option file, the environment and maybe a prompt."""
    env = os.environ if environ is None else environ
    options = read_option_file(target.option_file) if target.option_file else read_option_file(_DEFAULT_OPTION_FILE)
    user = env.get("COCKPIT_MYSQL_USER") or target.user or options.get("user") or _login_name()
    socket = target.socket or (options.get("socket", "") if target.host == "localhost" else "")
    password, source = "", ""
    if env.get("MYSQL_PWD"):
        password, source = env["MYSQL_PWD"], "MYSQL_PWD"
    elif options.get("password"):
        password, source = options["password"], "option file"
    elif interactive:
        where = socket or f"{target.host}:{target.port}"
        password = getpass.getpass(f"MySQL password for {user}@{where}: ")
        source = "prompt" if password else ""
    return ConnectionSettings(
        host=target.host,
        port=target.port,
        socket=socket,
        database=target.database,
        user=user,
        password=password,
        password_source=source,
    )


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "root"
