"""The board's first frame is drawn before the engine is imported (cockpit/tui/app.py:
SESSION_MODULES load in a thread behind it). The views' types of the engine, the
database and the drift alerts are for mypy only: importing the app and the board must
not pull them in, or the first frame waits for them on the event loop."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import sys
import cockpit.tui.app, cockpit.tui.screens.board
print(" ".join(sorted(m for m in sys.modules if m.startswith("cockpit"))))
"""


def test_first_frame_imports_no_engine() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    loaded = set(out.split())
    assert "cockpit.tui.app" in loaded, out  # the probe ran against this tree
    heavy = sorted(m for m in loaded if m.split(".")[1:2] in (["engine"], ["db"], ["journal"], ["live"], ["watch"], ["drill"])
                   or m == "cockpit.probes.drift")
    assert heavy == [], f"imported before the first frame: {heavy}"
