"""200 concurrent orders over two server processes never breach a per-market or the total limit."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from hedging.v1 import types_pb2
from server.domain.exposure import Position
from server.domain.types import Side
from server.store.models import MarketExposure, PolymarketMarketMapping, RiskTotals, UserOrder
from tests.harness import ServerProcess, order_request, server_env, set_config

MARKETS = ["fed-cut-december-2026", "btc-above-150k-dec-31-2026", "gpt-release-q1-2027"]
MARKET_LIMIT = Decimal("150")
TOTAL_LIMIT = Decimal("300")


@pytest.fixture
def two_servers(pg_db, pg_url, sim, mappings):
    # Hedging off: every accepted order adds its whole worst case, so the limits are what stops them.
    set_config(pg_db, mode="off", maxMarketExposure=str(MARKET_LIMIT), maxUnhedgedExposure=str(TOTAL_LIMIT))
    servers = [ServerProcess(server_env(pg_url, sim.url)) for _ in range(2)]
    yield servers
    for server in servers:
        server.stop()


def _recomputed() -> dict[str, Position]:
    """Each market's position rebuilt from the accepted order rows alone."""
    positions: dict[str, Position] = {}
    for order in UserOrder.select().where(UserOrder.status == "accepted"):
        before = positions.get(order.event_id, Position())
        positions[order.event_id] = before.with_user_trade(Side(order.side), order.size, order.price)
    return positions


@pytest.mark.parametrize("round_", range(2))
def test_limits_hold_under_200_concurrent_orders_on_two_processes(two_servers, pg_db, round_):
    rng = random.Random(round_)
    requests = [
        (
            two_servers[i % 2],
            order_request(rng.choice(MARKETS), types_pb2.SIDE_BUY, str(rng.choice([5, 10, 20, 40]))),
        )
        for i in range(200)
    ]
    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(lambda sr: sr[0].stub.PlaceOrder(sr[1], timeout=30), requests))

    accepted = [a for a in answers if a.status == types_pb2.ORDER_STATUS_ACCEPTED]
    rejected = [a for a in answers if a.status == types_pb2.ORDER_STATUS_REJECTED]
    assert accepted and rejected, "the run must reach the limits"
    assert {a.reject_reason for a in rejected} <= {
        types_pb2.REJECT_REASON_MARKET_EXPOSURE_LIMIT,
        types_pb2.REJECT_REASON_TOTAL_EXPOSURE_LIMIT,
    }
    positions = _recomputed()
    total = sum((p.exposure for p in positions.values()), Decimal(0))
    assert all(p.exposure <= MARKET_LIMIT for p in positions.values()), positions
    assert total <= TOTAL_LIMIT
    # The reservation counters agree with the rows they summarise.
    for mapping in PolymarketMarketMapping.select():
        stored = MarketExposure.get(MarketExposure.mapping == mapping.id)
        assert stored.worst_case_loss == positions.get(mapping.event_id, Position()).worst_case_loss
    assert RiskTotals.get().unhedged_exposure == total
    assert UserOrder.select().count() == 200
