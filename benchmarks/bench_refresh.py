"""How much does the cockpit cost production? A refresh against 1.1M rows.

Starts a throwaway MariaDB (the test fixture's server class), seeds the sandbox tables
with `assignment_log` at 1,000,000 rows and 100,000 in the other guard tables, then
compares the probe's refresh with the naive alternative (`SELECT COUNT(*)` per table):
wall time (median of N), statements sent, and rows the server touched (the session's
Handler_read_* counters). Finally the exact guard count on the big table, once within
its time limit and once with a limit too small, to show it fails fast with
StatementTimeout instead of hanging.

Run: .venv/bin/python -m benchmarks.bench_refresh [--runs 7]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.seed_big import BIG_TABLE, seed_big  # noqa: E402
from cockpit.db import StatementTimeout, open_database  # noqa: E402
from cockpit.db.sql import quote_ident  # noqa: E402
from cockpit.plan import load_plan  # noqa: E402
from cockpit.probes.database import DatabaseProbe  # noqa: E402
from cockpit.sandbox import MysqlSpec, create_sandbox  # noqa: E402
from tests.fixtures.mariadb import start_server  # noqa: E402


async def handler_reads(db) -> int:
    rows = await db.fetch_all("SHOW SESSION STATUS LIKE 'Handler_read%'")
    return sum(int(v) for _, v in rows)


async def measure(db, action, runs: int) -> tuple[float, int, int]:
    """Median seconds, statements and rows touched per run, on one pooled session."""
    times, reads = [], []
    queries = 0
    overhead_a = await handler_reads(db)
    overhead = await handler_reads(db) - overhead_a  # what SHOW STATUS itself costs
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


async def bench(config: Path, runs: int) -> None:
    plan = load_plan(config)
    async with open_database(plan.target) as db:
        probe = DatabaseProbe(db)
        await probe.refresh(plan)  # warm the catalogue and the pool

        async def refresh() -> None:
            await probe.refresh(plan)

        async def naive() -> None:
            for table in plan.all_tables:
                await db.fetch_value(f"SELECT COUNT(*) FROM {quote_ident(table)}")

        async def catalogue() -> None:
            await db.table_facts([*plan.all_tables, plan.flag_store.table])

        r_time, r_queries, r_reads = await measure(db, refresh, runs)
        c_time, _, c_reads = await measure(db, catalogue, runs)
        n_time, n_queries, n_reads = await measure(db, naive, runs)
        print(f"\n{'':28}{'time (median)':>16}{'statements':>12}{'rows read':>14}")
        print(f"{'cockpit refresh':28}{r_time * 1000:13.1f} ms{r_queries:12d}{r_reads:14,d}")
        print(f"{'  of which catalogue (I_S)':28}{c_time * 1000:13.1f} ms{1:12d}{c_reads:14,d}  (information_schema rows, no table rows)")
        print(f"{'  of which table probes':28}{'':>16}{r_queries - 1:12d}{max(r_reads - c_reads, 0):14,d}")
        print(f"{'naive COUNT(*) per table':28}{n_time * 1000:13.1f} ms{n_queries:12d}{n_reads:14,d}")
        print(f"{'ratio naive / cockpit':28}{n_time / r_time:15.1f}x{n_queries / r_queries:11.1f}x{n_reads / max(r_reads, 1):13.0f}x")

        limit = plan.target.statement_timeout_ms
        started = time.perf_counter()
        count = await probe.exact_count(BIG_TABLE)
        print(f"\nexact guard count {BIG_TABLE}: {count:,} rows in {(time.perf_counter() - started) * 1000:.0f} ms (limit {limit} ms)")
        tiny = 5
        started = time.perf_counter()
        try:
            await probe.exact_count(BIG_TABLE, timeout_ms=tiny)
            print(f"with a {tiny} ms limit: finished inside the limit (server too fast to provoke it)")
        except StatementTimeout as exc:
            print(f"with a {tiny} ms limit: StatementTimeout after {(time.perf_counter() - started) * 1000:.0f} ms: {exc}")
        facts = await probe.refresh(plan)
        print(f"refresh after the timeout: {facts.connection.state}, {facts.connection.queries_last_refresh} statements")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--other-tables", type=int, default=200,
                        help="unrelated tables in the schema, as a production database has (default 200)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="cockpit-bench-"))
    started = time.perf_counter()
    server = start_server(base / "server", buffer_pool="256M")
    try:
        database = server.new_database()
        spec = MysqlSpec(host=server.host, port=server.port, database=database, user=server.user, option_file=str(server.option_file))
        config = create_sandbox(base / "sandbox", mysql=spec).config_path
        print(f"MariaDB up and sandbox created in {time.perf_counter() - started:.1f} s")
        conn = server.root(database)
        with conn.cursor() as cur:
            timings = seed_big(cur, config)
            for index in range(args.other_tables):
                cur.execute(f"CREATE TABLE other_{index} (id INT PRIMARY KEY, note VARCHAR(40), at DATETIME)")
        conn.close()
        print(f"{args.other_tables} unrelated tables in the schema beside the plan's")
        sizes = ", ".join(f"{t} {s:.1f}s" for t, s in timings.items())
        print(f"seeded {len(timings)} tables ({sum(timings.values()):.1f} s): {sizes}")
        asyncio.run(bench(config, args.runs))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
