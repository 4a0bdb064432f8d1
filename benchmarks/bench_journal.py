"""Journal operations vs history length: board tick, TUI open, journal screen open.

A 48-hour headless watch journals heartbeats and alerts as a matter of course, so the
journal holds tens of thousands of events. For 0, 1k, 10k and 100k events (a long
watch's mix: step output, ticks, notes and sessions, 1 % alerts — 1,000 at 100k — plus
the first steps of phase 10's rollback)
this measures, on the SQLite sandbox and the real app:

- board tick: what the board derives from the journal every second (each phase's
  progress, the watch, the open alerts) on a live engine, median of N ticks, with a new
  bulk event arriving before every tenth tick, as a watch's heartbeats do;
- TUI open: the real `CockpitApp` (headless, frozen live data so the database does not
  blur the figure) from construction to the board painted;
- journal screen open: `j` pressed on that board until the table is filled (wall and
  CPU time), and until its total ("N events", counted in a worker) is shown.

Each figure is printed with its ratio to the empty journal measured in the same run.
Targets: tick and open at 100k within 1.5x of the empty journal; journal screen <= 0.5 s.

    .venv/bin/python -m benchmarks.bench_journal [--sizes 0,1000,10000,100000] [--ticks 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cockpit.engine import Engine
from cockpit.plan import load_plan
from cockpit.sandbox import create_sandbox

# what piles up in a long watch: output lines, ticks, notes, sessions; 1 event in 100 an alert
BULK = ("step_output", "tick", "note", "step_output", "session_start", "session_end") * 16 + ("step_output", "note", "tick", "alert")


def add_history(path: Path, target: str, count: int, start_id: int = 0) -> None:
    """`count` bulk events written through their own connection, as another process would."""
    if count <= 0:
        return
    rows = []
    for i in range(count):
        kind = BULK[i % len(BULK)]
        data = {"kind": "refill", "subject": f"table_{i % 40}", "message": f"rows came back ({i})"}
        if kind == "note":
            data = {"text": f"checked dashboard {i}"}
        elif kind == "tick":
            data = {"which": "before", "item": "backup", "note": None}
        elif kind == "step_output":
            data = {"line": f"output line {i}"}
        rows.append((target, 1_700_000_000.0 + start_id + i, kind, "watcher", (10, 9, 8, 7)[i % 4], None,
                     json.dumps(data, sort_keys=True)))
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO event (target, at, kind, operator, phase, step, data) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


async def prepare(base: Path, events: int) -> Path:
    """A sandbox whose journal holds one real rollback of phase 10 and `events` bulk rows."""
    config = create_sandbox(base / "sandbox").config_path
    plan = load_plan(config)
    engine = await Engine.open(plan, operator="bench")
    for step in ("flags-off", "cron-stop"):
        await engine.execute(10, step)
    target, path = plan.target.label, plan.paths.journal
    await engine.close()
    add_history(path, target, events)
    return config


async def board_tick(config: Path, ticks: int) -> float:
    """Median seconds of one board tick's journal work on a live engine."""
    plan = load_plan(config)
    engine = await Engine.open(plan, operator="bench", read_only=True, connect=False)
    path, target = plan.paths.journal, plan.target.label
    phases = [p.id for p in plan.rollback_order]
    times = []
    try:
        for index in range(ticks):
            if index % 10 == 0:
                add_history(path, target, 1, start_id=10_000_000 + index)
            started = time.perf_counter()
            for phase_id in phases:
                engine.phase_progress(phase_id)
            engine.watch()
            len(engine.open_alerts())
            engine.step_views(phases[0])
            times.append(time.perf_counter() - started)
    finally:
        await engine.close()
    return statistics.median(times[1:])


async def tui_open(config: Path) -> dict[str, float]:
    """Seconds to the board painted; to the journal screen's rows in, its own CPU time
    (`process_time`: every thread of the process, the count's worker included) and to its
    total ("N events") shown; and, as the baseline, the help screen's, in the real app."""
    from tests.fixtures.tui import (  # frozen live data: the journal is measured
        FrozenClock,
        frozen_live_factory,
    )

    from cockpit.tui.app import CockpitApp
    from cockpit.tui.widgets.event_table import EventTable

    plan = load_plan(config)
    started = time.perf_counter()
    app = CockpitApp(plan, clock=FrozenClock(), auto_refresh=False, read_only=True, operator="bench",
                     live_factory=frozen_live_factory)
    figures: dict[str, float] = {}
    async with app.run_test(size=(120, 36)) as pilot:
        await asyncio.wait_for(app.ready.wait(), 60)
        await pilot.pause()
        figures["open"] = time.perf_counter() - started
        started, cpu = time.perf_counter(), time.process_time()
        await pilot.press("j")
        while True:
            await pilot.pause()
            tables = list(app.screen.query("#journal").results(EventTable))  # empty until mounted
            if tables and tables[0].row_count:
                break
        figures["journal"] = time.perf_counter() - started
        figures["journal_cpu"] = time.process_time() - cpu
        # the total is counted in a worker: the title says "… events" until it arrives
        while "… events" in str(app.screen.query_one("#journal-title").render()):
            await pilot.pause()
        figures["count"] = time.perf_counter() - started
        # baseline in the same app: the help screen, which reads no journal at all
        await pilot.press("escape")
        await pilot.pause()
        board = app.screen
        started, cpu = time.perf_counter(), time.process_time()
        await pilot.press("question_mark")
        while app.screen is board:
            await pilot.pause()
        await pilot.pause()
        figures["help"] = time.perf_counter() - started
        figures["help_cpu"] = time.process_time() - cpu
    return figures


async def run(sizes: list[int], ticks: int, rounds: int) -> None:
    results: dict[int, dict[str, float]] = {}
    scratch = Path(tempfile.mkdtemp(prefix="cockpit-bench-journal-"))
    try:
        configs = {}
        for size in sizes:
            started = time.perf_counter()
            configs[size] = await prepare(scratch / f"n{size}", size)
            print(f"journal with {size:,} events prepared in {time.perf_counter() - started:.1f} s", flush=True)
        samples: dict[int, dict[str, list[float]]] = {s: {} for s in sizes}
        for _ in range(rounds):  # sizes interleaved, so machine load hits all alike
            for size in sizes:
                samples[size].setdefault("tick", []).append(await board_tick(configs[size], ticks))
                for key, value in (await tui_open(configs[size])).items():
                    samples[size].setdefault(key, []).append(value)
        for size in sizes:
            results[size] = {k: statistics.median(v) for k, v in samples[size].items()}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    base = results[sizes[0]]
    print(f"\nmedians of {rounds} rounds; ratios against the {sizes[0]:,}-event journal of the same run")
    print("(journal screen: rows in, wall and CPU; total: its \"N events\" shown, counted in a worker;")
    print(" help screen: a screen that reads no journal, opened in the same app — the machine's baseline)")
    print(f"{'events':>8} | {'board tick':>16} | {'TUI open':>16} | {'journal screen':>18} | {'CPU':>7} | {'total':>7}"
          f" | {'help screen':>11} | {'CPU':>7}")
    for size in sizes:
        r = results[size]
        print(f"{size:>8,} | {r['tick'] * 1000:8.2f} ms {r['tick'] / base['tick']:4.2f}x | "
              f"{r['open']:7.3f} s {r['open'] / base['open']:5.2f}x | {r['journal']:9.3f} s {r['journal'] / base['journal']:5.2f}x"
              f" | {r['journal_cpu']:5.3f} s | {r['count']:5.3f} s | {r['help']:9.3f} s | {r['help_cpu']:5.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,1000,10000,100000")
    parser.add_argument("--ticks", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(run([int(s) for s in args.sizes.split(",")], args.ticks, args.rounds))


if __name__ == "__main__":
    main()
