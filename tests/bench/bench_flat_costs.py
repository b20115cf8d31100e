"""Benchmark: reads that should cost the same whatever the history (GetExposure, the gateway's
`exposure` query, one risk-monitor pass) at growing numbers of orders and hedges in PostgreSQL.

Not a pytest test. Run from the repository root:

    .venv/bin/python tests/bench/bench_flat_costs.py [--sizes 10000,100000,1000000] [-n 200]

Creates a scratch database, migrates it, maps the simulator's markets, and grows the history to each
size in turn with bulk `INSERT ... SELECT generate_series` (one accepted order and one hedge per row,
not through the service): hedges created within the last hour (all inside the failure-rate window),
2 % failed, 2 % partial, the rest hedged (none open: the service's resolver would chase them). Where the code keeps running
totals (`server.store.market_totals`, migration 0006) they are recounted from the rows after each
seeding (`repair`), as migration 0006 does for an existing database. Then, after warm-up, it times:

* `GetExposure`: the gRPC call over a real channel to the service started in this process (against
  the simulator), every market;
* `exposure`: the GraphQL query over HTTP through the gateway (uvicorn on port 0, admin token);
* `monitor pass`: `server.risk.monitor.read_inputs`, what the risk monitor reads on every pass (on
  code without the running totals also the every-status count it makes once a minute). The service's
  own monitor is stopped, so that it does not run beside the measurements.

p50 and p99 in milliseconds, one table at the end. To compare with another commit, run this same file
from a checkout of it (it imports the code of the checkout it sits in):

    git worktree add /tmp/base <commit> && cp tests/bench/bench_flat_costs.py /tmp/base/tests/bench/
    .venv/bin/python /tmp/base/tests/bench/bench_flat_costs.py
"""

from __future__ import annotations

import argparse
import inspect
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "generated"))

import httpx  # noqa: E402

from gateway.app import start_gateway  # noqa: E402
from hedging.v1 import hedging_service_pb2 as pb  # noqa: E402
from server.risk import monitor  # noqa: E402
from server.secret import Secret  # noqa: E402
from server.settings import AdminToken, Settings  # noqa: E402
from server.sim.runner import start_simulator  # noqa: E402
from server.store.db import bind, open_database  # noqa: E402
from server.store.migrate import migrate  # noqa: E402
from tests.harness import running_service, seed_mappings, service_settings, set_config  # noqa: E402
from tests.pgserver import postgres_admin_url, scratch_database  # noqa: E402

TOKEN = "bench-admin-token-0123456789"
EXPOSURE = """
query { exposure {
  totals { unhedgedExposure limit utilisation hedgedNotional unhedgedNotional pendingHedges unknownHedges }
  markets { eventId outcome userShares worstCaseLoss hedgedNotional unhedgedNotional pendingHedges unknownHedges }
  asOfEventId
} }
"""

_ORDERS = """
WITH maps AS (
    SELECT id, event_id, yes_token_id, row_number() OVER (ORDER BY id) - 1 AS k,
           count(*) OVER () AS n
    FROM polymarket_market_mapping
)
INSERT INTO user_order (id, account_id, request_id, request_hash, mapping_id, event_id, outcome, side,
    size, limit_price, status, reject_reason, message, price, notional, reference_price,
    hedge_fee_estimate, hedge_status, hedged_size, created_at, updated_at)
SELECT 'o' || g, 'bench', 'r' || g, 'h', m.id, m.event_id, 'YES', 'BUY',
    10 + mod(g, 50), NULL, 'accepted', NULL, 'accepted; hedge sent to Polymarket', 0.51 + (mod(g, 7)) * 0.01,
    (10 + mod(g, 50)) * (0.51 + (mod(g, 7)) * 0.01), 0.50 + (mod(g, 7)) * 0.01, 0.01,
    CASE WHEN mod(g, 50) = 0 THEN 'failed' WHEN mod(g, 50) = 1 THEN 'partial' ELSE 'hedged' END,
    CASE WHEN mod(g, 50) = 0 THEN 0 WHEN mod(g, 50) = 1 THEN (10 + mod(g, 50)) / 2 ELSE 10 + mod(g, 50) END,
    now() - (mod(g, 3600000)) * interval '1 millisecond', now() - (mod(g, 3600000)) * interval '1 millisecond'
FROM generate_series(%s, %s) g JOIN maps m ON m.k = mod(g, m.n)
"""

_HEDGES = """
INSERT INTO hedge_position (id, order_id, mapping_id, parent_hedge_id, token_id, leg, side, size,
    limit_price, quoted_price, user_price, order_type, is_paper, status, venue_order_id, signed_order,
    filled_size, fill_cost, fill_price, fee, spread_captured, net_profit, failure_reason, attempt_count,
    next_check_at, created_at, updated_at, submitted_at, resolved_at)
SELECT 'h' || substr(o.id, 2), o.id, o.mapping_id, NULL, m.yes_token_id, 'YES', 'BUY', o.size,
    o.reference_price + 0.03, o.reference_price, o.price, 'FOK', false, o.hedge_status,
    '0x' || md5(o.id), NULL, o.hedged_size, o.hedged_size * o.reference_price,
    CASE WHEN o.hedged_size > 0 THEN o.reference_price END, o.hedged_size * 0.0001,
    o.hedged_size * (o.price - o.reference_price),
    o.hedged_size * (o.price - o.reference_price) - o.hedged_size * 0.0001,
    CASE WHEN o.hedge_status IN ('failed', 'partial') THEN 'FOK order not filled' END, 1, NULL,
    o.created_at, o.created_at, o.created_at,
    o.created_at + interval '50 milliseconds'
FROM user_order o JOIN polymarket_market_mapping m ON m.id = o.mapping_id
WHERE o.account_id = 'bench' AND o.request_id IN (SELECT 'r' || g FROM generate_series(%s, %s) g)
"""


def _grow(database, start: int, end: int) -> None:  # type: ignore[no-untyped-def]
    """Orders and hedges numbered start..end, in batches, then the running totals recounted."""
    step = 200_000
    for low in range(start, end + 1, step):
        high = min(end, low + step - 1)
        with database.atomic():
            database.execute_sql(_ORDERS, (low, high))
            database.execute_sql(_HEDGES, (low, high))
    database.execute_sql("ANALYZE")
    try:
        from server.store import market_totals, outcome_seconds
    except ImportError:  # code without running totals: nothing to recount
        return
    market_totals.repair(database)
    outcome_seconds.repair(database)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.99 * len(ordered)) - 1)]


def _timed(action: Callable[[], object], n: int) -> tuple[float, float]:
    for _ in range(10):
        action()
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        action()
        samples.append((time.perf_counter() - t0) * 1000)
    return _percentiles(samples)


def _monitor_passes(database) -> dict[str, Callable[[], object]]:  # type: ignore[no-untyped-def]
    def run(**kwargs: bool) -> Callable[[], object]:
        def once() -> object:
            with database.connection_context():
                return monitor.read_inputs(database, datetime.now(UTC), **kwargs)

        return once

    if "all_statuses" in inspect.signature(monitor.read_inputs).parameters:
        return {
            "monitor pass": run(all_statuses=False),
            "monitor full count (1/min)": run(all_statuses=True),
        }
    return {"monitor pass": run()}


async def _gateway_exposure(url: str, n: int) -> tuple[float, float]:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as client:
        samples = []
        for i in range(n + 10):
            t0 = time.perf_counter()
            response = await client.post(url, json={"query": EXPOSURE})
            elapsed = (time.perf_counter() - t0) * 1000
            body = response.json()
            if response.status_code != 200 or "errors" in body:
                raise SystemExit(f"exposure failed: {response.status_code} {body}")
            if i >= 10:
                samples.append(elapsed)
    return _percentiles(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("-n", type=int, default=200)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    table: dict[str, dict[int, tuple[float, float]]] = {}
    with (
        postgres_admin_url(dict(os.environ)) as admin_url,
        scratch_database(admin_url, "hedging_bench") as url,
        start_simulator(port=0) as sim,
    ):
        database = bind(open_database(url))
        with database.connection_context():
            migrate(database)
            seed_mappings(database, sim)
            set_config(database, rehedgeEnabled="false")  # the seeded failures are history, not work
        settings = service_settings(url, sim.url)
        with running_service(settings) as service:
            # The service's own monitor would run the pass timed below every 0.5 s beside the
            # measurements; it is timed alone instead.
            service.call(service.runtime.services.monitor.stop())
            gateway_settings = Settings(
                gateway_listen="127.0.0.1:0",
                database_url=url,
                admin_tokens=(AdminToken("bench", "admin", Secret(TOKEN)),),
                db_threads=4,
            )
            gateway = service.call(start_gateway(gateway_settings))
            try:
                done = 0
                for size in sizes:
                    t0 = time.perf_counter()
                    with database.connection_context():
                        _grow(database, done + 1, size)
                    done = size
                    print(f"{size} orders and hedges ({time.perf_counter() - t0:.1f} s to add)", flush=True)
                    rows = {
                        "GetExposure": _timed(
                            lambda: service.stub.GetExposure(pb.GetExposureRequest(), timeout=60), args.n
                        ),
                        "gateway exposure": service.call(_gateway_exposure(gateway.url, args.n), timeout=600),
                    }
                    for label, action in _monitor_passes(database).items():
                        rows[label] = _timed(action, args.n)
                    for label, (p50, p99) in rows.items():
                        table.setdefault(label, {})[size] = (p50, p99)
                        print(f"  {label:28} p50 {p50:8.2f} ms  p99 {p99:8.2f} ms", flush=True)
            finally:
                service.call(gateway.stop())
        database.close()
    print(f"\np50 / p99 in ms, {args.n} calls each after warm-up; code at {ROOT}")
    print(f"| {'orders+hedges':28} | " + " | ".join(f"{s:>17}" for s in sizes) + " |")
    print(f"|{'-' * 30}|" + "|".join("-" * 19 for _ in sizes) + "|")
    for label, by_size in table.items():
        cells = [f"{by_size[s][0]:7.2f} / {by_size[s][1]:7.2f}" for s in sizes]
        print(f"| {label:28} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
