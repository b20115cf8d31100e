"""The rebalancer's decision (`server.domain.rebalance`) at each boundary, worked out by hand.

Unless a test says otherwise: venue minimum 5 shares, no fee, limit prices BUY YES 0.50, BUY NO 0.52,
SELL YES 0.48, SELL NO 0.46; hedgeRatio 1, hedgeMinShares 10, hedgeMaxDelayMs 1000; limits far away."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from server.domain.exposure import Position
from server.domain.in_flight import in_flight
from server.domain.pricing import MarketTerms
from server.domain.rebalance import (
    Hold,
    HoldReason,
    LimitPrices,
    MarketLimits,
    RebalanceOrder,
    RebalancePolicy,
    gap,
    rebalance,
    smallest_order,
)
from server.domain.types import Leg, Side

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
TERMS = MarketTerms("1", "2", D("0.01"), D(5), D(0), D(1))
PRICES = LimitPrices(buy_yes=D("0.50"), buy_no=D("0.52"), sell_yes=D("0.48"), sell_no=D("0.46"))
POLICY = RebalancePolicy(ratio=D(1), min_shares=D(10), max_delay_ms=1000)
FAR = MarketLimits(market_limit=D(10**6), total=D(0), total_limit=D(10**6))


def step(
    position: Position,
    *,
    waited_ms: int | None = None,
    policy: RebalancePolicy = POLICY,
    terms: MarketTerms = TERMS,
    prices: LimitPrices = PRICES,
    limits: MarketLimits = FAR,
    halted: bool = False,
):
    since = None if waited_ms is None else NOW - timedelta(milliseconds=waited_ms)
    return rebalance(
        position, policy, terms, prices, limits, oldest_unhedged_at=since, now=NOW, halted=halted
    )


def order(result) -> tuple[Leg, Side, D]:
    assert isinstance(result, RebalanceOrder), result
    return result.leg, result.side, result.size


def held(result) -> HoldReason:
    assert isinstance(result, Hold), result
    return result.reason


def test_a_flat_market_sends_nothing():
    assert held(step(Position())) is HoldReason.ON_TARGET
    # Less than a share quantum short is on target too.
    assert held(step(Position(user_shares=D("0.009")), waited_ms=5000)) is HoldReason.ON_TARGET


def test_below_the_venue_minimum_nothing_is_sent_however_long_it_waited():
    assert held(step(Position(user_shares=D("4.999")), waited_ms=10**6)) is HoldReason.BELOW_VENUE_MINIMUM
    assert held(step(Position(user_shares=D(3)), waited_ms=10**6)) is HoldReason.BELOW_VENUE_MINIMUM


def test_a_residual_of_at_least_the_venue_minimum_waits_for_hedge_max_delay():
    young = Position(user_shares=D(5))
    assert held(step(young)) is HoldReason.WAITING  # nothing waits: no age
    assert held(step(young, waited_ms=999)) is HoldReason.WAITING
    assert order(step(young, waited_ms=1000)) == (Leg.YES, Side.BUY, D(5))


def test_a_residual_reaching_hedge_min_shares_goes_at_once():
    assert held(step(Position(user_shares=D("9.99")))) is HoldReason.WAITING
    assert order(step(Position(user_shares=D(10)))) == (Leg.YES, Side.BUY, D(10))


def test_one_order_for_the_whole_gap_rounded_down_to_the_share_quantum():
    result = step(Position(user_shares=D("123.456")))
    assert order(result) == (Leg.YES, Side.BUY, D("123.45"))
    assert result.limit_price == D("0.50")
    assert result.gap == D("123.456")


def test_hedges_in_flight_count_as_held_so_nothing_is_hedged_twice():
    assert held(step(Position(user_shares=D(50), in_flight_delta=D(50)))) is HoldReason.ON_TARGET
    assert order(step(Position(user_shares=D(50), in_flight_delta=D(30)))) == (Leg.YES, Side.BUY, D(20))
    assert gap(Position(user_shares=D(50), hedge_yes=D(30), hedge_no=D(5), in_flight_delta=D(10)), D(1)) == D(
        15
    )


def test_over_the_target_yes_held_is_sold_before_no_is_bought():
    # Users sold back: owed 0 YES, the hedges hold 12 YES -> 12 over.
    assert order(step(Position(hedge_yes=D(12)))) == (Leg.YES, Side.SELL, D(12))
    # 20 over, 8 YES free to sell: sell the 8 now (the remaining 12 are bought as NO next time).
    assert order(step(Position(user_shares=D(-12), hedge_yes=D(8)))) == (Leg.YES, Side.SELL, D(8))
    # Owed -10, 12 YES held of which 8 are being sold (-8 in flight): 14 over. Only 4 YES free: too
    # few to sell, so NO is bought for the whole gap.
    reserved = Position(
        user_shares=D(-10), hedge_yes=D(12), yes_reserved_for_sale=D(8), in_flight_delta=D(-8)
    )
    assert order(step(reserved)) == (Leg.NO, Side.BUY, D(14))
    # Exactly the venue minimum free: sold.
    five = Position(user_shares=D(-10), hedge_yes=D(5))
    assert order(step(five)) == (Leg.YES, Side.SELL, D(5))
    assert order(step(Position(user_shares=D(-20)))) == (Leg.NO, Side.BUY, D(20))


def test_short_of_the_target_no_held_is_sold_before_yes_is_bought():
    # Owed 20 YES, the hedges hold 6 NO (-6): 26 short; sell the 6 NO first.
    result = step(Position(user_shares=D(20), hedge_no=D(6)))
    assert order(result) == (Leg.NO, Side.SELL, D(6))
    assert result.limit_price == D("0.46")
    assert result.after.no_reserved_for_sale == D(6)
    assert result.after.in_flight_delta == D(6)
    # 4.99 NO held: too few to sell; 20 + 4.99 short, all bought as YES.
    assert order(step(Position(user_shares=D(20), hedge_no=D("4.99")))) == (Leg.YES, Side.BUY, D("24.99"))


def test_partial_hedging_keeps_the_ratio():
    half = RebalancePolicy(ratio=D("0.5"), min_shares=D(10), max_delay_ms=1000)
    assert order(step(Position(user_shares=D(30)), policy=half)) == (Leg.YES, Side.BUY, D(15))
    assert held(step(Position(user_shares=D(30), hedge_yes=D(15)), policy=half)) is HoldReason.ON_TARGET
    # Ratio 0: hedges held are sold off.
    none = RebalancePolicy(ratio=D(0), min_shares=D(10), max_delay_ms=1000)
    assert held(step(Position(user_shares=D(300)), policy=none)) is HoldReason.ON_TARGET
    assert order(step(Position(user_shares=D(300), hedge_yes=D(10)), policy=none)) == (
        Leg.YES,
        Side.SELL,
        D(10),
    )


def test_a_marketable_buy_must_spend_one_usdc():
    cheap = LimitPrices(buy_yes=D("0.10"), buy_no=D("0.92"), sell_yes=D("0.09"), sell_no=D("0.89"))
    # 5 shares at 0.10 spend 0.50 USDC: a BUY needs 10 shares (1.00 USDC).
    assert smallest_order(Side.BUY, D("0.10"), D(5)) == D(10)
    assert smallest_order(Side.BUY, D("0.30"), D(5)) == D(5)  # 1.50 USDC
    assert smallest_order(Side.BUY, D("0.15"), D(5)) == D("6.67")  # 1 / 0.15 = 6.666.. up to the cent
    assert smallest_order(Side.SELL, D("0.01"), D(5)) == D(5)
    assert held(step(Position(user_shares=D("9.99")), waited_ms=1000, prices=cheap)) is (
        HoldReason.BELOW_VENUE_MINIMUM
    )
    assert order(step(Position(user_shares=D(10)), prices=cheap)) == (Leg.YES, Side.BUY, D(10))


def test_halted_sends_nothing():
    assert held(step(Position(user_shares=D(100)), halted=True)) is HoldReason.HALTED


def test_the_order_is_the_largest_that_keeps_the_limits_in_flight():
    # Fee rate 0.07 with exponent 0.5: a BUY in flight counts its fee on both outcomes, at its most per
    # USDC, at one tick: (0.01 x 0.99)^0.5 / 0.01 = 9.9498743..; x 0.07 = 0.6964912.. per USDC spent.
    # Users owe 100 YES and paid 10: loss if YES 90. A BUY of s YES at 0.50 adds to it, rounded up to
    # the cent: budget (0.5 s up to the cent) x 0.6964912 + 0.01. With the market limit at 100:
    #   s = 28.68: budget 14.34 -> 9.98768 + 0.01 = 9.99768 -> 10.00: loss 100.00, fits;
    #   s = 28.69: budget 14.35 (14.345 up) -> 9.99465 + 0.01 -> 10.01: loss 100.01, over.
    fees = MarketTerms("1", "2", D("0.01"), D(5), D("0.07"), D("0.5"))
    position = Position(user_shares=D(100), net_cash=D(10))
    limits = MarketLimits(market_limit=D(100), total=D(90), total_limit=D(10**6))
    result = step(position, terms=fees, limits=limits)
    assert order(result) == (Leg.YES, Side.BUY, D("28.68"))
    assert result.after.loss_if_yes == D("100.00")
    # The total limit binds the same way: 90 now, at most 100 after.
    by_total = MarketLimits(market_limit=D(10**6), total=D(90), total_limit=D(100))
    assert order(step(position, terms=fees, limits=by_total)) == (Leg.YES, Side.BUY, D("28.68"))
    # With room for the whole gap, the whole gap.
    roomy = MarketLimits(market_limit=D(200), total=D(90), total_limit=D(10**6))
    assert order(step(position, terms=fees, limits=roomy)) == (Leg.YES, Side.BUY, D(100))


def test_no_order_when_even_the_venue_minimum_breaks_a_limit():
    # As above: 5 shares spend 2.50 -> 1.74123 + 0.01 -> 1.76: loss 91.76. A limit of 91.75 refuses it;
    # 91.76 takes up to 5.02 shares (budget 2.51 -> 1.74819 + 0.01 -> 1.76), not 5.03 (budget 2.52 (2.515
    # up) -> 1.75516 + 0.01 -> 1.77).
    fees = MarketTerms("1", "2", D("0.01"), D(5), D("0.07"), D("0.5"))
    position = Position(user_shares=D(100), net_cash=D(10))
    tight = MarketLimits(market_limit=D("91.75"), total=D(90), total_limit=D(10**6))
    assert held(step(position, terms=fees, limits=tight)) is HoldReason.LIMITS
    exact = MarketLimits(market_limit=D("91.76"), total=D(90), total_limit=D(10**6))
    assert order(step(position, terms=fees, limits=exact)) == (Leg.YES, Side.BUY, D("5.02"))


def test_a_hedge_that_does_not_raise_exposure_passes_a_market_over_its_limit():
    # Users sold back 20 YES for 10 USDC with 20 YES held: loss if YES = 0 - 20 + 10 = -10, if NO = 10.
    # Selling the 20 YES in flight (no fee): if YES wins 20 x (1 - 0.48) + 0.01 = 10.41 -> loss 0.41;
    # if NO wins 0.01 more: 10.01 -> exposure 10 -> 10.01, over a limit of 10: refused. Of 10.01: sent.
    position = Position(user_shares=D(0), hedge_yes=D(20), net_cash=D(-10))
    assert position.exposure == D(10)
    at_ten = MarketLimits(market_limit=D(10), total=D(10), total_limit=D(10**6))
    assert held(step(position, limits=at_ten)) is HoldReason.LIMITS
    cent_more = MarketLimits(market_limit=D("10.01"), total=D(10), total_limit=D(10**6))
    result = step(position, limits=cent_more)
    assert order(result) == (Leg.YES, Side.SELL, D(20))
    assert (result.after.loss_if_yes, result.after.loss_if_no) == (D("0.41"), D("10.01"))


def test_a_sale_of_no_reserves_its_shares_until_its_result_replaces_them():
    sale = in_flight(Leg.NO, Side.SELL, D(6), D("0.46"), tick=D("0.01"), fee_rate=D(0), fee_exponent=D(1))
    sent = Position(hedge_no=D(10)).with_hedge_sent(sale)
    assert (sent.no_reserved_for_sale, sent.no_available, sent.yes_reserved_for_sale) == (D(6), D(4), D(0))
    # If NO wins the 6 shares sold would have paid 6 and brought at least 6 x 0.46 = 2.76: 3.24 + 0.01.
    assert (sent.in_flight_loss_if_no, sent.in_flight_loss_if_yes) == (D("3.25"), D("0.01"))
    done = sent.with_hedge_result(sale, filled=D(6), cost=D("2.76"), fee=D("0.01"))
    assert (done.hedge_no, done.net_cash, done.no_reserved_for_sale) == (D(4), D("2.75"), D(0))
    assert (done.in_flight_delta, done.in_flight_loss_if_no, done.in_flight_loss_if_yes) == (D(0), D(0), D(0))
