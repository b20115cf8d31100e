"""A malformed order id or event type filter is INVALID_ARGUMENT naming the field, never NOT_FOUND or
an empty answer; a well-formed id of no order is NOT_FOUND."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from hedging.v1 import events_pb2, types_pb2
from hedging.v1 import hedging_service_pb2 as pb
from server.domain.event_types import EVENT_TYPES
from tests.harness import order_request


def _violation(error: grpc.RpcError) -> str:
    status = rpc_status.from_call(error)
    assert status is not None, "no rich status"
    (detail,) = status.details
    bad = error_details_pb2.BadRequest()
    assert detail.Unpack(bad)
    return str(bad.field_violations[0].field)


@pytest.mark.parametrize("malformed", ["nope", "123", "' OR 1=1 --", "0" * 37, "x" * 128])
def test_a_malformed_order_id_is_invalid_argument_naming_order_id(live, malformed):
    with pytest.raises(grpc.RpcError) as caught:
        live.stub.GetOrder(pb.GetOrderRequest(order_id=malformed), timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _violation(caught.value) == "order_id"


def test_a_well_formed_id_of_no_order_is_not_found_and_any_case_finds_an_order(live):
    with pytest.raises(grpc.RpcError) as caught:
        live.stub.GetOrder(pb.GetOrderRequest(order_id=str(uuid.uuid4())), timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND

    placed = live.stub.PlaceOrder(
        order_request("fed-cut-december-2026", types_pb2.SIDE_BUY, "10"), timeout=15
    )
    found = live.stub.GetOrder(pb.GetOrderRequest(order_id=placed.order_id.upper()), timeout=5)
    assert found.order.order_id == placed.order_id


@pytest.mark.parametrize("bad_type", [99, events_pb2.HEDGE_EVENT_TYPE_UNSPECIFIED])
def test_an_unknown_event_type_in_a_stream_filter_is_invalid_argument_naming_types(live, bad_type):
    stream = live.stub.StreamHedgeEvents(pb.StreamHedgeEventsRequest(types=[bad_type]), timeout=5)
    with pytest.raises(grpc.RpcError) as caught:
        next(iter(stream))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _violation(caught.value) == "types"


def test_the_domains_event_types_are_the_protos():
    prefix = "HEDGE_EVENT_TYPE_"
    from_proto = {
        name.removeprefix(prefix).lower()
        for name in events_pb2.HedgeEventType.keys()
        if name != prefix + "UNSPECIFIED"
    }
    assert from_proto == EVENT_TYPES
