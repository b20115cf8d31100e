"""Cancel-on-disconnect heartbeats, and trade settlement (MATCHED -> MINED -> CONFIRMED, or FAILED)."""

from __future__ import annotations

from collections.abc import Callable

from py_clob_client_v2.clob_types import OrderArgsV2, OrderType, TradeParams

from server.sim.runner import RunningSimulator
from tests.sim.conftest import D, Trader, market_by_slug


def test_orders_are_cancelled_when_heartbeats_stop(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice, bob = trader("alice"), trader("bob")
    market = market_by_slug(sim, "fed-cut")
    first = alice.client.post_heartbeat()
    assert first["status"] == "ok" and first["heartbeat_id"]
    order_id = alice.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.5, size=10, side="BUY")
    )["orderID"]
    silent_bob = bob.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.5, size=10, side="BUY")
    )["orderID"]
    sim.exchange.advance_time(8)
    assert alice.client.post_heartbeat(first["heartbeat_id"])["heartbeat_id"] == first["heartbeat_id"]
    sim.exchange.advance_time(8)
    assert alice.client.get_order(order_id)["status"] == "LIVE"  # kept alive by the second heartbeat
    sim.exchange.advance_time(3)
    assert alice.client.get_order(order_id)["status"] == "CANCELED"
    assert sim.exchange.balances(alice.address)["usdc_reserved"] == 0
    # Bob never started heartbeats, so his order is untouched.
    assert bob.client.get_order(silent_bob)["status"] == "LIVE"


def test_heartbeat_timeout_is_applied_by_the_background_sweep(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    sim.exchange.set_heartbeat_timeout(0.2)
    alice.client.post_heartbeat()
    order_id = alice.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.5, size=10, side="BUY")
    )["orderID"]
    from tests.sim.conftest import wait_for

    wait_for(lambda: sim.exchange.order(order_id)["status"] == "CANCELED")  # type: ignore[index]


def test_failed_trade_reverts_balances(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "btc")  # fee market
    sim.exchange.set_settlement(None)
    lp_before = sim.exchange.balances(market.liquidity_provider)
    totals_before = sim.exchange.totals()
    resp = alice.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.35, size=20, side="BUY")
    )
    (trade_id,) = resp["tradeIDs"]
    assert resp["transactionsHashes"]
    assert alice.client.get_trades(TradeParams(id=trade_id))[0]["status"] == "MATCHED"
    assert sim.exchange.balances(alice.address)["usdc"] < D("1000000")
    sim.exchange.fail_trade(trade_id)
    assert alice.client.get_trades(TradeParams(id=trade_id))[0]["status"] == "FAILED"
    assert sim.exchange.balances(alice.address)["usdc"] == D("1000000")
    assert sim.exchange.balances(alice.address)["tokens"] == {}
    assert sim.exchange.balances(market.liquidity_provider)["usdc"] == lp_before["usdc"]
    assert sim.exchange.totals() == totals_before


def test_trades_confirm_after_the_settlement_delay(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    sim.exchange.set_settlement(5.0)
    resp = alice.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.63, size=10, side="BUY"), order_type=OrderType.FOK
    )
    (trade_id,) = resp["tradeIDs"]
    assert sim.exchange.trade(trade_id)["status"] == "MATCHED"  # type: ignore[index]
    sim.exchange.advance_time(2.5)  # half the delay: in a block, not yet final
    assert alice.client.get_trades(TradeParams(id=trade_id))[0]["status"] == "MINED"
    sim.exchange.advance_time(2.5)
    assert alice.client.get_trades(TradeParams(id=trade_id))[0]["status"] == "CONFIRMED"


def test_a_trade_that_fails_is_never_mined(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    sim.exchange.set_settlement(4.0)
    sim.exchange.fail_next_trades(1)
    resp = alice.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.63, size=10, side="BUY"), order_type=OrderType.FOK
    )
    (trade_id,) = resp["tradeIDs"]
    sim.exchange.advance_time(2)
    assert alice.client.get_trades(TradeParams(id=trade_id))[0]["status"] == "MATCHED"
    sim.exchange.advance_time(2)
    assert alice.client.get_trades(TradeParams(id=trade_id))[0]["status"] == "FAILED"


def test_a_mined_trade_can_still_fail_and_revert(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    sim.exchange.set_settlement(None)
    resp = alice.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.63, size=10, side="BUY"), order_type=OrderType.FOK
    )
    (trade_id,) = resp["tradeIDs"]
    sim.exchange.mine_trade(trade_id)
    assert alice.client.get_trades(TradeParams(id=trade_id))[0]["status"] == "MINED"
    assert sim.exchange.balances(alice.address)["tokens"] == {market.yes_token_id: D("10")}
    sim.exchange.fail_trade(trade_id)
    assert alice.client.get_trades(TradeParams(id=trade_id))[0]["status"] == "FAILED"
    assert sim.exchange.balances(alice.address)["tokens"] == {}
    assert sim.exchange.balances(alice.address)["usdc"] == D("1000000")


def test_fail_next_trades_at_settlement(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    sim.exchange.set_settlement(1.0)
    sim.exchange.fail_next_trades(1)
    resp = alice.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.63, size=10, side="BUY"), order_type=OrderType.FOK
    )
    sim.exchange.advance_time(1)
    (trade,) = alice.client.get_trades(TradeParams(id=resp["tradeIDs"][0]))
    assert trade["status"] == "FAILED"
    assert sim.exchange.balances(alice.address)["tokens"] == {}
