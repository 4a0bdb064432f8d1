"""CPU of the running cockpit (the real app, on MariaDB) beside a bare Textual app.

Starts a throwaway MariaDB with the sandbox in it, then runs, each in its own tmux
server at 120x36 (a real terminal, as over SSH), alternately: a bare Textual app
showing one label, and `cockpit tui --config F` — what an operator runs: its own
engine, journal, operator lock and `LiveSystem`, polling at the plan's default interval.
After a warm-up (app open, first refresh) each process's CPU time (user + system, its
reaped children included) is read over the same window, and the cockpit's share of a
core is printed beside the bare app's, with the ratio.
Targets: <= 2x the bare app, <= 1 % of one core. Data folders are removed at the end.

    .venv/bin/python -m benchmarks.bench_tui_cpu [--seconds 60] [--rounds 2] [--warmup 10]
"""

from __future__ import annotations

import argparse
import os
import shlex
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
Bare().run()
"""


def _cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


ROOT = str(Path(__file__).resolve().parent.parent)


def cpu_share(command: list[str], warmup: float, seconds: float, root: str = ROOT) -> float:
    """Share of one core `command` used over `seconds` after `warmup`, run in tmux;
    `root`: the checkout whose `cockpit` package is imported."""
    socket = f"cockpit-bench-{os.getpid()}-{time.monotonic_ns()}"  # one tmux server per run
    line = " ".join(shlex.quote(part) for part in command)
    env = {**os.environ, "PYTHONPATH": root, "TERM": "xterm-256color"}  # this checkout's cockpit
    # Textual draws on stderr: it must stay the pane's terminal (redirecting it to a file,
    # as this benchmark once did, measured an app drawing into a file, not a terminal).
    # The pane is kept after an early exit so its last words can be shown.
    subprocess.run(["tmux", "-L", socket, "new-session", "-d", "-x", "120", "-y", "36", "-c", root,
                    f"exec {line}"], check=True, env=env)
    try:
        subprocess.run(["tmux", "-L", socket, "set-option", "-g", "remain-on-exit", "on"], capture_output=True, check=False)
        pid = int(subprocess.run(["tmux", "-L", socket, "display", "-p", "#{pane_pid}"], capture_output=True,
                                 text=True, check=True).stdout.strip())
        proc = psutil.Process(pid)
        time.sleep(warmup)
        if not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE:
            shown = subprocess.run(["tmux", "-L", socket, "capture-pane", "-p"], capture_output=True, text=True).stdout
            raise SystemExit(f"{command} exited early:\n{shown.strip()[-800:]}")
        before = _cpu(proc)
        started = time.monotonic()
        time.sleep(seconds)
        after = _cpu(proc)
        elapsed = time.monotonic() - started
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)
    return (after - before) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--checkout", action="append", default=[], metavar="NAME=DIR",
                        help="also measure the cockpit of another checkout (e.g. the code before a change) in the same rounds")
    args = parser.parse_args()
    others = [tuple(spec.split("=", 1)) for spec in args.checkout]
    base = Path(tempfile.mkdtemp(prefix="cockpit-bench-cpu-"))
    server = start_server(base / "server")
    try:
        database = server.new_database()
        spec = MysqlSpec(host=server.host, port=server.port, database=database, user=server.user,
                         option_file=str(server.option_file))
        config = create_sandbox(base / "sandbox", mysql=spec).config_path
        interval = load_plan(config).watch.refresh_seconds
        bare_script = base / "bare.py"
        bare_script.write_text(BARE, encoding="utf-8")
        tui = [sys.executable, "-m", "cockpit", "tui", "--config", str(config), "--operator", "bench"]
        samples: dict[str, list[float]] = {"bare Textual app": [], "cockpit (this checkout)": []}
        samples.update({f"cockpit ({name})": [] for name, _ in others})
        for index in range(args.rounds):  # interleaved: machine load hits all alike
            shares = [("bare Textual app", cpu_share([sys.executable, str(bare_script)], args.warmup, args.seconds))]
            shares.append(("cockpit (this checkout)", cpu_share(tui, args.warmup, args.seconds)))
            for name, directory in others:
                shares.append((f"cockpit ({name})", cpu_share(tui, args.warmup, args.seconds, root=directory)))
            for label, share in shares:
                samples[label].append(share)
            print(f"round {index + 1}: " + " · ".join(f"{label} {share * 100:.2f} %" for label, share in shares), flush=True)
        bare = statistics.median(samples["bare Textual app"])
        print(f"\ntmux 120x36, {args.seconds:g} s windows after {args.warmup:g} s warm-up, refresh every {interval:g} s (plan default),"
              f" MariaDB sandbox; medians of {args.rounds} rounds, share of one core")
        for label, values in samples.items():
            share = statistics.median(values)
            print(f"{label:32s} {share * 100:5.2f} %   ratio {share / max(bare, 1e-9):5.2f}x (targets <= 2x, <= 1 %)")
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
