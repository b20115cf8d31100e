"""A lost answer is an unknown, never a failure, and never a second venue order."""

from __future__ import annotations

import pytest

from hedging.v1 import types_pb2
from server.store.models import HedgePosition, MarketExposure
from tests.harness import hedger_address, order_request, wait_until

MARKET = "fed-cut-december-2026"


def _settled() -> HedgePosition | None:
    hedge = HedgePosition.get()
    return hedge if hedge.status not in ("pending", "unknown") else None


@pytest.mark.parametrize(
    ("mode", "status", "delay", "processed"),
    [
        ("after", 500, None, True),  # processed, response lost behind a 500
        ("after", 502, None, True),
        ("after", None, 2.0, True),  # processed, then no answer within the client's timeout
        ("before", 500, None, False),  # dropped before processing
        ("before", 503, None, False),
        ("before", 425, None, False),
        ("before", 429, None, False),
        ("before", None, 2.0, False),  # hangs before processing, then processes late
    ],
    ids=["lost-500", "lost-502", "lost-timeout", "5xx-500", "5xx-503", "425", "429", "slow-timeout"],
)
def test_a_lost_or_refused_answer_makes_the_hedge_unknown_and_it_resolves_to_one_venue_order(
    live, sim, mode, status, delay, processed
):
    sim.exchange.inject_fault("/order", 1, mode, status=status, delay=delay, method="POST")
    placed = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "20"), timeout=15)

    assert placed.status == types_pb2.ORDER_STATUS_ACCEPTED
    assert placed.hedge_status == types_pb2.HEDGE_STATUS_UNKNOWN, placed.message
    pending = HedgePosition.get()
    assert pending.status == "unknown"
    # While unknown, the order's full exposure stays reserved.
    assert MarketExposure.get(MarketExposure.mapping == pending.mapping_id).hedge_yes == 0

    hedge = wait_until(_settled, timeout=20, message="the resolver to settle the hedge")
    assert hedge.status == "hedged"
    venue_orders = sim.exchange.orders(hedger_address())
    assert [o["id"] for o in venue_orders] == [hedge.venue_order_id]
    posts = sim.exchange.post_count(hedge.venue_order_id)
    if delay is None:
        # A processed post is only looked up; a dropped one is re-sent with the same bytes.
        assert posts == (1 if processed else 2)
    else:
        # A slow answer may be looked up before or after it lands; either way one venue order.
        assert posts in (1, 2)
    assert hedge.attempt_count == sim.exchange.post_count(hedge.venue_order_id)
    position = MarketExposure.get(MarketExposure.mapping == hedge.mapping_id)
    assert (
        position.hedge_yes
        == hedge.filled_size
        == sim.exchange.balances(hedger_address())["tokens"][hedge.token_id]
    )
