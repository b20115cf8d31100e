"""The venue refines a 0.01 market's tick to 0.001 while its price is above 0.96 or below 0.04, says so
with ``tick_size_change`` and serves the new tick everywhere; back inside, the tick coarsens again and
orders priced on the stale fine tick are refused with the tick-size rule's text."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from py_clob_client_v2.clob_types import OrderArgsV2, PartialCreateOrderOptions
from py_clob_client_v2.exceptions import PolyApiException
from websockets.sync.client import ClientConnection, connect

from server.sim.runner import RunningSimulator
from tests.sim.conftest import D, Trader, market_by_slug, state_of


def _next(ws: ClientConnection, event_type: str) -> dict[str, Any]:
    while True:
        message = json.loads(ws.recv(timeout=5))
        if message.get("event_type") == event_type:
            return message  # type: ignore[no-any-return]


def _ticks_served(sim: RunningSimulator, trader: Trader, token_id: str, condition_id: str) -> set[str]:
    """The tick as /tick-size, /book, /markets/{id} and /clob-markets/{id} report it."""
    with httpx.Client(base_url=sim.url) as http:
        tick_size = http.get("/tick-size", params={"token_id": token_id}).json()["minimum_tick_size"]
        clob_market = http.get(f"/clob-markets/{condition_id}").json()["mts"]
    return {
        str(tick_size),
        str(clob_market),
        trader.client.get_order_book(token_id)["tick_size"],
        str(trader.client.get_market(condition_id)["minimum_tick_size"]),
    }


def test_the_tick_refines_above_096_and_coarsens_back_and_a_stale_tick_is_refused(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    market = market_by_slug(sim, "fed-cut")  # listed at 0.01, book 0.61 / 0.63
    alice = trader("alice")
    yes = market.yes_token_id
    with connect(sim.ws_url) as ws:
        ws.send(json.dumps({"assets_ids": [yes, market.no_token_id], "type": "market"}))
        _next(ws, "book")
        # Midpoint 0.965: above 0.96.
        sim.exchange.set_book(yes, bids=[("0.96", "100")], asks=[("0.97", "100")])
        refined = [_next(ws, "tick_size_change"), _next(ws, "tick_size_change")]
        assert {m["asset_id"] for m in refined} == {yes, market.no_token_id}
        for message in refined:
            assert message["market"] == market.condition_id
            assert (message["old_tick_size"], message["new_tick_size"]) == ("0.01", "0.001")
        assert _ticks_served(sim, alice, yes, market.condition_id) == {"0.001"}

        # A price only the fine tick allows rests.
        resting = alice.client.create_and_post_order(
            OrderArgsV2(token_id=yes, price=0.962, size=10, side="BUY")
        )
        assert resting["status"] == "live"
        assert sim.exchange.order(resting["orderID"])["price"] == "0.962"
        alice.client.cancel_orders([resting["orderID"]])

        # Back inside (midpoint 0.51): the listed tick returns.
        sim.exchange.set_book(yes, bids=[("0.50", "100")], asks=[("0.52", "100")])
        back = _next(ws, "tick_size_change")
        assert (back["old_tick_size"], back["new_tick_size"]) == ("0.001", "0.01")
    assert _ticks_served(sim, alice, yes, market.condition_id) == {"0.01"}

    # The client still has 0.001 cached: its 3-decimal price is refused by the venue, nothing changes.
    before = state_of(sim, alice.address)
    with pytest.raises(PolyApiException) as err:
        alice.client.create_and_post_order(
            OrderArgsV2(token_id=yes, price=0.505, size=10, side="BUY"),
            PartialCreateOrderOptions(tick_size="0.001"),
        )
    assert err.value.status_code == 400
    message = err.value.error_msg["error"]
    assert message.startswith("order 0x") and message.endswith(
        "is invalid. Price (0.505) breaks minimum tick size rule: 0.01"
    )
    assert state_of(sim, alice.address) == before


def test_a_low_price_refines_too_and_a_fine_listed_market_keeps_its_tick(sim: RunningSimulator) -> None:
    coarse = market_by_slug(sim, "btc-above")  # 0.01
    sim.exchange.set_book(coarse.yes_token_id, bids=[("0.02", "100")], asks=[("0.05", "100")])  # mid 0.035
    assert sim.exchange.market(coarse.condition_id).tick_size == D("0.001")
    # Exactly at the threshold is not beyond it.
    sim.exchange.set_book(coarse.yes_token_id, bids=[("0.03", "100")], asks=[("0.05", "100")])  # mid 0.04
    assert sim.exchange.market(coarse.condition_id).tick_size == D("0.01")

    fine = market_by_slug(sim, "atlantic")  # listed at 0.001, midpoint 0.9685
    assert sim.exchange.market(fine.condition_id).tick_size == D("0.001")
    sim.exchange.set_book(fine.yes_token_id, bids=[("0.5", "100")], asks=[("0.6", "100")])
    assert sim.exchange.market(fine.condition_id).tick_size == D("0.001")


def test_auto_tick_can_be_switched_off(sim: RunningSimulator) -> None:
    market = market_by_slug(sim, "fed-cut")
    with httpx.Client(base_url=sim.url) as http:
        assert http.post("/_sim/auto-tick", json={"enabled": False}).json() == {"enabled": False}
    sim.exchange.set_book(market.yes_token_id, bids=[("0.97", "100")], asks=[("0.98", "100")])
    assert sim.exchange.market(market.condition_id).tick_size == D("0.01")
