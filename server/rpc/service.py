"""HedgingService over gRPC: validates at the edge, converts, and delegates to the use cases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import hedging_service_pb2_grpc
from server.domain import inputs, order_ids
from server.domain.decision import Rejected
from server.errors import InvalidArgument, NotFound
from server.rpc import convert
from server.rpc.errors import streaming, unary
from server.rpc.exposure import ExposureReader
from server.rpc.stream import EventStream
from server.trading.desk import OrderDesk, QuoteRequest


class HedgingServicer(hedging_service_pb2_grpc.HedgingServiceServicer):
    """The five RPCs over the order desk, the exposure reader and the event stream."""

    def __init__(self, desk: OrderDesk, exposure: ExposureReader, stream: EventStream) -> None:
        self._desk = desk
        self._exposure = exposure
        self._stream = stream

    @unary
    async def GetQuote(
        self,
        request: pb.GetQuoteRequest,
        context: grpc.aio.ServicerContext[pb.GetQuoteRequest, pb.GetQuoteResponse],
    ) -> pb.GetQuoteResponse:
        account_id = inputs.identifier("account_id", request.account_id)
        event_id, outcome = convert.market_in(request)
        side = convert.side_in(request.side)
        size = inputs.size("size", request.size)
        result = await self._desk.quote(QuoteRequest(account_id, event_id, outcome, side, size))
        if isinstance(result, Rejected):
            return pb.GetQuoteResponse(
                reject_reason=convert.reject_reason(result.reason), message=result.message
            )
        mapping = await self._desk.mapping(event_id, outcome)
        return pb.GetQuoteResponse(
            quote=convert.quote_out(result, event_id, outcome, mapping.tick_size), message="executable now"
        )

    @unary
    async def PlaceOrder(
        self,
        request: pb.PlaceOrderRequest,
        context: grpc.aio.ServicerContext[pb.PlaceOrderRequest, pb.PlaceOrderResponse],
    ) -> pb.PlaceOrderResponse:
        order_request = convert.order_request_in(request)
        placed = await self._desk.place(order_request)
        mapping = await self._desk.mapping(order_request.event_id, order_request.outcome)
        return convert.place_response(placed.order, placed.quote, mapping.tick_size)

    @unary
    async def GetOrder(
        self,
        request: pb.GetOrderRequest,
        context: grpc.aio.ServicerContext[pb.GetOrderRequest, pb.GetOrderResponse],
    ) -> pb.GetOrderResponse:
        lookup = request.WhichOneof("lookup")
        if lookup == "order_id":
            stored = await self._desk.get(order_ids.order_id("order_id", request.order_id))
        elif lookup == "request":
            account_id = inputs.identifier("request.account_id", request.request.account_id)
            request_id = inputs.identifier("request.request_id", request.request.request_id)
            found = await self._desk.get_by_request(account_id, request_id)
            if found is None:
                raise NotFound("no order for that request id")
            stored = found
        else:
            raise InvalidArgument("lookup", "set order_id or request")
        parts = await self._desk.allocations(stored.order.id)
        return pb.GetOrderResponse(
            order=convert.order_out(stored.order),
            hedges=[convert.hedge_out(h) for h in stored.hedges],
            allocations=[convert.allocation_out(a) for a in parts],
        )

    @unary
    async def GetExposure(
        self,
        request: pb.GetExposureRequest,
        context: grpc.aio.ServicerContext[pb.GetExposureRequest, pb.GetExposureResponse],
    ) -> pb.GetExposureResponse:
        return await self._exposure(request)

    @streaming
    async def StreamHedgeEvents(
        self,
        request: pb.StreamHedgeEventsRequest,
        context: grpc.aio.ServicerContext[pb.StreamHedgeEventsRequest, pb.StreamHedgeEventsResponse],
    ) -> AsyncIterator[pb.StreamHedgeEventsResponse | bytes]:
        async for item in self._stream(request, context):
            yield item
