"""StreamHedgeEvents over gRPC: validates the request, follows the process's `EventFeed` and converts
each item to protobuf."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import cast

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from hedging.v1 import events_pb2, types_pb2
from hedging.v1 import hedging_service_pb2 as pb
from server.domain import inputs
from server.errors import InvalidArgument
from server.events.feed import DEFAULT_HEARTBEAT_SECONDS, EventFeed, EventRow, Heartbeat

_PREFIX = "HEDGE_EVENT_TYPE_"
MAX_HEARTBEAT_SECONDS = 3600
MAX_MARKETS = 1000


def event_type_out(name: str) -> events_pb2.HedgeEventType:
    """The proto enum of a stored event type; UNSPECIFIED for a type this build does not know."""
    try:
        return cast(events_pb2.HedgeEventType, events_pb2.HedgeEventType.Value(_PREFIX + name.upper()))
    except ValueError:
        return events_pb2.HEDGE_EVENT_TYPE_UNSPECIFIED


def event_type_in(value: int) -> str:
    try:
        name = events_pb2.HedgeEventType.Name(cast(events_pb2.HedgeEventType, value))
    except ValueError:
        raise InvalidArgument("types", f"unknown event type {value}") from None
    if value == events_pb2.HEDGE_EVENT_TYPE_UNSPECIFIED:
        raise InvalidArgument("types", "HEDGE_EVENT_TYPE_UNSPECIFIED is not a type")
    return name.removeprefix(_PREFIX).lower()


def event_out(row: EventRow) -> events_pb2.HedgeEvent:
    created = Timestamp()
    created.FromDatetime(row.created_at)
    event = events_pb2.HedgeEvent(
        event_id=row.id,
        type=event_type_out(row.event_type),
        created_at=created,
        order_id=row.order_id or "",
        hedge_id=row.hedge_id or "",
        message=row.message,
        data=row.data,
    )
    if row.event_id is not None:
        event.market.CopyFrom(types_pb2.MarketRef(event_id=row.event_id, outcome=row.outcome or ""))
    return event


class EventStream:
    """The `stream` callable of `HedgingServicer`."""

    def __init__(self, feed: EventFeed, cache_size: int = 4096) -> None:
        self._feed = feed
        # Every subscriber sends the same recent events: build and serialize each response once and
        # send those bytes to all (`server.rpc.decode.encoder` passes them through; its sent_at is when
        # it was first sent, within milliseconds of the others).
        self._built: OrderedDict[int, bytes] = OrderedDict()
        self._cache_size = cache_size

    def _response(self, row: EventRow) -> bytes:
        response = self._built.get(row.id)
        if response is None:
            sent = Timestamp()
            sent.GetCurrentTime()
            message = pb.StreamHedgeEventsResponse(event=event_out(row), sent_at=sent)
            response = self._built[row.id] = message.SerializeToString()
            if len(self._built) > self._cache_size:
                self._built.popitem(last=False)
        return response

    async def __call__(
        self,
        request: pb.StreamHedgeEventsRequest,
        context: grpc.aio.ServicerContext[pb.StreamHedgeEventsRequest, pb.StreamHedgeEventsResponse],
    ) -> AsyncIterator[pb.StreamHedgeEventsResponse | bytes]:
        start = request.WhichOneof("start")
        if start == "after_event_id":
            if request.after_event_id < 0:
                raise InvalidArgument("after_event_id", "must not be negative")
            after = request.after_event_id
        elif start == "from_now":
            after = await self._feed.latest_id() if request.from_now else 0
        else:
            after = 0
        if len(request.markets) > MAX_MARKETS:
            raise InvalidArgument("markets", f"at most {MAX_MARKETS} markets")
        markets = frozenset(
            (
                inputs.identifier("markets.event_id", m.event_id),
                inputs.identifier("markets.outcome", m.outcome),
            )
            for m in request.markets
        )
        types = frozenset(event_type_in(t) for t in request.types)
        if not 0 <= request.heartbeat_seconds <= MAX_HEARTBEAT_SECONDS:
            raise InvalidArgument("heartbeat_seconds", f"must be from 0 to {MAX_HEARTBEAT_SECONDS}")
        heartbeat = float(request.heartbeat_seconds or DEFAULT_HEARTBEAT_SECONDS)
        async for item in self._feed.follow(after, markets, types, heartbeat_seconds=heartbeat):
            if isinstance(item, Heartbeat):
                sent = Timestamp()
                sent.FromDatetime(item.sent_at)
                yield pb.StreamHedgeEventsResponse(
                    heartbeat=events_pb2.StreamHeartbeat(sent_at=sent, last_event_id=item.last_event_id),
                    sent_at=sent,
                )
            else:
                yield self._response(item)
