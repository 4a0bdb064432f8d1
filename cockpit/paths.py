"""Where the cockpit keeps its own files on the bastion (XDG state directory)."""

from __future__ import annotations

import os
from pathlib import Path


def state_dir() -> Path:
    """$XDG_STATE_HOME/rollback-cockpit, or ~/.local/state/rollback-cockpit."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "rollback-cockpit"
