"""Where the cockpit keeps its own files on the bastion, and making file writes durable."""

from __future__ import annotations

import os
from pathlib import Path


def state_dir() -> Path:
    """$XDG_STATE_HOME/rollback-cockpit, or ~/.local/state/rollback-cockpit."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "rollback-cockpit"


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new file durable: the directory entry must reach disk too."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
