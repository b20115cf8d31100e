"""A market's exposure: the worst-case loss over its two outcomes, worked out by hand."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from server.domain.exposure import Position, total_after
from server.domain.in_flight import InFlight
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


def sent(leg: Leg, side: Side, size: str, if_yes: str = "0", if_no: str = "0") -> InFlight:
    """A hedge in flight with the bounds given here (how they are worked out is test_in_flight's)."""
    return InFlight(leg, side, D(size), D(if_yes), D(if_no))


def test_a_hedge_in_flight_adds_its_worst_to_each_outcome_and_covers_its_shares():
    p = Position(user_shares=D(100), net_cash=D(49)).with_hedge_sent(
        sent(Leg.YES, Side.BUY, "100", "0.02", "49.5")
    )
    assert p.loss_if_yes == D("51.02")  # 100 - 49 + 0.02
    assert p.loss_if_no == D("0.5")  # -49 + 49.5
    assert p.exposure == D("51.02")
    assert p.unhedged_shares == 0  # the 100 owed are covered by the 100 in flight
    assert p.yes_reserved_for_sale == 0


def test_a_sale_in_flight_reserves_its_shares_and_uncovers_them():
    p = Position(user_shares=D(10), hedge_yes=D(50)).with_hedge_sent(
        sent(Leg.YES, Side.SELL, "30", "3", "0.01")
    )
    assert p.yes_reserved_for_sale == D(30)
    assert p.yes_available == D(20)
    assert p.unhedged_shares == D(-10)  # owes 10, holds 50, selling 30: long 10 YES
    assert (p.loss_if_yes, p.loss_if_no) == (D(-37), D("0.01"))  # 10 - 50 + 3; 0 + 0.01


def test_a_no_buy_in_flight_covers_as_a_short_yes():
    p = Position(user_shares=D(-20)).with_hedge_sent(sent(Leg.NO, Side.BUY, "20", "11", "0.01"))
    assert p.unhedged_shares == 0  # users sold 20 back; 20 NO would hold the other side
    assert p.in_flight_delta == D(-20)


def test_unhedged_shares_count_held_yes_and_no():
    assert Position(user_shares=D(100), hedge_yes=D(30), hedge_no=D(20)).unhedged_shares == D(90)


def test_a_yes_buy_hedge_adds_shares_and_pays_cost_and_fee():
    hedge = sent(Leg.YES, Side.BUY, "100", "0.02", "49.5")
    p = (
        Position(user_shares=D(100), net_cash=D(49))
        .with_hedge_sent(hedge)
        .with_hedge_result(hedge, filled=D(90), cost=D("42.30"), fee=D("0.5"))
    )
    assert p == Position(user_shares=D(100), hedge_yes=D(90), net_cash=D("6.20"))  # 49 - 42.30 - 0.5
    assert p.loss_if_yes == D("3.80")  # 100 - 90 - 6.20


def test_a_no_buy_hedge_adds_no_shares_and_pays_cost_and_fee():
    # The fee is paid (cash goes down) on the NO side too.
    hedge = sent(Leg.NO, Side.BUY, "10", "5.6", "0.01")
    p = (
        Position(user_shares=D(-10), net_cash=D("-4.5"))
        .with_hedge_sent(hedge)
        .with_hedge_result(hedge, filled=D(10), cost=D("5.5"), fee=D("0.25"))
    )
    assert p == Position(user_shares=D(-10), hedge_no=D(10), net_cash=D("-10.25"))
    assert p.loss_if_yes == D("0.25")  # owes -10 if YES, holds no YES, cash -10.25
    assert p.loss_if_no == D("0.25")  # NO pays 10, cash -10.25


def test_a_yes_sell_hedge_removes_shares_takes_proceeds_less_fee_and_releases_its_reservation():
    hedge = sent(Leg.YES, Side.SELL, "40", "22", "0.01")
    before = Position(user_shares=D(60), hedge_yes=D(100), net_cash=D(-10))
    p = before.with_hedge_sent(hedge).with_hedge_result(hedge, filled=D(30), cost=D("13.5"), fee=D("0.2"))
    # The whole reservation goes, filled or not: 100 - 30 held, -10 + 13.5 - 0.2 in hand.
    assert p == Position(user_shares=D(60), hedge_yes=D(70), net_cash=D("3.3"))


def test_a_hedge_that_filled_nothing_leaves_the_position_as_before_it_was_sent():
    p = Position(user_shares=D(5), hedge_yes=D(5), net_cash=D(2))
    for hedge in (
        sent(Leg.YES, Side.BUY, "5", "1", "2"),
        sent(Leg.NO, Side.BUY, "5", "3", "1"),
        sent(Leg.YES, Side.SELL, "5", "4", "1"),
    ):
        assert p.with_hedge_sent(hedge).with_hedge_result(hedge, filled=D(0), cost=D(0), fee=D(0)) == p


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
