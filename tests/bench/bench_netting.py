"""Benchmark (issue 18): the same synthetic flow through `per_order` and `netted`, in one run, against
PostgreSQL and the simulator (its per-signer order budget enforced at the Standard tier).

Not a pytest test. Run from the repository root:

    .venv/bin/python tests/bench/bench_netting.py [--seconds 20] [--rate 100] [--callers 16]

For each policy: a scratch database, the simulator's markets mapped (it serves 6, not the issue's 20),
the service in this process (one worker) in live mode. `--callers` threads send PlaceOrder over gRPC
with Poisson arrivals (together `--rate` orders a second): a market at random, sizes lognormal with a
median of 3 shares (most below the venue's 5-share minimum), half the flow on each side. Then it waits
for the hedges to settle and prints, per policy: user orders accepted a second, the share of
sub-minimum orders accepted, venue orders and taker fees per 1,000 accepted user orders, the largest
market exposure seen (sampled every 100 ms) against its limit, hedge lag (acceptance to covered: an
order's hedge filled, or its last allocation from the market's hedges) p50/p99, and 429s received.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "generated"))

from hedging.v1 import types_pb2  # noqa: E402
from server.sim.runner import start_simulator  # noqa: E402
from server.store.db import bind, open_database  # noqa: E402
from server.store.migrate import migrate  # noqa: E402
from tests.harness import (  # noqa: E402
    hedger_address,
    order_request,
    running_service,
    seed_mappings,
    service_settings,
    set_config,
)
from tests.pgserver import postgres_admin_url, scratch_database  # noqa: E402

MARKET_LIMIT = Decimal(500)
TOTAL_LIMIT = Decimal(3000)


def flow(
    stub: Any, slugs: list[str], seconds: float, rate: float, callers: int, seed: int
) -> list[tuple[Decimal, int]]:
    """Sends the flow; returns (size, accepted?) per order."""
    results: list[tuple[Decimal, int]] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def caller(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        while True:
            time.sleep(rng.expovariate(rate / callers))
            if time.monotonic() > deadline:
                return
            size = Decimal(str(round(min(50.0, max(1.0, rng.lognormvariate(math.log(3), 0.8))), 2)))
            side = types_pb2.SIDE_BUY if rng.random() < 0.5 else types_pb2.SIDE_SELL
            try:
                response = stub.PlaceOrder(order_request(rng.choice(slugs), side, str(size)), timeout=30)
                ok = int(response.status == types_pb2.ORDER_STATUS_ACCEPTED)
            except Exception:
                ok = 0
            with lock:
                results.append((size, ok))

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def exposure_sampler(database: Any, stop: threading.Event, seen: list[Decimal]) -> None:
    while not stop.is_set():
        row = database.execute_sql("SELECT COALESCE(MAX(worst_case_loss), 0) FROM market_exposure").fetchone()
        seen.append(Decimal(row[0]))
        stop.wait(0.1)


def settle(database: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        (open_,) = database.execute_sql(
            "SELECT (SELECT count(*) FROM hedge_position WHERE status IN ('pending','unknown'))"
            " + (SELECT count(*) FROM book_hedge WHERE status IN ('pending','unknown'))"
        ).fetchone()
        if open_ == 0:
            time.sleep(1.5)  # a residual waiting hedgeMaxDelayMs (1 s) goes out
            (again,) = database.execute_sql(
                "SELECT count(*) FROM book_hedge WHERE status IN ('pending','unknown')"
            ).fetchone()
            if again == 0:
                return
        time.sleep(0.1)


def lags(database: Any) -> list[float]:
    rows = database.execute_sql(
        """
        SELECT EXTRACT(EPOCH FROM h.resolved_at - o.created_at) FROM hedge_position h
          JOIN user_order o ON o.id = h.order_id WHERE h.status = 'hedged'
        UNION ALL
        SELECT EXTRACT(EPOCH FROM MAX(a.created_at) - o.created_at) FROM hedge_allocation a
          JOIN user_order o ON o.id = a.order_id WHERE o.hedge_status = 'hedged' GROUP BY o.id
        """
    ).fetchall()
    return sorted(float(r[0]) for r in rows)


def pct(values: list[float], p: float) -> str:
    if not values:
        return "-"
    return f"{values[min(len(values) - 1, int(p * len(values)))] * 1000:.0f} ms"


def run_policy(admin_url: str, policy: str, args: argparse.Namespace) -> dict[str, str]:
    with scratch_database(admin_url, "hedging_bench_netting") as url, start_simulator(port=0) as sim:
        sim.exchange.set_order_budget("standard")
        database = bind(open_database(url))
        migrate(database)
        mappings = seed_mappings(database, sim)
        set_config(
            database,
            mode="live",
            hedgePolicy=policy,
            maxMarketExposure=str(MARKET_LIMIT),
            maxUnhedgedExposure=str(TOTAL_LIMIT),
        )
        refused = [0]
        with running_service(service_settings(url, sim.url)) as service:
            assert service.runtime.venue is not None
            service.runtime.venue.observe(
                lambda _m, _p, status, _s: refused.__setitem__(0, refused[0] + (status == 429))
            )
            stop = threading.Event()
            seen: list[Decimal] = []
            sampler = threading.Thread(target=exposure_sampler, args=(open_database(url), stop, seen))
            sampler.start()
            started = time.monotonic()
            results = flow(service.stub, sorted(mappings), args.seconds, args.rate, args.callers, args.seed)
            elapsed = time.monotonic() - started
            settle(database)
            stop.set()
            sampler.join()
            accepted = sum(ok for _, ok in results)
            small = [ok for size, ok in results if size < 5]
            venue_orders = len(sim.exchange.orders(hedger_address()))
            (fees,) = database.execute_sql(
                "SELECT COALESCE((SELECT SUM(fee) FROM hedge_position), 0)"
                " + COALESCE((SELECT SUM(fee) FROM book_hedge), 0)"
            ).fetchone()
            lag = lags(database)
            per_k = 1000 / accepted if accepted else 0
            return {
                "user orders sent": str(len(results)),
                "accepted / s": f"{accepted / elapsed:.1f}",
                "sub-minimum accepted": f"{sum(small)}/{len(small)} ({100 * sum(small) / max(1, len(small)):.0f} %)",
                "venue orders / 1k": f"{venue_orders * per_k:.0f}",
                "taker fees / 1k (USDC)": f"{Decimal(fees) * Decimal(per_k):.4f}",
                "max market exposure / limit": f"{max(seen, default=0):.2f} / {MARKET_LIMIT}",
                "hedge lag p50": pct(lag, 0.5),
                "hedge lag p99": pct(lag, 0.99),
                "429s": str(refused[0]),
            }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--callers", type=int, default=16)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    with postgres_admin_url(dict(os.environ)) as admin_url:
        table = {policy: run_policy(admin_url, policy, args) for policy in ("per_order", "netted")}
    keys = list(table["per_order"])
    print(f"\n{'':30} | {'per_order':>22} | {'netted':>22}")
    for key in keys:
        print(f"{key:30} | {table['per_order'][key]:>22} | {table['netted'][key]:>22}")


if __name__ == "__main__":
    main()
