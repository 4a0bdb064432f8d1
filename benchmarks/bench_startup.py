"""Start-up: from process start to the first painted board, beside a bare Textual app.

Each run is a fresh Python process (imports are most of a TUI's start-up), headless, at
80×24. Two moments are timed from the process's own start (psutil's create_time):
the board's first frame (the screen an operator sees, values still loading) and the
first frame showing live sandbox data (`CockpitApp.ready` then a repaint). The baseline
is a bare Textual app that paints one Label, timed the same way in the same session.
Medians of N runs are printed with their ratios. Target: ≤ 2×.

    .venv/bin/python benchmarks/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PAINTED = 42  # exit code that proves the child painted: Textual exits 0 on a start-up error too

CHILD_BASELINE = """
import json, sys, time, psutil
from textual.app import App
from textual.widgets import Label
START = psutil.Process().create_time()
class Bare(App):
    def compose(self):
        yield Label("rollback-cockpit")
    def on_mount(self):
        self.call_after_refresh(self.painted)
    def painted(self):
        print(json.dumps({"paint": time.time() - START}))
        self.exit(return_code=42)
app = Bare()
app.run(headless=True, size=(80, 24))
sys.exit(app.return_code)
"""

CHILD_COCKPIT = """
import json, sys, time, psutil
from cockpit.plan import load_plan
from cockpit.tui.app import CockpitApp
START = psutil.Process().create_time()
marks = {}
class Timed(CockpitApp):
    async def on_mount(self):
        await super().on_mount()
        self.call_after_refresh(lambda: marks.setdefault("paint", time.time() - START))
        async def wait_live():
            await self.ready.wait()
            self.call_after_refresh(self.live_painted)
        self.run_worker(wait_live())
    def live_painted(self):
        marks["live"] = time.time() - START
        print(json.dumps(marks))
        self.exit(return_code=42)
app = Timed(load_plan(sys.argv[1]), operator="bench")
app.run(headless=True, size=(80, 24))
sys.exit(app.return_code)
"""


def _run_child(script: Path, *args: str) -> dict[str, float]:
    result = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=120)
    if result.returncode != PAINTED:
        raise SystemExit(f"child did not paint (exit {result.returncode}): {result.stderr.strip().splitlines()[-1:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    from cockpit.sandbox import create_sandbox

    with tempfile.TemporaryDirectory() as scratch:
        config = create_sandbox(Path(scratch) / "sandbox").config_path
        # Textual resolves an app's CSS next to its source file, so the children are files
        bare_script, cockpit_script = Path(scratch) / "bare.py", Path(scratch) / "timed_cockpit.py"
        bare_script.write_text(CHILD_BASELINE, encoding="utf-8")
        cockpit_script.write_text(CHILD_COCKPIT, encoding="utf-8")
        _run_child(bare_script)  # warm the OS file cache for both
        _run_child(cockpit_script, str(config))
        baseline = [_run_child(bare_script)["paint"] for _ in range(args.runs)]
        cockpit = [_run_child(cockpit_script, str(config)) for _ in range(args.runs)]
    base = statistics.median(baseline)
    paint = statistics.median(c["paint"] for c in cockpit)
    live = statistics.median(c["live"] for c in cockpit)
    print(f"runs: {args.runs} each, headless 80x24, fresh process per run, times from process start")
    print(f"bare Textual app, one label painted:       median {base * 1000:5.0f} ms")
    print(f"cockpit board, first frame:                median {paint * 1000:5.0f} ms  ratio {paint / base:.2f}x (target <= 2x)")
    print(f"cockpit board, first frame with live data: median {live * 1000:5.0f} ms  ratio {live / base:.2f}x")


if __name__ == "__main__":
    main()
