"""Realised spread from the venue's ledger: a run of random orders, one at a time, on markets with
thin levels (so one order's hedge often empties the best level the next order would price off), and
for each fully hedged order the margin it earned after fees as the simulator's ledger shows it (the
hedger's USDC and token balances before and after it), with the reported net profit set against the
ledger's.

The margin is the one pricing builds in: a user BUY's price is its shares' cost x (1 + spread), so the
margin is over that cost; a SELL's price is what its shares bring x (1 - spread), so the margin is
over what the user is paid. Only the user's shares count: extra shares a BUY budget bought are
inventory and take their part of the hedge's cost and fee with them. minSpreadBps is 200.

Usage: .venv/bin/python tests/bench/bench_realised_spread.py [--orders 160] [--runs 3] [--seed 1]

To measure other code (say main's), export it (`git archive <commit> | tar -x -C DIR`) and run this
file with BENCH_ROOT=DIR: the server, simulator and harness are then imported from DIR.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from decimal import Decimal
from pathlib import Path

ROOT = Path(os.environ.get("BENCH_ROOT") or Path(__file__).resolve().parents[2])
sys.path[:0] = [str(ROOT), str(ROOT / "generated")]

import server  # noqa: E402
from hedging.v1 import hedging_service_pb2 as pb  # noqa: E402
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

# (slug, levels): the YES book, in levels of 40 shares a tick apart around the seed book's mid.
MARKETS = {
    "atlantic-hurricanes-20-named-2026": (Decimal("0.965"), Decimal("0.972")),  # tick 0.001, no fee
    "fed-cut-december-2026": (Decimal("0.61"), Decimal("0.63")),  # tick 0.01, no fee
    "btc-above-150k-dec-31-2026": (Decimal("0.34"), Decimal("0.35")),  # tick 0.01, fee 7 %
    "lakeshore-mayor-2027-rivera": (Decimal("0.412"), Decimal("0.415")),  # tick 0.001, fee 4 %
}
LEVEL = Decimal(40)
DEPTH = 25
MIN_SPREAD = Decimal("0.02")


def thin_book(
    bid: Decimal, ask: Decimal, tick: Decimal
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Levels of LEVEL shares, one every 3 ticks (`tick`) down from `bid` and up from `ask`."""
    bids = [(str(bid - 3 * tick * i), str(LEVEL)) for i in range(DEPTH) if bid - 3 * tick * i > tick]
    asks = [(str(ask + 3 * tick * i), str(LEVEL)) for i in range(DEPTH) if ask + 3 * tick * i < 1 - tick]
    return bids, asks


def pct(values: list[Decimal], q: float) -> Decimal:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def one_run(orders: int, seed: int) -> tuple[list[Decimal], Decimal, dict[str, int]]:
    """(margins of the fully hedged orders, largest |reported - ledger| net profit, orders by
    outcome: rejected, or accepted and hedged, partly hedged or unhedged)."""
    rng = random.Random(seed)
    margins: list[Decimal] = []
    worst_gap = Decimal(0)
    outcomes: dict[str, int] = {}
    with (
        postgres_admin_url() as admin,
        scratch_database(admin, "bench_realised_spread") as db_url,
        start_simulator(port=0) as sim,
    ):
        database = bind(open_database(db_url))
        migrate(database)
        seed_mappings(database, sim)
        markets = {m.slug: m for m in sim.exchange.markets if m.slug in MARKETS}
        for slug, (bid, ask) in MARKETS.items():
            bids, asks = thin_book(bid, ask, markets[slug].tick_size)
            sim.exchange.set_book(markets[slug].yes_token_id, bids=bids, asks=asks)
        set_config(
            database,
            mode="live",
            maxMarketExposure="1000000",
            maxUnhedgedExposure="1000000",
            maxSlippageBps="2000",
            # Code that fails many hedges (quoting off levels it already took) would trip the
            # failure-rate breaker and stop the run: keep it out of the measurement.
            failureRateMinHedges="100000",
        )
        me = hedger_address()
        with running_service(service_settings(db_url, sim.url, venue_timeout=Decimal("6"))) as live:
            for _ in range(orders):
                slug = rng.choice(sorted(MARKETS))
                market = markets[slug]
                side = rng.choice([types_pb2.SIDE_BUY, types_pb2.SIDE_SELL])
                size = Decimal(rng.randrange(5, 60))
                held = sim.exchange.balances(me)
                placed_order = live.stub.PlaceOrder(order_request(slug, side, str(size)), timeout=20)
                outcome = (
                    types_pb2.HedgeStatus.Name(placed_order.hedge_status)
                    if placed_order.status == types_pb2.ORDER_STATUS_ACCEPTED
                    else "REJECTED"
                )
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                if placed_order.hedge_status != types_pb2.HEDGE_STATUS_HEDGED:
                    if outcome != "REJECTED" and os.environ.get("BENCH_VERBOSE"):
                        got = live.stub.GetOrder(
                            pb.GetOrderRequest(order_id=placed_order.order_id), timeout=5
                        )
                        reasons = [(h.token_id == market.no_token_id, h.failure_reason) for h in got.hedges]
                        print(f"  {slug} {side} {size}: {outcome} (NO leg, why): {reasons}")
                    continue
                after = sim.exchange.balances(me)
                (hedge,) = live.stub.GetOrder(
                    pb.GetOrderRequest(order_id=placed_order.order_id), timeout=5
                ).hedges
                token = hedge.token_id
                shares = abs(after["tokens"].get(token, Decimal(0)) - held["tokens"].get(token, Decimal(0)))
                usdc = after["usdc"] - held["usdc"]
                price = Decimal(placed_order.executed_price)
                part = size / shares
                if side == types_pb2.SIDE_BUY:
                    net = price * size + usdc * part
                    margin = net / (-usdc * part)
                elif token == market.yes_token_id:
                    net = usdc * part - price * size
                    margin = net / (price * size)
                else:
                    net = (1 - price) * size + usdc * part
                    margin = net / (price * size)
                margins.append(margin)
                worst_gap = max(worst_gap, abs(Decimal(hedge.net_profit) - net))
    return margins, worst_gap, outcomes


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=160)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"code under test: {Path(server.__file__).resolve().parents[1]}")
    everything: list[Decimal] = []
    for run in range(args.runs):
        margins, gap, outcomes = one_run(args.orders, args.seed + run)
        everything += margins
        below = sum(1 for m in margins if m < MIN_SPREAD)
        bps = [m * 10_000 for m in margins]
        print(
            f"run {run}: {outcomes}; realised spread bps p1 {pct(bps, 0.01):.2f} "
            f"p50 {pct(bps, 0.5):.2f} min {min(bps):.2f}; below 200 bps: {below}; "
            f"largest |reported - ledger| net profit {gap:.9f}"
        )
    bps = [m * 10_000 for m in everything]
    below = sum(1 for m in everything if m < MIN_SPREAD)
    print(
        f"all: {len(bps)} fully hedged; p1 {pct(bps, 0.01):.2f} p50 {pct(bps, 0.5):.2f} "
        f"min {min(bps):.2f} bps; below 200 bps: {below}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
