"""Benchmark: the GraphQL `dashboard` query with 100,000 hedges in PostgreSQL.

Not a pytest test. Run from the repository root:

    .venv/bin/python tests/bench/bench_dashboard.py [--hedges 100000] [-n 200] [--days 30]

Creates a scratch database (on the suite's PostgreSQL: DATABASE_URL, 127.0.0.1:5432 or a throwaway
server), migrates it, bulk-inserts synthetic orders and hedges spread uniformly over `--days`, runs
ANALYZE, then times, for the 24h, 7d and 30d periods:

* `compute`: the dashboard's database work alone (`gateway.dashboard.compute` on a thread), and
* `graphql`: the whole query over HTTP through the gateway (uvicorn on port 0, httpx, admin token),
  exposure included, as an operator's client sees it.

Each measurement is preceded by warm-up runs; p50 and p99 are reported in milliseconds. The scratch
database is dropped at the end. Target: p99 <= 50 ms for the graphql 24h query.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx

from gateway import dashboard
from gateway.app import start_gateway
from server.secret import Secret
from server.settings import AdminToken, Settings
from server.store.db import bind, open_database
from tests.gateway import synthetic
from tests.pgserver import postgres_admin_url, scratch_database

TOKEN = "bench-admin-token-0123456789"
QUERY = """
query Dashboard($period: Period) {
  dashboard(period: $period) {
    from to
    orders { orders accepted rejected volume shares }
    hedges { ...figures }
    exposure { unhedgedExposure limit utilisation pendingHedges unknownHedges }
    recentFailures { hedgeId eventId status failureReason }
    markets { eventId outcome orders { orders volume } hedges { ...figures } }
  }
}
fragment figures on HedgeFigures {
  hedges successRate filledShares hedgeVolume spreadCaptured fees netProfit
  byStatus { status count }
  latencyMs { count average p50 p95 p99 max }
  slippageBps { count average p50 p95 p99 max }
}
"""
PERIODS = {
    "24h": ("H24", timedelta(hours=24)),
    "7d": ("D7", timedelta(days=7)),
    "30d": ("D30", timedelta(days=30)),
}


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def _report(label: str, samples: list[float]) -> None:
    print(
        f"  {label:<16} p50 {_percentile(samples, 0.50):7.2f} ms   p99 {_percentile(samples, 0.99):7.2f} ms"
        f"   mean {statistics.fmean(samples):7.2f} ms   (n={len(samples)})",
        flush=True,
    )


async def _measure(url: str, hedges: int, days: int, n: int) -> None:
    database = bind(open_database(url))
    with database.connection_context():
        started = time.perf_counter()
        written = synthetic.seed(database, hedges, days)
        print(f"inserted {written} hedges in {time.perf_counter() - started:.1f} s", flush=True)

    settings = Settings(
        gateway_listen="127.0.0.1:0",
        database_url=url,
        admin_tokens=(AdminToken("bench", "admin", Secret(TOKEN)),),
        db_threads=4,
    )
    gateway = await start_gateway(settings)
    try:
        resources_db = gateway._database
        print(f"dashboard with {written} hedges over {days} days ({n} runs per line after warm-up):")
        for label, (_period, span) in PERIODS.items():
            samples: list[float] = []
            for i in range(n + 10):
                end = datetime.now(UTC)
                t0 = time.perf_counter()
                figures = await asyncio.to_thread(_compute, resources_db, end - span, end)
                if i >= 10:
                    samples.append((time.perf_counter() - t0) * 1000)
            _report(f"compute {label}", samples)
            assert figures.hedges.hedges > 0
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as client:
            for label, (period, _) in PERIODS.items():
                samples = []
                for i in range(n + 10):
                    t0 = time.perf_counter()
                    response = await client.post(
                        gateway.url, json={"query": QUERY, "variables": {"period": period}}
                    )
                    elapsed = (time.perf_counter() - t0) * 1000
                    body = response.json()
                    if response.status_code != 200 or "errors" in body:
                        raise SystemExit(f"dashboard failed: {response.status_code} {body}")
                    if i >= 10:
                        samples.append(elapsed)
                _report(f"graphql {label}", samples)
    finally:
        await gateway.stop()
        database.close()


def _compute(database, start, end):  # type: ignore[no-untyped-def]
    with database.connection_context():
        return dashboard.compute(database, start, end)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hedges", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("-n", type=int, default=200)
    args = parser.parse_args()
    with (
        postgres_admin_url(dict(os.environ)) as admin_url,
        scratch_database(admin_url, "hedging_bench") as url,
    ):
        asyncio.run(_measure(url, args.hedges, args.days, args.n))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
