"""A day of watching, compressed: drive the refresh loop N times and print its footprint.

At the default interval (phases.toml [watch] refresh_seconds, 5 s) a 24-hour watch is
17,280 refreshes; we run 10,000 back to back on the sandbox and print the cockpit's
memory at start and end and the CPU time per refresh, expressed as a share of one core at
the default interval. The baseline is an idle asyncio loop doing the same number of
iterations in the same process, so the ratio isolates the refresh's own cost.

    .venv/bin/python benchmarks/bench_watch.py [--refreshes 10000] [--dir D]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
from pathlib import Path

import psutil

from cockpit.db import open_database
from cockpit.live import LiveSystem
from cockpit.plan import load_plan
from cockpit.sandbox import create_sandbox


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 1e6


async def _baseline(iterations: int) -> float:
    started = time.process_time()
    for _ in range(iterations):
        await asyncio.sleep(0)
    return (time.process_time() - started) / iterations


async def _watch(config: Path, refreshes: int) -> dict[str, float]:
    plan = load_plan(config)
    db = open_database(plan.target)
    live = LiveSystem(plan, db)
    for _ in range(50):  # warm up: imports, caches, first connection
        await live.refresh()
    gc.collect()
    rss_start = _rss_mb()
    cpu_start = time.process_time()
    wall_start = time.perf_counter()
    rss_samples = []
    for index in range(refreshes):
        snapshot = await live.refresh()
        if index % 1000 == 0:
            rss_samples.append(_rss_mb())
    cpu = time.process_time() - cpu_start
    wall = time.perf_counter() - wall_start
    gc.collect()
    rss_end = _rss_mb()
    await live.close()
    await db.close()
    return {
        "refresh_seconds": plan.watch.refresh_seconds,
        "rss_start_mb": rss_start,
        "rss_end_mb": rss_end,
        "rss_peak_sampled_mb": max(rss_samples + [rss_end]),
        "rss_samples_mb": rss_samples,
        "cpu_per_refresh_ms": cpu / refreshes * 1000,
        "wall_per_refresh_ms": wall / refreshes * 1000,
        "phases": len(snapshot.phases),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refreshes", type=int, default=10_000)
    parser.add_argument("--dir", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.dir or Path(scratch) / "sandbox"
        config = create_sandbox(directory).config_path
        baseline = asyncio.run(_baseline(args.refreshes))
        figures = asyncio.run(_watch(config, args.refreshes))
    growth = figures["rss_end_mb"] - figures["rss_start_mb"]
    core_share = figures["cpu_per_refresh_ms"] / 1000 / figures["refresh_seconds"] * 100
    print(f"refreshes: {args.refreshes} (24 h at {figures['refresh_seconds']:g} s = {int(86400 / figures['refresh_seconds'])})")
    print(f"memory: start {figures['rss_start_mb']:.1f} MB, end {figures['rss_end_mb']:.1f} MB, growth {growth:+.2f} MB (target < 5 MB)")
    samples = " ".join(f"{mb:.1f}" for mb in figures["rss_samples_mb"])
    print(f"memory every 1,000 refreshes (MB): {samples}")
    print(f"cpu per refresh: {figures['cpu_per_refresh_ms']:.2f} ms (wall {figures['wall_per_refresh_ms']:.2f} ms)")
    print(f"baseline (idle loop iteration): {baseline * 1000:.4f} ms; ratio refresh/baseline: {figures['cpu_per_refresh_ms'] / (baseline * 1000):.0f}x")
    print(f"average CPU at the default {figures['refresh_seconds']:g} s interval: {core_share:.3f}% of one core (target < 1%)")


if __name__ == "__main__":
    main()
