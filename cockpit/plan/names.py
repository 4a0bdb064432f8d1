"""The shapes of every name a plan gives: SQL identifiers, ids, cron scripts, user names.

One module so the loader and the SQL layer agree on what an identifier is. Every pattern
is used with `fullmatch` and has no `^`/`$`: Python's `$` also matches before a trailing
newline, which is how an id like "x\\n" once slipped past validation into a crontab.
"""

from __future__ import annotations

import re

# A plain SQL identifier, safe to back-quote into a statement on MySQL and SQLite.
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_IDENTIFIER = 64  # MySQL's limit for table and column names

# Ids the plan gives to steps, cron jobs, checklist items and activity checks: they appear
# on the command line (`cockpit run 9 cron-stop`), in the journal and in crontab markers.
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")
MAX_SLUG = 64

# A cron job's script as it appears in a crontab command: a file name or a relative path.
SCRIPT = re.compile(r"[A-Za-z0-9_.+-]+(?:/[A-Za-z0-9_.+-]+)*")
MAX_SCRIPT = 255

# A Unix account name for `crontab -u` (never starting with "-": it is an argument).
ACCOUNT = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\$?")
MAX_ACCOUNT = 32

# A host name or address for the target (IPv6 in brackets or bare).
HOST = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]*|\[[0-9A-Fa-f:.]+\]")
MAX_HOST = 255

# Characters no plan string may hold: C0 controls except tab and newline, DEL, C1
# controls, and the bidirectional overrides that make text read differently than it runs.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Single-line fields (ids, names, paths, patterns) may not hold a line break either.
LINE_BREAK = re.compile("[\r\n\u0085\u2028\u2029]")


def is_identifier(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_IDENTIFIER and IDENTIFIER.fullmatch(value) is not None


def is_slug(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_SLUG and SLUG.fullmatch(value) is not None


def shown(value: str, limit: int = 60) -> str:
    """A value quoted into a one-line error: escapes visible, length bounded."""
    text = value.encode("unicode_escape").decode("ascii")
    return text if len(text) <= limit else text[: limit - 1] + "…"
