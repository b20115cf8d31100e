"""Market channel over a real WebSocket client."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from py_clob_client_v2.clob_types import OrderArgsV2
from websockets.sync.client import ClientConnection, connect

from server.sim.runner import RunningSimulator
from tests.sim.conftest import Trader, market_by_slug


def _next(ws: ClientConnection, event_type: str) -> dict[str, Any]:
    while True:
        message = json.loads(ws.recv(timeout=5))
        if message.get("event_type") == event_type:
            return message  # type: ignore[no-any-return]


def test_market_channel_follows_the_book(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    with connect(sim.ws_url) as ws:
        ws.send(json.dumps({"assets_ids": [market.yes_token_id], "type": "market"}))
        book = _next(ws, "book")
        assert book["asset_id"] == market.yes_token_id
        assert book["bids"][-1] == {"price": "0.61", "size": "1800"}
        assert book["hash"] == sim.exchange.book_json(market.yes_token_id)["hash"]

        order_id = alice.client.create_and_post_order(
            OrderArgsV2(token_id=market.yes_token_id, price=0.45, size=10, side="BUY")
        )["orderID"]
        change = _next(ws, "price_change")
        assert change["market"] == market.condition_id
        assert change["price_changes"] == [
            {
                "asset_id": market.yes_token_id,
                "price": "0.45",
                "size": "10",
                "side": "BUY",
                "hash": sim.exchange.book_json(market.yes_token_id)["hash"],
                "best_bid": "0.61",
                "best_ask": "0.63",
            }
        ]
        sim.exchange.fund(alice.address, tokens={market.yes_token_id: 5})
        alice.client.create_and_post_order(
            OrderArgsV2(token_id=market.yes_token_id, price=0.61, size=5, side="SELL")
        )
        trade = _next(ws, "last_trade_price")
        assert trade["price"] == "0.61" and trade["side"] == "SELL" and trade["size"] == "5"
        ws.send("PING")
        while (text := ws.recv(timeout=5)) != "PONG":
            assert json.loads(text)["event_type"] in ("book", "price_change")
        alice.client.cancel_orders([order_id])
        removed = _next(ws, "price_change")
        assert removed["price_changes"][0]["size"] == "0"
        sim.exchange.set_tick_size(market.condition_id, "0.001")
        tick = _next(ws, "tick_size_change")
        assert (tick["old_tick_size"], tick["new_tick_size"]) == ("0.01", "0.001")


def test_no_token_subscriber_sees_mirrored_levels(sim: RunningSimulator) -> None:
    market = market_by_slug(sim, "fed-cut")
    with connect(sim.ws_url) as ws:
        ws.send(json.dumps({"assets_ids": [market.no_token_id], "type": "market"}))
        assert _next(ws, "book")["asks"][-1] == {"price": "0.39", "size": "1800"}
        sim.exchange.add_liquidity(market.yes_token_id, "BUY", "0.30", "25")
        (change,) = _next(ws, "price_change")["price_changes"]
        assert (change["asset_id"], change["price"], change["side"], change["size"]) == (
            market.no_token_id,
            "0.70",
            "SELL",
            "25",
        )
