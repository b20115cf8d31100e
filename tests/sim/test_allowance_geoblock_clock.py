"""The venue side of `hedging doctor`: a wallet's allowance (reported and enforced), the geoblock
answer, and a venue clock that runs off the wall clock - each set through the control API."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from py_clob_client_v2.clob_types import AssetType, BalanceAllowanceParams, OrderArgsV2

from server.sim.runner import RunningSimulator
from tests.sim.conftest import Trader, market_by_slug, state_of

ALL = str((1 << 256) - 1)


def _control(sim: RunningSimulator, path: str, body: dict[str, object]) -> None:
    assert httpx.post(f"{sim.url}/_sim/{path}", json=body).status_code == 200


def test_a_buy_over_the_allowance_is_refused_and_changes_nothing(
    sim: RunningSimulator, trader: Callable[..., Trader]
) -> None:
    alice = trader("alice")
    collateral = BalanceAllowanceParams(asset_type=AssetType.COLLATERAL)
    assert set(alice.client.get_balance_allowance(collateral)["allowances"].values()) == {ALL}

    _control(sim, "allowance", {"address": alice.checksum, "usdc": "5"})
    assert set(alice.client.get_balance_allowance(collateral)["allowances"].values()) == {"5000000"}
    market = market_by_slug(sim, "fed-cut")
    before = state_of(sim, alice.address)
    # 10 shares at 0.63 need 6.30 USDC: over the 5 allowed, though the balance holds a million.
    with pytest.raises(Exception, match="not enough balance / allowance"):
        alice.client.create_and_post_order(
            OrderArgsV2(token_id=market.yes_token_id, price=0.63, size=10, side="BUY")
        )
    assert state_of(sim, alice.address) == before

    _control(sim, "allowance", {"address": alice.checksum, "usdc": None})
    resp = alice.client.create_and_post_order(
        OrderArgsV2(token_id=market.yes_token_id, price=0.63, size=10, side="BUY")
    )
    assert resp["status"] == "matched"


def test_the_geoblock_answer_can_be_switched_on(sim: RunningSimulator) -> None:
    assert httpx.get(f"{sim.url}/api/geoblock").json() == {
        "blocked": False,
        "ip": "127.0.0.1",
        "country": "NL",
        "region": "NH",
    }
    _control(sim, "geoblock", {"blocked": True, "country": "US", "region": "NY"})
    assert httpx.get(f"{sim.url}/api/geoblock").json() == {
        "blocked": True,
        "ip": "127.0.0.1",
        "country": "US",
        "region": "NY",
    }


def test_the_venue_clock_can_run_ahead_of_the_wall_clock(sim: RunningSimulator) -> None:
    _control(sim, "time", {"offset": 3600})
    venue = httpx.get(f"{sim.url}/time").json()
    assert 3590 < venue - time.time() < 3610
    _control(sim, "time", {"offset": 0})
    assert abs(httpx.get(f"{sim.url}/time").json() - time.time()) < 10
