"""The worst an in-flight hedge can add to each outcome's loss: hand-worked bounds, and a property that
no fill within the hedge's limit and budget, fees included, ever adds more."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain.exposure import Position
from server.domain.in_flight import in_flight
from server.domain.types import Leg, Side

D = Decimal
TICK = D("0.01")


def bound(leg: Leg, side: Side, size: str, limit: str, rate: str = "0", exponent: str = "1"):
    return in_flight(leg, side, D(size), D(limit), tick=TICK, fee_rate=D(rate), fee_exponent=D(exponent))


def test_a_fee_free_yes_buy_can_lose_its_whole_budget_if_no_wins_and_nothing_if_yes_wins():
    hedge = bound(Leg.YES, Side.BUY, "100", "0.5")
    # Budget 100 x 0.5 = 50.00 USDC; plus the cent of fee rounding allowance on both sides.
    assert (hedge.loss_if_yes, hedge.loss_if_no) == (D("0.01"), D("50.01"))
    assert hedge.delta == D(100)


def test_the_budget_is_rounded_up_to_the_cent_before_it_is_counted():
    hedge = bound(Leg.YES, Side.BUY, "33", "0.972")
    # 33 x 0.972 = 32.076 -> the hedge may spend 32.08; + 0.01 allowance.
    assert hedge.loss_if_no == D("32.09")


def test_a_fee_bound_takes_the_price_that_makes_the_most_fee_per_usdc():
    # Exponent 1: fee per USDC is rate x (1 - p), highest at the lowest price, one tick:
    # 50 x 0.07 x 0.99 = 3.465; 50 + 3.465 + 0.01 = 53.475 -> 53.48 (rounded up).
    fee_market = bound(Leg.YES, Side.BUY, "100", "0.5", "0.07", "1")
    # If YES wins every share pays 1, more than its price and fee: only the rounding allowance.
    assert (fee_market.loss_if_yes, fee_market.loss_if_no) == (D("0.01"), D("53.48"))
    # Exponent 2: rate x p (1 - p)^2 peaks at p = 1/3: 4/27 = 0.148148...; 50 x 0.07 x 4/27 =
    # 0.5185...; 50.5285... -> 50.53.
    assert bound(Leg.YES, Side.BUY, "100", "0.5", "0.07", "2").loss_if_no == D("50.53")
    # With the limit below the peak (0.2 < 1/3) the limit itself: 0.2 x 0.8^2 = 0.128; budget 20:
    # 20 x 0.07 x 0.128 = 0.1792; 20.1892 -> 20.19.
    assert bound(Leg.YES, Side.BUY, "100", "0.2", "0.07", "2").loss_if_no == D("20.19")


def test_a_no_buy_risks_its_budget_if_yes_wins():
    hedge = bound(Leg.NO, Side.BUY, "10", "0.3")
    assert (hedge.loss_if_yes, hedge.loss_if_no) == (D("3.01"), D("0.01"))
    assert hedge.delta == D(-10)


def test_a_yes_sale_risks_the_shares_value_above_its_limit_if_yes_wins():
    hedge = bound(Leg.YES, Side.SELL, "10", "0.6", "0.07", "1")
    # 10 x (1 - 0.6) = 4; fee at most 10 x 0.07 x (0.6 x 0.4) = 0.168; + 0.01 -> 4.178 -> 4.18.
    assert (hedge.loss_if_yes, hedge.loss_if_no) == (D("4.18"), D("0.01"))
    assert hedge.delta == D(-10)


def test_a_hedge_in_flight_counts_at_its_worst_until_its_fill_replaces_it():
    booked = Position(user_shares=D(100), net_cash=D(55))  # a user bought 100 YES at 0.55
    sent = booked.with_hedge_sent(bound(Leg.YES, Side.BUY, "100", "0.5"))
    # YES: 100 owed - 55 taken + 0.01; NO: -55 + 50.01.
    assert (sent.loss_if_yes, sent.loss_if_no, sent.exposure) == (D("45.01"), D("-4.99"), D("45.01"))
    assert sent.unhedged_shares == 0
    filled = sent.with_hedge_result(
        bound(Leg.YES, Side.BUY, "100", "0.5"), filled=D(100), cost=D(48), fee=D(0)
    )
    # 100 YES held, 55 - 48 = 7 USDC net: -7 whichever outcome.
    assert (filled.loss_if_yes, filled.loss_if_no, filled.exposure) == (D(-7), D(-7), D(0))
    assert (filled.in_flight_delta, filled.in_flight_loss_if_yes, filled.in_flight_loss_if_no) == (0, 0, 0)
    failed = sent.with_hedge_result(bound(Leg.YES, Side.BUY, "100", "0.5"), filled=D(0), cost=D(0), fee=D(0))
    assert failed == booked


def test_a_sale_in_flight_reserves_its_shares_and_releases_them_with_its_result():
    held = Position(user_shares=D(10), hedge_yes=D(10), net_cash=D(1))
    hedge = bound(Leg.YES, Side.SELL, "10", "0.6")
    sent = held.with_hedge_sent(hedge)
    assert (sent.yes_reserved_for_sale, sent.yes_available) == (D(10), D(0))
    done = sent.with_hedge_result(hedge, filled=D(10), cost=D(6), fee=D(0))
    assert (done.hedge_yes, done.yes_reserved_for_sale, done.net_cash) == (D(0), D(0), D(7))


def _venue_fee(shares: Decimal, price: Decimal, rate: Decimal, exponent: int) -> Decimal:
    """The venue's documented fee for one fill, written out here: shares x rate x (p(1-p))^e,
    rounded half up to 0.00001, at least 0.00001 on fee-charging markets."""
    raw = shares * rate * (price * (1 - price)) ** exponent
    if raw <= 0:
        return D(0)
    return max(raw.quantize(D("0.00001"), rounding=ROUND_HALF_UP), D("0.00001"))


prices = st.integers(min_value=1, max_value=99).map(lambda n: D(n) / 100)


@settings(max_examples=300, deadline=None)
@given(
    leg=st.sampled_from([Leg.YES, Leg.NO]),
    size=st.integers(min_value=5, max_value=500),
    limit=prices,
    rate=st.sampled_from([D(0), D("0.02"), D("0.07")]),
    exponent=st.sampled_from([1, 2]),
    fills=st.lists(st.tuples(prices, st.integers(min_value=1, max_value=100)), min_size=1, max_size=6),
)
def test_no_buy_fill_within_limit_and_budget_adds_more_than_the_bound(
    leg, size, limit, rate, exponent, fills
):
    hedge = in_flight(leg, Side.BUY, D(size), limit, tick=TICK, fee_rate=rate, fee_exponent=D(exponent))
    budget = (D(size) * limit).quantize(D("0.01"), rounding="ROUND_CEILING")
    spent = shares = fees = D(0)
    for price, weight in fills:
        price = min(price, limit)
        take = min(D(weight) / 10, (budget - spent) / price).quantize(D("0.0001"), rounding="ROUND_DOWN")
        if take <= 0:
            break
        spent += take * price
        shares += take
        fees += _venue_fee(take, price, rate, exponent)
    paid_outcome = shares - spent - fees  # what the bought token's outcome gains
    unpaid_outcome = spent + fees  # what the other outcome loses
    yes_added, no_added = (
        (-paid_outcome, unpaid_outcome) if leg is Leg.YES else (unpaid_outcome, -paid_outcome)
    )
    assert yes_added <= hedge.loss_if_yes
    assert no_added <= hedge.loss_if_no


@settings(max_examples=300, deadline=None)
@given(
    size=st.integers(min_value=5, max_value=500),
    limit=prices,
    rate=st.sampled_from([D(0), D("0.02"), D("0.07")]),
    exponent=st.sampled_from([1, 2]),
    fills=st.lists(st.tuples(prices, st.integers(min_value=1, max_value=100)), min_size=1, max_size=6),
)
def test_no_sale_within_limit_adds_more_than_the_bound(size, limit, rate, exponent, fills):
    hedge = in_flight(Leg.YES, Side.SELL, D(size), limit, tick=TICK, fee_rate=rate, fee_exponent=D(exponent))
    sold = proceeds = fees = D(0)
    for price, weight in fills:
        price = max(price, limit)
        take = min(D(weight) / 10, D(size) - sold)
        if take <= 0:
            break
        sold += take
        proceeds += take * price
        fees += _venue_fee(take, price, rate, exponent)
    assert sold - proceeds + fees <= hedge.loss_if_yes  # YES wins: the shares sold would have paid 1
    assert -proceeds + fees <= hedge.loss_if_no
