"""What one database statement costs the web process on PostgreSQL: the floor under
every request that reads the database (issue 7's API list runs two: the token and the
page). See bench/README.md.

    .venv/bin/python bench/db_statement_cost.py
    .venv/bin/python bench/db_statement_cost.py --calls 5000 --runs 5

For each way to reach PostgreSQL (TCP on loopback, and the server's Unix socket) a
child process opens Fuwu's own pool (`fuwu.db.start`, as the web process does) and
times, by the process's CPU clock, each of:

- `fuwu.db.fetch("SELECT 1")`: a hand-written read outside a transaction, the path of
  every such read in a request (pool acquire, statement, release, rows as dicts);
- the same with 20 rows of two columns, a page's worth;
- `SELECT 1` on one connection held throughout (no pool): the driver and the socket;
- a pool acquire and release alone, with no statement.

It runs on uvloop when that is installed, as uvicorn does.

It prints the median of the runs, with each run's figure. Nothing is written: the
statements touch no table (database `postgres`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import child_result, pg_url, run_child  # noqa: E402

PAGE = "SELECT g AS n, md5(g::text) AS label FROM generate_series(1, 20) AS g"


async def _measure(calls: int, runs: int) -> dict:
    from fuwu import db
    from fuwu.piccolo_conf import DB

    await db.start()
    try:
        async def timed(call) -> list[float]:
            for _ in range(200):  # warm the statement caches and the pool
                await call()
            figures = []
            for _ in range(runs):
                started = time.process_time()
                for _ in range(calls):
                    await call()
                figures.append((time.process_time() - started) / calls * 1e6)
            return figures

        async def acquire_release():
            async with DB.pool.acquire():
                pass

        results = {"fetch SELECT 1": await timed(lambda: db.fetch("SELECT 1")),
                   "fetch 20 rows": await timed(lambda: db.fetch(PAGE))}
        async with DB.pool.acquire() as connection:
            results["held connection, SELECT 1"] = await timed(lambda: connection.fetch("SELECT 1"))
        results["pool acquire + release"] = await timed(acquire_release)
        return results
    finally:
        await db.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=3000, help="calls per run (default 3000)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        # The event loop the web server runs on: uvicorn takes uvloop when it is installed.
        try:
            import uvloop
        except ImportError:
            return child_result(asyncio.run(_measure(args.calls, args.runs)) | {"loop": "asyncio"})
        return child_result(uvloop.run(_measure(args.calls, args.runs)) | {"loop": "uvloop"})

    base = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    base.update(PICCOLO_CONF="fuwu.piccolo_conf", FUWU_RUN_SCHEDULER="0", PYTHONUNBUFFERED="1")
    transports = {"tcp": pg_url("postgres"), "socket": pg_url("postgres", via_socket=True)}
    print(f"load average {os.getloadavg()[0]:.2f}; {args.runs} runs of {args.calls} calls; "
          "CPU of the calling process, microseconds a call (median, then each run)")
    for name, url in transports.items():
        figures = run_child(__file__, {**base, "DATABASE_URL": url}, "measure",
                            extra=("--calls", str(args.calls), "--runs", str(args.runs)))
        loop = figures.pop("loop")
        for what, runs in figures.items():
            listed = " / ".join(f"{value:.0f}" for value in runs)
            print(f"  {name:6}  {what:28} {statistics.median(runs):6.0f} us   ({listed})  [{loop}]")
    print(f"load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
