"""Orders and hedge results of one market that wait for it together are committed in one transaction
(group commit). Each test holds the market's lock in this process while its orders queue up, then
lets them go, so the group is formed for certain; the rows' transaction ids (`xmin`) show whether
they were committed together or one by one."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import grpc
import pytest

from hedging.v1 import types_pb2
from server.domain.types import HedgeStatus
from server.store.models import HedgePosition, PolymarketMarketMapping, RiskTotals, UserOrder
from server.store.orders import position_of
from tests.harness import ServiceThread, order_request, set_config, wait_until
from tests.reference import Market, stored_fields
from tests.service.conftest import VENUE_DELAY
from tests.service.test_position_hints import MARKET, _another_process_books, _exposure, _from_the_rows

ACCEPTED, REJECTED = types_pb2.ORDER_STATUS_ACCEPTED, types_pb2.ORDER_STATUS_REJECTED


def _mapping_id() -> int:
    return int(PolymarketMarketMapping.get(PolymarketMarketMapping.event_id == MARKET).id)


@contextmanager
def _market_held(service: ServiceThread, waiting: int) -> Iterator[None]:
    """Holds the market's lock in this process until `waiting` writes of it are queued behind it
    and the block has run; then lets them all go at once."""
    store = service.runtime.store
    mapping_id = _mapping_id()
    with store._hints.lock(mapping_id):
        yield
        wait_until(
            lambda: store._group.waiting(mapping_id) == waiting, message=f"{waiting} writes to queue up"
        )


def _place_all(service: ServiceThread, requests: list[Any], pool: ThreadPoolExecutor) -> list[Future[Any]]:
    return [pool.submit(service.stub.PlaceOrder, r, timeout=20) for r in requests]


def _transactions(table: Any, ids: list[str]) -> set[str]:
    rows = table._meta.database.execute_sql(
        f"SELECT DISTINCT xmin::text FROM {table._meta.table_name} WHERE id = ANY(%s)", (ids,)
    )
    return {r[0] for r in rows.fetchall()}


def _buy(size: str = "10", **fields: Any) -> Any:
    return order_request(MARKET, types_pb2.SIDE_BUY, size, **fields)


@pytest.fixture
def paper(live: ServiceThread, pg_db: Any) -> ServiceThread:
    set_config(pg_db, mode="paper")
    live.call(live.runtime.state.refresh())
    first = live.stub.PlaceOrder(_buy(), timeout=10)  # the process now knows the market's position
    assert first.status == ACCEPTED, first.message
    return live


def test_orders_waiting_for_a_market_are_committed_in_one_transaction(paper):
    requests = [_buy(str(5 + n)) for n in range(5)]
    with ThreadPoolExecutor(5) as pool, _market_held(paper, 5):
        futures = _place_all(paper, requests, pool)
    answers = [f.result() for f in futures]

    assert [a.status for a in answers] == [ACCEPTED] * 5, [a.message for a in answers]
    orders = [UserOrder.get_by_id(a.order_id) for a in answers]
    assert [(o.request_id, o.size) for o in orders] == [(r.request_id, Decimal(r.size)) for r in requests]
    assert len(_transactions(UserOrder, [a.order_id for a in answers])) == 1
    hedges = HedgePosition.select().where(HedgePosition.order.in_([a.order_id for a in answers]))
    assert sorted(h.status for h in hedges) == [HedgeStatus.PAPER.value] * 5
    expected = _from_the_rows(Market())
    assert stored_fields(position_of(_exposure())) == expected.fields()
    assert RiskTotals.get().unhedged_exposure == expected.exposure


def test_a_group_planned_on_a_stale_position_is_booked_again_one_by_one(paper, pg_url):
    with ThreadPoolExecutor(4) as pool, _market_held(paper, 4):
        futures = _place_all(paper, [_buy() for _ in range(4)], pool)
        other = _another_process_books(pg_url, Decimal("7"), Decimal("0.5"))
    answers = [f.result() for f in futures]

    assert [a.status for a in answers] == [ACCEPTED] * 4, [a.message for a in answers]
    assert UserOrder.select().count() == 5
    # The group was rolled back whole; each order was then booked on its own, under lock.
    assert len(_transactions(UserOrder, [a.order_id for a in answers])) == 4
    counts = paper.runtime.store.group_counts()
    assert (counts.stale_groups, counts.alone_writes) == (1, 5)  # the first order went alone too
    expected = _from_the_rows(other)
    assert stored_fields(position_of(_exposure())) == expected.fields()
    assert RiskTotals.get().unhedged_exposure == expected.exposure


def test_a_replay_in_a_group_gets_the_stored_order_and_the_others_are_booked_once(paper):
    booked = paper.stub.PlaceOrder(_buy("6", request_id="r-1"), timeout=10)
    requests = [_buy("7"), _buy("6", request_id="r-1"), _buy("8"), _buy("9", request_id="r-1")]
    with ThreadPoolExecutor(4) as pool, _market_held(paper, 4):
        futures = _place_all(paper, requests, pool)

    fresh, replay, other, conflict = futures
    assert replay.result().order_id == booked.order_id
    assert not replay.result().HasField("quote")
    assert fresh.result().status == other.result().status == ACCEPTED, (
        fresh.result().message,
        other.result().message,
    )
    with pytest.raises(grpc.RpcError) as refused:
        conflict.result()
    assert refused.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert UserOrder.select().where(UserOrder.request_id == "r-1").count() == 1
    assert UserOrder.select().count() == 4
    # A replay does not make the market's next orders back off to the locked way.
    assert paper.runtime.store._hints.position(_mapping_id()) is not None
    expected = _from_the_rows(Market())
    assert stored_fields(position_of(_exposure())) == expected.fields()
    assert RiskTotals.get().unhedged_exposure == expected.exposure


def test_a_group_stops_at_the_total_limit(live, pg_db):
    set_config(pg_db, mode="off")
    live.call(live.runtime.state.refresh())
    live.stub.PlaceOrder(_buy(), timeout=10)
    one = RiskTotals.get().unhedged_exposure  # what one order of 10 reserves, unhedged
    assert one > 0
    set_config(pg_db, maxUnhedgedExposure=str(3 * one))  # room for two more
    live.call(live.runtime.state.refresh())

    with ThreadPoolExecutor(4) as pool, _market_held(live, 4):
        futures = _place_all(live, [_buy() for _ in range(4)], pool)
    answers = [f.result() for f in futures]

    # Whichever two queued first are accepted (the threads queue in any order), together.
    accepted = [a for a in answers if a.status == ACCEPTED]
    rejected = [a for a in answers if a.status == REJECTED]
    assert (len(accepted), len(rejected)) == (2, 2), [a.message for a in answers]
    assert {a.reject_reason for a in rejected} == {types_pb2.REJECT_REASON_TOTAL_EXPOSURE_LIMIT}
    assert RiskTotals.get().unhedged_exposure == 3 * one
    assert len(_transactions(UserOrder, [a.order_id for a in accepted])) == 1


def test_hedge_results_waiting_for_a_market_are_committed_in_one_transaction(patient, sim):
    first = patient.stub.PlaceOrder(_buy(), timeout=10)
    assert first.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, first.message
    sim.exchange.set_latency(VENUE_DELAY)
    try:
        with ThreadPoolExecutor(3) as pool:
            futures = _place_all(patient, [_buy(str(6 + n)) for n in range(3)], pool)
            wait_until(
                lambda: HedgePosition.select().where(HedgePosition.status == "pending").count() == 3,
                message="three hedges booked and sent",
            )
            with _market_held(patient, 3):
                pass  # their results queue up behind the lock
            answers = [f.result() for f in futures]
    finally:
        sim.exchange.set_latency(0)

    assert [a.hedge_status for a in answers] == [types_pb2.HEDGE_STATUS_HEDGED] * 3
    hedges = [
        h.id for h in HedgePosition.select().where(HedgePosition.order.in_([a.order_id for a in answers]))
    ]
    assert len(_transactions(HedgePosition, hedges)) == 1
    expected = _from_the_rows(Market())
    assert stored_fields(position_of(_exposure())) == expected.fields()
    assert RiskTotals.get().unhedged_exposure == expected.exposure
