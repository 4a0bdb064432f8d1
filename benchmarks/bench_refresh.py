"""What a refresh costs production, as the TUI runs it, vs table size and schema size.

Starts a throwaway MariaDB (the test fixture's server class), creates the sandbox in it,
and times `LiveSystem.refresh` — the TUI's own path: the two database statements plus
flags, crontab, in-flight processes, host health and error logs — with the session's
Handler_read_* counters giving the rows the server read (minus what SHOW STATUS costs).

1. vs rows: `assignment_log` grown 0 -> 10k -> 100k -> 1M (-> 5M with --max-rows), the
   activity column `created_at` indexed, then with its index dropped (the check then
   reads the newest rows by primary key). Baselines in the same run: a bare `SELECT 1`
   round trip (time) and the scan an unindexed activity check used to run (rows).
2. vs tables: unrelated tables added to the schema, 20 -> 200 -> 2,000.
3. guard cost: the exact COUNT(*) of the big table, within its limit and with a tiny one.

The data folder (server and sandbox) is removed at the end, whatever happens.

    .venv/bin/python -m benchmarks.bench_refresh [--runs 7] [--max-rows 1000000] [--max-tables 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.seed_big import BIG_TABLE, fill_statement
from cockpit.db import StatementTimeout, open_database
from cockpit.live import LiveSystem
from cockpit.plan import load_plan
from cockpit.sandbox import MysqlSpec, create_sandbox
from cockpit.sandbox.schema import sandbox_tables
from tests.fixtures.mariadb import start_server

OLD_ACTIVITY_SCAN = ("SELECT COUNT(*) FROM (SELECT 1 FROM assignment_log "
                     "WHERE created_at >= NOW() - INTERVAL 5 MINUTE LIMIT 100) recent")


async def handler_reads(db) -> int:
    rows = await db.fetch_all("SHOW SESSION STATUS LIKE 'Handler_read%'")
    return sum(int(v) for _, v in rows)


async def measure(db, action, runs: int) -> tuple[float, int, int]:
    """Median seconds, statements and rows read per run, on one server session."""
    times, reads = [], []
    queries = 0
    first = await handler_reads(db)
    overhead = await handler_reads(db) - first  # what SHOW STATUS itself reads
    for _ in range(runs):
        conn = await db.fetch_value("SELECT CONNECTION_ID()")
        before_reads = await handler_reads(db)
        before_queries = db.queries
        started = time.perf_counter()
        await action()
        times.append(time.perf_counter() - started)
        queries = db.queries - before_queries
        reads.append(await handler_reads(db) - before_reads - overhead)
        if await db.fetch_value("SELECT CONNECTION_ID()") != conn:
            raise RuntimeError("the pool switched sessions mid-measure; Handler counts would be wrong")
    return statistics.median(times), queries, int(statistics.median(reads))


def activity_indexes(cur) -> list[str]:
    cur.execute("SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() "
                "AND TABLE_NAME = %s AND COLUMN_NAME = 'created_at' AND SEQ_IN_INDEX = 1", (BIG_TABLE,))
    return [r[0] for r in cur.fetchall()]


async def bench(server, database: str, config: Path, runs: int, sizes: list[int], table_counts: list[int]) -> None:
    plan = load_plan(config)
    spec = {s.name: s for s in sandbox_tables(plan)}[BIG_TABLE]
    root = server.root(database)
    cur = root.cursor()
    async with open_database(plan.target) as db:
        live = LiveSystem(plan, db)
        await live.refresh()  # warm the catalogue, the pool, psutil's counters

        async def refresh() -> None:
            await live.refresh()

        async def probe_only() -> None:
            await live.database.refresh(plan)

        async def round_trip() -> None:
            await db.fetch_value("SELECT 1")

        async def old_scan() -> None:
            await db.fetch_value(OLD_ACTIVITY_SCAN)

        cur.execute(f"SELECT COUNT(*) FROM {BIG_TABLE}")
        current = cur.fetchone()[0]
        print(f"\n1. refresh vs rows in {BIG_TABLE} (LiveSystem.refresh, median of {runs}); "
              "rows read = Handler_read_* delta of the whole refresh")
        print(f"{'rows':>10} | {'SELECT 1':>9} | {'refresh, indexed':>28} | {'refresh, NOT indexed':>28} | {'old unindexed check':>20}")
        print(f"{'':>10} | {'':>9} | {'time':>9} {'ratio':>6} {'stmts':>5} {'read':>6} | "
              f"{'time':>9} {'ratio':>6} {'stmts':>5} {'read':>6} | {'rows read':>20}")
        for size in sizes:
            if size > current:
                started = time.perf_counter()
                cur.execute(fill_statement(spec, size - current))
                root.commit()
                cur.execute(f"ANALYZE TABLE {BIG_TABLE}")
                cur.fetchall()
                print(f"   (grew to {size:,} rows in {time.perf_counter() - started:.1f} s)", flush=True)
                current = size
            rt, _, _ = await measure(db, round_trip, runs)
            i_time, i_q, i_reads = await measure(db, refresh, runs)
            dropped = activity_indexes(cur)
            for name in dropped:
                cur.execute(f"DROP INDEX `{name}` ON {BIG_TABLE}")
            await live.refresh()  # the catalogue now says: not indexed
            u_time, u_q, u_reads = await measure(db, refresh, runs)
            reading = live.last.phase(7).activity[0] if live.last else None
            _, _, old_reads = await measure(db, old_scan, 1)
            for name in dropped:
                cur.execute(f"CREATE INDEX `{name}` ON {BIG_TABLE} (created_at)")
            await live.refresh()
            print(f"{size:>10,} | {rt * 1000:6.2f} ms | {i_time * 1000:6.1f} ms {i_time / rt:5.1f}x {i_q:5d} {i_reads:6,d} | "
                  f"{u_time * 1000:6.1f} ms {u_time / rt:5.1f}x {u_q:5d} {u_reads:6,d} | {old_reads:20,d}"
                  f"{'' if reading is None else '   (' + (reading.method or 'index') + ')'}", flush=True)

        print(f"\n2. refresh vs tables in the schema ({current:,} rows in {BIG_TABLE}; median of {runs})")
        print(f"{'tables':>8} | {'refresh':>9} | {'probe only':>10} | {'stmts':>5} | {'rows read':>9} | ratio to 20 tables")
        cur.execute("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
        have = cur.fetchone()[0]
        base_time = None
        for count in table_counts:
            for index in range(have, count):
                cur.execute(f"CREATE TABLE other_{index} (id INT PRIMARY KEY, note VARCHAR(40), at DATETIME)")
            have = max(have, count)
            r_time, r_q, r_reads = await measure(db, refresh, runs)
            p_time, _, _ = await measure(db, probe_only, runs)
            base_time = base_time or r_time
            print(f"{have:>8,} | {r_time * 1000:6.1f} ms | {p_time * 1000:7.1f} ms | {r_q:5d} | {r_reads:9,d} | {r_time / base_time:.2f}x",
                  flush=True)

        print("\n3. guard cost")
        limit = plan.target.statement_timeout_ms
        started = time.perf_counter()
        count = await live.exact_count(BIG_TABLE)
        print(f"exact guard count {BIG_TABLE}: {count:,} rows in {(time.perf_counter() - started) * 1000:.0f} ms (limit {limit} ms)")
        tiny = 5
        started = time.perf_counter()
        try:
            await live.database.exact_count(BIG_TABLE, timeout_ms=tiny)
            print(f"with a {tiny} ms limit: finished inside the limit (server too fast to provoke it)")
        except StatementTimeout as exc:
            print(f"with a {tiny} ms limit: StatementTimeout after {(time.perf_counter() - started) * 1000:.0f} ms: {exc}")
        snapshot = await live.refresh()
        print(f"refresh after the timeout: {snapshot.connection.state}, {snapshot.connection.queries_last_refresh} statements")
        await live.close()
    root.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--max-rows", type=int, default=1_000_000)
    parser.add_argument("--max-tables", type=int, default=2000)
    args = parser.parse_args()
    sizes = [n for n in (0, 10_000, 100_000, 1_000_000, 5_000_000) if n <= args.max_rows]
    table_counts = [n for n in (20, 200, 2000) if n <= args.max_tables]
    base = Path(tempfile.mkdtemp(prefix="cockpit-bench-refresh-"))
    started = time.perf_counter()
    server = start_server(base / "server", buffer_pool="256M")
    try:
        database = server.new_database()
        spec = MysqlSpec(host=server.host, port=server.port, database=database, user=server.user,
                         option_file=str(server.option_file))
        config = create_sandbox(base / "sandbox", mysql=spec).config_path
        print(f"MariaDB up and sandbox created in {time.perf_counter() - started:.1f} s")
        conn = server.root(database)
        with conn.cursor() as cur:
            cur.execute(f"TRUNCATE TABLE {BIG_TABLE}")
        conn.commit()
        conn.close()
        asyncio.run(bench(server, database, config, args.runs, sizes, table_counts))
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
