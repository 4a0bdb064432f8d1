"""Start-up: from process start to the first painted board, beside a bare Textual app.

Each run is a fresh Python process (imports are most of a TUI's start-up), headless, at
80×24. The cockpit counts as painted when its board has shown the first live snapshot of
the sandbox (`CockpitApp.ready`) and Textual has rendered that frame; the baseline is a
bare Textual app that paints one Label. Both run N times in this process's session and
the medians are printed with their ratio. Target: ≤ 2×.

    .venv/bin/python benchmarks/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD_BASELINE = """
import time, sys
from textual.app import App
from textual.widgets import Label
class Bare(App):
    def compose(self):
        yield Label("rollback-cockpit")
    def on_mount(self):
        self.call_after_refresh(self.exit)
Bare().run(headless=True, size=(80, 24))
"""

CHILD_COCKPIT = """
import asyncio, sys
from cockpit.plan import load_plan
from cockpit.tui.app import CockpitApp
class Timed(CockpitApp):
    async def on_mount(self):
        await super().on_mount()
        async def wait_painted():
            await self.ready.wait()
            self.call_after_refresh(self.exit)
        self.run_worker(wait_painted())
Timed(load_plan(sys.argv[1]), operator="bench").run(headless=True, size=(80, 24))
"""


def _time_child(script: Path, *args: str) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"child failed: {result.stderr.strip().splitlines()[-1:]}")
    return elapsed


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
        _time_child(bare_script)  # warm the OS file cache for both
        _time_child(cockpit_script, str(config))
        baseline = [_time_child(bare_script) for _ in range(args.runs)]
        cockpit = [_time_child(cockpit_script, str(config)) for _ in range(args.runs)]
    base, ours = statistics.median(baseline), statistics.median(cockpit)
    print(f"runs: {args.runs} each, headless 80x24, fresh process per run")
    print(f"bare Textual app, one label painted: median {base * 1000:.0f} ms (min {min(baseline) * 1000:.0f})")
    print(f"cockpit, first board with live sandbox data painted: median {ours * 1000:.0f} ms (min {min(cockpit) * 1000:.0f})")
    print(f"ratio cockpit/bare: {ours / base:.2f}x (target <= 2x)")


if __name__ == "__main__":
    main()
