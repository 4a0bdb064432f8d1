"""A statement as a value: the SQL text and its parameters, shown and run as one object.

The dry-run prints `render()` of the very object `run()` sends, so what the operator
read cannot differ from what executes (no `= 1/0` shown while `'off'` runs).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .queries import Param, Sql

if TYPE_CHECKING:
    from .base import Database


@dataclass(frozen=True)
class Statement:
    """A named entry of db/queries.py, bound: shown by `render()`, sent by `run()`."""

    entry: Sql

    @property
    def sql(self) -> str:
        return self.entry.text

    @property
    def params(self) -> tuple[Param, ...]:
        return self.entry.params

    def render(self) -> str:
        """e.g. UPDATE `feature_flag` SET `enabled` = ? WHERE `flag_key` = ?  -- params ('0', 'enable_x')"""
        return self.entry.render()

    async def run(self, db: Database) -> int:
        """Execute on `db`; the affected row count."""
        return int(await db.execute(self.entry))


@dataclass(frozen=True)
class Command:
    """A plan-defined program run without a shell: the argv shown is the argv run."""

    argv: tuple[str, ...]

    def render(self) -> str:
        return shlex.join(self.argv)
