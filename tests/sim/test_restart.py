"""A matching-engine restart: 425 on every order-related endpoint for about 90 s, then about 2 minutes
in which only post-only orders and cancels are taken (docs trading/matching-engine). The phases run on
the venue clock, so the test steps through them with ``advance_time`` instead of waiting."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from py_clob_client_v2.clob_types import MarketOrderArgsV2, OrderArgsV2, OrderType
from py_clob_client_v2.exceptions import PolyApiException

from server.sim.runner import RunningSimulator
from tests.sim.conftest import Trader, market_by_slug, state_of
from tests.sim.test_rejections import rejected

TOO_EARLY = {"error": "Too Early"}


def test_a_restart_answers_425_then_takes_only_post_only_orders(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    yes = market.yes_token_id
    resting = alice.client.create_and_post_order(OrderArgsV2(token_id=yes, price=0.5, size=10, side="BUY"))
    with httpx.Client(base_url=sim.url) as http:
        started = http.post("/_sim/restart", json={"too_early": 90, "post_only": 120}).json()
    assert started == {"phase": "too-early"}

    # Every order-related endpoint answers 425, whatever the order; market data is still served.
    def buy() -> object:
        return alice.client.create_and_post_market_order(
            MarketOrderArgsV2(token_id=yes, amount=10, side="BUY"), order_type=OrderType.FOK
        )

    rejected(sim, alice, buy, 425, TOO_EARLY)
    rejected(
        sim,
        alice,
        lambda: alice.client.create_and_post_order(
            OrderArgsV2(token_id=yes, price=0.5, size=10, side="BUY"), post_only=True
        ),
        425,
        TOO_EARLY,
    )
    rejected(sim, alice, lambda: alice.client.cancel_orders([resting["orderID"]]), 425, TOO_EARLY)
    with pytest.raises(PolyApiException) as err:
        alice.client.get_order(resting["orderID"])
    assert (err.value.status_code, err.value.error_msg) == (425, TOO_EARLY)
    assert alice.client.get_order_book(yes)["bids"]

    # About 90 s later: post-only orders and cancels only, with the time left until normal trading.
    sim.exchange.advance_time(90)
    assert sim.exchange.restart_phase == "post-only"
    sim.exchange.advance_time(30)  # 90 s of the post-only phase left
    before = state_of(sim, alice.address)
    with pytest.raises(PolyApiException) as err:
        buy()
    assert err.value.status_code == 503
    body = err.value.error_msg
    assert (body["error"], body["code"]) == (
        "post-only mode: only post-only orders and cancels are allowed",
        "post_only_mode",
    )
    # Whole seconds left, rounded up: 90 unless the machine took a second since the clock moved.
    assert body["retry_after_seconds"] in (89, 90)
    assert state_of(sim, alice.address) == before
    maker = alice.client.create_and_post_order(
        OrderArgsV2(token_id=yes, price=0.49, size=10, side="BUY"), post_only=True
    )
    assert maker["status"] == "live"
    assert alice.client.cancel_orders([resting["orderID"]])["canceled"] == [resting["orderID"]]

    # Then trading is back to normal.
    sim.exchange.advance_time(90)
    assert sim.exchange.restart_phase is None
    assert buy()["status"] == "matched"  # type: ignore[index]
