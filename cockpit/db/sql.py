"""Identifier quoting shared by every statement the cockpit builds.

Values always travel as parameters; identifiers cannot, so they are the one place SQL
is assembled from text. The plan loader already validates them, and this re-checks at
the point of use so no caller can ever splice an unchecked name into a statement.
"""

from __future__ import annotations

from ..plan.names import IDENTIFIER as _IDENTIFIER  # one definition, shared with the plan loader

# Every statement sent to a server carries a tag so a DBA can find the cockpit's queries
# in SHOW PROCESSLIST and the slow log: a named entry of db/queries.py its own
# (`/* rollback-cockpit:<name> */`), text handed over by a test or the sandbox builder this one.
TAG = "/* rollback-cockpit */"


def quote_ident(name: str) -> str:
    """Validate a plain identifier and back-quote it (MySQL and SQLite both accept it)."""
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return f"`{name}`"


def statement_kind(sql: str) -> str:
    """The leading keyword of a statement, for error messages that must not echo values."""
    text = sql.strip()
    while text.startswith("/*"):
        end = text.find("*/")
        if end < 0:
            break
        text = text[end + 2 :].lstrip()
    word = text.split(None, 1)[0] if text else "statement"
    return word.upper()


def tagged(sql: str) -> str:
    """Prefix the cockpit's marker comment unless it is already there."""
    return sql if sql.lstrip().startswith(TAG) else f"{TAG} {sql}"
