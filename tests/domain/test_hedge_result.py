"""Profit per hedge counts the user's shares only; expected figures are worked out by hand below."""

from __future__ import annotations

from decimal import Decimal

import pytest

from server.domain.hedge_result import (
    HedgeResult,
    Profit,
    order_hedge_status,
    profit,
    shown_fill_price,
    status_for_fill,
)
from server.domain.types import HedgeStatus, Leg, OrderHedgeStatus, Side

D = Decimal


def test_a_buy_hedge_that_got_more_shares_than_the_user_bought_earns_on_the_users_shares_only():
    # The user buys 10 at 0.55; the hedge's budget bought 12.5 at 0.50 (6.25 USDC) and paid 0.25 fee.
    # The user's 10 shares carry 10/12.5 = 0.8 of the cost (5.00) and of the fee (0.20):
    # 10 x 0.55 - 5.00 = 0.50 captured, 0.50 - 0.20 = 0.30 net. (Counting all 12.5 shares as sold to
    # the user would give 12.5 x 0.55 - 6.25 = 0.625.)
    got = profit(Leg.YES, Side.BUY, D("0.55"), D("10"), D("12.5"), D("6.25"), D("0.25"))
    assert got == Profit(D("0.50"), D("0.30"))


def test_the_issues_example_of_33_shares_hedged_by_33_19():
    # 30 @ 0.972 + 3.19 @ 0.978 = 29.16 + 3.11982 = 32.27982 USDC, no fee; the user paid 0.992 for 33.
    # The user's shares cost 32.27982 x 33 / 33.19 = 1065.23406 / 33.19 = 32.095030430...,
    # so 32.736 - 32.095030430... = 0.640969569...
    got = profit(Leg.YES, Side.BUY, D("0.992"), D("33"), D("33.19"), D("32.27982"), D("0"))
    assert abs(got.spread_captured - D("0.640969569")) < D("1e-9")
    assert got.net_profit == got.spread_captured


def test_a_sell_hedged_by_selling_yes_earns_the_proceeds_over_what_the_user_was_paid():
    # 20 sold at 0.61 bring 12.20; the user got 0.59 x 20 = 11.80; fee 0.10.
    got = profit(Leg.YES, Side.SELL, D("0.59"), D("20"), D("20"), D("12.20"), D("0.10"))
    assert got == Profit(D("0.40"), D("0.30"))


def test_a_sell_hedged_by_buying_no_counts_the_users_shares_of_the_no_bought():
    # The user sells 50 YES at 0.59: each is worth 1 - 0.59 = 0.41 against a NO bought. The hedge got
    # 50.5 NO at 0.39 = 19.695 USDC and paid 0.101 fee; the user's 50 carry 50/50.5 of each:
    # 19.695 x 50 / 50.5 = 19.50 and 0.101 x 50 / 50.5 = 0.10. 50 x 0.41 - 19.50 = 1.00; net 0.90.
    got = profit(Leg.NO, Side.BUY, D("0.59"), D("50"), D("50.5"), D("19.695"), D("0.101"))
    assert got == Profit(D("1.00"), D("0.90"))


def test_a_partial_fill_counts_every_filled_share_as_the_users():
    # 4 of 10 filled at 0.60 (2.40) with 0.04 fee; user price 0.65: 2.60 - 2.40 = 0.20; net 0.16.
    got = profit(Leg.YES, Side.BUY, D("0.65"), D("10"), D("4"), D("2.40"), D("0.04"))
    assert got == Profit(D("0.20"), D("0.16"))


def test_nothing_filled_earns_nothing():
    assert profit(Leg.YES, Side.BUY, D("0.65"), D("10"), D("0"), D("0"), D("0")) == Profit(D(0), D(0))


def test_the_fill_price_shown_is_rounded_to_six_decimals():
    # 32.27982 / 33.19 = 0.97257667972...: shown as 0.972577.
    assert shown_fill_price(D("32.27982") / D("33.19")) == D("0.972577")
    assert shown_fill_price(D("0.5")) == D("0.500000")
    assert shown_fill_price(None) is None


@pytest.mark.parametrize(
    ("planned", "filled", "status"),
    [
        ("10", "10", HedgeStatus.HEDGED),
        ("10", "10.01", HedgeStatus.HEDGED),
        ("10", "9.99", HedgeStatus.PARTIAL),
        ("10", "0.01", HedgeStatus.PARTIAL),
        ("10", "0", HedgeStatus.FAILED),
    ],
)
def test_status_for_fill(planned, filled, status):
    assert status_for_fill(D(planned), D(filled)) is status


def test_fill_price_is_the_average_and_none_without_a_fill():
    assert HedgeResult(HedgeStatus.HEDGED, D(4), D("1.70"), D(0)).fill_price == D("0.425")
    assert HedgeResult(HedgeStatus.FAILED, D(0), D(0), D(0)).fill_price is None


def test_no_hedges_is_not_attempted():
    assert order_hedge_status([]) is OrderHedgeStatus.NOT_ATTEMPTED


@pytest.mark.parametrize(
    ("latest", "shown"),
    [
        (HedgeStatus.PENDING, OrderHedgeStatus.PENDING),
        (HedgeStatus.UNKNOWN, OrderHedgeStatus.UNKNOWN),
        (HedgeStatus.HEDGED, OrderHedgeStatus.HEDGED),
        (HedgeStatus.PARTIAL, OrderHedgeStatus.PARTIALLY_HEDGED),
        (HedgeStatus.FAILED, OrderHedgeStatus.UNHEDGED),
        (HedgeStatus.PAPER, OrderHedgeStatus.PAPER),
    ],
)
def test_the_newest_hedge_decides_the_order_s_status(latest, shown):
    assert order_hedge_status([HedgeStatus.FAILED, latest]) is shown
    assert order_hedge_status([latest]) is shown


def test_only_pending_and_unknown_are_open():
    assert {s for s in HedgeStatus if s.is_open} == {HedgeStatus.PENDING, HedgeStatus.UNKNOWN}
