"""Explicit conversion between protobuf messages and the domain and store. Nothing else touches both."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import cast

from google.protobuf.timestamp_pb2 import Timestamp

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.domain import inputs
from server.domain.book_hedge import OrderAllocation
from server.domain.decision import OrderRequest
from server.domain.hedge import Hedge
from server.domain.hedge_result import shown_fill_price
from server.domain.order import Order, OrderWithHedges
from server.domain.pricing import Quote
from server.domain.types import HedgeStatus, OrderHedgeStatus, RejectReason, Settlement, Side
from server.errors import InvalidArgument

_SIDE_OUT = {Side.BUY: types_pb2.SIDE_BUY, Side.SELL: types_pb2.SIDE_SELL}
_SIDES: dict[int, Side] = {int(wire): side for side, wire in _SIDE_OUT.items()}
_ORDER_HEDGE = {
    s: cast(types_pb2.HedgeStatus, types_pb2.HedgeStatus.Value("HEDGE_STATUS_" + s.name))
    for s in OrderHedgeStatus
}
_ROW_HEDGE = {
    HedgeStatus.PENDING: types_pb2.HEDGE_STATUS_PENDING,
    HedgeStatus.UNKNOWN: types_pb2.HEDGE_STATUS_UNKNOWN,
    HedgeStatus.HEDGED: types_pb2.HEDGE_STATUS_HEDGED,
    HedgeStatus.PARTIAL: types_pb2.HEDGE_STATUS_PARTIALLY_HEDGED,
    HedgeStatus.FAILED: types_pb2.HEDGE_STATUS_UNHEDGED,
    HedgeStatus.PAPER: types_pb2.HEDGE_STATUS_PAPER,
}
_SETTLEMENT = {
    None: types_pb2.HEDGE_SETTLEMENT_UNSPECIFIED,
    Settlement.SETTLING: types_pb2.HEDGE_SETTLEMENT_SETTLING,
    Settlement.SETTLED: types_pb2.HEDGE_SETTLEMENT_SETTLED,
}


def reject_reason(reason: RejectReason | str | None) -> types_pb2.RejectReason:
    if not reason:
        return types_pb2.REJECT_REASON_UNSPECIFIED
    return cast(
        types_pb2.RejectReason, types_pb2.RejectReason.Value("REJECT_REASON_" + RejectReason(reason).name)
    )


def side_in(value: int, field: str = "side") -> Side:
    side = _SIDES.get(value)
    if side is None:
        raise InvalidArgument(field, "must be SIDE_BUY or SIDE_SELL")
    return side


def market_in(request: pb.PlaceOrderRequest | pb.GetQuoteRequest) -> tuple[str, str]:
    if not request.HasField("market"):
        raise InvalidArgument("market", "is required")
    return (
        inputs.identifier("market.event_id", request.market.event_id),
        inputs.identifier("market.outcome", request.market.outcome),
    )


def order_request_in(request: pb.PlaceOrderRequest) -> OrderRequest:
    """Validates every field at the edge; raises `InvalidArgument` naming the first bad one."""
    request_id = inputs.identifier("request_id", request.request_id)
    account_id = inputs.identifier("account_id", request.account_id)
    event_id, outcome = market_in(request)
    side = side_in(request.side)
    size = inputs.size("size", request.size)
    limit = inputs.price("limit_price", request.limit_price) if request.limit_price else None
    return OrderRequest(account_id, request_id, event_id, outcome, side, size, limit)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp(value: datetime | None) -> Timestamp | None:
    """`value` as a protobuf Timestamp, exactly as protobuf's own `FromDatetime` makes it (a naive
    datetime read as UTC), at a third of its cost: 1.0 against 3.2 us here, three per answer."""
    if value is None:
        return None
    since = (value if value.tzinfo is not None else value.replace(tzinfo=UTC)) - _EPOCH
    return Timestamp(seconds=since.days * 86_400 + since.seconds, nanos=since.microseconds * 1000)


def dec(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def quote_out(q: Quote, event_id: str, outcome: str, tick: Decimal) -> types_pb2.Quote:
    return types_pb2.Quote(
        market=types_pb2.MarketRef(event_id=event_id, outcome=outcome),
        side=_SIDE_OUT[q.side],
        size=dec(q.size),
        price=dec(q.price),
        reference_price=dec(q.reference_price.quantize(Decimal("0.000001"))),
        hedge_fee=dec(q.hedge_fee),
        spread_bps=dec(q.spread_bps),
        notional=dec(q.notional),
        hedge_token_id=q.hedge.token_id,
        hedge_side=_SIDE_OUT[q.hedge.side],
        hedge_limit_price=dec(q.hedge_limit_price),
        tick_size=dec(tick),
        book_time=timestamp(q.book_time),
    )


def order_out(order: Order) -> types_pb2.Order:
    return types_pb2.Order(
        order_id=order.id,
        request_id=order.request_id,
        account_id=order.account_id,
        market=types_pb2.MarketRef(event_id=order.event_id, outcome=order.outcome),
        side=_SIDE_OUT[Side(order.side)],
        size=dec(order.size),
        limit_price=dec(order.limit_price),
        status=types_pb2.ORDER_STATUS_ACCEPTED
        if order.status == "accepted"
        else types_pb2.ORDER_STATUS_REJECTED,
        reject_reason=reject_reason(order.reject_reason),
        message=order.message,
        executed_price=dec(order.price),
        notional=dec(order.notional),
        hedge_status=_ORDER_HEDGE[OrderHedgeStatus(order.hedge_status)],
        hedged_size=dec(order.hedged_size),
        created_at=timestamp(order.created_at),
        updated_at=timestamp(order.updated_at),
    )


def hedge_out(h: Hedge) -> types_pb2.Hedge:
    return types_pb2.Hedge(
        hedge_id=h.id,
        order_id=h.order_id,
        status=_ROW_HEDGE[HedgeStatus(h.status)],
        venue_order_id=h.venue_order_id or "",
        token_id=h.token_id,
        side=_SIDE_OUT[Side(h.side)],
        size=dec(h.size),
        limit_price=dec(h.limit_price),
        order_type=h.order_type,
        filled_size=dec(h.filled_size),
        fill_price=dec(shown_fill_price(h.fill_price)),
        fee=dec(h.fee),
        spread_captured=dec(h.spread_captured),
        net_profit=dec(h.net_profit),
        failure_reason=h.failure_reason or "",
        attempt_count=h.attempt_count,
        created_at=timestamp(h.created_at),
        updated_at=timestamp(h.updated_at),
        settlement=_SETTLEMENT[h.settlement],
    )


def allocation_out(a: OrderAllocation) -> types_pb2.HedgeAllocation:
    return types_pb2.HedgeAllocation(
        book_hedge_id=a.book_hedge_id or "",
        venue_order_id=a.venue_order_id or "",
        shares=dec(a.shares),
        cost=dec(a.cost),
        fee=dec(a.fee),
    )


def place_response(stored: OrderWithHedges, quote: Quote | None, tick: Decimal) -> pb.PlaceOrderResponse:
    order = order_out(stored.order)
    response = pb.PlaceOrderResponse(
        order_id=order.order_id,
        status=order.status,
        executed_price=order.executed_price,
        hedge_status=order.hedge_status,
        reject_reason=order.reject_reason,
        message=order.message,
        order=order,
    )
    if quote is not None:
        response.quote.CopyFrom(quote_out(quote, stored.order.event_id, stored.order.outcome, tick))
    return response
