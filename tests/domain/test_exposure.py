"""A market's exposure: the worst-case loss over its two outcomes, worked out by hand."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from server.domain.exposure import Position, total_after
from server.domain.types import Leg, Side


def test_an_empty_position_has_no_exposure():
    p = Position()
    assert (p.loss_if_yes, p.loss_if_no, p.worst_case_loss, p.exposure) == (0, 0, 0, 0)


def test_losses_per_outcome():
    # Owes 100 shares, holds 30 YES and 20 NO, took 40 USDC net.
    p = Position(user_shares=D(100), hedge_yes=D(30), hedge_no=D(20), net_cash=D(40))
    assert p.loss_if_yes == D(30)  # pays 100, gets 30 from YES, keeps 40
    assert p.loss_if_no == D(-60)  # pays nothing, gets 20 from NO, keeps 40
    assert p.worst_case_loss == D(30)
    assert p.exposure == D(30)


def test_a_locked_in_profit_is_floored_at_zero_exposure():
    p = Position(user_shares=D(10), hedge_yes=D(10), net_cash=D(1))
    assert p.worst_case_loss == D(-1)
    assert p.exposure == 0


def test_the_no_outcome_can_be_the_worst():
    # Short 10 shares to users (they sold), paid 6 USDC: if NO the platform is out 6.
    p = Position(user_shares=D(-10), net_cash=D(-6))
    assert p.loss_if_yes == D(-4)
    assert p.loss_if_no == D(6)
    assert p.exposure == D(6)


def test_yes_available_excludes_shares_promised_to_sales():
    assert Position(hedge_yes=D(10), yes_reserved_for_sale=D(4)).yes_available == D(6)


def test_a_user_buy_adds_shares_owed_and_cash_taken():
    p = Position().with_user_trade(Side.BUY, D(100), D("0.49"))
    assert (p.user_shares, p.net_cash) == (D(100), D(49))
    assert p.exposure == D(51)  # pays 100 if YES, took 49


def test_a_user_sell_removes_shares_owed_and_pays_cash():
    p = Position(user_shares=D(100), net_cash=D(49)).with_user_trade(Side.SELL, D(40), D("0.43"))
    assert (p.user_shares, p.net_cash) == (D(60), D("31.80"))  # 49 - 40 x 0.43


def test_a_sale_reservation_adds_up():
    p = Position(yes_reserved_for_sale=D(3)).with_sale_reserved(D(7))
    assert p.yes_reserved_for_sale == D(10)
    assert p.hedge_yes == 0


def test_a_yes_buy_hedge_adds_shares_and_pays_cost_and_fee():
    p = Position(user_shares=D(100), net_cash=D(49)).with_hedge_result(
        Leg.YES, Side.BUY, planned=D(100), filled=D(90), cost=D("42.30"), fee=D("0.5")
    )
    assert (p.hedge_yes, p.hedge_no, p.net_cash) == (D(90), 0, D("6.20"))  # 49 - 42.30 - 0.5
    assert p.loss_if_yes == D("3.80")  # 100 - 90 - 6.20


def test_a_no_buy_hedge_adds_no_shares_and_pays_cost_and_fee():
    # The fee is paid (cash goes down) on the NO side too.
    p = Position(user_shares=D(-10), net_cash=D("-4.5")).with_hedge_result(
        Leg.NO, Side.BUY, planned=D(10), filled=D(10), cost=D("5.5"), fee=D("0.25")
    )
    assert (p.hedge_yes, p.hedge_no, p.net_cash) == (0, D(10), D("-10.25"))
    assert p.loss_if_yes == D("0.25")  # owes -10 if YES, holds no YES, cash -10.25
    assert p.loss_if_no == D("0.25")  # NO pays 10, cash -10.25


def test_a_yes_sell_hedge_removes_shares_takes_proceeds_less_fee_and_releases_its_reservation():
    before = Position(user_shares=D(60), hedge_yes=D(100), yes_reserved_for_sale=D(40), net_cash=D(-10))
    p = before.with_hedge_result(
        Leg.YES, Side.SELL, planned=D(40), filled=D(30), cost=D("13.5"), fee=D("0.2")
    )
    assert p.hedge_yes == D(70)
    assert p.yes_reserved_for_sale == 0  # the whole planned reservation goes, filled or not
    assert p.net_cash == D("3.3")  # -10 + 13.5 - 0.2
    assert p.hedge_no == 0


def test_a_hedge_that_filled_nothing_changes_nothing_but_a_sale_reservation():
    p = Position(user_shares=D(5), net_cash=D(2))
    assert p.with_hedge_result(Leg.YES, Side.BUY, planned=D(5), filled=D(0), cost=D(0), fee=D(0)) == p
    assert p.with_hedge_result(Leg.NO, Side.BUY, planned=D(5), filled=D(0), cost=D(0), fee=D(0)) == p


@pytest.mark.parametrize(
    ("total", "before", "after", "expected"),
    [
        ("100", Position(user_shares=D(10)), Position(user_shares=D(30)), "120"),
        ("100", Position(user_shares=D(30)), Position(user_shares=D(10)), "80"),
        # A market going from a locked-in profit to a loss adds only the loss.
        ("100", Position(net_cash=D(5)), Position(user_shares=D(8)), "108"),
        ("100", Position(user_shares=D(8)), Position(net_cash=D(5)), "92"),
    ],
)
def test_total_after_swaps_the_market_s_exposure(total, before, after, expected):
    assert total_after(D(total), before, after) == D(expected)
