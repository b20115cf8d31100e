"""Orders from proxy wallets (signature type 1) and deposit wallets (type 3, ERC-1271 wrapped)."""

from __future__ import annotations

from collections.abc import Callable

from py_clob_client_v2.clob_types import AssetType, BalanceAllowanceParams, OrderArgsV2

from server.sim.runner import RunningSimulator
from tests.sim.conftest import D, Trader, market_by_slug

WALLET = "0x9a11e7000000000000000000000000000000c0de"


def test_proxy_wallet_order_moves_the_funders_balances(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice = trader("alice", signature_type=1, funder=WALLET)
    market = market_by_slug(sim, "fed-cut")
    resp = alice.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.63, size=10, side="BUY")
    )
    assert resp["status"] == "matched"
    assert sim.exchange.order(resp["orderID"])["maker_address"] == WALLET  # type: ignore[index]
    assert sim.exchange.balances(WALLET)["tokens"] == {market.yes_token_id: D("10")}
    assert sim.exchange.balances(alice.address)["tokens"] == {}
    collateral = alice.client.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.COLLATERAL))
    assert collateral["balance"] == str(int((D("1000000") - D("6.3")) * 1_000_000))


def test_deposit_wallet_poly_1271_signature(sim: RunningSimulator, trader: Callable[..., Trader]) -> None:
    alice = trader("alice", signature_type=3, funder=WALLET)
    market = market_by_slug(sim, "lakeshore")  # neg-risk exchange domain
    order = alice.client.create_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.4, size=10, side="BUY")
    )
    assert order.signer == WALLET and len(order.signature) > 132
    resp = alice.client.post_order(order)
    assert resp["status"] == "live"
    assert alice.client.get_order(resp["orderID"])["maker_address"] == WALLET
