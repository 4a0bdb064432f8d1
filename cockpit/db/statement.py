"""A statement as a value: the SQL text and its parameters, shown and run as one object.

The dry-run prints `render()` of the very object `run()` sends, so what the operator
read cannot differ from what executes (no `= 1/0` shown while `'off'` runs).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Statement:
    sql: str
    params: tuple[Any, ...] = ()

    def render(self) -> str:
        """e.g. UPDATE `feature_flag` SET `enabled` = ? WHERE `flag_key` = ?  -- params ('0', 'enable_x')"""
        if not self.params:
            return self.sql
        return f"{self.sql}  -- params ({', '.join(repr(p) for p in self.params)})"

    async def run(self, db: Any) -> int:
        """Execute on `db`; the affected row count."""
        return int(await db.execute(self.sql, self.params))


@dataclass(frozen=True)
class Command:
    """A plan-defined program run without a shell: the argv shown is the argv run."""

    argv: tuple[str, ...]

    def render(self) -> str:
        return shlex.join(self.argv)
