"""200 concurrent orders over two servers of two worker processes each never breach a per-market or
the total limit; an order waiting for the totals row decides on the total as another process left it."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import psycopg2
import pytest

from hedging.v1 import types_pb2
from server.store.models import MarketExposure, PolymarketMarketMapping, RiskTotals, UserOrder
from tests.harness import ServerProcess, order_request, server_env, set_config, wait_until
from tests.reference import Market

MARKETS = ["fed-cut-december-2026", "btc-above-150k-dec-31-2026", "gpt-release-q1-2027"]
MARKET_LIMIT = Decimal("150")
TOTAL_LIMIT = Decimal("300")


@pytest.fixture
def two_servers(pg_db, pg_url, sim, mappings):
    # Hedging off: every accepted order adds its whole worst case, so the limits are what stops them.
    # Books may be a minute old: on a loaded machine a quote waiting its turn for the market's lock
    # would otherwise be refused BOOK_STALE, which is not what this test is about.
    set_config(
        pg_db,
        mode="off",
        maxMarketExposure=str(MARKET_LIMIT),
        maxUnhedgedExposure=str(TOTAL_LIMIT),
        maxBookAgeMs="60000",
    )
    servers = [ServerProcess(server_env(pg_url, sim.url)) for _ in range(2)]
    yield servers
    for server in servers:
        server.stop()


def _recomputed() -> dict[str, Market]:
    """Each market's position rebuilt from the accepted order rows alone (with the tests' reference
    book-keeping)."""
    positions: dict[str, Market] = {}
    for order in UserOrder.select().where(UserOrder.status == "accepted"):
        positions.setdefault(order.event_id, Market()).user_order(order.side, order.size, order.price)
    return positions


@pytest.mark.parametrize("round_", range(2))
def test_limits_hold_under_200_concurrent_orders_over_two_servers_of_two_workers_each(
    two_servers, pg_db, round_
):
    rng = random.Random(round_)
    stubs = [stub for server in two_servers for stub in server.stubs(4)]  # over every worker
    requests = [
        (
            stubs[i % len(stubs)],
            order_request(rng.choice(MARKETS), types_pb2.SIDE_BUY, str(rng.choice([5, 10, 20, 40]))),
        )
        for i in range(200)
    ]
    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(lambda sr: sr[0].PlaceOrder(sr[1], timeout=30), requests))

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
        assert stored.worst_case_loss == positions.get(mapping.event_id, Market()).worst_case_loss
    assert RiskTotals.get().unhedged_exposure == total
    assert UserOrder.select().count() == 200


def test_an_order_waiting_for_the_totals_row_decides_on_the_total_another_process_committed(
    live, pg_db, pg_url
):
    """The order transaction decides on the total as it is once it holds the total's row. Another
    process commits 20 of the 50 allowed while this order (worth 35) waits for that row: the order is
    rejected, and nothing of it is booked."""
    set_config(pg_db, mode="off", maxUnhedgedExposure="50")
    live.call(live.runtime.state.refresh())
    other = psycopg2.connect(pg_url)
    watcher = psycopg2.connect(pg_url)
    watcher.autocommit = True
    try:
        with other.cursor() as cur:
            cur.execute("SELECT unhedged_exposure FROM risk_totals WHERE id = 1 FOR UPDATE")
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(
                live.stub.PlaceOrder, order_request(MARKETS[0], types_pb2.SIDE_BUY, "100"), timeout=15
            )

            def order_waits_on_the_total() -> bool:
                with watcher.cursor() as cur:
                    # `other` holds nothing but the total's row: whoever it blocks waits for that row.
                    cur.execute(
                        "SELECT 1 FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                        (other.get_backend_pid(),),
                    )
                    return cur.fetchone() is not None

            wait_until(order_waits_on_the_total, message="the order to wait for the total's row")
            with other.cursor() as cur:
                cur.execute("UPDATE risk_totals SET unhedged_exposure = 20 WHERE id = 1")
            other.commit()
            placed = answer.result(timeout=15)
    finally:
        other.close()
        watcher.close()
    assert placed.status == types_pb2.ORDER_STATUS_REJECTED, placed.message
    assert placed.reject_reason == types_pb2.REJECT_REASON_TOTAL_EXPOSURE_LIMIT
    assert RiskTotals.get().unhedged_exposure == Decimal(20)
    assert [o.status for o in UserOrder.select()] == ["rejected"]
    assert all(row.worst_case_loss == 0 for row in MarketExposure.select())
