"""Settlement of a hedge's trades on chain: a live hedge that filled is recorded SETTLING, a FAILED trade
takes its shares, cost and fee out of the fill (never below what is confirmed), and SETTLED is final.
Every figure is worked out by hand in the comments."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from server.domain.exposure import Position
from server.domain.hedge import Hedge, SignedIntent, TradeFill
from server.domain.hedge_result import HedgeResult
from server.domain.in_flight import InFlight
from server.domain.types import HedgeStatus, Leg, Settlement, Side
from server.errors import TransitionRefused

D = Decimal
BOOKED = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
MATCHED = BOOKED + timedelta(seconds=1)
LATER = BOOKED + timedelta(seconds=5)
SIGNED = SignedIntent("0x" + "cd" * 32, '{"order": 2}')
# A user bought 10 YES at 0.60; the hedge buys 10 YES, limit 0.58.
FLIGHT = InFlight(Leg.YES, Side.BUY, D(10), D("0.02"), D("5.92"))
# The venue matched it in two trades: 6 shares at 0.54 (3.24 USDC, fee 0.06) and 4 at 0.57 (2.28, 0.04).
A = TradeFill("trade-a", D(6), D("3.24"), D("0.06"))
B = TradeFill("trade-b", D(4), D("2.28"), D("0.04"))


def booked(flight: InFlight = FLIGHT, signed: SignedIntent | None = SIGNED) -> Hedge:
    return Hedge.pending(
        id="h-1",
        order_id="o-1",
        mapping_id=7,
        parent_hedge_id=None,
        token_id="yes-token",
        leg=flight.leg,
        side=flight.side,
        user_price=D("0.60"),
        quoted_price=D("0.55"),
        limit_price=D("0.58"),
        order_type="FAK",
        flight=flight,
        signed=signed,
        now=BOOKED,
    )


def matched(trade_ids: tuple[str, ...] = ("trade-a", "trade-b")) -> Hedge:
    # 10 shares for 3.24 + 2.28 = 5.52 USDC and 0.06 + 0.04 = 0.10 of fees.
    return booked().settled(
        HedgeResult(HedgeStatus.HEDGED, D(10), D("5.52"), D("0.10"), None, trade_ids), MATCHED
    )


# --- recorded at MATCHED -----------------------------------------------------------------------------
def test_a_fill_with_trades_is_recorded_hedged_and_settling():
    hedge = matched()
    assert (hedge.status, hedge.settlement) == (HedgeStatus.HEDGED, Settlement.SETTLING)
    assert (hedge.filled_size, hedge.fill_cost, hedge.fee) == (D(10), D("5.52"), D("0.10"))
    # 0.60 x 10 - 5.52 = 0.48 captured; 0.48 - 0.10 = 0.38 net.
    assert (hedge.spread_captured, hedge.net_profit) == (D("0.48"), D("0.38"))


def test_nothing_to_follow_without_trade_ids_or_without_a_fill():
    assert matched(trade_ids=()).settlement is None
    nothing = booked().settled(HedgeResult(HedgeStatus.FAILED, D(0), D(0), D(0), "killed", ("t",)), MATCHED)
    assert nothing.settlement is None


def test_a_paper_fill_has_nothing_to_settle():
    paper = booked(signed=None).paper_filled(HedgeResult(HedgeStatus.PAPER, D(10), D("5.52"), D(0)), MATCHED)
    assert paper.settlement is None


# --- a FAILED trade ----------------------------------------------------------------------------------
def test_a_failed_trade_leaves_the_fill_and_the_status_follows_what_is_left():
    hedge = matched().trade_failed(B, D(0), LATER)
    # 10 - 4 = 6 shares for 5.52 - 2.28 = 3.24 USDC and 0.10 - 0.04 = 0.06 fee: 6 of 10 is PARTIAL.
    assert (hedge.status, hedge.filled_size, hedge.fill_cost, hedge.fee) == (
        HedgeStatus.PARTIAL,
        D(6),
        D("3.24"),
        D("0.06"),
    )
    assert hedge.fill_price == D("0.54")  # 3.24 / 6
    # 0.60 x 6 - 3.24 = 0.36 captured; 0.36 - 0.06 = 0.30 net.
    assert (hedge.spread_captured, hedge.net_profit) == (D("0.36"), D("0.30"))
    assert hedge.settlement is Settlement.SETTLING and hedge.updated_at == LATER
    assert hedge.failure_reason is not None and "trade-b" in hedge.failure_reason
    assert hedge.residual == D(4)


def test_every_trade_failed_leaves_nothing_filled_and_no_cost_or_fee():
    # A fee recorded at the average price may differ from the per-trade fees: nothing filled costs nothing.
    hedge = replace(matched(), fee=D("0.11"))
    hedge = hedge.trade_failed(B, D(0), LATER).trade_failed(A, D(0), LATER)
    assert (hedge.status, hedge.filled_size, hedge.fill_cost, hedge.fee, hedge.fill_price) == (
        HedgeStatus.FAILED,
        D(0),
        D(0),
        D(0),
        None,
    )
    assert (hedge.spread_captured, hedge.net_profit) == (D(0), D(0))


def test_a_failed_trade_may_leave_what_is_confirmed_but_never_go_below_it():
    # A (6 shares) confirmed: B failing leaves 10 - 4 = 6, exactly what is confirmed.
    assert matched().trade_failed(B, D(6), LATER).filled_size == D(6)
    # B (4 shares) confirmed: A failing leaves 10 - 6 = 4, what is confirmed; 7 shares would leave 3 < 4.
    assert matched().trade_failed(A, D(4), LATER).filled_size == D(4)
    too_big = TradeFill("trade-x", D(7), D("3.78"), D("0.07"))
    with pytest.raises(TransitionRefused):
        matched().trade_failed(too_big, D(4), LATER)


@pytest.mark.parametrize("shares", ["0", "-1", "10.000001"])
def test_a_failed_trade_of_no_shares_or_more_than_the_fill_is_refused(shares: str):
    with pytest.raises(TransitionRefused):
        matched().trade_failed(TradeFill("t", D(shares), D(0), D(0)), D(0), LATER)


def test_only_a_settling_hedge_takes_a_failed_trade():
    for hedge in (matched(trade_ids=()), matched().settlement_final(LATER), booked()):
        with pytest.raises(TransitionRefused):
            hedge.trade_failed(B, D(0), LATER)


def test_settled_is_final():
    settled = matched().settlement_final(LATER)
    assert (settled.settlement, settled.status, settled.filled_size) == (
        Settlement.SETTLED,
        HedgeStatus.HEDGED,
        D(10),
    )
    with pytest.raises(TransitionRefused):
        settled.settlement_final(LATER)
    with pytest.raises(TransitionRefused):
        matched(trade_ids=()).settlement_final(LATER)


# --- what a FAILED trade does to the market's position -----------------------------------------------
def test_undoing_part_of_a_yes_buy_gives_back_the_usdc_and_takes_the_shares():
    # Users owe 10 YES and paid 6.00; the hedge holds 10 YES for 5.52 + 0.10: cash 6.00 - 5.62 = 0.38.
    held = Position(user_shares=D(10), hedge_yes=D(10), net_cash=D("0.38"))
    assert (held.loss_if_yes, held.loss_if_no) == (D("-0.38"), D("-0.38"))
    after = held.without_fill(Leg.YES, Side.BUY, shares=B.shares, cost=B.cost, fee=B.fee)
    # 6 YES held, cash 0.38 + 2.28 + 0.04 = 2.70: if YES wins 10 - 6 - 2.70 = 1.30; if NO, -2.70.
    assert (after.hedge_yes, after.net_cash) == (D(6), D("2.70"))
    assert (after.loss_if_yes, after.loss_if_no, after.exposure) == (D("1.30"), D("-2.70"), D("1.30"))


def test_undoing_part_of_a_yes_sell_returns_the_shares_and_takes_back_the_proceeds_less_fee():
    # 4 YES sold for 2.00 with a 0.02 fee: undone, 4 YES come back and 2.00 - 0.02 = 1.98 goes.
    held = Position(user_shares=D(-4), hedge_yes=D(6), net_cash=D("5.00"))
    after = held.without_fill(Leg.YES, Side.SELL, shares=D(4), cost=D("2.00"), fee=D("0.02"))
    assert (after.hedge_yes, after.net_cash) == (D(10), D("3.02"))


def test_undoing_part_of_a_no_buy_takes_the_no_shares_and_gives_back_the_usdc():
    # 5 NO bought for 2.10 with a 0.05 fee: undone, NO 5 -> 0 and cash 1.00 + 2.15 = 3.15.
    held = Position(user_shares=D(-5), hedge_no=D(5), net_cash=D("1.00"))
    after = held.without_fill(Leg.NO, Side.BUY, shares=D(5), cost=D("2.10"), fee=D("0.05"))
    assert (after.hedge_no, after.net_cash) == (D(0), D("3.15"))
    # Nothing else moves: no in-flight bound or reservation is touched.
    assert (after.in_flight_delta, after.in_flight_loss_if_yes, after.no_reserved_for_sale) == (0, 0, 0)
