"""Every malformed field gets INVALID_ARGUMENT naming it, writes no row and sends nothing to the venue."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.store.models import HedgeEvent, HedgePosition, UserOrder
from tests.harness import order_request

MARKET = "fed-cut-december-2026"  # tick 0.01


def _violation(error: grpc.RpcError) -> str:
    status = rpc_status.from_call(error)
    assert status is not None, "no rich status"
    (detail,) = status.details
    bad = error_details_pb2.BadRequest()
    assert detail.Unpack(bad)
    return str(bad.field_violations[0].field)


BAD_ORDERS = [
    ("request_id", {"request_id": ""}),
    ("request_id", {"request_id": "x" * 129}),
    ("request_id", {"request_id": "has space"}),
    ("account_id", {"account_id": ""}),
    ("account_id", {"account_id": "a" * 200}),
    ("market.event_id", {"market": types_pb2.MarketRef(event_id="", outcome="YES")}),
    ("market.outcome", {"market": types_pb2.MarketRef(event_id=MARKET, outcome="")}),
    ("market", {"market": types_pb2.MarketRef(event_id="no-such-event", outcome="YES")}),
    ("market", {"market": types_pb2.MarketRef(event_id=MARKET, outcome="MAYBE")}),
    ("side", {"side": types_pb2.SIDE_UNSPECIFIED}),
    ("side", {"side": 7}),
    ("size", {"size": "0"}),
    ("size", {"size": "-1"}),
    ("size", {"size": "NaN"}),
    ("size", {"size": "Infinity"}),
    ("size", {"size": "1e309"}),
    ("size", {"size": "1e2"}),
    ("size", {"size": "10.001"}),
    ("size", {"size": "123456789012345678901234567890"}),
    ("size", {"size": ""}),
    ("size", {"size": " 10"}),
    ("limit_price", {"limit_price": "0"}),
    ("limit_price", {"limit_price": "1"}),
    ("limit_price", {"limit_price": "1.5"}),
    ("limit_price", {"limit_price": "-0.5"}),
    ("limit_price", {"limit_price": "NaN"}),
    ("limit_price", {"limit_price": "0.555"}),
    # `$` in a pattern matches before a final newline: each of these was accepted (and hedged).
    ("request_id", {"request_id": "abc\n"}),
    ("account_id", {"account_id": "abc\n"}),
    ("market.event_id", {"market": types_pb2.MarketRef(event_id=MARKET + "\n", outcome="YES")}),
    ("market.outcome", {"market": types_pb2.MarketRef(event_id=MARKET, outcome="YES\n")}),
    ("size", {"size": "5\n"}),
    ("limit_price", {"limit_price": "0.99\n"}),
]


@pytest.mark.parametrize(("field", "change"), BAD_ORDERS, ids=[f"{f}:{c}" for f, c in BAD_ORDERS])
def test_a_malformed_place_order_is_refused_naming_the_field_and_changes_nothing(live, sim, field, change):
    request = order_request(MARKET, types_pb2.SIDE_BUY, "10")
    for name, value in change.items():
        if name == "market":
            request.market.CopyFrom(value)
        else:
            setattr(request, name, value)
    posts_before = sum(sim.exchange.post_counts().values())
    events_before = HedgeEvent.select().count()

    with pytest.raises(grpc.RpcError) as caught:
        live.stub.PlaceOrder(request, timeout=5)

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _violation(caught.value) == field
    assert UserOrder.select().count() == 0
    assert HedgePosition.select().count() == 0
    assert HedgeEvent.select().count() == events_before
    assert sum(sim.exchange.post_counts().values()) == posts_before


def test_a_missing_market_is_refused(live):
    request = order_request(MARKET, types_pb2.SIDE_BUY, "10")
    request.ClearField("market")
    with pytest.raises(grpc.RpcError) as caught:
        live.stub.PlaceOrder(request, timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _violation(caught.value) == "market"


BAD_QUOTES = [
    ("account_id", {"account_id": ""}),
    ("side", {"side": types_pb2.SIDE_UNSPECIFIED}),
    ("size", {"size": "0"}),
    ("size", {"size": "Infinity"}),
    ("size", {"size": "0.001"}),
    ("market", {"market": types_pb2.MarketRef(event_id="nope", outcome="YES")}),
    ("account_id", {"account_id": "u\n"}),
    ("size", {"size": "5\n"}),
]


@pytest.mark.parametrize(("field", "change"), BAD_QUOTES, ids=[f"{f}:{c}" for f, c in BAD_QUOTES])
def test_a_malformed_quote_is_refused_naming_the_field(live, sim, field, change):
    request = pb.GetQuoteRequest(
        account_id="u",
        market=types_pb2.MarketRef(event_id=MARKET, outcome="YES"),
        side=types_pb2.SIDE_BUY,
        size="5",
    )
    for name, value in change.items():
        if name == "market":
            request.market.CopyFrom(value)
        else:
            setattr(request, name, value)
    with pytest.raises(grpc.RpcError) as caught:
        live.stub.GetQuote(request, timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _violation(caught.value) == field
    assert sum(sim.exchange.post_counts().values()) == 0


@pytest.mark.parametrize(
    ("field", "key"),
    [
        ("request.account_id", pb.RequestKey(account_id="user-1\n", request_id="abc")),
        ("request.request_id", pb.RequestKey(account_id="user-1", request_id="abc\n")),
    ],
)
def test_a_request_key_with_a_trailing_newline_is_refused(live, field, key):
    with pytest.raises(grpc.RpcError) as caught:
        live.stub.GetOrder(pb.GetOrderRequest(request=key), timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _violation(caught.value) == field


@pytest.mark.parametrize(
    ("field", "market"),
    [
        ("markets.event_id", types_pb2.MarketRef(event_id="abc\n", outcome="YES")),
        ("markets.outcome", types_pb2.MarketRef(event_id=MARKET, outcome="YES\n")),
    ],
)
def test_a_stream_market_filter_with_a_trailing_newline_is_refused(live, field, market):
    call = live.stub.StreamHedgeEvents(pb.StreamHedgeEventsRequest(markets=[market]), timeout=5)
    with pytest.raises(grpc.RpcError) as caught:
        next(call)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _violation(caught.value) == field


def _raw_place_order(live, sim, body: bytes) -> grpc.RpcError:
    """Sends `body` as the PlaceOrder request bytes as they are, and returns the error it gets."""
    place = live.channel.unary_unary(
        "/hedging.v1.HedgingService/PlaceOrder", request_serializer=None, response_deserializer=None
    )
    with pytest.raises(grpc.RpcError) as caught:
        place(body, timeout=5)
    return caught.value


VALID = order_request(MARKET, types_pb2.SIDE_BUY, "10").SerializeToString()
UNDECODABLE = [
    ("truncated", VALID[:-1]),
    ("bad varint", b"\x08" + b"\xff" * 11),
    ("bad wire type", b"\x0f"),
    # field 5 (size), wire type 2, two bytes that are not UTF-8: proto3 strings must be UTF-8
    ("invalid UTF-8", VALID + b"\x2a\x02\xff\xfe"),
]


@pytest.mark.parametrize(("name", "body"), UNDECODABLE, ids=[n for n, _ in UNDECODABLE])
def test_request_bytes_that_do_not_decode_get_invalid_argument_and_change_nothing(live, sim, name, body):
    posts_before = sum(sim.exchange.post_counts().values())
    events_before = HedgeEvent.select().count()

    error = _raw_place_order(live, sim, body)

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (error.code(), error.details())
    assert _violation(error) == "request"
    assert UserOrder.select().count() == 0
    assert HedgePosition.select().count() == 0
    assert HedgeEvent.select().count() == events_before
    assert sum(sim.exchange.post_counts().values()) == posts_before


def test_the_same_bytes_made_valid_are_accepted(live, sim):
    """The raw channel itself works: the valid encoding of the order above is placed."""
    place = live.channel.unary_unary(
        "/hedging.v1.HedgingService/PlaceOrder", request_serializer=None, response_deserializer=None
    )
    answer = pb.PlaceOrderResponse.FromString(place(VALID, timeout=5))
    assert answer.status == types_pb2.ORDER_STATUS_ACCEPTED


def test_undecodable_stream_request_gets_invalid_argument(live):
    follow = live.channel.unary_stream(
        "/hedging.v1.HedgingService/StreamHedgeEvents", request_serializer=None, response_deserializer=None
    )
    # field 3 (markets, a MarketRef), whose event_id holds a byte that is not UTF-8
    call = follow(b"\x1a\x04\x0a\x02\xc3\x28", timeout=5)
    with pytest.raises(grpc.RpcError) as caught:
        next(call)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _violation(caught.value) == "request"


def test_an_order_id_or_exposure_market_with_a_trailing_newline_is_refused(live):
    with pytest.raises(grpc.RpcError) as caught:
        live.stub.GetOrder(pb.GetOrderRequest(order_id="abc\n"), timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _violation(caught.value) == "order_id"

    market = types_pb2.MarketRef(event_id=MARKET + "\n", outcome="YES")
    with pytest.raises(grpc.RpcError) as caught:
        live.stub.GetExposure(pb.GetExposureRequest(markets=[market]), timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _violation(caught.value) == "markets.event_id"
