"""What the drill needs of an engine, as a Protocol.

`cockpit drill` and the board's `D` key hand the drill their Engine; the drill reads the
plan, the journal and whether it may write, nothing else. Naming exactly that keeps the
drill independent of how the engine's session is put together.
"""

from __future__ import annotations

from typing import Protocol

from cockpit.journal import Journal
from cockpit.plan.model import Plan


class DrillEngine(Protocol):
    """The part of `cockpit.engine.Engine` a drill uses."""

    @property
    def plan(self) -> Plan: ...

    @property
    def journal(self) -> Journal: ...

    @property
    def read_only(self) -> bool: ...

    @property
    def read_only_reason(self) -> str: ...
