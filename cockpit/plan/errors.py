"""The one exception a plan can raise: a message naming file and line, ready for stderr."""

from __future__ import annotations

from pathlib import Path

from .names import CONTROL, LINE_BREAK, shown


class PlanError(Exception):
    """A plan that cannot be used. `str()` is the one line shown to the operator."""

    def __init__(self, file: Path, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = " ".join(message.split())  # one line, whatever the parts held
        name = file.name
        if CONTROL.search(name) or LINE_BREAK.search(name):  # `--config $'x\n...'` stays one line
            name = shown(name)
        where = f"{name}:{line}" if line else name
        super().__init__(f"{where}: {self.message}")
