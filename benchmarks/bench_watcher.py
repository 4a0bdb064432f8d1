"""The headless watcher's footprint and its drift -> notification latency.

1. Footprint: the real `Watcher` (journal following, expected state, live refresh, drift
   judging, heartbeats) driven N times back to back on a sandbox with phase 10 rolled back.
   Its clock is compressed: each refresh advances it by the default interval (the plan's
   `refresh_seconds`, 5 s), so heartbeats land in the journal at the rate of a real day
   (one per 60 s = one per 12 refreshes) and the journal grows as it would. Reported: CPU
   per refresh (process time, threads included), its share of one core at the default
   interval, and RSS at start/end (target: < 1 % of a core, < 5 MB growth).
2. Latency: a real `cockpit watch` subprocess (refresh interval R) with a local apprise
   `json://` endpoint; the flag of a rolled-back phase is turned on behind its back at a
   random moment and the time until the message arrives is measured (target: <= 2 R).

    .venv/bin/python benchmarks/bench_watcher.py [--refreshes 10000] [--trials 6] [--interval 1]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cockpit.db import open_database
from cockpit.journal import Journal
from cockpit.live import LiveSystem
from cockpit.plan import load_plan
from cockpit.sandbox import create_sandbox
from cockpit.watch.loop import Watcher, WatchSettings
from tests.watch_support import Endpoint, run_steps, watch_env

FLAG = "enable_production_dashboard"


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 1e6


async def footprint(config: Path, refreshes: int) -> dict:
    plan = load_plan(config)
    interval = plan.watch.refresh_seconds
    db = open_database(plan.target)
    live = LiveSystem(plan, db)
    journal = Journal(plan.paths.journal, plan.target.label, "bench")
    t0 = time.time()
    holder: dict[str, Watcher] = {}

    def clock() -> float:  # compressed time: one default interval per refresh
        return t0 + holder["w"].refreshes * interval

    watcher = Watcher(plan, WatchSettings(hours=48, refresh=0, heartbeat=60, config=config), journal, live,
                      clock=clock, say=lambda line: None)
    holder["w"] = watcher
    begin0, begin_wall0 = time.process_time(), time.perf_counter()
    watcher._begin()
    watcher._resend_unnotified()  # as run() does: the start's reads, then only what it follows
    begin_cpu, begin_wall = time.process_time() - begin0, time.perf_counter() - begin_wall0
    for _ in range(200):  # warm-up: imports, caches, the first connection
        await watcher.tick()
    gc.collect()
    rss_start, samples = _rss_mb(), []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(refreshes):
        await watcher.tick()
        if i % 1000 == 0:
            samples.append(_rss_mb())
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    gc.collect()
    rss_end = _rss_mb()
    held = sum(len(selection.items) for selection in journal._selections.values())  # rows the watcher keeps
    beats = len(journal.events(kinds=["watch_heartbeat"]))
    await live.close()
    await db.close()
    journal.close()
    return {"interval": interval, "cpu_ms": cpu / refreshes * 1000, "wall_ms": wall / refreshes * 1000,
            "rss_start": rss_start, "rss_end": rss_end, "samples": samples, "heartbeats": beats,
            "alerts": 0, "begin_cpu_ms": begin_cpu * 1000, "begin_wall_ms": begin_wall * 1000, "held": held}


def latency(config: Path, trials: int, interval: float, scratch: Path) -> list[float]:
    plan = load_plan(config)
    endpoint = Endpoint()
    env = watch_env(scratch, COCKPIT_NOTIFY_URLS=endpoint.url, COCKPIT_WATCH_REFRESH=str(interval),
                    COCKPIT_WATCH_HEARTBEAT="60", COCKPIT_NOTIFY_REPEAT="0", COCKPIT_NOTIFY_PER_MINUTE="100")
    with open(scratch / "watcher.out", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "cockpit", "watch", "--config", str(config)], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    results: list[float] = []
    try:
        deadline = time.monotonic() + 30
        while b"watch: started" not in (scratch / "watcher.out").read_bytes():
            if time.monotonic() > deadline:
                raise SystemExit("the watcher did not start")
            time.sleep(0.05)
        time.sleep(interval * 2)
        for _ in range(trials):
            time.sleep(random.uniform(0, interval))  # a random phase against the refresh rhythm
            before = len(endpoint.received)
            with sqlite3.connect(plan.target.path) as conn:
                conn.execute("UPDATE feature_flag SET enabled = 1 WHERE flag_key = ?", (FLAG,))
            drifted = time.monotonic()
            while len(endpoint.received) == before:
                if time.monotonic() - drifted > 30:
                    raise SystemExit("no notification within 30 s")
                time.sleep(0.005)
            results.append(time.monotonic() - drifted)
            with sqlite3.connect(plan.target.path) as conn:
                conn.execute("UPDATE feature_flag SET enabled = 0 WHERE flag_key = ?", (FLAG,))
            time.sleep(interval * 2.5)  # the watcher sees it cleared
    finally:
        proc.terminate()
        proc.wait(15)
        endpoint.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refreshes", type=int, default=10_000)
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--interval", type=float, default=1.0, help="refresh interval of the latency run (s)")
    parser.add_argument("--history", type=int, default=100_000,
                        help="bulk events already in the journal for the second footprint run (0: skip it)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        os.environ["XDG_STATE_HOME"] = str(scratch / "state")
        config = create_sandbox(scratch / "sandbox").config_path
        run_steps(config, 10, "flags-off", "cron-stop")
        f = asyncio.run(footprint(config, args.refreshes))
        long = None
        if args.history > 0:  # the same watch next to a long journal: its cost must not grow with it
            from benchmarks.bench_journal import add_history

            config3 = create_sandbox(scratch / "sandbox3").config_path
            run_steps(config3, 10, "flags-off", "cron-stop")
            plan3 = load_plan(config3)
            add_history(plan3.paths.journal, plan3.target.label, args.history)
            long = asyncio.run(footprint(config3, args.refreshes))
        config2 = create_sandbox(scratch / "sandbox2").config_path
        run_steps(config2, 10, "flags-off", "cron-stop")
        lat = latency(config2, args.trials, args.interval, scratch)
    growth = f["rss_end"] - f["rss_start"]
    share = f["cpu_ms"] / 1000 / f["interval"] * 100
    print(f"refreshes: {args.refreshes} (compressed: {args.refreshes * f['interval'] / 3600:.1f} h at {f['interval']:g} s); "
          f"heartbeats journalled: {f['heartbeats']}")
    print(f"memory: start {f['rss_start']:.1f} MB, end {f['rss_end']:.1f} MB, growth {growth:+.2f} MB (target < 5 MB)")
    print("memory every 1,000 refreshes (MB): " + " ".join(f"{m:.1f}" for m in f["samples"]))
    print(f"cpu per refresh: {f['cpu_ms']:.2f} ms (wall {f['wall_ms']:.2f} ms)")
    print(f"average CPU at the default {f['interval']:g} s interval: {share:.3f}% of one core (target < 1%)")
    print(f"drift -> notification at the endpoint, refresh {args.interval:g} s, {len(lat)} trials: "
          f"median {statistics.median(lat):.2f} s, max {max(lat):.2f} s "
          f"= {max(lat) / args.interval:.2f} intervals (target <= 2)")
    print("latencies (s): " + " ".join(f"{x:.2f}" for x in lat))
    if long is not None:
        print(f"\nnext to a journal of {args.history:,} bulk events (baseline: the same watch on a fresh journal, same process):")
        for label, key, unit in (("watcher start (_begin), CPU", "begin_cpu_ms", "ms"), ("cpu per refresh", "cpu_ms", "ms"),
                                 ("journal rows held in memory", "held", "rows")):
            print(f"  {label:30s} {f[key]:10.2f} {unit} -> {long[key]:10.2f} {unit}  ({long[key] / max(f[key], 1e-9):.2f}x)")
        print(f"  {'memory growth over the run':30s} {f['rss_end'] - f['rss_start']:+10.2f} MB -> "
              f"{long['rss_end'] - long['rss_start']:+10.2f} MB")


if __name__ == "__main__":
    main()
