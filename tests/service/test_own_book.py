"""Consecutive orders on one market against a fixed external book: each fully hedged order earns at
least minSpreadBps after fees, and its reported net profit is what the venue's ledger shows.

Both are read from the simulator's ledger (the hedger's USDC and token balances before and after each
order), not from our records: a quote that priced off liquidity our previous hedge took, or profit
that counts shares the user did not buy, shows as a difference from the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from tests.harness import hedger_address, order_request, set_config

BUY, SELL = types_pb2.SIDE_BUY, types_pb2.SIDE_SELL
MIN_SPREAD = Decimal("0.02")  # minSpreadBps 200, the default

# (slug, thin YES book): each order below walks two levels, so the next one finds a best level that
# our own hedge emptied or thinned.
NO_FEE = (
    "atlantic-hurricanes-20-named-2026",  # tick 0.001, no fee
    [("0.965", "40"), ("0.962", "25"), ("0.955", "60")],
    [("0.972", "30"), ("0.978", "45")],
)
FEE_7PCT = (
    "btc-above-150k-dec-31-2026",  # tick 0.01, fee 0.07 x p(1 - p) per share
    [("0.34", "40"), ("0.33", "25"), ("0.32", "60")],
    [("0.35", "30"), ("0.36", "45")],
)
# (side, size, how it is hedged): two BUYs, two SELLs from the YES they left, two SELLs by buying NO.
ORDERS = [
    (BUY, "33", "buy YES"),
    (BUY, "40", "buy YES"),
    (SELL, "30", "sell YES"),
    (SELL, "20", "sell YES"),
    (SELL, "30", "buy NO"),
    (SELL, "25", "buy NO"),
]


@dataclass(frozen=True)
class Ledgered:
    """One order as the venue's ledger saw its hedge."""

    how: str
    size: Decimal
    price: Decimal
    usdc: Decimal  # the hedger's USDC change: -(cost + fee) when buying, proceeds - fee when selling
    shares: Decimal  # tokens the hedge bought (or sold)
    reported_net: Decimal

    def net(self) -> Decimal:
        """The user's shares' profit: their payment against their part of what the hedge cost."""
        part = self.size / self.shares
        if self.how == "buy YES":
            return self.price * self.size + self.usdc * part
        if self.how == "sell YES":
            return self.usdc * part - self.price * self.size
        return (1 - self.price) * self.size + self.usdc * part

    def spread(self) -> Decimal:
        """The margin the quote promises, as pricing builds it: a BUY's price is its shares' cost
        x (1 + spread), so the margin is over that cost; a SELL's price is what its shares bring
        (YES sold, or 1 - the NO bought) x (1 - spread), so the margin is over what the user is paid."""
        if self.how == "buy YES":
            return self.net() / (-self.usdc * self.size / self.shares)
        return self.net() / (self.price * self.size)


def _balances(sim, market) -> tuple[Decimal, Decimal, Decimal]:
    held = sim.exchange.balances(hedger_address())
    tokens = held["tokens"]
    return (
        held["usdc"],
        tokens.get(market.yes_token_id, Decimal(0)),
        tokens.get(market.no_token_id, Decimal(0)),
    )


def _run(live, sim, pg_db, slug, bids, asks) -> list[Ledgered]:
    market = next(m for m in sim.exchange.markets if m.slug == slug)
    sim.exchange.set_book(market.yes_token_id, bids=bids, asks=asks)
    # Every order below prices off one cached book: the venue is asked once, and our fills are all
    # that changes it. The slippage bound is wide so it cannot hide a quote off a stale level (and NO
    # near 0.04 moves 25 % a level).
    set_config(pg_db, maxBookAgeMs="600000", maxSlippageBps="2000")
    live.call(live.runtime.state.refresh())
    seen = []
    for side, size, how in ORDERS:
        usdc, yes, no = _balances(sim, market)
        placed = live.stub.PlaceOrder(order_request(slug, side, size), timeout=10)
        assert placed.status == types_pb2.ORDER_STATUS_ACCEPTED, placed.message
        assert placed.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, (how, size, placed.message)
        hedge = live.stub.GetOrder(pb.GetOrderRequest(order_id=placed.order_id), timeout=5).hedges[0]
        after = _balances(sim, market)
        token = market.no_token_id if how == "buy NO" else market.yes_token_id
        assert hedge.token_id == token, how
        shares = after[2] - no if how == "buy NO" else abs(after[1] - yes)
        assert shares >= Decimal(size)
        seen.append(
            Ledgered(
                how,
                Decimal(size),
                Decimal(placed.executed_price),
                after[0] - usdc,
                shares,
                Decimal(hedge.net_profit),
            )
        )
    return seen


@pytest.mark.parametrize("slug, bids, asks", [NO_FEE, FEE_7PCT], ids=["fee-free", "7pct-fee"])
def test_every_hedged_order_earns_the_minimum_spread_after_fees_on_the_venues_ledger(
    live, sim, pg_db, slug, bids, asks
):
    orders = _run(live, sim, pg_db, slug, bids, asks)
    for n, o in enumerate(orders):
        assert o.spread() >= MIN_SPREAD, (n, o, o.spread())
        assert abs(o.reported_net - o.net()) <= Decimal("0.000001"), (n, o, o.net())
