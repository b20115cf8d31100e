"""StreamHedgeEvents on one server: replay, cursor, filters, live follow and heartbeats."""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import grpc
import pytest

from hedging.v1 import events_pb2, types_pb2
from hedging.v1 import hedging_service_pb2 as pb
from server.store import events as event_log
from server.store.events import NewEvent
from server.store.models import HedgeEvent
from tests.harness import order_request, set_config, wait_until

MARKET = "fed-cut-december-2026"
OTHER = "btc-above-150k-dec-31-2026"


class Reader:
    """Reads a stream on a thread of its own into a queue, so the test can wait on it."""

    def __init__(self, stub: Any, request: pb.StreamHedgeEventsRequest) -> None:
        self.call = stub.StreamHedgeEvents(request, timeout=60)
        self.items: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for item in self.call:
                self.items.put(item)
        except grpc.RpcError as exc:
            self.items.put(exc)

    def events(self, count: int, timeout: float = 10) -> list[events_pb2.HedgeEvent]:
        got: list[events_pb2.HedgeEvent] = []
        deadline = time.monotonic() + timeout
        while len(got) < count:
            item = self.items.get(timeout=max(deadline - time.monotonic(), 0.01))
            if isinstance(item, grpc.RpcError):
                raise item
            if item.WhichOneof("item") == "event":
                got.append(item.event)
        return got

    def next_item(self, timeout: float = 10) -> Any:
        item = self.items.get(timeout=timeout)
        if isinstance(item, grpc.RpcError):
            raise item
        return item

    def close(self) -> None:
        self.call.cancel()
        self._thread.join(5)


def stored_ids(**where: Any) -> list[int]:
    query = HedgeEvent.select(HedgeEvent.id).order_by(HedgeEvent.id)
    for field, value in where.items():
        query = query.where(getattr(HedgeEvent, field) == value)
    return [e.id for e in query]


def test_replays_from_the_beginning_then_follows_live_events(live, pg_db):
    live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "10"), timeout=10)
    before = stored_ids()
    reader = Reader(live.stub, pb.StreamHedgeEventsRequest())
    try:
        replayed = reader.events(len(before))
        assert [e.event_id for e in replayed] == before
        kinds = {e.type for e in replayed}
        assert events_pb2.HEDGE_EVENT_TYPE_ORDER_ACCEPTED in kinds
        assert events_pb2.HEDGE_EVENT_TYPE_HEDGE_FILLED in kinds
        assert events_pb2.HEDGE_EVENT_TYPE_MAPPING_CHANGED in kinds
        accepted = next(e for e in replayed if e.type == events_pb2.HEDGE_EVENT_TYPE_ORDER_ACCEPTED)
        assert accepted.market.event_id == MARKET and accepted.order_id

        live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "10"), timeout=10)
        after = stored_ids()
        followed = reader.events(len(after) - len(before))
        assert [e.event_id for e in followed] == after[len(before) :]
    finally:
        reader.close()


def test_after_event_id_resumes_after_the_cursor_and_from_now_skips_history(live, pg_db):
    live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "10"), timeout=10)
    ids = stored_ids()
    cursor = ids[len(ids) // 2]
    resumed = Reader(live.stub, pb.StreamHedgeEventsRequest(after_event_id=cursor))
    fresh = Reader(live.stub, pb.StreamHedgeEventsRequest(from_now=True, heartbeat_seconds=1))
    try:
        assert [e.event_id for e in resumed.events(len(ids) - len(ids) // 2 - 1)] == ids[len(ids) // 2 + 1 :]
        # from_now sends nothing old: its first item is a heartbeat naming the newest id.
        first = fresh.next_item()
        assert first.WhichOneof("item") == "heartbeat"
        assert first.heartbeat.last_event_id >= ids[-1]
        set_config(pg_db, maxPositionSize="999")
        (changed,) = fresh.events(1)
        assert changed.type == events_pb2.HEDGE_EVENT_TYPE_CONFIG_CHANGED
        assert changed.event_id == stored_ids()[-1]
        assert changed.data["key"] == "maxPositionSize" and changed.data["author"] == "test"
    finally:
        resumed.close()
        fresh.close()


def test_filters_by_market_and_type_but_global_events_pass_a_market_filter(live, pg_db):
    only_market = Reader(
        live.stub,
        pb.StreamHedgeEventsRequest(
            from_now=True, markets=[types_pb2.MarketRef(event_id=OTHER, outcome="YES")], heartbeat_seconds=1
        ),
    )
    only_fills = Reader(
        live.stub,
        pb.StreamHedgeEventsRequest(from_now=True, types=[events_pb2.HEDGE_EVENT_TYPE_HEDGE_FILLED]),
    )
    try:
        wait_until(lambda: not only_market.items.empty(), message="the first heartbeat")
        live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "10"), timeout=10)
        set_config(pg_db, maxPositionSize="998")
        live.stub.PlaceOrder(order_request(OTHER, types_pb2.SIDE_BUY, "10"), timeout=10)
        got = only_market.events(4)
        assert [e.type for e in got] == [
            events_pb2.HEDGE_EVENT_TYPE_CONFIG_CHANGED,
            events_pb2.HEDGE_EVENT_TYPE_ORDER_ACCEPTED,
            events_pb2.HEDGE_EVENT_TYPE_HEDGE_SUBMITTED,
            events_pb2.HEDGE_EVENT_TYPE_HEDGE_FILLED,
        ]
        assert all(e.market.event_id in ("", OTHER) for e in got)
        fills = only_fills.events(2)
        assert [e.market.event_id for e in fills] == [MARKET, OTHER]
        assert [e.event_id for e in fills] == stored_ids(event_type="hedge_filled")
    finally:
        only_market.close()
        only_fills.close()


def test_an_idle_stream_gets_heartbeats(live):
    reader = Reader(live.stub, pb.StreamHedgeEventsRequest(from_now=True, heartbeat_seconds=1))
    try:
        beats = []
        while len(beats) < 2:
            item = reader.next_item(timeout=5)
            if item.WhichOneof("item") == "heartbeat":
                beats.append(item)
        assert beats[0].heartbeat.sent_at.ToDatetime() < beats[1].heartbeat.sent_at.ToDatetime()
    finally:
        reader.close()


def test_events_written_by_another_writer_reach_the_stream(live, pg_db):
    """The table is the truth: a row appended by any process (here, the test) is streamed."""
    reader = Reader(live.stub, pb.StreamHedgeEventsRequest(from_now=True, heartbeat_seconds=1))
    try:
        wait_until(lambda: not reader.items.empty(), message="the first heartbeat")
        with pg_db.atomic():
            event_log.append(pg_db, [NewEvent("config_changed", "outside", data={"key": "x"})])
        (event,) = reader.events(1)
        assert event.message == "outside"
    finally:
        reader.close()


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (pb.StreamHedgeEventsRequest(after_event_id=-1), "after_event_id"),
        (pb.StreamHedgeEventsRequest(types=[events_pb2.HEDGE_EVENT_TYPE_UNSPECIFIED]), "types"),
        (pb.StreamHedgeEventsRequest(types=[99]), "types"),
        (pb.StreamHedgeEventsRequest(heartbeat_seconds=-1), "heartbeat_seconds"),
        (
            pb.StreamHedgeEventsRequest(markets=[types_pb2.MarketRef(event_id="", outcome="YES")]),
            "markets.event_id",
        ),
    ],
)
def test_a_bad_request_is_invalid_argument(live, request_, field):
    with pytest.raises(grpc.RpcError) as caught:
        list(live.stub.StreamHedgeEvents(request_, timeout=5))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in caught.value.details()
