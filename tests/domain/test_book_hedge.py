"""A book hedge's limit prices and state changes (`server.domain.book_hedge`), worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from server.domain.book import Book
from server.domain.book_hedge import BookHedge, limit_prices
from server.domain.exposure import Position
from server.domain.hedge import SignedIntent
from server.domain.hedge_result import HedgeResult
from server.domain.in_flight import InFlight
from server.domain.pricing import MarketTerms
from server.domain.rebalance import LimitPrices, RebalanceOrder
from server.domain.types import HedgeStatus, Leg, Side
from server.errors import TransitionRefused

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
TERMS = MarketTerms("yes", "no", D("0.01"), D(5), D(0), D(1))


def book(bids, asks) -> Book:
    return Book("yes", tuple((D(p), D(s)) for p, s in bids), tuple((D(p), D(s)) for p, s in asks), NOW)


def test_limit_prices_move_the_best_price_by_the_slippage_onto_the_tick():
    # YES: bid 0.61, ask 0.63; NO is its complement: bid 0.37, ask 0.39. 500 bps:
    # buy YES 0.63 x 1.05 = 0.6615 -> 0.66 (down); buy NO 0.39 x 1.05 = 0.4095 -> 0.40;
    # sell YES 0.61 x 0.95 = 0.5795 -> 0.58 (up); sell NO 0.37 x 0.95 = 0.3515 -> 0.36.
    prices = limit_prices(book([("0.61", "10")], [("0.63", "10")]), TERMS, 500)
    assert prices == LimitPrices(buy_yes=D("0.66"), buy_no=D("0.40"), sell_yes=D("0.58"), sell_no=D("0.36"))


def test_limit_prices_stay_within_one_tick_of_the_ends_and_an_empty_side_gives_the_far_end():
    # Ask 0.99 x 1.05 would be 1.0395: held at 0.99. No bids: selling YES may go down to 0.01,
    # and buying NO (whose asks are YES's bids) up to 0.99.
    prices = limit_prices(book([], [("0.99", "10")]), TERMS, 500)
    assert prices == LimitPrices(buy_yes=D("0.99"), buy_no=D("0.99"), sell_yes=D("0.01"), sell_no=D("0.01"))


def hedge(leg: Leg = Leg.YES, side: Side = Side.BUY) -> BookHedge:
    bound = InFlight(leg, side, D(8), D("0.01"), D("4.01"))
    order = RebalanceOrder(leg, side, D(8), D("0.5"), bound, Position(), D(8))
    return BookHedge.pending(
        id="h", mapping_id=1, token_id="yes", order=order, order_type="FOK",
        signed=SignedIntent("0xhash", "{}"), now=NOW,
    )  # fmt: skip


def test_a_hedge_adding_yes_shares_covers_user_buys_and_one_removing_them_user_sells():
    assert hedge(Leg.YES, Side.BUY).covers is Side.BUY
    assert hedge(Leg.NO, Side.SELL).covers is Side.BUY
    assert hedge(Leg.YES, Side.SELL).covers is Side.SELL
    assert hedge(Leg.NO, Side.BUY).covers is Side.SELL


def test_an_open_hedge_settles_once_and_an_unknown_one_stays_open():
    booked = hedge()
    assert booked.status is HedgeStatus.PENDING and booked.attempt_count == 1
    assert booked.in_flight == InFlight(Leg.YES, Side.BUY, D(8), D("0.01"), D("4.01"))
    lost = booked.unknown("timeout", NOW + timedelta(seconds=1), NOW)
    assert lost.is_open and lost.next_check_at == NOW + timedelta(seconds=1)
    done = lost.settled(HedgeResult(HedgeStatus.HEDGED, D("8.1"), D("4.05"), D(0)), NOW)
    assert (done.status, done.filled_size, done.fill_cost, done.next_check_at) == (
        HedgeStatus.HEDGED, D("8.1"), D("4.05"), None,
    )  # fmt: skip
    with pytest.raises(TransitionRefused):
        done.settled(HedgeResult(HedgeStatus.FAILED, D(0), D(0), D(0)), NOW)
    with pytest.raises(TransitionRefused):
        done.unknown("late", NOW, NOW)
    with pytest.raises(TransitionRefused):
        booked.settled(HedgeResult(HedgeStatus.PAPER, D(0), D(0), D(0)), NOW)
