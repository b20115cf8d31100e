"""A lost answer is an unknown, never a failure, and never a second venue order."""

from __future__ import annotations

import threading
from datetime import timedelta

import psycopg2
import pytest

from hedging.v1 import types_pb2
from server.store.models import HedgePosition, MarketExposure
from server.store.orders import OrderStore
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


def test_marking_a_hedge_unknown_never_overwrites_an_outcome_recorded_meanwhile(live, sim, pg_url):
    """`mark_unknown` reads the hedge without locking it; an outcome committed between that read and
    its update must survive, or the resolver would apply the same fill a second time."""
    sim.exchange.inject_fault("/order", 1, "after", status=500, method="POST")
    sim.exchange.inject_fault("/data/order/*", 10_000, "before", status=503)  # the resolver stays blind
    placed = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "20"), timeout=15)
    assert placed.hedge_status == types_pb2.HEDGE_STATUS_UNKNOWN, placed.message
    hedge_id = HedgePosition.get().id

    holder = psycopg2.connect(pg_url)  # another process's transaction, about to record the outcome
    watcher = psycopg2.connect(pg_url)
    watcher.autocommit = True
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT id FROM hedge_position WHERE id = %s FOR UPDATE", (hedge_id,))
        store = OrderStore(HedgePosition._meta.database)
        backend: list[int] = []

        def mark() -> None:
            backend.append(HedgePosition._meta.database.connection().get_backend_pid())
            store.outcomes.mark_unknown(hedge_id, "lookup failed", timedelta(seconds=60))

        marker = threading.Thread(target=mark)
        marker.start()

        def marker_waits_on_the_lock() -> bool:
            with watcher.cursor() as cur:
                cur.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'",
                    (backend[0] if backend else -1,),
                )
                return cur.fetchone() is not None

        wait_until(marker_waits_on_the_lock, message="mark_unknown to wait for the hedge row")
        with holder.cursor() as cur:
            cur.execute("UPDATE hedge_position SET status = 'hedged' WHERE id = %s", (hedge_id,))
        holder.commit()
        marker.join(10)
        assert not marker.is_alive()
    finally:
        holder.close()
        watcher.close()
    assert HedgePosition.get_by_id(hedge_id).status == "hedged"
