"""Hand-off to the database threads: `DatabaseRunner` against `run_in_executor` on a thread pool of the
same size (the baseline, measured in the same run), for empty work, with 1 and 32 calls in flight.
Prints per call the median and p99 wall time and the process CPU time, and the ratios.

Usage: .venv/bin/python tests/bench/bench_db_handoff.py [--calls 20000] [--threads 8]
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from server.runtime import DatabaseRunner  # noqa: E402
from server.store.db import open_database  # noqa: E402
from tests.pgserver import postgres_admin_url  # noqa: E402

Runner = Callable[[Callable[[], object]], Awaitable[object]]


async def measure(runner: Runner, calls: int, in_flight: int) -> tuple[float, float, float]:
    """(median wall, p99 wall, process CPU) per call, in microseconds."""
    walls: list[float] = []

    async def caller() -> None:
        for _ in range(calls // in_flight):
            start = time.perf_counter()
            await runner(lambda: None)
            walls.append(time.perf_counter() - start)

    cpu = time.process_time()
    await asyncio.gather(*(caller() for _ in range(in_flight)))
    cpu = time.process_time() - cpu
    walls.sort()
    return (
        statistics.median(walls) * 1e6,
        walls[min(len(walls) - 1, int(0.99 * len(walls)))] * 1e6,
        cpu / len(walls) * 1e6,
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    with postgres_admin_url() as url:
        database = open_database(url)
        ours = DatabaseRunner(database, args.threads)
        pool = concurrent.futures.ThreadPoolExecutor(args.threads)

        async def baseline(work: Callable[[], object]) -> object:
            return await asyncio.get_running_loop().run_in_executor(pool, work)

        print(f"{'in flight':>9} {'runner':>16} {'median us':>10} {'p99 us':>8} {'cpu us':>7}")
        try:
            for in_flight in (1, 32):
                rows = {}
                for _ in range(2):  # alternate, so both see the same machine
                    for name, runner in (("run_in_executor", baseline), ("DatabaseRunner", ours)):
                        rows.setdefault(name, []).append(asyncio.run(measure(runner, args.calls, in_flight)))
                best = {name: min(results) for name, results in rows.items()}
                for name, (median, p99, cpu) in best.items():
                    print(f"{in_flight:9d} {name:>16} {median:10.1f} {p99:8.1f} {cpu:7.1f}")
                base, new = best["run_in_executor"], best["DatabaseRunner"]
                print(f"{'':9} {'ratio':>16} {base[0] / new[0]:9.2f}x {'':8} {base[2] / new[2]:6.2f}x")
        finally:
            ours.close()
            pool.shutdown()
            database.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
