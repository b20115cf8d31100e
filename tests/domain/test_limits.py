"""Pre-trade checks at, and one tick either side of, each limit."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from server.domain.exposure import Position
from server.domain.limits import (
    MIN_MARKETABLE_BUY,
    Limits,
    check_breaker,
    check_exposure,
    check_size,
    check_venue_minimum,
    hedge_budget,
)
from server.domain.types import BreakerLevel, RejectReason

LIMITS = Limits(max_position_size=D(1000), min_order_size=D(5), market_limit=D(500), total_limit=D(2000))


def exposed(amount: str) -> Position:
    """A position whose exposure is `amount` (shares owed, nothing taken)."""
    return Position(user_shares=D(amount))


# --- size


@pytest.mark.parametrize("size", ["5", "5.01", "999.99", "1000"])
def test_sizes_within_the_limits_pass(size):
    assert check_size(D(size), LIMITS) is None


def test_one_tick_above_max_position_size_is_too_large():
    problem = check_size(D("1000.01"), LIMITS)
    assert problem is not None
    assert problem.reason is RejectReason.SIZE_TOO_LARGE
    assert "1000.01" in problem.message and "maxPositionSize 1000" in problem.message


@pytest.mark.parametrize("size", ["4.99", "0.01", "0"])
def test_below_the_venue_minimum_is_too_small(size):
    problem = check_size(D(size), LIMITS)
    assert problem is not None
    assert problem.reason is RejectReason.SIZE_TOO_SMALL
    assert f"size {size} " in problem.message and "minimum order size 5" in problem.message


# --- breaker


def test_halted_refuses_even_a_reducing_order():
    problem = check_breaker(BreakerLevel.HALTED, exposed("10"), exposed("5"))
    assert problem is not None and problem.reason is RejectReason.HALTED
    assert problem.message == "trading is halted by a circuit breaker"


def test_reducing_accepts_an_order_that_lowers_exposure_by_one_cent():
    assert check_breaker(BreakerLevel.REDUCING, exposed("10"), exposed("9.99")) is None


def test_reducing_refuses_an_order_that_leaves_exposure_unchanged():
    problem = check_breaker(BreakerLevel.REDUCING, exposed("10"), exposed("10"))
    assert problem is not None and problem.reason is RejectReason.REDUCE_ONLY
    assert problem.message == "only orders that lower exposure are accepted now"


def test_reducing_refuses_an_order_that_raises_exposure():
    problem = check_breaker(BreakerLevel.REDUCING, exposed("10"), exposed("10.01"))
    assert problem is not None and problem.reason is RejectReason.REDUCE_ONLY


def test_active_accepts_anything():
    assert check_breaker(BreakerLevel.ACTIVE, exposed("0"), exposed("1000000")) is None


# --- exposure


def test_an_order_that_does_not_raise_exposure_is_never_refused_by_a_limit():
    # Far over both limits, but lower (or equal) after: it can only help.
    assert check_exposure(exposed("900"), exposed("800"), D(5000), D(4900), LIMITS) is None
    assert check_exposure(exposed("900"), exposed("900"), D(5000), D(5000), LIMITS) is None


def test_market_exposure_equal_to_its_limit_passes_and_one_cent_more_does_not():
    assert check_exposure(exposed("0"), exposed("500"), D(0), D(500), LIMITS) is None
    problem = check_exposure(exposed("0"), exposed("500.01"), D(0), D("500.01"), LIMITS)
    assert problem is not None
    assert problem.reason is RejectReason.MARKET_EXPOSURE_LIMIT
    assert "500.01" in problem.message and "limit 500" in problem.message


def test_total_exposure_equal_to_its_limit_passes_and_one_cent_more_does_not():
    assert check_exposure(exposed("0"), exposed("100"), D(1900), D(2000), LIMITS) is None
    problem = check_exposure(exposed("0"), exposed("100"), D("1900.01"), D("2000.01"), LIMITS)
    assert problem is not None
    assert problem.reason is RejectReason.TOTAL_EXPOSURE_LIMIT
    assert "2000.01" in problem.message and "maxUnhedgedExposure 2000" in problem.message


def test_the_market_limit_is_checked_before_the_total():
    problem = check_exposure(exposed("0"), exposed("600"), D(1900), D(2500), LIMITS)
    assert problem is not None and problem.reason is RejectReason.MARKET_EXPOSURE_LIMIT


def test_a_raise_from_a_locked_in_profit_counts_only_the_loss():
    # From -50 (floored at 0) to 0: exposure does not rise, so no limit applies.
    locked = Position(net_cash=D(50))
    assert check_exposure(locked, Position(), D(2000), D(2000), LIMITS) is None


# --- the venue's minimum for marketable buys


@pytest.mark.parametrize(
    ("size", "price", "budget"),
    [
        ("10", "0.1", "1.00"),
        ("3", "0.333", "1.00"),  # 0.999 rounds UP to whole cents
        ("3", "0.331", "1.00"),  # 0.993
        ("7", "0.143", "1.01"),  # 1.001
        ("5", "0.19", "0.95"),
        ("0.01", "0.01", "0.01"),  # 0.0001 still costs a cent
    ],
)
def test_hedge_budget_rounds_up_to_the_cent(size, price, budget):
    assert hedge_budget(D(size), D(price)) == D(budget)


def test_a_buy_hedge_of_exactly_one_dollar_passes_and_one_cent_less_does_not():
    assert MIN_MARKETABLE_BUY == D(1)
    assert check_venue_minimum(True, D(10), D("0.10")) is None
    problem = check_venue_minimum(True, D(11), D("0.09"))  # 0.99
    assert problem is not None
    assert problem.reason is RejectReason.SIZE_TOO_SMALL
    assert "0.99 USDC" in problem.message and "1 USDC minimum" in problem.message


def test_a_sell_hedge_has_no_dollar_minimum():
    assert check_venue_minimum(False, D(1), D("0.01")) is None
