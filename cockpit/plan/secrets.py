"""Spot credentials written into the plan's command templates, without repeating them.

`phases.toml` is read by everyone on the bastion, printed in dry-runs and copied into
drills; a password in a `[flags]` get/set command or a check step's argv ends up in all of
those. The loader refuses such a template, and the message says what kind of credential
it saw and where (key and line), never the value itself.

The checks look at each argv item, and inside items that are themselves a command line
(`sh -c "mysql -psecret …"`) at their words too.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterable

# Tools whose `-pVALUE` (joined, mysql style) is a password.
_MYSQL_LIKE = re.compile(r"(mysql|mariadb)[a-z_-]*|mysqlsh")
# Tools whose short option (joined or separate) is a password: `sshpass -p pw`, `redis-cli -a pw`.
_SHORT_PASSWORD = {"sshpass": "-p", "redis-cli": "-a"}
# Tools whose `-u`/`--user VALUE` carries `user:password`.
_USER_COLON = {"curl", "wget", "http", "https", "xh"}

_SECRET_WORD = r"(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|credentials?|auth)"
# A name one of whose parts (split on _ - .) is a secret word: MYSQL_PWD, db-password, api_key.
_SECRET_NAME = rf"(?:[A-Za-z0-9]+[_.-])*{_SECRET_WORD}(?:[_.-][A-Za-z0-9]+)*"
# `--password=…`, `--db-pass=…`, `--api-key=…`: a long option naming a secret, with a value.
_LONG_OPTION = re.compile(rf"--{_SECRET_NAME}", re.IGNORECASE)
# `MYSQL_PWD=…`, `PASSWORD=…`, `token=…` (also inside URLs' query strings).
_ASSIGNMENT = re.compile(rf"(?:^|(?<=[\s?&;]))(?P<name>{_SECRET_NAME})=(?P<value>[^\s&;]*)", re.IGNORECASE)
# `scheme://user:password@host`
_URL_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@")
# `Authorization: Bearer …`, `X-Api-Key: …`, `Cookie: …` headers.
_HEADER = re.compile(r"(?:^|\s)(?P<name>(?:proxy-)?authorization|x-[a-z-]*(?:token|key|auth)[a-z-]*|cookie)\s*:\s*\S", re.IGNORECASE)
# Names that point at where a secret is kept, which is the right way: --password-file,
# TOKEN_PATH, --auth-command.
_REFERENCE = re.compile(r".*[_.-](?:file|path|dir|fd|env|cmd|command|helper|prompt|stdin)", re.IGNORECASE)
# Placeholders the cockpit fills in are not secrets.
_PLACEHOLDER = re.compile(r"\{(?:flag|value)\}")


def credential_in_argv(argv: Iterable[str]) -> str | None:
    """What kind of credential the argv holds ("a --password value", "MYSQL_PWD=…"), or None.
    The description never includes the secret."""
    return _scan(list(argv), depth=0)


def credential_in_command(command: str) -> str | None:
    """The same for a command line given as one string (a crontab command)."""
    return _scan(_words(command), depth=0) or _scan_text(command)


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError:  # unbalanced quotes: fall back to whitespace words
        return text.split()


_WRAPPERS = {"env", "sudo", "doas", "exec", "nice", "ionice", "nohup", "timeout", "command", "stdbuf"}


def _tool(argv: list[str]) -> str:
    """The program an argv runs, looking through `env X=1`, `sudo`, `timeout 10` and the like."""
    for arg in argv:
        if arg.startswith("-") or "=" in arg or arg.isdigit():
            continue
        name = os.path.basename(arg)
        if name not in _WRAPPERS:
            return name
    return ""


def _scan(argv: list[str], depth: int) -> str | None:
    tool = _tool(argv)
    mysql_like = _MYSQL_LIKE.fullmatch(tool) is not None
    for index, arg in enumerate(argv):
        found = _scan_text(arg)
        if found:
            return found
        following = argv[index + 1] if index + 1 < len(argv) else None
        option, has_value, value = arg.partition("=")
        if _LONG_OPTION.fullmatch(option) and not _REFERENCE.fullmatch(option):
            if not has_value and following is not None and not following.startswith("-") and not mysql_like:
                value = following  # `--token abc`; mysql's `--password db` prompts, db is a name
            if value and not _PLACEHOLDER.fullmatch(value):
                return f"a {option} value"
        if mysql_like and re.fullmatch(r"-p.+", arg):
            return "a -p<password> option"
        short = _SHORT_PASSWORD.get(tool)
        if short and arg.startswith(short) and (len(arg) > 2 or following):
            return f"a {tool} {short} password"
        if tool in _USER_COLON and ((arg in ("-u", "--user") and following and ":" in following)
                                    or (arg.startswith("--user=") and ":" in arg)):
            return "a user:password option"
        if depth < 2 and len(arg.split()) > 1:
            found = _scan(_words(arg), depth + 1)  # `sh -c "mysql -psecret ..."`
            if found:
                return found
    return None


def _scan_text(text: str) -> str | None:
    if _URL_USERINFO.search(text):
        return "a URL with user:password@"
    header = _HEADER.search(text)
    if header:
        name = header.group("name")
        return f"{'an' if name[0] in 'aAeEiIoOuU' else 'a'} {name}: header"
    for match in _ASSIGNMENT.finditer(text):
        value = match.group("value")
        if value and not _PLACEHOLDER.fullmatch(value) and not _REFERENCE.fullmatch(match.group("name")):
            return f"{match.group('name')}=…"
    return None
