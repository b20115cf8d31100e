"""Orders and hedge results decide on the market's position read under its row's lock: these show
that what another process wrote to the market or the total meanwhile is never written over."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import psycopg2

from hedging.v1 import types_pb2
from server.domain.hedge_result import HedgeResult
from server.domain.types import HedgeStatus
from server.store.models import (
    HedgeEvent,
    HedgePosition,
    MarketExposure,
    PolymarketMarketMapping,
    RiskTotals,
    UserOrder,
)
from server.store.orders import OrderStore
from server.store.rows import hedge_of, position_of
from tests.harness import order_request, set_config, wait_until
from tests.reference import Market, stored_fields
from tests.service.conftest import VENUE_DELAY

MARKET = "fed-cut-december-2026"


def _exposure() -> MarketExposure:
    return (
        MarketExposure.select()
        .join(PolymarketMarketMapping)
        .where(PolymarketMarketMapping.event_id == MARKET)
        .get()
    )


def _another_process_books(pg_url: str, size: Decimal, price: Decimal) -> Market:
    """What another server process's order does to the market's position and the total: a user BUY
    of `size` at `price`, under the row's lock. Returns the trade as a position of its own."""
    trade = Market()
    trade.user_order("BUY", size, price)
    conn = psycopg2.connect(pg_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "SELECT e.user_shares, e.hedge_yes, e.hedge_no, e.yes_reserved_for_sale, e.net_cash "
                "FROM market_exposure e JOIN polymarket_market_mapping m ON m.id = e.mapping_id "
                "WHERE m.event_id = %s FOR UPDATE OF e",
                (MARKET,),
            )
            row = cur.fetchone()
            assert row is not None
            before, after = Market(*row), Market(*row)
            after.user_order("BUY", size, price)
            cur.execute(
                "UPDATE market_exposure SET user_shares = %s, net_cash = %s, worst_case_loss = %s "
                "WHERE mapping_id = (SELECT id FROM polymarket_market_mapping WHERE event_id = %s)",
                (after.user_shares, after.net_cash, after.worst_case_loss, MARKET),
            )
            cur.execute(
                "UPDATE risk_totals SET unhedged_exposure = unhedged_exposure + %s WHERE id = 1",
                (after.exposure - before.exposure,),
            )
    finally:
        conn.close()
    return trade


def _from_the_rows(extra: Market) -> Market:
    """The market's position rebuilt from its order and hedge rows, plus `extra` (with the tests'
    reference book-keeping, not the service's)."""
    position = Market(*extra.fields())
    for order in UserOrder.select().where((UserOrder.event_id == MARKET) & (UserOrder.status == "accepted")):
        position.user_order(order.side, order.size, order.price)
    for hedge in HedgePosition.select().join(UserOrder).where(UserOrder.event_id == MARKET):
        assert hedge.status not in ("pending", "unknown"), hedge.status
        position.hedge(
            hedge.leg,
            hedge.side,
            filled=hedge.filled_size,
            cost=hedge.fill_cost,
            fee=hedge.fee,
        )
    return position


def _buy(live, size: str):
    answer = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, size), timeout=10)
    assert answer.status == types_pb2.ORDER_STATUS_ACCEPTED, answer.message
    return answer


def test_an_order_never_writes_over_a_position_another_process_changed(live, pg_db, pg_url):
    set_config(pg_db, mode="off")
    live.call(live.runtime.state.refresh())
    _buy(live, "10")  # read under lock: the process now knows the position
    _buy(live, "10")  # booked from what it knew
    other = _another_process_books(pg_url, Decimal("7"), Decimal("0.5"))
    _buy(live, "10")  # what it knew is stale now

    expected = _from_the_rows(other)
    assert stored_fields(position_of(_exposure())) == expected.fields()
    assert _exposure().worst_case_loss == expected.worst_case_loss
    assert RiskTotals.get().unhedged_exposure == expected.exposure


def test_an_order_is_checked_against_a_total_another_process_moved(live, pg_db, pg_url):
    set_config(pg_db, mode="off", maxUnhedgedExposure="50")
    live.call(live.runtime.state.refresh())
    _buy(live, "10")
    booked = _exposure().worst_case_loss
    assert 0 < booked < 5
    # Another process reserves 45 elsewhere: what this one knows of the total is now 45 too low.
    conn = psycopg2.connect(pg_url)
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE risk_totals SET unhedged_exposure = unhedged_exposure + 45 WHERE id = 1")
    conn.close()

    answer = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "20"), timeout=10)

    assert answer.status == types_pb2.ORDER_STATUS_REJECTED, answer.message
    assert answer.reject_reason == types_pb2.REJECT_REASON_TOTAL_EXPOSURE_LIMIT
    assert RiskTotals.get().unhedged_exposure == booked + 45
    assert _exposure().worst_case_loss == booked


def test_a_hedge_result_never_writes_over_a_position_changed_while_it_was_at_the_venue(
    patient, pg_db, pg_url, sim
):
    _buy(patient, "10")  # hedged: the process knows the position after the hedge's result
    sim.exchange.set_latency(VENUE_DELAY)
    try:
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(_buy, patient, "10")
            wait_until(
                lambda: (
                    HedgePosition.select().where(HedgePosition.status == HedgeStatus.PENDING.value).exists()
                ),
                message="the second hedge to be booked and sent",
            )
            other = _another_process_books(pg_url, Decimal("7"), Decimal("0.5"))
            placed = answer.result(timeout=15)
    finally:
        sim.exchange.set_latency(0)

    assert placed.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, placed.message
    expected = _from_the_rows(other)
    assert stored_fields(position_of(_exposure())) == expected.fields()
    assert RiskTotals.get().unhedged_exposure == expected.exposure


def test_a_hedge_result_already_recorded_elsewhere_is_not_recorded_again(patient, pg_db, pg_url, sim):
    """Another process (its resolver, say) records the hedge's outcome while this one waits for the
    venue's answer; the position is unchanged by a failure, so only the hedge's own state shows the
    outcome is already known. The first recorded outcome stands, once."""
    _buy(patient, "10")
    sim.exchange.set_latency(VENUE_DELAY)
    try:
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(_buy, patient, "10")
            pending = wait_until(
                lambda: HedgePosition.get_or_none(HedgePosition.status == HedgeStatus.PENDING.value),
                message="the second hedge to be booked and sent",
            )
            OrderStore(pg_db).outcomes.record_result(
                hedge_of(pending),
                HedgeResult(HedgeStatus.FAILED, Decimal(0), Decimal(0), Decimal(0), "resolved elsewhere"),
            )
            placed = answer.result(timeout=15)
    finally:
        sim.exchange.set_latency(0)

    assert placed.hedge_status == types_pb2.HEDGE_STATUS_UNHEDGED, placed.message
    stored = HedgePosition.get_by_id(pending.id)
    assert (stored.status, stored.filled_size) == (HedgeStatus.FAILED.value, 0)
    kinds = [e.event_type for e in HedgeEvent.select().where(HedgeEvent.hedge_id == pending.id)]
    assert sorted(kinds) == ["hedge_failed", "hedge_submitted"]
    expected = _from_the_rows(Market())
    assert stored_fields(position_of(_exposure())) == expected.fields()
    assert RiskTotals.get().unhedged_exposure == expected.exposure
