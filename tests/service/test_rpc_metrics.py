"""Every HedgingService call is counted by method and status code, and unary calls are timed."""

from __future__ import annotations

import grpc
import pytest

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from tests.harness import order_request, wait_until


def _count(live, method: str, code: str) -> float:
    registry = live.runtime.services.metrics.registry
    return registry.get_sample_value("hedging_grpc_requests_total", {"method": method, "code": code}) or 0.0


def test_calls_are_counted_by_method_and_code(live):
    placed = live.stub.PlaceOrder(
        order_request("fed-cut-december-2026", types_pb2.SIDE_BUY, "10"), timeout=15
    )
    live.stub.GetOrder(pb.GetOrderRequest(order_id=placed.order_id), timeout=5)
    for _ in range(2):
        with pytest.raises(grpc.RpcError):
            live.stub.GetOrder(pb.GetOrderRequest(order_id="nope"), timeout=5)
    with pytest.raises(grpc.RpcError):
        live.stub.GetOrder(pb.GetOrderRequest(order_id="00000000-0000-0000-0000-000000000000"), timeout=5)
    with pytest.raises(grpc.RpcError):
        next(iter(live.stub.StreamHedgeEvents(pb.StreamHedgeEventsRequest(types=[99]), timeout=5)))

    assert _count(live, "PlaceOrder", "OK") == 1
    assert _count(live, "GetOrder", "OK") == 1
    assert _count(live, "GetOrder", "INVALID_ARGUMENT") == 2
    assert _count(live, "GetOrder", "NOT_FOUND") == 1
    wait_until(
        lambda: _count(live, "StreamHedgeEvents", "INVALID_ARGUMENT") == 1, message="the stream counted"
    )
    registry = live.runtime.services.metrics.registry
    assert registry.get_sample_value("hedging_grpc_request_seconds_count", {"method": "GetOrder"}) == 4
