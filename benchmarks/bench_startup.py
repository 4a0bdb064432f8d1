"""Start-up: from process start to the first painted board, beside a bare Textual app.

Each run is a fresh Python process (imports are most of a TUI's start-up), headless, at
80x24, and runs what an operator runs: `cockpit tui --config F` through the CLI entry
point (lazy command table; the app draws the board, then opens the engine and
`LiveSystem` in a worker), with only the app class wrapped to note its paint times.
Two moments are timed from the moment the parent starts the process (passed to the
child; psutil's create_time is not used: it derives from the boot time, which Linux
gives in whole seconds, and read half a second early on the development machine,
which flattered every ratio): the board's first frame and the first frame showing
live sandbox data. The baseline is a bare Textual app that paints one Label.
Rounds interleave baseline and cockpit, so machine load hits both alike; medians are
printed with their ratios, and the median of each round's own ratio (cockpit run over the
bare run of the same round), which a load that drifts between rounds moves less. `cockpit --version` is timed beside `python -c pass`.
Targets: first frame <= 1.5x, live data <= 2x.

Bytecode: Textual and the standard library are imported from their compiled `.pyc`
files, as pip leaves them. The cockpit's modules must be too, or every run compiles the
cockpit from source (~150-250 ms on the development machine) and the benchmark measures
the compiler: a development shell with PYTHONDONTWRITEBYTECODE=1 did exactly that. So
the children write and read their bytecode in a scratch PYTHONPYCACHEPREFIX (the warm-up
run fills it; the checkout is left untouched). `--no-bytecode-cache` times the old way.

    .venv/bin/python benchmarks/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# children run from a scratch folder: make them import this checkout's cockpit
CHILD_ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))}
PAINTED = 42  # exit code that proves the child painted: Textual exits 0 on a start-up error too

CHILD_BASELINE = """
import json, os, sys, time
START = float(os.environ["BENCH_LAUNCHED_AT"])
from textual.app import App
from textual.widgets import Label
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
import json, os, sys, time
START = float(os.environ["BENCH_LAUNCHED_AT"])
import cockpit.tui.app as app_module
marks = {}
class Timed(app_module.CockpitApp):
    # Textual runs the on_mount of every class in the MRO, this one first and then the
    # cockpit's own: calling super() here would mount the cockpit twice
    def on_mount(self):
        self.call_after_refresh(self.board_built)
        self.run_worker(self.wait_live())
    def board_built(self):
        from cockpit.tui.widgets.phase_card import PhaseCard
        if self.screen.query(PhaseCard):  # the board is composed: its first frame is the next refresh
            self.call_after_refresh(lambda: marks.setdefault("paint", time.time() - START))
        else:
            self.call_after_refresh(self.board_built)
    async def wait_live(self):
        await self.ready.wait()
        self.call_after_refresh(self.live_painted)
    def live_painted(self):
        if self.snapshot is not None:  # not a failure to open the engine
            marks["live"] = time.time() - START
        print(json.dumps(marks))
        self.exit(return_code=42)
    async def run_async(self, **kwargs):
        return await super().run_async(headless=True, size=(80, 24))
app_module.CockpitApp = Timed
from cockpit.cli import main
main(["tui", "--config", sys.argv[1], "--operator", "bench"])
sys.exit(42 if "live" in marks and "paint" in marks else 1)
"""


def use_bytecode_cache(prefix: Path | None) -> None:
    """Children cache the cockpit's bytecode under `prefix` (None: compile from source every run)."""
    CHILD_ENV.pop("PYTHONPYCACHEPREFIX", None)
    if prefix is None:
        CHILD_ENV["PYTHONDONTWRITEBYTECODE"] = "1"
        return
    CHILD_ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    CHILD_ENV["PYTHONPYCACHEPREFIX"] = str(prefix)


def _run_child(script: Path, *args: str, root: Path = ROOT) -> dict[str, float]:
    """`root`: the checkout whose cockpit the child imports (another one with --checkout)."""
    env = {**CHILD_ENV, "PYTHONPATH": str(root), "BENCH_LAUNCHED_AT": repr(time.time())}  # the moment the process starts
    result = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=120, env=env, check=False)
    if result.returncode != PAINTED:
        raise SystemExit(f"child did not paint (exit {result.returncode}): {result.stderr.strip().splitlines()[-1:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _seconds(*command: str) -> float:
    started = time.perf_counter()
    subprocess.run(command, capture_output=True, check=True, timeout=60, env=CHILD_ENV)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--checkout", action="append", default=[], metavar="NAME=DIR",
                        help="also time the cockpit of another checkout (e.g. the code before a change) in the same rounds")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="compile the cockpit from source in every run (PYTHONDONTWRITEBYTECODE=1), as before this option")
    args = parser.parse_args()
    others = [(name, Path(directory)) for name, directory in (spec.split("=", 1) for spec in args.checkout)]
    from cockpit.sandbox import create_sandbox

    with tempfile.TemporaryDirectory() as scratch:
        config = create_sandbox(Path(scratch) / "sandbox").config_path
        # Textual resolves an app's CSS next to its source file, so the children are files
        bare_script, cockpit_script = Path(scratch) / "bare.py", Path(scratch) / "timed_cockpit.py"
        bare_script.write_text(CHILD_BASELINE, encoding="utf-8")
        cockpit_script.write_text(CHILD_COCKPIT, encoding="utf-8")
        use_bytecode_cache(None if args.no_bytecode_cache else Path(scratch) / "pycache")
        _run_child(bare_script)  # warm the OS file cache for both (and write the bytecode cache)
        _run_child(cockpit_script, str(config))
        for _, directory in others:
            _run_child(cockpit_script, str(config), root=directory)
        baseline, cockpit, python, version = [], [], [], []
        other: dict[str, list[dict[str, float]]] = {name: [] for name, _ in others}
        for _ in range(args.runs):  # interleaved rounds
            baseline.append(_run_child(bare_script)["paint"])
            cockpit.append(_run_child(cockpit_script, str(config)))
            for name, directory in others:
                other[name].append(_run_child(cockpit_script, str(config), root=directory))
            python.append(_seconds(sys.executable, "-c", "pass"))
            version.append(_seconds(sys.executable, "-m", "cockpit", "--version"))
    base = statistics.median(baseline)
    paint = statistics.median(c["paint"] for c in cockpit)
    live = statistics.median(c["live"] for c in cockpit)
    py, ver = statistics.median(python), statistics.median(version)
    cache = "compiled from source every run" if args.no_bytecode_cache else "bytecode cached (as installed)"
    print(f"runs: {args.runs} each, interleaved, headless 80x24, fresh process per run, times from process launch; cockpit {cache}")
    print(f"load average at the end: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"bare Textual app, one label painted:       median {base * 1000:5.0f} ms")
    print(f"cockpit tui, board first frame:            median {paint * 1000:5.0f} ms  ratio {paint / base:.2f}x (target <= 1.5x)")
    print(f"cockpit tui, first frame with live data:   median {live * 1000:5.0f} ms  ratio {live / base:.2f}x (target <= 2x)")
    for name, runs in other.items():
        o_paint, o_live = statistics.median(c["paint"] for c in runs), statistics.median(c["live"] for c in runs)
        print(f"cockpit tui ({name}), board first frame:  median {o_paint * 1000:5.0f} ms  ratio {o_paint / base:.2f}x")
        print(f"cockpit tui ({name}), live data:          median {o_live * 1000:5.0f} ms  ratio {o_live / base:.2f}x")
    # The load of a shared machine drifts between rounds: a run's ratio over the bare app of
    # its own round cancels the drift that the ratio of two medians taken over all rounds keeps.
    for name, runs in [("cockpit tui", cockpit), *((f"cockpit tui ({n})", r) for n, r in other.items())]:
        paint_ratio = statistics.median(c["paint"] / b for c, b in zip(runs, baseline, strict=True))
        live_ratio = statistics.median(c["live"] / b for c, b in zip(runs, baseline, strict=True))
        print(f"{name}, median of per-round ratios: first frame {paint_ratio:.2f}x, live data {live_ratio:.2f}x")
    print(f"python -c pass:                            median {py * 1000:5.0f} ms")
    print(f"cockpit --version:                         median {ver * 1000:5.0f} ms  ratio {ver / py:.2f}x")


if __name__ == "__main__":
    main()
