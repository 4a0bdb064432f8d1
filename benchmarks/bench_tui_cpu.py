"""CPU of the running cockpit (the real app, on MariaDB) beside a bare Textual app.

Starts a throwaway MariaDB with the sandbox in it, then runs, in fresh processes,
alternately: a bare Textual app showing one label, and the real `CockpitApp` on that
sandbox (its own engine, journal, operator lock and `LiveSystem`, polling at the plan's
default interval), both headless at 120x36. After a warm-up (app open, first refresh)
each child's user+system CPU time is read from /proc over the same window, and the
cockpit's share of a core is printed beside the bare app's, with the ratio.
Targets: <= 2x the bare app, <= 1 % of one core. Data folders are removed at the end.

    .venv/bin/python -m benchmarks.bench_tui_cpu [--seconds 60] [--rounds 2] [--warmup 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cockpit.plan import load_plan
from cockpit.sandbox import MysqlSpec, create_sandbox
from tests.fixtures.mariadb import start_server

BARE = """
from textual.app import App
from textual.widgets import Label
class Bare(App):
    def compose(self):
        yield Label("rollback-cockpit")
Bare().run(headless=True, size=(120, 36))
"""

COCKPIT = """
import sys
from cockpit.plan import load_plan
from cockpit.tui.app import CockpitApp
CockpitApp(load_plan(sys.argv[1]), operator="bench").run(headless=True, size=(120, 36))
"""


def cpu_share(script: Path, args: list[str], warmup: float, seconds: float) -> float:
    """Share of one core the child used over `seconds`, after `warmup`."""
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": root}  # the child imports this checkout's cockpit
    child = subprocess.Popen([sys.executable, str(script), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             cwd=root, env=env)
    try:
        proc = psutil.Process(child.pid)
        time.sleep(warmup)
        if child.poll() is not None:
            raise SystemExit(f"child exited early: {child.stderr.read().decode()[-500:] if child.stderr else ''}")
        before = proc.cpu_times()
        started = time.monotonic()
        time.sleep(seconds)
        after = proc.cpu_times()
        elapsed = time.monotonic() - started
    finally:
        child.kill()
        child.wait()
    return ((after.user - before.user) + (after.system - before.system)) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=10)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="cockpit-bench-cpu-"))
    server = start_server(base / "server")
    try:
        database = server.new_database()
        spec = MysqlSpec(host=server.host, port=server.port, database=database, user=server.user,
                         option_file=str(server.option_file))
        config = create_sandbox(base / "sandbox", mysql=spec).config_path
        interval = load_plan(config).watch.refresh_seconds
        bare_script, cockpit_script = base / "bare.py", base / "cockpit_app.py"
        bare_script.write_text(BARE, encoding="utf-8")
        cockpit_script.write_text(COCKPIT, encoding="utf-8")
        bare, cockpit = [], []
        for index in range(args.rounds):  # interleaved: machine load hits both alike
            bare.append(cpu_share(bare_script, [], args.warmup, args.seconds))
            cockpit.append(cpu_share(cockpit_script, [str(config)], args.warmup, args.seconds))
            print(f"round {index + 1}: bare {bare[-1] * 100:.2f} % · cockpit {cockpit[-1] * 100:.2f} % of a core", flush=True)
        b, c = statistics.median(bare), statistics.median(cockpit)
        print(f"\nheadless 120x36, {args.seconds:g} s windows after {args.warmup:g} s warm-up, refresh every {interval:g} s (plan default)")
        print(f"bare Textual app:           {b * 100:5.2f} % of one core")
        print(f"cockpit on MariaDB sandbox: {c * 100:5.2f} % of one core   ratio {c / max(b, 1e-9):.2f}x (targets <= 2x, <= 1 %)")
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
