"""Who is at the keyboard: one answer shared by the CLI, the TUI and the engine.

Kept outside both `commands/` and `engine/` so that neither has to import the other to
name the operator the journal records (the layers point one way, see DESIGN.md).
"""

from __future__ import annotations

import getpass
import os


def operator_name(explicit: str | None = None) -> str:
    """Who is at the keyboard: --operator, then COCKPIT_OPERATOR, then the sudo caller, then the login."""
    for candidate in (explicit, os.environ.get("COCKPIT_OPERATOR"), os.environ.get("SUDO_USER"), os.environ.get("USER")):
        if candidate:
            return candidate
    try:
        return getpass.getuser()
    except Exception:  # getuser raises various errors on exotic systems; a name is still needed
        return "unknown"
