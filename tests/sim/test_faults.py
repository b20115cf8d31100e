"""Fault injection: requests dropped before processing, or processed with the answer lost."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from py_clob_client_v2.clob_types import OrderArgsV2, OrderType
from py_clob_client_v2.exceptions import PolyApiException

from server.sim.runner import RunningSimulator
from tests.sim.conftest import D, Trader, market_by_slug


def _fok_buy(alice: Trader, sim: RunningSimulator) -> object:
    market = market_by_slug(sim, "fed-cut")
    return alice.client.create_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.63, size=10, side="BUY")
    )


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (425, {"error": "Too Early"}),
        (429, {"error": "Too Many Requests"}),
        (500, {"error": "could not run the execution"}),
        (503, {"error": "Trading is currently disabled. Check polymarket.com for updates"}),
    ],
)
def test_error_before_processing_drops_the_order(
    sim: RunningSimulator, trader: Callable[..., Trader], status: int, body: dict[str, str]
) -> None:
    alice = trader("alice")
    order = _fok_buy(alice, sim)
    sim.exchange.inject_fault("/order", 1, "before", status=status)
    with pytest.raises(PolyApiException) as err:
        alice.client.post_order(order, OrderType.FOK)
    assert (err.value.status_code, err.value.error_msg) == (status, body)
    order_id = sim.exchange.post_counts().popitem()[0]
    assert sim.exchange.order(order_id) is None and sim.exchange.trades() == []
    # The same signed order goes through once the fault is used up.
    assert alice.client.post_order(order, OrderType.FOK)["orderID"] == order_id
    assert sim.exchange.post_count(order_id) == 2


def test_client_retry_after_dropped_post_places_the_order_once(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice = trader("alice", retry_on_error=True)
    order = _fok_buy(alice, sim)
    sim.exchange.inject_fault("/order", 1, "before", status=500)
    resp = alice.client.post_order(order, OrderType.FOK)
    assert resp["status"] == "matched"
    assert sim.exchange.post_count(resp["orderID"]) == 2
    assert len(sim.exchange.trades(alice.address)) == 1


def test_error_after_processing_loses_the_answer_but_not_the_fill(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice = trader("alice", retry_on_error=True)
    market = market_by_slug(sim, "fed-cut")
    order = _fok_buy(alice, sim)
    sim.exchange.inject_fault("/order", 1, "after", status=500)
    # The client retries the identical signed order; the venue has it already.
    with pytest.raises(PolyApiException) as err:
        alice.client.post_order(order, OrderType.FOK)
    order_id = next(iter(sim.exchange.post_counts()))
    assert err.value.status_code == 400
    assert err.value.error_msg == {"error": f"order {order_id} is invalid. Duplicated."}
    assert sim.exchange.order(order_id)["status"] == "MATCHED"  # type: ignore[index]
    assert sim.exchange.balances(alice.address)["tokens"] == {market.yes_token_id: D("10")}
    assert sim.exchange.post_count(order_id) == 2


def test_hang_after_processing_times_the_client_out(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice = trader("alice")
    order = _fok_buy(alice, sim)
    sim.exchange.inject_fault("/order", 1, "after", delay=4)
    with pytest.raises(PolyApiException) as err:
        alice.client.post_order(order, OrderType.FOK)
    # No status: the client gave up before the delayed answer came.
    assert err.value.status_code is None and err.value.error_msg == "Request exception!"
    (order_id,) = sim.exchange.post_counts()
    assert sim.exchange.order(order_id)["status"] == "MATCHED"  # type: ignore[index]
    # The order is visible to the client once it reconciles.
    assert alice.client.get_order(order_id)["size_matched"] == "10"


def test_hang_before_processing_leaves_nothing(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    order = _fok_buy(alice, sim)
    sim.exchange.inject_fault("/order", 1, "before", delay=4)
    with pytest.raises(PolyApiException) as err:
        alice.client.post_order(order, OrderType.FOK)
    assert err.value.status_code is None
    (order_id,) = sim.exchange.post_counts()
    assert sim.exchange.order(order_id) is None and sim.exchange.trades() == []


def test_faults_count_down_and_match_paths(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    sim.exchange.inject_fault("/book", 2, "before", status=429)
    for _ in range(2):
        with pytest.raises(PolyApiException) as err:
            alice.client.get_order_book(market.yes_token_id)
        assert err.value.status_code == 429
    assert alice.client.get_order_book(market.yes_token_id)["asset_id"] == market.yes_token_id
    sim.exchange.inject_fault("/data/order/*", 1, "before", status=500)
    with pytest.raises(PolyApiException):
        alice.client.get_order("0x" + "00" * 32)
    sim.exchange.inject_fault("/time", 5, "before", status=503)
    sim.exchange.reset_faults()
    assert isinstance(alice.client.get_server_time(), int)


def test_latency(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    # Held back by the latency, the answer misses a shorter client timeout; without it, it does not.
    sim.exchange.set_latency(2)
    with pytest.raises(httpx.TimeoutException):
        httpx.get(f"{sim.url}/", timeout=0.2)
    sim.exchange.set_latency(0)
    assert httpx.get(f"{sim.url}/", timeout=10).status_code == 200
    alice.client.get_ok()


def test_control_endpoints_over_http(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    with httpx.Client(base_url=sim.url) as http:
        assert http.post(
            "/_sim/faults", json={"path": "/order", "count": 1, "mode": "before", "status": 503}
        ).is_success
        with pytest.raises(PolyApiException) as err:
            alice.client.post_order(_fok_buy(alice, sim), OrderType.FOK)
        assert err.value.status_code == 503
        book = http.post(
            "/_sim/book",
            json={"token_id": market.yes_token_id, "bids": [["0.40", "100"]], "asks": [["0.45", "80"]]},
        )
        assert book.status_code == 200 and len(book.json()["order_ids"]) == 2
        assert alice.client.get_price(market.yes_token_id, "SELL") == {"price": "0.45"}
        funded = http.post(
            "/_sim/fund", json={"address": alice.address, "usdc": "5", "tokens": {market.no_token_id: "7"}}
        )
        assert funded.json()["usdc"] == "1000005" and funded.json()["tokens"] == {market.no_token_id: "7"}
        assert http.post("/_sim/trading-mode", json={"mode": "cancel-only"}).json() == {"mode": "cancel-only"}
        assert http.post("/_sim/trading-mode", json={"mode": "sideways"}).status_code == 400
        state = http.get("/_sim/state").json()
        assert state["trading_mode"] == "cancel-only" and state["post_counts"]
        assert http.get(f"/_sim/balances/{alice.address}").json()["usdc"] == "1000005"
