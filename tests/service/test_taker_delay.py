"""A hedge on a market with a taker delay is answered ``delayed``: it stays UNKNOWN (never FAILED, never
re-posted) until a look-up by its hash finds it matched. The delay runs on the simulator's clock, which
the test moves on once the service has looked the delayed order up."""

from __future__ import annotations

from decimal import Decimal

from hedging.v1 import types_pb2
from server.store.models import HedgePosition, MarketExposure
from tests.harness import hedger_address, order_request, wait_until

MARKET = "fed-cut-december-2026"


def _hedge() -> HedgePosition:
    return HedgePosition.get()


def test_a_delayed_hedge_stays_unknown_until_the_venue_matches_it(live, sim):
    market = next(m for m in sim.exchange.markets if m.slug == MARKET)
    sim.exchange.set_taker_delay(market.condition_id, 600)
    placed = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "20"), timeout=15)

    assert placed.status == types_pb2.ORDER_STATUS_ACCEPTED, placed.message
    assert placed.hedge_status == types_pb2.HEDGE_STATUS_UNKNOWN, placed.message
    wait_until(
        lambda: _hedge().failure_reason == "venue order DELAYED",
        timeout=20,
        message="a look-up that finds the order delayed",
    )
    hedge = _hedge()
    assert hedge.status == "unknown"
    assert sim.exchange.order(hedge.venue_order_id)["status"] == "DELAYED"  # type: ignore[index]

    sim.exchange.advance_time(600)
    settled = wait_until(
        lambda: (h := _hedge()).status not in ("pending", "unknown") and h,
        timeout=20,
        message="the resolver to record the match",
    )
    assert settled.status == "hedged"
    assert [o["id"] for o in sim.exchange.orders(hedger_address())] == [settled.venue_order_id]
    assert sim.exchange.post_count(settled.venue_order_id) == 1  # looked up, never re-posted
    held = sim.exchange.balances(hedger_address())["tokens"][settled.token_id]
    # Ask 0.63: the user pays 0.63 x 1.02 up to the tick, 0.65; the hedge's limit is 0.65 / 1.02 down
    # to the tick, 0.63, and its budget 20 x 0.63 = 12.60 USDC buys exactly 20 shares, read from the trade.
    assert held == settled.filled_size == 20
    assert settled.fill_cost == Decimal("12.60")
    assert MarketExposure.get(MarketExposure.mapping == settled.mapping_id).hedge_yes == held
