"""The board's first frame is drawn before the engine is imported (cockpit/tui/app.py:
SESSION_MODULES load in a thread behind it). The views' types of the engine, the
database, the probes' snapshots and the drift alerts are for mypy only: importing the app
and the board must not pull them in, or the first frame waits for them on the event loop
(the snapshot types alone were ~25 ms of dataclass creation). Nor may the command line
(`cockpit tui` parses its arguments and loads the plan first) or loading the plan."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import sys
import cockpit.cli, cockpit.commands.tui, cockpit.tui.app, cockpit.tui.screens.board
from cockpit.plan import default_plan_path, load_plan
load_plan(default_plan_path())
print(" ".join(sorted(m for m in sys.modules if m.startswith("cockpit") or m in ("croniter", "aiomysql", "psutil"))))
"""


def test_first_frame_imports_no_engine() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    loaded = set(out.split())
    assert "cockpit.tui.app" in loaded, out  # the probe ran against this tree
    heavy = sorted(m for m in loaded if m.split(".")[1:2] in (["engine"], ["db"], ["journal"], ["live"], ["watch"], ["drill"],
                                                               ["probes"], ["cron"])
                   or not m.startswith("cockpit"))
    assert heavy == [], f"imported before the first frame: {heavy}"
