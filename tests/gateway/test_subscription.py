"""hedgeEvents over graphql-transport-ws follows the same event log as StreamHedgeEvents."""

from __future__ import annotations

import uuid

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.store.models import HedgeEvent
from tests.gateway.conftest import VIEWER_TOKEN, Subscriber

SUBSCRIBE = """
subscription Events($filter: HedgeEventFilter) {
  hedgeEvents(filter: $filter) { id type eventId outcome orderId hedgeId message data { key value } }
}
"""


def _order(stub, slug: str) -> pb.PlaceOrderResponse:
    return stub.PlaceOrder(
        pb.PlaceOrderRequest(
            request_id=uuid.uuid4().hex,
            account_id="user-1",
            market=types_pb2.MarketRef(event_id=slug, outcome="YES"),
            side=types_pb2.SIDE_BUY,
            size="20",
        ),
        timeout=10,
    )


def _collect(sub: Subscriber, op: str, count: int) -> list[dict]:
    events = []
    while len(events) < count:
        message = sub.recv(timeout=10)
        assert message["type"] == "next", message
        assert message["id"] == op
        assert "errors" not in message["payload"], message
        events.append(message["payload"]["data"]["hedgeEvents"])
    return events


def test_a_subscriber_receives_the_events_of_grpc_orders_in_order(live, gateway):
    sub = Subscriber(gateway.ws_url, VIEWER_TOKEN)
    try:
        assert sub.recv()["type"] == "connection_ack"
        start = HedgeEvent.select().order_by(HedgeEvent.id.desc()).first().id
        sub.send(
            {
                "id": "all",
                "type": "subscribe",
                "payload": {"query": SUBSCRIBE, "variables": {"filter": {"after": str(start)}}},
            }
        )
        placed = [
            _order(live.stub, slug)
            for slug in ("fed-cut-december-2026", "btc-above-150k-dec-31-2026", "fed-cut-december-2026")
        ]
        assert all(p.hedge_status == types_pb2.HEDGE_STATUS_HEDGED for p in placed)

        stored = list(HedgeEvent.select().where(HedgeEvent.id > start).order_by(HedgeEvent.id))
        # Per order: accepted, hedge submitted, hedge filled.
        assert len(stored) == 9
        received = _collect(sub, "all", len(stored))
        assert [int(e["id"]) for e in received] == [e.id for e in stored]
        assert [e["type"] for e in received] == [e.event_type for e in stored]
        assert [e["type"] for e in received] == ["order_accepted", "hedge_submitted", "hedge_filled"] * 3
        assert [e["orderId"] for e in received[::3]] == [p.order_id for p in placed]
        filled = {d["key"]: d["value"] for d in received[2]["data"]}
        assert filled["venue_order_id"].startswith("0x")

        # A second subscriber resuming from the middle gets exactly the rest; a market filter
        # keeps only that market's events.
        sub.send(
            {
                "id": "btc",
                "type": "subscribe",
                "payload": {
                    "query": SUBSCRIBE,
                    "variables": {
                        "filter": {
                            "after": received[2]["id"],
                            "markets": [{"eventId": "btc-above-150k-dec-31-2026"}],
                            "types": ["order_accepted", "hedge_filled"],
                        }
                    },
                },
            }
        )
        only = _collect(sub, "btc", 2)
        assert [(e["type"], e["orderId"]) for e in only] == [
            ("order_accepted", placed[1].order_id),
            ("hedge_filled", placed[1].order_id),
        ]

        # Live events keep coming, in order, after the replay.
        later = _order(live.stub, "fed-cut-december-2026")
        tail = _collect(sub, "all", 3)
        assert [e["orderId"] for e in tail] == [later.order_id] * 3
        assert int(tail[0]["id"]) > int(received[-1]["id"])
        sub.send({"id": "all", "type": "complete"})
        sub.send({"id": "btc", "type": "complete"})
    finally:
        sub.close()


def test_global_events_pass_a_market_filter(gateway, admin):
    sub = Subscriber(gateway.ws_url, VIEWER_TOKEN)
    try:
        assert sub.recv()["type"] == "connection_ack"
        sub.send(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {
                    "query": SUBSCRIBE,
                    "variables": {"filter": {"markets": [{"eventId": "elsewhere"}]}},
                },
            }
        )
        admin(
            'mutation { setConfig(input: {key: "mode", value: "paper", reason: "dry run"}) { __typename } }'
        )
        (event,) = _collect(sub, "1", 1)
        assert event["type"] == "config_changed" and event["eventId"] is None
        data = {d["key"]: d["value"] for d in event["data"]}
        assert data["author"] == "alice" and data["reason"] == "dry run"
    finally:
        sub.close()
