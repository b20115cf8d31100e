"""Markets with a taker delay (sports markets: ``seconds_delay``) accept a marketable order with status
``delayed`` and match it once the delay is over; resting orders are not delayed. The delay runs on the
venue clock, so the test moves it on instead of waiting (the docs' 3 s would race a slow machine)."""

from __future__ import annotations

from collections.abc import Callable

from py_clob_client_v2.clob_types import MarketOrderArgsV2, OrderArgsV2, OrderType

from server.sim.runner import RunningSimulator
from tests.sim.conftest import D, Trader, market_by_slug

MILLION = D("1000000")  # every new key is funded with this much collateral


def test_a_marketable_order_is_delayed_then_matched(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")  # asks 1700 @ 0.63
    sim.exchange.set_taker_delay(market.condition_id, 60)
    assert alice.client.get_market(market.condition_id)["seconds_delay"] == 60
    book_before = sim.exchange.book(market.yes_token_id)

    resp = alice.client.create_and_post_market_order(
        MarketOrderArgsV2(token_id=market.yes_token_id, amount=63, side="BUY"), order_type=OrderType.FOK
    )
    assert (resp["status"], resp["makingAmount"], resp["takingAmount"], resp["tradeIDs"]) == (
        "delayed",
        "",
        "",
        [],
    )
    order = alice.client.get_order(resp["orderID"])
    assert (order["status"], order["size_matched"]) == ("DELAYED", "0")
    assert sim.exchange.book(market.yes_token_id) == book_before
    assert sim.exchange.balances(alice.address)["usdc"] == MILLION

    # A resting order does not wait.
    resting = alice.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.5, size=10, side="BUY")
    )
    assert resting["status"] == "live"

    sim.exchange.advance_time(60)
    order = alice.client.get_order(resp["orderID"])
    # 63 USDC at 0.63: 100 shares.
    assert (order["status"], order["size_matched"]) == ("MATCHED", "100")
    (trade_id,) = order["associate_trades"]
    assert sim.exchange.trade(trade_id)["price"] == "0.63"  # type: ignore[index]
    assert sim.exchange.balances(alice.address)["tokens"] == {market.yes_token_id: D("100")}


def test_a_delayed_fok_that_can_no_longer_fill_is_killed(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    sim.exchange.set_taker_delay(market.condition_id, 60)
    resp = alice.client.create_and_post_market_order(
        MarketOrderArgsV2(token_id=market.yes_token_id, amount=63, side="BUY"), order_type=OrderType.FOK
    )
    assert resp["status"] == "delayed"
    sim.exchange.pull_liquidity(market.yes_token_id)  # the asks go while the order waits
    sim.exchange.advance_time(60)
    order = alice.client.get_order(resp["orderID"])
    assert (order["status"], order["size_matched"], order["associate_trades"]) == ("CANCELED", "0", [])
    assert sim.exchange.balances(alice.address)["usdc"] == MILLION
    assert sim.exchange.trades(alice.address) == []


def test_a_delayed_gtc_matches_what_it_can_then_rests(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    sim.exchange.set_book(market.yes_token_id, bids=[("0.60", "100")], asks=[("0.63", "30")])
    sim.exchange.set_taker_delay(market.condition_id, 60)
    resp = alice.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.63, size=50, side="BUY")
    )
    assert resp["status"] == "delayed"
    assert alice.client.get_order(resp["orderID"])["status"] == "DELAYED"
    sim.exchange.advance_time(60)
    order = alice.client.get_order(resp["orderID"])
    # 30 shares from the ask at 0.63, the other 20 rest as the best bid.
    assert (order["status"], order["size_matched"]) == ("LIVE", "30")
    assert sim.exchange.book(market.yes_token_id)["bids"][0] == (D("0.63"), D("20"))
    assert sim.exchange.book(market.yes_token_id)["asks"] == []


def test_a_delayed_order_cancelled_while_it_waits_never_matches(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    sim.exchange.set_taker_delay(market.condition_id, 60)
    resp = alice.client.create_and_post_market_order(
        MarketOrderArgsV2(token_id=market.yes_token_id, amount=63, side="BUY"), order_type=OrderType.FOK
    )
    assert alice.client.cancel_orders([resp["orderID"]]) == {
        "canceled": [resp["orderID"]],
        "not_canceled": {},
    }
    sim.exchange.advance_time(60)
    assert alice.client.get_order(resp["orderID"])["status"] == "CANCELED"
    assert sim.exchange.trades(alice.address) == []
