"""Simulator profiles: ``fast`` stays instant and final; ``realistic`` brings a latency tail, taker delays,
settlement over seconds that sometimes fails, moving books and finite funds, all seeded.

Expected delays and balances are worked out here by hand; venue-clock moves (``advance_time``) stand in
for the seconds settlement and delays take."""

from __future__ import annotations

import statistics
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal

import pytest
from eth_account import Account
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import MarketOrderArgsV2, OrderType
from py_clob_client_v2.exceptions import PolyApiException

from server.sim.exchange import Exchange
from server.sim.latency import Latency, LatencySpec
from server.sim.markets import load_markets
from server.sim.profile import PROFILES, profile_named
from server.sim.runner import RunningSimulator, start_simulator
from tests.sim.conftest import CHAIN_ID, D, Trader, market_by_slug, private_key, wait_for

LP = "0x00000000000000000000000000000000000000aa"
TAKER = "0x00000000000000000000000000000000000000bb"


def _spec(**changes: object) -> LatencySpec:
    base: dict[str, object] = {
        "median": 0.04,
        "sigma": 0.0,
        "spike_rate": 0.0,
        "spike": (1.0, 1.0),
        "cap": 5.0,
    }
    return LatencySpec(**{**base, **changes})  # type: ignore[arg-type]


def test_latency_without_spread_or_spikes_is_the_median() -> None:
    latency = Latency(_spec(), seed=1)
    assert {latency.sample() for _ in range(50)} == {0.04}


def test_a_spike_adds_to_the_median_and_the_cap_bounds_it() -> None:
    assert Latency(_spec(spike_rate=1.0), seed=1).sample() == pytest.approx(1.04)
    assert Latency(_spec(spike_rate=1.0, cap=0.5), seed=1).sample() == 0.5


def test_latency_draws_repeat_with_the_seed_and_differ_without_it() -> None:
    spec = PROFILES["realistic"].latency
    assert spec is not None

    def draws(seed: int) -> list[float]:
        latency = Latency(spec, seed)
        return [latency.sample() for _ in range(100)]

    assert draws(7) == draws(7)
    assert draws(7) != draws(8)


def test_the_realistic_latency_has_its_median_and_a_tail() -> None:
    spec = PROFILES["realistic"].latency
    assert spec is not None
    latency = Latency(spec, seed=0)
    samples = [latency.sample() for _ in range(5000)]
    # Log-normal around 0.04 s; 2 % of 5,000 draws (about 100) stall 0.5 s or more.
    assert 0.035 < statistics.median(samples) < 0.045
    stalls = sum(1 for s in samples if s >= 0.5)
    assert 50 < stalls < 150
    assert max(samples) <= 2.0 and min(samples) > 0


@pytest.mark.parametrize(
    "changes",
    [{"median": -1}, {"sigma": -0.1}, {"spike_rate": 1.5}, {"spike": (2.0, 1.0)}, {"spike": (-1.0, 0.0)}],
)
def test_an_impossible_latency_shape_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="invalid latency"):
        _spec(**changes)


def test_an_unknown_profile_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown simulator profile 'slow'; choose one of"):
        profile_named("slow")
    result = subprocess.run(
        [sys.executable, "-m", "server.sim", "--profile", "slow"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2 and "invalid choice: 'slow'" in result.stderr


# --- settlement failures -------------------------------------------------------------------------------


def _trade_statuses(rate: float, seed: int, trades: int) -> list[str]:
    """``trades`` one-share trades between two unsigned accounts, settled at once, at ``rate``."""
    exchange = Exchange(load_markets(), default_collateral=D(0), settlement_delay=0.0)
    market = exchange.markets[0]
    exchange.fund(LP, usdc=D(0), tokens={market.yes_token_id: D(trades)})
    exchange.fund(TAKER, usdc=D(trades))
    exchange.set_trade_failure_rate(rate, seed)
    exchange.pull_liquidity()
    for _ in range(trades):
        exchange.place_unsigned(LP, market.yes_token_id, "SELL", "0.5", "1")
        exchange.place_unsigned(TAKER, market.yes_token_id, "BUY", "0.5", "1", order_type="FOK")
    exchange.sweep()
    return [str(t["status"]) for t in exchange.trades(TAKER)]


def test_every_trade_fails_at_rate_one_and_its_balances_are_reverted() -> None:
    exchange = Exchange(load_markets(), default_collateral=D(0), settlement_delay=0.0)
    market = exchange.markets[0]  # no fee
    exchange.fund(LP, tokens={market.yes_token_id: D(10)})
    exchange.fund(TAKER, usdc=D(10))
    exchange.set_trade_failure_rate(1.0)
    exchange.pull_liquidity()
    exchange.place_unsigned(LP, market.yes_token_id, "SELL", "0.5", "10")
    exchange.place_unsigned(TAKER, market.yes_token_id, "BUY", "0.5", "10", order_type="FOK")
    exchange.sweep()
    assert [t["status"] for t in exchange.trades(TAKER)] == ["FAILED"]
    assert exchange.balances(TAKER)["usdc"] == 10
    assert exchange.balances(TAKER)["tokens"] == {}
    assert exchange.balances(LP)["tokens"] == {market.yes_token_id: 10}


def test_the_failure_rate_is_seeded_and_zero_fails_nothing() -> None:
    assert set(_trade_statuses(0.0, 3, 20)) == {"CONFIRMED"}
    half = _trade_statuses(0.5, 3, 20)
    assert half == _trade_statuses(0.5, 3, 20)
    assert set(half) == {"CONFIRMED", "FAILED"}
    assert half != _trade_statuses(0.5, 4, 20)


@pytest.mark.parametrize("rate", [-0.1, 1.1])
def test_an_impossible_failure_rate_is_refused(rate: float) -> None:
    exchange = Exchange(load_markets())
    with pytest.raises(ValueError, match="failure rate"):
        exchange.set_trade_failure_rate(rate)


# --- the profiles as a simulator runs them -------------------------------------------------------------


def test_the_fast_profile_is_the_default_and_adds_nothing() -> None:
    with start_simulator(port=0) as sim:
        assert sim.exchange.faults.distribution is None
        assert sim.exchange.settlement_delay == 0
        assert sim.exchange.default_collateral == 1000000
        assert not sim.mover.enabled


@pytest.fixture
def realistic() -> Iterator[RunningSimulator]:
    with start_simulator(port=0, profile="realistic", seed=0) as running:
        running.mover.enabled = False  # the tests below read prices off the seed books
        yield running


def _trader(sim: RunningSimulator, name: str) -> Trader:
    """The unmodified client with an API key created through ``/auth/api-key``."""
    key = private_key(name)
    client = ClobClient(sim.url, CHAIN_ID, key=key)
    client.set_api_creds(client.create_or_derive_api_key())
    return Trader(client, Account.from_key(key).address.lower())


def test_the_realistic_profile_funds_a_new_key_with_5000_usdc_and_moves_books(
    realistic: RunningSimulator,
) -> None:
    alice = _trader(realistic, "alice")
    assert realistic.exchange.balances(alice.address)["usdc"] == D(5000)
    assert realistic.exchange.faults.distribution is not None
    books = {m.slug: realistic.exchange.book(m.yes_token_id) for m in realistic.exchange.markets}
    for _ in range(20):  # each step shifts one market by one tick
        realistic.mover.step()
    assert any(realistic.exchange.book(m.yes_token_id) != books[m.slug] for m in realistic.exchange.markets)


def test_a_sports_market_delays_a_marketable_order_and_a_plain_one_does_not(
    realistic: RunningSimulator,
) -> None:
    alice = _trader(realistic, "alice")
    sports = market_by_slug(realistic, "riverton")  # asks 50 @ 0.22
    plain = market_by_slug(realistic, "fed-cut")  # asks 1700 @ 0.63
    assert alice.client.get_market(sports.condition_id)["seconds_delay"] == 3
    delayed = alice.client.create_and_post_market_order(
        MarketOrderArgsV2(token_id=sports.yes_token_id, amount=4.4, side="BUY"), order_type=OrderType.FOK
    )
    matched = alice.client.create_and_post_market_order(
        MarketOrderArgsV2(token_id=plain.yes_token_id, amount=63, side="BUY"), order_type=OrderType.FOK
    )
    assert (delayed["status"], matched["status"]) == ("delayed", "matched")
    realistic.exchange.advance_time(3)
    order = alice.client.get_order(delayed["orderID"])
    # 4.40 USDC at 0.22: 20 shares, and 2 micro-shares more, whose 0.44 micro-USDC rounds away.
    assert (order["status"], order["size_matched"]) == ("MATCHED", "20.000002")


def test_realistic_settlement_goes_matched_mined_confirmed_over_four_seconds(
    realistic: RunningSimulator,
) -> None:
    alice = _trader(realistic, "alice")
    plain = market_by_slug(realistic, "fed-cut")
    answer = alice.client.create_and_post_market_order(
        MarketOrderArgsV2(token_id=plain.yes_token_id, amount=63, side="BUY"), order_type=OrderType.FOK
    )
    (trade_id,) = answer["tradeIDs"]

    def status() -> object:
        trade = realistic.exchange.trade(trade_id)
        assert trade is not None
        return trade["status"]

    assert status() == "MATCHED"
    realistic.exchange.advance_time(2.5)  # past half the 4 s: mined
    assert status() == "MINED"
    realistic.exchange.advance_time(2)  # past 4 s: final (seed 0 fails none of its first trades)
    assert status() == "CONFIRMED"
    assert realistic.exchange.balances(alice.address)["tokens"] == {plain.yes_token_id: Decimal(100)}


def test_a_post_whose_client_gives_up_during_the_latency_draw_is_still_executed(
    sim: RunningSimulator,
) -> None:
    """The profile's delay is spent after the request is read: the venue executes what a timed-out
    client sent (the client's read timeout here is 2 s, the fixture's)."""
    alice = _trader(sim, "alice")
    plain = market_by_slug(sim, "fed-cut")  # asks 1700 @ 0.63
    signed = alice.client.create_market_order(
        MarketOrderArgsV2(token_id=plain.yes_token_id, amount=63, side="BUY")
    )
    sim.exchange.faults.distribution = Latency(_spec(median=2.5), seed=0)
    with pytest.raises(PolyApiException, match="Request exception"):  # the client's word for a timeout
        alice.client.post_order(signed, OrderType.FOK)
    wait_for(lambda: bool(sim.exchange.orders(alice.address)), timeout=5)
    (order,) = sim.exchange.orders(alice.address)
    assert (order["status"], order["size_matched"]) == ("MATCHED", "100")  # 63 USDC at 0.63
