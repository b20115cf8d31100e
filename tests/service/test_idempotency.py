"""request_id is an idempotency key per account."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from hedging.v1 import types_pb2
from server.store.models import HedgePosition, UserOrder
from tests.harness import hedger_address, order_request

MARKET = "fed-cut-december-2026"


def test_the_same_request_returns_the_stored_order_and_hedges_once(live, sim):
    request = order_request(MARKET, types_pb2.SIDE_BUY, "20", request_id="req-1")
    first = live.stub.PlaceOrder(request, timeout=10)
    again = live.stub.PlaceOrder(request, timeout=10)
    assert first.order_id == again.order_id
    assert again.executed_price == first.executed_price
    assert again.hedge_status == first.hedge_status == types_pb2.HEDGE_STATUS_HEDGED
    # The replay answers with what was booked, not with a quote made now.
    assert first.HasField("quote") and not again.HasField("quote")
    assert UserOrder.select().count() == 1 and HedgePosition.select().count() == 1
    assert len(sim.exchange.orders(hedger_address())) == 1


def test_the_same_key_survives_a_restart(live, sim, pg_url):
    from tests.harness import running_service, service_settings

    request = order_request(MARKET, types_pb2.SIDE_BUY, "20", request_id="req-restart")
    first = live.stub.PlaceOrder(request, timeout=10)
    with running_service(service_settings(pg_url, sim.url)) as other:
        again = other.stub.PlaceOrder(request, timeout=10)
    assert again.order_id == first.order_id
    assert len(sim.exchange.orders(hedger_address())) == 1


def test_the_same_key_with_another_body_is_refused(live, sim):
    live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "20", request_id="req-2"), timeout=10)
    with pytest.raises(grpc.RpcError) as caught:
        live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "21", request_id="req-2"), timeout=10)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert UserOrder.select().count() == 1
    assert len(sim.exchange.orders(hedger_address())) == 1


def test_the_same_key_from_another_account_is_another_order(live):
    a = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "20", request_id="k", account_id="a"))
    b = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "20", request_id="k", account_id="b"))
    assert a.order_id != b.order_id


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_duplicates_produce_one_order_and_one_hedge(live, sim, round_):
    request = order_request(MARKET, types_pb2.SIDE_BUY, "10", request_id=f"dup-{round_}")
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda _: live.stub.PlaceOrder(request, timeout=20), range(32)))
    assert len({a.order_id for a in answers}) == 1
    assert UserOrder.select().count() == 1
    assert HedgePosition.select().count() == 1
    assert len(sim.exchange.orders(hedger_address())) == 1
