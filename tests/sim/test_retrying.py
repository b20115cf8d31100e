"""RETRYING: a trade whose transaction failed is sent again, then goes on to MINED and CONFIRMED, or to
FAILED with its balance moves reverted (user-channel docs list MATCHED, MINED, CONFIRMED, RETRYING,
FAILED)."""

from __future__ import annotations

from collections.abc import Callable

from py_clob_client_v2.clob_types import OrderArgsV2, OrderType, TradeParams

from server.sim.runner import RunningSimulator
from tests.sim.conftest import D, Trader, market_by_slug


def _fok_trade(alice: Trader, token_id: str) -> str:
    resp = alice.client.create_and_post_order(
        OrderArgsV2(token_id=token_id, price=0.63, size=10, side="BUY"), order_type=OrderType.FOK
    )
    (trade_id,) = resp["tradeIDs"]
    return str(trade_id)


def test_a_retrying_trade_is_mined_and_confirmed(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    sim.exchange.set_settlement(600)
    trade_id = _fok_trade(alice, market.yes_token_id)
    sim.exchange.retry_trade(trade_id)
    assert alice.client.get_trades(TradeParams(id=trade_id))[0]["status"] == "RETRYING"
    assert sim.exchange.balances(alice.address)["tokens"] == {market.yes_token_id: D("10")}
    sim.exchange.advance_time(300)  # half the settlement delay: in a block
    assert alice.client.get_trades(TradeParams(id=trade_id))[0]["status"] == "MINED"
    sim.exchange.advance_time(300)
    assert alice.client.get_trades(TradeParams(id=trade_id))[0]["status"] == "CONFIRMED"


def test_a_retrying_trade_that_fails_is_reverted(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice = trader("alice")
    market = market_by_slug(sim, "fed-cut")
    sim.exchange.set_settlement(None)
    trade_id = _fok_trade(alice, market.yes_token_id)
    sim.exchange.retry_trade(trade_id)
    sim.exchange.fail_trade(trade_id)
    assert alice.client.get_trades(TradeParams(id=trade_id))[0]["status"] == "FAILED"
    assert sim.exchange.balances(alice.address)["tokens"] == {}
    assert sim.exchange.balances(alice.address)["usdc"] == D("1000000")
