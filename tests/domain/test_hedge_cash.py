"""A hedge is planned only if the wallet can pay for it: the cash a hedge may take, and the decision
on an order whose hedge buy the wallet cannot pay for (accepted unhedged, within the limits)."""

from __future__ import annotations

from decimal import Decimal as D

from server.domain.decision import Accepted, decide
from server.domain.exposure import Position
from server.domain.hedge_cash import Unaffordable, cash_needed, unaffordable
from server.domain.in_flight import InFlight
from server.domain.types import BreakerLevel, Leg, RejectReason, Side
from tests.domain.test_decision import BOOK, NOW, TERMS, order, rejected, settings


def test_a_buy_needs_its_budget_and_fee_a_sell_nothing():
    buy = InFlight(Leg.YES, Side.BUY, D(10), loss_if_yes=D("0.01"), loss_if_no=D("4.91"))
    assert cash_needed(buy) == D("4.91")
    assert cash_needed(InFlight(Leg.NO, Side.BUY, D(10), D("4.91"), D("0.01"))) == D("4.91")
    assert cash_needed(InFlight(Leg.YES, Side.SELL, D(10), D("5.2"), D("0.01"))) == 0
    assert unaffordable(buy, None) is None  # not tracked
    assert unaffordable(buy, D("4.91")) is None  # exactly enough
    assert unaffordable(buy, D("4.90")) == Unaffordable(D("4.91"), D("4.90"))


def _decide(cash: str | None, market_limit: str = "500", mode: str = "live"):
    return decide(
        order(size="10"),
        TERMS,
        BOOK,
        Position(),
        D(0),
        settings(mode=mode),
        D(market_limit),
        BreakerLevel.ACTIVE,
        NOW,
        cash=None if cash is None else D(cash),
    )


# A BUY of 10 YES: the hedge buys 10 YES at the ask, 0.47 for all 10 (80 there), its limit: a
# budget of 10 x 0.47 = 4.70 USDC, no fee (rate 0), plus the cent allowed for fee rounding: 4.71.
def test_a_hedge_the_wallet_can_pay_for_is_planned():
    for cash in (None, "4.71", "100"):
        decision = _decide(cash)
        assert isinstance(decision, Accepted) and decision.hedge is not None, cash
        assert decision.quote.hedge_limit_price == D("0.47")
        assert decision.unaffordable is None


def test_a_hedge_buy_the_wallet_cannot_pay_for_is_not_planned_and_the_order_stays_unhedged():
    decision = _decide("4.70")
    assert isinstance(decision, Accepted)
    assert (decision.hedge, decision.quote.hedge_size) == (None, 0)
    assert decision.unaffordable == Unaffordable(D("4.71"), D("4.70"))
    # The position holds the user trade alone: 10 shares owed, 10 x price taken, nothing in flight.
    price = decision.quote.price
    assert decision.after == Position(user_shares=D(10), net_cash=10 * price)


def test_an_unhedged_order_is_still_bounded_by_the_limits():
    # The user pays 0.48 a share (0.47 and the 2% spread, on the tick). Unhedged, YES winning costs
    # 10 - 10 x 0.48 = 5.20: within a limit of 5.20, above one of 5.19.
    assert isinstance(_decide("0", market_limit="5.20"), Accepted)
    assert rejected(_decide("0", market_limit="5.19")).reason is RejectReason.MARKET_EXPOSURE_LIMIT


def test_paper_hedges_spend_nothing_and_are_planned_whatever_the_balance():
    decision = _decide("0", mode="paper")
    assert isinstance(decision, Accepted) and decision.hedge is not None and decision.unaffordable is None
