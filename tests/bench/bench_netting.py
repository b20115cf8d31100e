"""Benchmark (issue 18): the same synthetic flow through `per_order` and `netted`, in one run, against
PostgreSQL and the simulator (its per-signer order budget enforced at the Standard tier).

Not a pytest test. Run from the repository root:

    .venv/bin/python tests/bench/bench_netting.py [--seconds 20] [--rate 100] [--callers 16] [--workers N]
        [--policies per_order,netted]

For each policy: a scratch database, the simulator's markets mapped (it serves 6, not the issue's 20),
the service in live mode: in this process (one worker), or with `--workers N` as `hedging serve
--workers N` in a subprocess (its callers spread over `--callers` connections of their own). `--callers` threads send PlaceOrder over gRPC
with Poisson arrivals (together `--rate` orders a second): a market at random, sizes lognormal with a
median of 3 shares (most below the venue's 5-share minimum), half the flow on each side. Then it waits
for the hedges to settle and prints, per policy: user orders accepted a second, the share of
sub-minimum orders accepted, venue orders and taker fees per 1,000 accepted user orders, the largest
market exposure seen (sampled every 100 ms) against its limit, hedge lag (acceptance to covered: an
order's hedge filled, or its last allocation from the market's hedges) p50/p99, and 429s received.

Hedge lag is split for netted orders (sampled every 50 ms: each netted market's gap and its oldest
waiting order): "due" orders are those the rule allowed to hedge while they waited (the gap at least
hedgeMinShares, or at least the venue's minimum with the oldest waiting hedgeMaxDelayMs); their lag
"from due" is covered - the first sample that allowed it. The rest were covered while their market's
residual stayed below what the rule sends (netted by opposite flow, or waiting in a sub-minimum
residual for more flow, by design).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "generated"))

from hedging.v1 import types_pb2  # noqa: E402
from server.domain.rebalance import smallest_order  # noqa: E402
from server.domain.types import Side  # noqa: E402
from server.sim.runner import start_simulator  # noqa: E402
from server.store.db import bind, open_database  # noqa: E402
from server.store.migrate import migrate  # noqa: E402
from tests.harness import (  # noqa: E402
    ServerProcess,
    hedger_address,
    order_request,
    running_service,
    seed_mappings,
    server_env,
    service_settings,
    set_config,
)
from tests.pgserver import postgres_admin_url, scratch_database  # noqa: E402

MARKET_LIMIT = Decimal(500)
TOTAL_LIMIT = Decimal(3000)


MIN_SHARES = Decimal(10)  # hedgeMinShares' default
MAX_DELAY_S = 1.0  # hedgeMaxDelayMs' default


def flow(
    stubs: list[Any], slugs: list[str], seconds: float, rate: float, callers: int, seed: int
) -> list[tuple[Decimal, int]]:
    """Sends the flow (caller i on stubs[i % len(stubs)]); returns (size, accepted?) per order."""
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
                stub = stubs[index % len(stubs)]
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


def sampling(name: str, stop: threading.Event, interval: float, sample: Any) -> None:
    """Calls `sample` every `interval` seconds until `stop`; a failed sample is reported and retried
    (a sampler that died silently would show no exposure and no due order)."""
    while not stop.is_set():
        try:
            sample()
        except Exception as exc:
            print(f"{name} sample failed: {exc!r}", file=sys.stderr)
        stop.wait(interval)


def exposure_sampler(database: Any, stop: threading.Event, seen: list[Decimal]) -> None:
    def sample() -> None:
        row = database.execute_sql("SELECT COALESCE(MAX(worst_case_loss), 0) FROM market_exposure").fetchone()
        seen.append(Decimal(row[0]))

    sampling("exposure", stop, 0.1, sample)


GAPS_SQL = """
SELECT EXTRACT(EPOCH FROM clock_timestamp()), e.mapping_id,
       e.user_shares - e.hedge_yes + e.hedge_no - e.in_flight_delta,
       (SELECT EXTRACT(EPOCH FROM min(o.created_at)) FROM user_order o
         WHERE o.mapping_id = e.mapping_id AND o.status = 'accepted'
           AND o.hedge_status IN ('not_attempted', 'partially_hedged')),
       e.hedge_yes - e.yes_reserved_for_sale, e.hedge_no - e.no_reserved_for_sale
FROM market_exposure e
"""
Sample = tuple[float, int, Decimal, float | None, bool]


@dataclass(frozen=True)
class Terms:
    """What the rule needs of a market: the venue's minimum and the prices a BUY of each outcome pays."""

    venue_min: Decimal
    yes_ask: Decimal
    no_ask: Decimal


def terms_of(sim: Any, mappings: dict[str, Any]) -> dict[int, Terms]:
    by_slug = {m.slug: m for m in sim.exchange.markets}
    return {
        mapping.id: Terms(
            mapping.min_order_size,
            by_slug[slug].seed_book.asks[0][0],
            1 - by_slug[slug].seed_book.bids[0][0],
        )
        for slug, mapping in mappings.items()
    }


def allowed(terms: Terms, gap: Decimal, oldest: float | None, at: float, yes: Decimal, no: Decimal) -> bool:
    """The rebalancer's rule (`server.domain.rebalance`), near enough: a hedge may be sent now. The
    gap is at least the venue's minimum and fits the order that works it (a sale of the over-held
    outcome, else a BUY of at least 1 USDC at the seed book's price), and is at least hedgeMinShares
    or its oldest order has waited hedgeMaxDelayMs."""
    size = abs(gap).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    held, price = (no, terms.yes_ask) if gap > 0 else (yes, terms.no_ask)
    sellable = min(size, held.quantize(Decimal("0.01"), rounding=ROUND_DOWN)) >= terms.venue_min
    if size < terms.venue_min or not (sellable or size >= smallest_order(Side.BUY, price, terms.venue_min)):
        return False
    return size >= MIN_SHARES or (oldest is not None and at - oldest >= MAX_DELAY_S)


def gap_sampler(database: Any, stop: threading.Event, terms: dict[int, Terms], samples: list[Sample]) -> None:
    """Each netted market's gap (ratio 1: YES owed to users less the YES-equivalent hedges held and in
    flight), its oldest waiting order and whether the rule allows a hedge, every 50 ms, on the
    database's clock."""

    def sample() -> None:
        for at, mapping_id, gap, oldest, yes, no in database.execute_sql(GAPS_SQL).fetchall():
            first = None if oldest is None else float(oldest)
            ok = allowed(terms[int(mapping_id)], Decimal(gap), first, float(at), Decimal(yes), Decimal(no))
            samples.append((float(at), int(mapping_id), Decimal(gap), first, ok))

    sampling("gap", stop, 0.05, sample)


STALE_S = 0.5  # a sample this soon after a booking of its market may predate the booking's commit


def market_samples(database: Any, samples: list[Sample]) -> dict[int, list[tuple[float, bool, bool]]]:
    """Per market, (instant, the rule allowed a hedge, stale) of each sample, oldest first. A sample
    within STALE_S after one of the market's bookings is stale: created_at is stamped before the
    commit, so it may show the gap that booking was already covering."""
    bookings: dict[int, list[float]] = {}
    for mapping_id, created in database.execute_sql(
        "SELECT mapping_id, EXTRACT(EPOCH FROM created_at) FROM book_hedge ORDER BY created_at"
    ).fetchall():
        bookings.setdefault(int(mapping_id), []).append(float(created))
    found: dict[int, list[tuple[float, bool, bool]]] = {}
    for at, mapping_id, _gap, _oldest, ok in sorted(samples):
        stale = any(0 <= at - b <= STALE_S for b in bookings.get(mapping_id, []))
        found.setdefault(mapping_id, []).append((at, ok, stale))
    return found


def due_since(series: list[tuple[float, bool, bool]], accepted: float, decided: float) -> float | None:
    """When the rule last started allowing the hedge that was decided at `decided`: the earliest
    sample of the unbroken run of allowed, fresh samples ending at `decided`, not before `accepted`;
    None when the rule did not allow it just before that decision (the order waited in a residual
    below what the rule sends, or was netted by opposite flow). A stale sample ends a run: a booking
    came just before it, so the rebalancer was acting."""
    due = None
    for at, ok, stale in reversed([x for x in series if accepted <= x[0] <= decided]):
        if not ok or stale:
            break
        due = at
    return due


def split_lags(database: Any, samples: list[Sample]) -> dict[str, list[float] | int]:
    """Netted orders covered: for those whose cover was due (the rule allowed it, unbroken, until the
    hedge that covered it was decided), the lag from due to covered and from due to that decision;
    the whole lag of the others; and how many orders were never covered."""
    covered = database.execute_sql(
        """
        SELECT DISTINCT ON (o.id) o.mapping_id, EXTRACT(EPOCH FROM o.created_at),
               EXTRACT(EPOCH FROM COALESCE(h.created_at, a.created_at)),
               EXTRACT(EPOCH FROM max(a.created_at) OVER (PARTITION BY o.id))
          FROM user_order o JOIN hedge_allocation a ON a.order_id = o.id
          LEFT JOIN book_hedge h ON h.id = a.book_hedge_id
         WHERE o.hedge_status = 'hedged'
         ORDER BY o.id, a.created_at DESC, a.id DESC
        """
    ).fetchall()
    (uncovered,) = database.execute_sql(
        "SELECT count(*) FROM user_order WHERE status = 'accepted' AND hedge_status <> 'hedged'"
    ).fetchone()
    series = market_samples(database, samples)
    due: list[float] = []
    to_decision: list[float] = []
    waited: list[float] = []
    for mapping_id, accepted_at, decided_at, covered_at in covered:
        accepted_at, decided_at, covered_at = float(accepted_at), float(decided_at), float(covered_at)
        since = due_since(series.get(int(mapping_id), []), accepted_at, decided_at)
        if since is None:
            waited.append(covered_at - accepted_at)
        else:
            due.append(covered_at - since)
            to_decision.append(decided_at - since)
    return {
        "due": sorted(due),
        "to_decision": sorted(to_decision),
        "waited": sorted(waited),
        "uncovered": int(uncovered),
    }


def result_lags(database: Any) -> list[float]:
    """Per book hedge: from its booking to its result."""
    rows = database.execute_sql(
        "SELECT EXTRACT(EPOCH FROM resolved_at - created_at) FROM book_hedge WHERE resolved_at IS NOT NULL"
    ).fetchall()
    return sorted(float(r[0]) for r in rows)


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


@contextmanager
def serving(url: str, sim_url: str, args: argparse.Namespace) -> Iterator[list[Any]]:
    """Stubs of the service: in this process, or `hedging serve --workers N` in a subprocess."""
    if not args.workers:
        with running_service(service_settings(url, sim_url)) as service:
            yield [service.stub]
        return
    server = ServerProcess(server_env(url, sim_url), workers=args.workers)
    try:
        yield server.stubs(min(args.callers, 32))
    finally:
        server.stop()


def count_refusals(sim: Any) -> list[int]:
    """Counts the simulator's 429s (its order budget's refusals), whichever process sent the orders."""
    budget = sim.exchange.order_budget
    charge, refused, lock = budget.charge, [0], threading.Lock()

    def counting(signer: str, cost: int) -> Any:
        verdict = charge(signer, cost)
        if not verdict.admitted:
            with lock:
                refused[0] += 1
        return verdict

    budget.charge = counting
    return refused


def run_policy(admin_url: str, policy: str, args: argparse.Namespace) -> dict[str, str]:
    with scratch_database(admin_url, "hedging_bench_netting") as url, start_simulator(port=0) as sim:
        sim.exchange.set_order_budget("standard")
        refused = count_refusals(sim)
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
        with serving(url, sim.url, args) as stubs:
            stop = threading.Event()
            seen: list[Decimal] = []
            gaps: list[Sample] = []
            sampler = threading.Thread(target=exposure_sampler, args=(open_database(url), stop, seen))
            gap_thread = threading.Thread(
                target=gap_sampler, args=(open_database(url), stop, terms_of(sim, mappings), gaps)
            )
            sampler.start()
            gap_thread.start()
            started = time.monotonic()
            results = flow(stubs, sorted(mappings), args.seconds, args.rate, args.callers, args.seed)
            elapsed = time.monotonic() - started
            settle(database)
            stop.set()
            sampler.join()
            gap_thread.join()
            accepted = sum(ok for _, ok in results)
            small = [ok for size, ok in results if size < 5]
            venue_orders = len(sim.exchange.orders(hedger_address()))
            (fees,) = database.execute_sql(
                "SELECT COALESCE((SELECT SUM(fee) FROM hedge_position), 0)"
                " + COALESCE((SELECT SUM(fee) FROM book_hedge), 0)"
            ).fetchone()
            lag = lags(database)
            split = split_lags(database, gaps)
            to_result = result_lags(database)
            per_k = 1000 / accepted if accepted else 0
            netted = policy == "netted"

            def n(key: str) -> str:
                return str(len(split[key])) if netted else "-"  # type: ignore[arg-type]

            def p(key: str, q: float) -> str:
                return pct(split[key], q) if netted else "-"  # type: ignore[arg-type]

            return {
                "user orders sent": str(len(results)),
                "accepted / s": f"{accepted / elapsed:.1f}",
                "sub-minimum accepted": f"{sum(small)}/{len(small)} ({100 * sum(small) / max(1, len(small)):.0f} %)",
                "venue orders / 1k": f"{venue_orders * per_k:.0f}",
                "venue orders / s": f"{venue_orders / elapsed:.1f}",
                "taker fees / 1k (USDC)": f"{Decimal(fees) * Decimal(per_k):.4f}",
                "max market exposure / limit": f"{max(seen, default=0):.2f} / {MARKET_LIMIT}",
                "hedge lag p50": pct(lag, 0.5),
                "hedge lag p99": pct(lag, 0.99),
                "due: orders": n("due"),
                "due: due -> covered p50": p("due", 0.5),
                "due: due -> covered p99": p("due", 0.99),
                "due: due -> hedge booked p99": p("to_decision", 0.99),
                "never due: orders": n("waited"),
                "never due: lag p50": p("waited", 0.5),
                "never due: lag p99": p("waited", 0.99),
                "not covered at the end": str(split["uncovered"]) if netted else "-",
                "book hedge booked -> result p99": pct(to_result, 0.99) if netted else "-",
                "429s": str(refused[0]),
            }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--callers", type=int, default=16)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--workers", type=int, default=0, help="0: the service in this process")
    parser.add_argument("--policies", default="per_order,netted")
    args = parser.parse_args()
    policies = args.policies.split(",")
    with postgres_admin_url(dict(os.environ)) as admin_url:
        table = {policy: run_policy(admin_url, policy, args) for policy in policies}
    print(f"\nload average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'':30} | " + " | ".join(f"{p:>22}" for p in policies))
    for key in table[policies[0]]:
        print(f"{key:30} | " + " | ".join(f"{table[p][key]:>22}" for p in policies))


if __name__ == "__main__":
    main()
