"""hedgeEvents refuses an unknown event type in its filter with a typed error naming the argument,
instead of following an empty feed."""

from __future__ import annotations

import pytest

from tests.gateway.conftest import VIEWER_TOKEN, Subscriber

SUBSCRIBE = "subscription Events($filter: HedgeEventFilter) { hedgeEvents(filter: $filter) { id type } }"


@pytest.mark.parametrize("types", [["nope"], ["order_accepted", "ORDER_ACCEPTED"], [""]])
def test_an_unknown_event_type_is_refused_naming_the_argument(gateway, types):
    sub = Subscriber(gateway.ws_url, VIEWER_TOKEN)
    try:
        assert sub.recv()["type"] == "connection_ack"
        sub.send(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": SUBSCRIBE, "variables": {"filter": {"types": types}}},
            }
        )
        message = sub.recv()
        assert message["id"] == "1"
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        (error,) = errors
        assert error["extensions"]["code"] == "INVALID_ARGUMENT"
        assert error["extensions"]["field"] == "filter.types"
        assert "unknown event type" in error["message"]
    finally:
        sub.close()


def test_a_known_event_type_is_accepted(gateway, admin):
    sub = Subscriber(gateway.ws_url, VIEWER_TOKEN)
    try:
        assert sub.recv()["type"] == "connection_ack"
        sub.send(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": SUBSCRIBE, "variables": {"filter": {"types": ["config_changed"]}}},
            }
        )
        admin('mutation { setConfig(input: {key: "mode", value: "paper", reason: "r"}) { __typename } }')
        message = sub.recv()
        assert message["type"] == "next", message
        assert message["payload"]["data"]["hedgeEvents"]["type"] == "config_changed"
    finally:
        sub.close()
