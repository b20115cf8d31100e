"""Benchmark: what one risk-monitor pass reads from the store, with many hedges in PostgreSQL.

Not a pytest test. Run from the repository root:

    .venv/bin/python tests/bench/bench_risk_monitor.py [--hedges 100000] [-n 100] [--hours 720]

Creates a scratch database, bulk-inserts synthetic orders and hedges over 30 days (as
`bench_dashboard.py` does), then times `read_inputs` as the monitor runs it on every pass and, as the
same run's baseline, one `SELECT 1` round trip. p50 and p99 in milliseconds.
The synthetic data leaves about 5.6 % of hedges pending or unknown (thousands at 100k), far more than
a live desk holds open, so the every-pass figure is pessimistic. `--hours` is the span of that history
(30 days by default); every pass also counts the final hedges inside the failure-rate window
(`failureRateWindowSeconds`, an hour by default), so `--hours 1` shows a desk that traded all of them
within the last hour.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


from server.risk.monitor import read_inputs
from server.store.db import bind, open_database
from tests.gateway import synthetic
from tests.pgserver import postgres_admin_url, scratch_database


def timed(action: Callable[[], object], n: int) -> tuple[float, float]:
    for _ in range(5):
        action()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.99 * len(samples)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hedges", type=int, default=100_000)
    parser.add_argument("-n", type=int, default=100)
    parser.add_argument("--hours", type=float, default=720.0, help="span of the synthetic history")
    args = parser.parse_args()
    with (
        postgres_admin_url(dict(os.environ)) as admin_url,
        scratch_database(admin_url, "hedging_bench") as url,
    ):
        database = bind(open_database(url))
        try:
            written = synthetic.seed(database, args.hedges, args.hours / 24)
            db = database
            rows = {
                "SELECT 1 round trip (baseline)": lambda: db.execute_sql("SELECT 1").fetchall(),
                "monitor pass": lambda: read_inputs(db, datetime.now(UTC)),
            }  # fmt: skip
            print(f"{written} hedges over {args.hours:g} hours; {args.n} runs per line; ms")
            baseline = None
            for label, action in rows.items():
                p50, p99 = timed(action, args.n)
                baseline = baseline or p50
                print(f"{label:38} p50 {p50:8.2f}  p99 {p99:8.2f}  ({p50 / baseline:6.0f}x baseline)")
        finally:
            database.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
