"""Every documented order rejection: the venue's status and error body, and nothing changed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from py_clob_client_v2.clob_types import CreateOrderOptions, MarketOrderArgsV2, OrderArgsV2, OrderType
from py_clob_client_v2.exceptions import PolyApiException
from py_clob_client_v2.order_utils.model.order_data_v2 import order_to_json_v2

from server.sim.runner import RunningSimulator
from tests.sim.conftest import D, Trader, market_by_slug, state_of


def rejected(
    sim: RunningSimulator, who: Trader, post: Callable[[], Any], status: int, body: dict[str, Any]
) -> None:
    """``post`` must fail with (status, body) and leave books, balances, orders and trades as they were."""
    before = state_of(sim, who.address)
    with pytest.raises(PolyApiException) as err:
        post()
    assert (err.value.status_code, err.value.error_msg) == (status, body)
    assert state_of(sim, who.address) == before


def test_bad_order_signature(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    order = alice.client.create_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.5, size=10, side="BUY")
    )
    order.makerAmount = str(int(order.makerAmount) + 10_000)  # tampered after signing
    rejected(sim, alice, lambda: alice.client.post_order(order), 400, {"error": "invalid signature"})


def test_signed_for_the_wrong_exchange(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")  # not neg-risk
    order = alice.client.builder.build_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.5, size=10, side="BUY"),
        CreateOrderOptions(tick_size="0.01", neg_risk=True),
    )
    rejected(sim, alice, lambda: alice.client.post_order(order), 400, {"error": "invalid signature"})


def test_signer_is_not_the_api_key_address(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice, bob = trader("alice"), trader("bob")
    market = market_by_slug(sim, "fed-cut")
    order = bob.client.create_order(OrderArgsV2(token_id=market.yes_token_id, price=0.5, size=10, side="BUY"))
    rejected(
        sim,
        alice,
        lambda: alice.client.post_order(order),
        400,
        {"error": "the order signer address has to be the address of the API KEY"},
    )


def test_owner_is_not_the_api_key(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    order = alice.client.create_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.5, size=10, side="BUY")
    )
    body = json.dumps(order_to_json_v2(order, "someone-else", "GTC"), separators=(",", ":"))
    headers = alice.client._l2_headers("POST", "/order", serialized_body=body)
    before = state_of(sim, alice.address)
    response = httpx.post(sim.url + "/order", content=body.encode(), headers=headers)
    assert response.status_code == 400
    assert response.json() == {"error": "the order owner has to be the owner of the API KEY"}
    assert state_of(sim, alice.address) == before


def test_price_off_tick(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")  # tick 0.01
    order = alice.client.builder.build_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.555, size=10, side="BUY"),
        CreateOrderOptions(tick_size="0.001", neg_risk=False),
    )
    before = state_of(sim, alice.address)
    with pytest.raises(PolyApiException) as err:
        alice.client.post_order(order)
    message = err.value.error_msg["error"]  # type: ignore[index]
    assert err.value.status_code == 400
    assert message.startswith("order 0x") and message.endswith(
        "is invalid. Price (0.555) breaks minimum tick size rule: 0.01"
    )
    assert state_of(sim, alice.address) == before


def test_price_out_of_bounds(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    order = alice.client.builder.build_order(
        OrderArgsV2(token_id=market.yes_token_id, price=1.0, size=10, side="BUY"),
        CreateOrderOptions(tick_size="0.01", neg_risk=False),
    )
    before = state_of(sim, alice.address)
    with pytest.raises(PolyApiException) as err:
        alice.client.post_order(order)
    assert err.value.status_code == 400
    assert err.value.error_msg["error"].endswith("Price (1.00) breaks minimum tick size rule: 0.01")  # type: ignore[index]
    assert state_of(sim, alice.address) == before


def test_below_minimum_size(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "riverton")  # minimum 15 shares
    order = alice.client.create_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.1, size=10, side="BUY")
    )
    before = state_of(sim, alice.address)
    with pytest.raises(PolyApiException) as err:
        alice.client.post_order(order)
    assert err.value.status_code == 400
    assert err.value.error_msg["error"].endswith("is invalid. Size (10) lower than the minimum: 15")  # type: ignore[index]
    assert state_of(sim, alice.address) == before


def test_insufficient_collateral(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    sim.exchange.set_default_collateral(0)
    poor = trader("poor")
    sim.exchange.fund(poor.address, usdc="4.99")
    market = market_by_slug(sim, "fed-cut")
    rejected(
        sim,
        poor,
        lambda: poor.client.create_and_post_order(
            OrderArgsV2(token_id=market.yes_token_id, price=0.5, size=10, side="BUY")
        ),
        400,
        {"error": "not enough balance / allowance"},
    )
    sim.exchange.fund(poor.address, usdc="0.01")
    assert poor.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.5, size=10, side="BUY")
    )["success"]


def test_balance_held_by_resting_orders_is_not_available(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    sim.exchange.set_default_collateral(0)
    poor = trader("poor")
    sim.exchange.fund(poor.address, usdc="8")
    market = market_by_slug(sim, "fed-cut")
    poor.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.5, size=10, side="BUY")
    )
    rejected(
        sim,
        poor,
        lambda: poor.client.create_and_post_order(
            OrderArgsV2(token_id=market.yes_token_id, price=0.5, size=10, side="BUY")
        ),
        400,
        {"error": "not enough balance / allowance"},
    )


def test_selling_tokens_you_do_not_have(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    sim.exchange.fund(alice.address, tokens={market.yes_token_id: 5})
    rejected(
        sim,
        alice,
        lambda: alice.client.create_and_post_order(
            OrderArgsV2(token_id=market.yes_token_id, price=0.7, size=6, side="SELL")
        ),
        400,
        {"error": "not enough balance / allowance"},
    )


def test_fok_not_fully_fillable(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "atlantic")  # asks: 30 @ 0.972, 45 @ 0.978
    rejected(
        sim,
        alice,
        lambda: alice.client.create_and_post_market_order(
            # 97.8 / 0.978 is exactly 100 shares, within the venue's 4 decimals; 75 are offered.
            MarketOrderArgsV2(token_id=market.yes_token_id, amount=97.8, side="BUY", price=0.978),
            order_type=OrderType.FOK,
        ),
        400,
        {"error": "order couldn't be fully filled. FOK orders are fully filled or killed."},
    )


def test_fak_without_any_match(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")  # best ask 0.63
    rejected(
        sim,
        alice,
        lambda: alice.client.create_and_post_market_order(
            MarketOrderArgsV2(token_id=market.yes_token_id, amount=10, side="BUY", price=0.5),
            order_type=OrderType.FAK,
        ),
        400,
        {
            "error": "no orders found to match with FAK order. FAK orders are partially filled or killed "
            "if no match is found."
        },
    )


def test_limit_amounts_posted_as_fok_break_market_precision(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    """A limit-built BUY (USDC with 4 decimals) sent as FOK: the venue wants 2-decimal USDC for market buys."""
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    order = alice.client.create_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.63, size=33.33, side="BUY")
    )
    assert order.makerAmount == "20997900"
    rejected(
        sim,
        alice,
        lambda: alice.client.post_order(order, OrderType.FOK),
        400,
        {
            "error": "invalid amounts, the market buy orders maker amount supports a max accuracy of 2 decimals, "
            "taker amount a max of 4 decimals"
        },
    )


def test_client_market_buy_on_a_fine_tick_breaks_market_precision(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    """py-clob-client-v2 issue #99: on a 0.001 tick the client signs a 5-decimal taker; the venue refuses it."""
    alice = trader("alice")
    market = market_by_slug(sim, "atlantic")  # tick 0.001, asks 30 @ 0.972, 45 @ 0.978
    order = alice.client.create_market_order(
        MarketOrderArgsV2(token_id=market.yes_token_id, amount=100, side="BUY", price=0.978)
    )
    # 100 / 0.978 = 102.249488..., which the client keeps to 5 decimals.
    assert (order.makerAmount, order.takerAmount) == ("100000000", "102249480")
    rejected(
        sim,
        alice,
        lambda: alice.client.post_order(order, OrderType.FAK),
        400,
        {
            "error": "invalid amounts, the market buy orders maker amount supports a max accuracy of 2 decimals, "
            "taker amount a max of 4 decimals"
        },
    )


def test_client_market_sell_on_a_fine_tick_breaks_market_precision(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    """The SELL mirror: 10.01 shares at 0.985 is 9.85985 USDC, a 5-decimal taker amount."""
    alice = trader("alice")
    market = market_by_slug(sim, "atlantic")
    sim.exchange.fund(alice.address, tokens={market.yes_token_id: 100})
    order = alice.client.create_market_order(
        MarketOrderArgsV2(token_id=market.yes_token_id, amount=10.01, side="SELL", price=0.985)
    )
    assert (order.makerAmount, order.takerAmount) == ("10010000", "9859850")
    rejected(
        sim,
        alice,
        lambda: alice.client.post_order(order, OrderType.FOK),
        400,
        {
            "error": "invalid amounts, the sell orders maker amount supports a max accuracy of 2 decimals, "
            "taker amount a max of 4 decimals"
        },
    )


def test_duplicate_order_is_refused_and_never_fills_twice(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    order = alice.client.create_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.63, size=10, side="BUY")
    )
    first = alice.client.post_order(order, OrderType.FOK)
    assert first["status"] == "matched"
    rejected(
        sim,
        alice,
        lambda: alice.client.post_order(order, OrderType.FOK),
        400,
        {"error": f"order {first['orderID']} is invalid. Duplicated."},
    )
    assert sim.exchange.post_count(first["orderID"]) == 2
    assert sim.exchange.balances(alice.address)["tokens"] == {market.yes_token_id: D("10")}


def test_cancel_only_mode(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    resting = alice.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.5, size=10, side="BUY")
    )["orderID"]
    sim.exchange.set_trading_mode("cancel-only")
    rejected(
        sim,
        alice,
        lambda: alice.client.create_and_post_order(
            OrderArgsV2(token_id=market.yes_token_id, price=0.5, size=10, side="BUY")
        ),
        503,
        {"error": "Trading is currently cancel-only. New orders are not accepted, but cancels are allowed."},
    )
    assert alice.client.cancel_all()["canceled"] == [resting]


def test_post_only_mode(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    sim.exchange.set_trading_mode("post-only")
    rejected(
        sim,
        alice,
        lambda: alice.client.create_and_post_market_order(
            MarketOrderArgsV2(token_id=market.yes_token_id, amount=10, side="BUY"), order_type=OrderType.FOK
        ),
        503,
        {
            "error": "post-only mode: only post-only orders and cancels are allowed",
            "code": "post_only_mode",
            "retry_after_seconds": 60,
        },
    )
    ok = alice.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.5, size=10, side="BUY"), post_only=True
    )
    assert ok["status"] == "live"


def test_post_only_order_that_would_cross(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    rejected(
        sim,
        alice,
        lambda: alice.client.create_and_post_order(
            OrderArgsV2(token_id=market.yes_token_id, price=0.63, size=10, side="BUY"), post_only=True
        ),
        400,
        {"error": "invalid post-only order: order crosses book"},
    )


def test_gtd_expiring_inside_the_security_threshold(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    expiration = int(sim.exchange.now()) + 30
    rejected(
        sim,
        alice,
        lambda: alice.client.create_and_post_order(
            OrderArgsV2(token_id=market.yes_token_id, price=0.5, size=10, side="BUY", expiration=expiration),
            order_type=OrderType.GTD,
        ),
        400,
        {"error": "invalid expiration"},
    )


@pytest.mark.parametrize("lead", [61, 179])
def test_gtd_less_than_three_minutes_ahead(
    sim: RunningSimulator, trader: Callable[..., Trader], lead: int
) -> None:
    """The venue wants a GTD expiration at least 3 minutes ahead (the simulator used to take 61 s)."""
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    expiration = int(sim.exchange.now()) + lead  # the clock only moves on: never 3 minutes ahead
    rejected(
        sim,
        alice,
        lambda: alice.client.create_and_post_order(
            OrderArgsV2(token_id=market.yes_token_id, price=0.5, size=10, side="BUY", expiration=expiration),
            order_type=OrderType.GTD,
        ),
        400,
        {"error": "invalid expiration"},
    )


def test_gtd_three_minutes_ahead_rests(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    expiration = int(sim.exchange.now()) + 183  # 3 minutes, and 2 s for the request to arrive
    resp = alice.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.5, size=10, side="BUY", expiration=expiration),
        order_type=OrderType.GTD,
    )
    assert resp["status"] == "live"


def test_an_order_built_for_exchange_v1_is_a_version_mismatch(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    """After the V2 cutover the venue answers a V1 order (nonce, feeRateBps, taker) order_version_mismatch.

    The client builds V1 orders while it believes the venue is at version 1: its version cache is
    pinned here (the test's doing, not the client's) to produce one.
    """
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    alice.client._ClobClient__cached_version = 1  # type: ignore[attr-defined]
    order = alice.client.create_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.5, size=10, side="BUY")
    )
    assert hasattr(order, "nonce") and not hasattr(order, "timestamp")
    rejected(sim, alice, lambda: alice.client.post_order(order), 400, {"error": "order_version_mismatch"})
