"""Properties of the rebalancer's decision over random markets: it never leaves exposure above the limits
it was given, never sends an order below the venue's minimum nor beyond its gap, converges to the
target ratio over repeated steps with fills, and nets a buy-then-opposite-sell pair to no venue order.
The checks are written out here from the definitions, not taken from `rebalance`'s own results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from server.domain.exposure import Position
from server.domain.in_flight import in_flight
from server.domain.pricing import MarketTerms
from server.domain.rebalance import (
    Hold,
    LimitPrices,
    MarketLimits,
    RebalanceOrder,
    RebalancePolicy,
    rebalance,
)
from server.domain.types import Leg, Side

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=1)
CENT = Decimal("0.01")
ONE = Decimal(1)
VENUE_MIN = Decimal(5)
FAR = MarketLimits(Decimal(10**9), Decimal(0), Decimal(10**9))


def cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low * 100, high * 100).map(lambda n: Decimal(n) / 100)


@st.composite
def markets(draw):
    position = Position(
        user_shares=draw(cents(-500, 500)),
        hedge_yes=draw(cents(0, 300)),
        hedge_no=draw(cents(0, 300)),
        net_cash=draw(cents(-300, 300)),
    )
    policy = RebalancePolicy(
        ratio=Decimal(draw(st.integers(0, 100))) / 100,
        min_shares=draw(cents(5, 50)),
        max_delay_ms=draw(st.integers(0, 5000)),
    )
    terms = MarketTerms(
        "1",
        "2",
        CENT,
        VENUE_MIN,
        draw(st.sampled_from([Decimal(0), Decimal("0.02"), Decimal("0.07")])),
        draw(st.sampled_from([Decimal(1), Decimal("0.5"), Decimal(2)])),
    )
    p = Decimal(draw(st.integers(5, 95))) / 100
    prices = LimitPrices(
        buy_yes=p,
        buy_no=min(ONE - p + 2 * CENT, Decimal("0.99")),
        sell_yes=max(p - 2 * CENT, CENT),
        sell_no=max(ONE - p - 4 * CENT, CENT),
    )
    return position, policy, terms, prices


def step(position, policy, terms, prices, limits=FAR, since=LONG_AGO):
    return rebalance(position, policy, terms, prices, limits, oldest_unhedged_at=since, now=NOW)


def booked(position: Position, result: RebalanceOrder, terms: MarketTerms) -> Position:
    bound = in_flight(
        result.leg,
        result.side,
        result.size,
        result.limit_price,
        tick=terms.tick_size,
        fee_rate=terms.fee_rate,
        fee_exponent=terms.fee_exponent,
    )
    return position.with_hedge_sent(bound)


def held_delta(position: Position) -> Decimal:
    return position.hedge_yes - position.hedge_no + position.in_flight_delta


def order_delta(result: RebalanceOrder) -> Decimal:
    gives_yes = (result.leg is Leg.YES) == (result.side is Side.BUY)
    return result.size if gives_yes else -result.size


@given(markets(), cents(0, 400), cents(0, 400), cents(0, 2000))
def test_never_above_the_limits_never_below_the_minimum_never_beyond_the_gap(
    market, market_room, total_room, elsewhere
):
    position, policy, terms, prices = market
    total = position.exposure + elsewhere
    limits = MarketLimits(position.exposure + market_room - 50, total, total + total_room - 50)
    result = step(position, policy, terms, prices, limits)
    if isinstance(result, Hold):
        return
    after = booked(position, result, terms)
    total_after = total - position.exposure + after.exposure
    assert after.exposure <= position.exposure or (
        after.exposure <= limits.market_limit and total_after <= limits.total_limit
    )
    assert result.size >= VENUE_MIN
    if result.side is Side.BUY:
        assert (result.size * result.limit_price).quantize(CENT, rounding="ROUND_CEILING") >= ONE
    else:
        held = (
            position.hedge_yes - position.yes_reserved_for_sale
            if result.leg is Leg.YES
            else position.hedge_no
        )
        assert result.size <= held
    short = policy.ratio * position.user_shares - held_delta(position)
    # Towards the target, never past it: no new risk.
    assert abs(order_delta(result)) <= abs(short)
    assert (order_delta(result) > 0) == (short > 0)


@given(markets())
def test_repeated_steps_with_fills_reach_the_target_ratio(market):
    position, policy, terms, prices = market
    sent = 0
    for _ in range(4):
        result = step(position, policy, terms, prices)
        if isinstance(result, Hold):
            break
        sent += 1
        bound = in_flight(
            result.leg,
            result.side,
            result.size,
            result.limit_price,
            tick=CENT,
            fee_rate=terms.fee_rate,
            fee_exponent=terms.fee_exponent,
        )
        filled = position.with_hedge_sent(bound)
        position = filled.with_hedge_result(
            bound, filled=result.size, cost=result.size * result.limit_price, fee=Decimal(0)
        )
    assert isinstance(result, Hold)
    assert sent <= 2  # at most: sell what inventory there is, then buy the rest
    short = policy.ratio * position.user_shares - held_delta(position)
    # What is left is too small for the venue: under its minimum, or under 1 USDC for the BUY it needs.
    buy_price = prices.buy_yes if short > 0 else prices.buy_no
    assert abs(short) < max(VENUE_MIN, ONE / buy_price + CENT)


@given(cents(0, 1000), cents(0, 1000), st.integers(1, 99), st.integers(1, 99), cents(5, 50))
def test_a_buy_then_an_opposite_sell_makes_no_venue_order(owed, size, buy_cents, sell_cents, min_shares):
    # A fully hedged market; one user buys `size`, another sells as many: nothing to hedge, whether the
    # rebalancer looks before the sale (the buy alone is young and below hedgeMinShares) or after.
    terms = MarketTerms("1", "2", CENT, VENUE_MIN, Decimal(0), Decimal(1))
    prices = LimitPrices(Decimal("0.5"), Decimal("0.52"), Decimal("0.48"), Decimal("0.46"))
    policy = RebalancePolicy(ONE, min_shares, 1000)
    start = Position(user_shares=owed, hedge_yes=owed)
    bought = start.with_user_trade(Side.BUY, size, Decimal(buy_cents) / 100)
    if size < min_shares:
        assert isinstance(step(bought, policy, terms, prices, since=NOW), Hold)
    both = bought.with_user_trade(Side.SELL, size, Decimal(sell_cents) / 100)
    assert isinstance(step(both, policy, terms, prices, since=LONG_AGO), Hold)
