"""A market's end as the venue shows it: the market object's state, orders refused, resting orders
cancelled and the market channel's ``market_resolved``; read with the official client."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2
from py_clob_client_v2.exceptions import PolyApiException
from websockets.sync.client import connect

from server.sim.runner import RunningSimulator
from tests.sim.conftest import CHAIN_ID, Trader, market_by_slug


def _state(client: ClobClient, condition_id: str) -> tuple[Any, ...]:
    market = client.get_market(condition_id)
    winners = tuple(t["token_id"] for t in market["tokens"] if t["winner"])
    return market["active"], market["closed"], market["accepting_orders"], winners


def test_a_closed_market_refuses_orders_and_cancels_its_book(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    other = market_by_slug(sim, "lakeshore")
    assert _state(alice.client, market.condition_id) == (True, False, True, ())
    resting = alice.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.45, size=10, side="BUY")
    )["orderID"]

    answer = httpx.post(
        f"{sim.url}/_sim/market-state", json={"condition_id": market.condition_id, "state": "closed"}
    )

    assert answer.json() == {"closed": True, "winning_token_id": None}
    assert _state(alice.client, market.condition_id) == (True, True, False, ())
    assert alice.client.get_clob_market_info(market.condition_id)["ao"] is False
    assert sim.exchange.order(resting)["status"] == "CANCELED"
    assert sim.exchange.book(market.yes_token_id) == {"bids": [], "asks": []}
    trades = len(sim.exchange.trades())
    with pytest.raises(PolyApiException) as err:
        alice.client.create_and_post_order(
            OrderArgsV2(token_id=market.yes_token_id, price=0.45, size=10, side="BUY")
        )
    assert (err.value.status_code, err.value.error_msg) == (
        400,
        {"error": "the market is not yet ready to process new orders"},
    )
    assert len(sim.exchange.trades()) == trades
    # Other markets trade on.
    assert _state(alice.client, other.condition_id) == (True, False, True, ())


def test_resolution_names_the_winner_on_the_market_and_the_market_channel(sim: RunningSimulator) -> None:
    public = ClobClient(sim.url, CHAIN_ID)
    market = market_by_slug(sim, "fed-cut")
    with connect(sim.ws_url) as plain, connect(sim.ws_url) as custom:
        plain.send(json.dumps({"assets_ids": [market.yes_token_id], "type": "market"}))
        custom.send(
            json.dumps({"assets_ids": [market.no_token_id], "type": "market", "custom_feature_enabled": True})
        )
        assert json.loads(custom.recv(timeout=5))["event_type"] == "book"
        assert json.loads(plain.recv(timeout=5))["event_type"] == "book"

        httpx.post(
            f"{sim.url}/_sim/market-state",
            json={
                "condition_id": market.condition_id,
                "state": "resolved",
                "winning_token_id": market.no_token_id,
            },
        ).raise_for_status()

        message = json.loads(custom.recv(timeout=5))
        while message["event_type"] != "market_resolved":
            message = json.loads(custom.recv(timeout=5))
        assert message["market"] == market.condition_id
        assert message["assets_ids"] == [market.yes_token_id, market.no_token_id]
        assert (message["winning_asset_id"], message["winning_outcome"]) == (market.no_token_id, "No")
        # Without the custom features the subscriber sees no lifecycle event: only book updates.
        plain.send("PING")
        while (text := plain.recv(timeout=5)) != "PONG":
            assert json.loads(text)["event_type"] in ("book", "price_change")
    assert _state(public, market.condition_id) == (True, True, False, (market.no_token_id,))


def test_bad_market_state_requests_change_nothing(sim: RunningSimulator) -> None:
    market = market_by_slug(sim, "fed-cut")
    url = f"{sim.url}/_sim/market-state"
    for body in (
        {"condition_id": market.condition_id, "state": "asleep"},
        {"condition_id": market.condition_id, "state": "resolved", "winning_token_id": "123"},
        {"condition_id": market.condition_id, "state": "resolved"},
    ):
        assert httpx.post(url, json=body).status_code == 400
    assert sim.exchange.lifecycle(market.condition_id).accepting_orders
    sim.exchange.resolve_market(market.condition_id, market.yes_token_id)
    for state in ("open", "closed"):
        assert httpx.post(url, json={"condition_id": market.condition_id, "state": state}).status_code == 400
    assert sim.exchange.lifecycle(market.condition_id).winning_token_id == market.yes_token_id
