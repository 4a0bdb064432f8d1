"""Database errors the rest of the cockpit can act on.

Callers never see a driver exception: they see one of these, whose message is a single
operator-ready line. The split matters because each one means something different on
a 3 a.m. rollback: `DatabaseUnavailable` is a state to wait out (retry, show stale
values), `QueryError` is a fact about one statement (e.g. no permission on one table),
`StatementTimeout` says an exact count was too expensive right now, `LockWaitTimeout`
says a DROP gave up rather than queueing behind production traffic.
"""

from __future__ import annotations


class DatabaseError(Exception):
    """Base class; `str()` is one line and never holds a credential."""

    def __init__(self, message: str, code: int | None = None) -> None:
        self.code = code
        super().__init__(" ".join(str(message).split()))


class DatabaseUnavailable(DatabaseError):
    """The server cannot be reached or the connection was lost."""


class QueryError(DatabaseError):
    """The server refused or failed one statement (permission, syntax, missing table)."""


class StatementTimeout(QueryError):
    """The statement hit its time limit (MariaDB 1969, MySQL 3024, SQLite interrupt)."""


class LockWaitTimeout(QueryError):
    """DDL gave up waiting for a lock (1205). `holders` names who held it, if known."""

    def __init__(self, message: str, code: int | None = 1205, holders: tuple[str, ...] = ()) -> None:
        self.holders = holders
        if holders:
            message = f"{message}; held by: {'; '.join(holders)}"
        super().__init__(message, code)


__all__ = ["DatabaseError", "DatabaseUnavailable", "QueryError", "StatementTimeout", "LockWaitTimeout"]
