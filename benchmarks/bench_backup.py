"""Backup time and memory vs dump size, against a raw `mariadb-dump` of the same tables.

Issue 14's targets: the backup (dump + streaming file check) within 1.2x a raw
`mariadb-dump` of the same tables, and the cockpit's peak RSS at most 60 MB whatever
the dump size. For dumps of about 10, 50 and 100 MB this starts a throwaway MariaDB
(the test fixture's server), creates the MariaDB sandbox in a fresh database, grows
phase 10's `mv_token_flow_summary` with one INSERT ... SELECT from the Sequence engine,
rolls phase 10 through flags-off, cron-stop and quarantine with the real engine, then,
alternately:

- baseline: `mariadb-dump` of the quarantined tables with the options the cockpit uses
  (`--single-transaction --skip-lock-tables --result-file`), its wall time and peak RSS
  (VmHWM, polled every 10 ms: see PeakWatcher);
- cockpit: `python -m cockpit run 10 backup --execute --config F` in a child process —
  what an operator runs. The step's own timing line (journalled with the step) splits
  its time into measuring the source (exact count + CHECKSUM TABLE), the dump, the
  streaming file check and the restore into the scratch schema with its comparison.
  Peak RSS: the cockpit process's own high-water mark (VmHWM, read by the child as it
  exits), and the dump and client tools' it starts (VmHWM, polled).

Every figure is printed with its ratio to the baseline measured in the same run. The
restore is the price of "verified by restore" and is reported apart from the 1.2x target.
The data folder (server, sandboxes, dumps) is removed at the end, whatever happens.

    .venv/bin/python -m benchmarks.bench_backup [--sizes 10,50,100] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import runpy
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
TABLE = "mv_token_flow_summary"
PHASE = 10
MB = 1024 * 1024


def child_main(report: str, argv: list[str]) -> None:
    """Run the cockpit CLI in this process and write its VmHWM (peak RSS) on the way out."""
    import atexit

    def write_peak() -> None:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                Path(report).write_text(str(int(line.split()[1]) * 1024))

    atexit.register(write_peak)
    sys.argv = ["cockpit", *argv]
    runpy.run_module("cockpit", run_name="__main__", alter_sys=True)


class PeakWatcher(threading.Thread):
    """Peak RSS per program in a process tree: VmHWM of every process, polled every 10 ms.

    Not ru_maxrss: a child forked from Python counts the parent's resident pages until it
    execs, so ru_maxrss of `mariadb-dump` started from a 45 MB Python reads 45 MB. VmHWM
    belongs to the address space, which exec replaces, and only ever grows; a process's
    last reading misses at most its final 10 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peaks: dict[str, int] = {}
        self.done = threading.Event()

    def run(self) -> None:
        import psutil

        while not self.done.is_set():
            try:
                family = [psutil.Process(self.pid), *psutil.Process(self.pid).children(recursive=True)]
            except psutil.Error:
                family = []
            for proc in family:
                try:
                    status = Path(f"/proc/{proc.pid}/status").read_text()
                except OSError:
                    continue
                fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
                if "VmHWM" not in fields:
                    continue  # a zombie
                name = fields["Name"].strip()
                hwm = int(fields["VmHWM"].split()[0]) * 1024
                self.peaks[name] = max(self.peaks.get(name, 0), hwm)
            self.done.wait(0.01)


def run_measured(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int, dict[str, int], str]:
    """(wall seconds, exit code, peak RSS bytes per program in its tree, stdout+stderr)."""
    log = tempfile.TemporaryFile()
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    watcher = PeakWatcher(proc.pid)
    watcher.start()
    code = proc.wait()
    wall = time.perf_counter() - started
    watcher.done.set()
    watcher.join()
    log.seek(0)
    return wall, code, watcher.peaks, log.read().decode(errors="replace")


def raw_dump(server, database: str, tables: list[str], option_file: Path, out: Path) -> tuple[float, int, int]:
    """The baseline: mariadb-dump of the same tables, same options, to a file."""
    from cockpit.engine.steps.backup import dump_tool

    argv = [dump_tool(), f"--defaults-file={option_file}", "--single-transaction", "--skip-lock-tables",
            f"--host={server.host}", f"--port={server.port}", f"--result-file={out}", database, *tables]
    wall, code, peaks, text = run_measured(argv)
    if code != 0:
        raise RuntimeError(f"mariadb-dump exited {code}: {text.strip()[-300:]}")
    size = out.stat().st_size
    out.unlink()
    return wall, max(peaks.values(), default=0), size


def cockpit_backup(config: Path, journal: Path, scratch: Path) -> dict[str, float]:
    """One backup through the real CLI in a child; its timings, wall time and peak RSS."""
    report = scratch / "peak"
    env = {k: v for k, v in os.environ.items() if k not in ("MYSQL_PWD", "COCKPIT_CONFIG")}
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", str(report), "--",
            "run", str(PHASE), "backup", "--execute", "--config", str(config), "--operator", "bench"]
    wall, code, peaks, text = run_measured(argv, env)
    if code != 0:
        raise RuntimeError(f"cockpit run {PHASE} backup exited {code}:\n{text}")
    with sqlite3.connect(journal) as conn:
        rows = conn.execute("SELECT data FROM event WHERE kind = 'step_output' AND step = 'backup' ORDER BY id DESC").fetchall()
    timings = next(json.loads(d)["timings"] for (d,) in rows if "timings" in json.loads(d))
    backup = conn_value(journal, "SELECT data FROM event WHERE kind = 'backup_verified' ORDER BY id DESC LIMIT 1")
    Path(json.loads(backup)["path"]).unlink()  # keep the disk clean between rounds
    tools = max((v for k, v in peaks.items() if k.startswith(("mariadb", "mysql"))), default=0)
    # the step's split: "backup" is its time until the dump is written and checked (the
    # check follows the file as it grows); then the source is measured (exact counts,
    # CHECKSUM TABLE) and the dump restored and compared: the verification by restore.
    # (A step that reports no "backup" measured the source first and checked after.)
    timings["dump"] = timings["dump"] + timings.pop("check", 0.0)
    if "backup" in timings:
        timings["total"] = timings["backup"] + timings["measure"] + timings["restore"]
    else:
        timings["backup"] = timings["measure"] + timings["dump"]
        timings["total"] = timings["backup"] + timings["restore"]
    timings["verify"] = timings["total"] - timings["backup"]
    return {**timings, "wall": wall, "rss": int(report.read_text()), "polled": peaks.get("python", 0), "tools": tools}


def conn_value(path: Path, sql: str) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchone()[0]


async def quarantine(config: Path) -> list[str]:
    """Phase 10 rolled back to its quarantine with the real engine; the quarantined names."""
    from cockpit.engine import Engine, table_guards
    from cockpit.plan import load_plan

    plan = load_plan(config)
    engine = await Engine.open(plan, operator="bench")
    try:
        for step in ("flags-off", "cron-stop", "quarantine"):
            outcome = await engine.execute(PHASE, step, confirm=str(PHASE) if step == "quarantine" else None)
            if outcome.status != "done":
                raise RuntimeError(f"{PHASE}/{step}: {outcome.status} {outcome.message}")
        phase = plan.phase(PHASE)
        step = phase.step("quarantine")
        return list(table_guards.q_state(engine.events(), phase, step).quarantined_names)
    finally:
        await engine.close()


def bench_size(server, base: Path, megabytes: int, rounds: int) -> dict:
    from benchmarks.seed_big import fill_statement

    from cockpit.plan import load_plan
    from cockpit.sandbox import MysqlSpec, create_sandbox
    from cockpit.sandbox.schema import sandbox_tables

    database = server.new_database()
    folder = base / f"size-{megabytes}"
    spec = MysqlSpec(host=server.host, port=server.port, database=database, user=server.user,
                     option_file=str(server.option_file))
    config = create_sandbox(folder / "sandbox", mysql=spec).config_path
    plan = load_plan(config)
    table_spec = {s.name: s for s in sandbox_tables(plan)}[TABLE]
    started = time.perf_counter()
    sample = 20_000
    server.root_execute(fill_statement(table_spec, sample), database=database)
    _, _, sample_size = raw_dump(server, database, [TABLE], server.option_file, folder / "sample.sql")
    rows = max(sample, int(megabytes * MB / (sample_size / sample)))
    server.root_execute(fill_statement(table_spec, rows - sample), database=database)
    seeded = time.perf_counter() - started
    tables = asyncio.run(quarantine(config))
    print(f"   ({rows:,} rows seeded in {seeded:.1f} s; quarantined {len(tables)} tables)", flush=True)
    dumps, backups = [], []
    try:
        for _ in range(rounds):
            dumps.append(raw_dump(server, database, tables, server.option_file, folder / "raw.sql"))
            backups.append(cockpit_backup(config, plan.paths.journal, folder))
        dumps.append(raw_dump(server, database, tables, server.option_file, folder / "raw.sql"))
    finally:
        server.root_execute(f"DROP DATABASE IF EXISTS `{database}`")
        shutil.rmtree(folder, ignore_errors=True)
    med = statistics.median
    return {
        "size": med(d[2] for d in dumps), "rows": rows,
        "raw": med(d[0] for d in dumps), "raw_rss": max(d[1] for d in dumps),
        **{k: med(b[k] for b in backups) for k in ("measure", "dump", "backup", "restore", "verify", "total", "wall")},
        "rss": max(b["rss"] for b in backups), "polled": max(b["polled"] for b in backups),
        "tools": max(b["tools"] for b in backups),
    }


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child_main(sys.argv[2], sys.argv[4:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,50,100", help="dump sizes in MB, comma-separated")
    parser.add_argument("--rounds", type=int, default=2, help="cockpit backups per size (raw dumps: rounds + 1, interleaved)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    from tests.fixtures.mariadb import start_server

    base = Path(tempfile.mkdtemp(prefix="cockpit-bench-backup-"))
    started = time.perf_counter()
    server = start_server(base / "server", buffer_pool="256M")
    try:
        print(f"MariaDB up in {time.perf_counter() - started:.1f} s")
        print(f"\nbackup vs dump size (phase {PHASE}'s quarantined tables; medians: {args.rounds} cockpit backups, "
              f"{args.rounds + 1} raw dumps interleaved)")
        results = []
        for megabytes in sizes:
            r = bench_size(server, base, megabytes, args.rounds)
            results.append(r)
            print(f"{r['size'] / MB:6.1f} MB {r['rows']:>10,} rows | raw dump {r['raw']:6.2f} s {r['raw_rss'] / MB:5.1f} MB | "
                  f"dump+check {r['dump']:6.2f} s {r['dump'] / r['raw']:.2f}x | measure {r['measure']:5.2f} s | "
                  f"backup {r['backup']:6.2f} s {r['backup'] / r['raw']:.2f}x | restore+compare {r['restore']:6.2f} s | "
                  f"verification {r['verify']:6.2f} s | "
                  f"all {r['total'] / r['raw']:.2f}x | CLI wall {r['wall']:6.2f} s | "
                  f"cockpit RSS {r['rss'] / MB:5.1f} MB (polled {r['polled'] / MB:5.1f})  its tools {r['tools'] / MB:5.1f} MB",
                  flush=True)
        print("\n| dump | rows | raw `mariadb-dump` | its peak RSS | dump + file check | ratio | source measure "
              "| backup (to a checked file) | ratio | restore + compare | verification (measure + restore) "
              "| backup verified by restore | ratio | `cockpit run` wall "
              "| cockpit peak RSS | tools' peak RSS |")
        print("| ---: " * 16 + "|")
        for r in results:
            print(f"| {r['size'] / MB:.1f} MB | {r['rows']:,} | {r['raw']:.2f} s | {r['raw_rss'] / MB:.1f} MB | "
                  f"{r['dump']:.2f} s | {r['dump'] / r['raw']:.2f}× | {r['measure']:.2f} s | {r['backup']:.2f} s | "
                  f"{r['backup'] / r['raw']:.2f}× | {r['restore']:.2f} s | {r['verify']:.2f} s | {r['total']:.2f} s | "
                  f"{r['total'] / r['raw']:.2f}× | "
                  f"{r['wall']:.2f} s | {r['rss'] / MB:.1f} MB | {r['tools'] / MB:.1f} MB |")
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
