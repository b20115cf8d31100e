"""Quotes against books walked by hand: the user's price, the hedge's plan, fee and limit price."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from server.domain.book import Book
from server.domain.pricing import MarketTerms, Quote, Unpriceable, plan_hedge, quote
from server.domain.types import Leg, RejectReason, Side

T0 = datetime(2026, 12, 1, tzinfo=UTC)
BOOK = Book(
    token_id="yes",
    bids=((D("0.45"), D(100)), (D("0.44"), D(50))),
    asks=((D("0.47"), D(80)), (D("0.48"), D(200))),
    updated_at=T0,
)


def terms(rate: str = "0", exponent: str = "1", tick: str = "0.01") -> MarketTerms:
    return MarketTerms("yes", "no", D(tick), D(5), D(rate), D(exponent))


def priced(side, size, *, book=BOOK, rate="0", available="0", spread=200, slippage=500, tick="0.01"):
    result = quote(
        side,
        D(size),
        terms(rate, tick=tick),
        book,
        yes_available=D(available),
        min_spread_bps=spread,
        max_slippage_bps=slippage,
    )
    assert isinstance(result, Quote), result
    return result


def unpriced(side, size, *, book=BOOK, rate="0", available="0", spread=200, slippage=500):
    result = quote(
        side,
        D(size),
        terms(rate),
        book,
        yes_available=D(available),
        min_spread_bps=spread,
        max_slippage_bps=slippage,
    )
    assert isinstance(result, Unpriceable), result
    return result


def one_level(bid: str | None = None, ask: str | None = None, size: int = 1000) -> Book:
    return Book(
        "yes",
        ((D(bid), D(size)),) if bid else (),
        ((D(ask), D(size)),) if ask else (),
        T0,
    )


# --- which token the hedge trades


def test_a_user_buy_is_hedged_by_buying_yes():
    assert plan_hedge(Side.BUY, D(10), terms(), D(0)) == plan_hedge(Side.BUY, D(10), terms(), D(100))
    plan = plan_hedge(Side.BUY, D(10), terms(), D(0))
    assert (plan.leg, plan.side, plan.token_id) == (Leg.YES, Side.BUY, "yes")


def test_a_user_sell_sells_yes_when_exactly_enough_is_held():
    plan = plan_hedge(Side.SELL, D(10), terms(), D(10))
    assert (plan.leg, plan.side, plan.token_id) == (Leg.YES, Side.SELL, "yes")


def test_a_user_sell_buys_no_when_one_tick_of_shares_short():
    plan = plan_hedge(Side.SELL, D(10), terms(), D("9.99"))
    assert (plan.leg, plan.side, plan.token_id) == (Leg.NO, Side.BUY, "no")


# --- hand-walked quotes


def test_user_buy_without_fees():
    # Walk the asks for 100: 80 at 0.47 + 20 at 0.48 = 47.20, VWAP 0.472.
    # Price: 0.472 x 1.02 = 0.48144, up to the tick: 0.49.
    # Limit: the spread allows 0.49 / 1.02 = 0.4803.. -> 0.48, the worst level walked is 0.48,
    # slippage allows 0.472 x 1.05 = 0.4956 -> 0.49: so 0.48.
    # The hedge spends a budget of 100 x 0.48 = 48.00 USDC: 80 at 0.47 (37.60), and the 10.40 left
    # buys 21.666666 at 0.48: 101.666666 shares for 47.99999968, 0.4721311.. each, which the
    # price 0.49 still covers.
    q = priced(Side.BUY, "100")
    assert q.price == D("0.49")
    assert q.reference_price == D("0.472")
    assert q.hedge_fee == 0
    assert q.hedge_limit_price == D("0.48")
    assert (q.hedge.leg, q.hedge.side, q.hedge.token_id) == (Leg.YES, Side.BUY, "yes")
    assert q.spread_bps == D("378.47")  # (0.49 - 0.4721311) / 0.4721311 = 378.47 bps
    assert (q.side, q.size, q.book_time) == (Side.BUY, D(100), T0)
    assert q.notional == D("49.00")


def test_user_buy_with_fees_prices_the_fee_in():
    # Fee: 80 x 0.07 x 0.47 x 0.53 = 1.39496 and 20 x 0.07 x 0.48 x 0.52 = 0.34944: 1.74440.
    # Cost per share 0.472 + 0.0174440 = 0.489444; x 1.02 = 0.49923.. -> 0.50.
    # Limit: the spread allows a cost of 0.50 / 1.02 = 0.490196; at 0.49 a share costs
    # 0.49 + 0.07 x 0.2499 = 0.507493, at 0.48 0.497472, at 0.47 0.487437 (fits): strict 0.47;
    # the worst level walked, 0.48, is worse, and slippage allows 0.49: so 0.48.
    # The budget of 48.00 buys 80 at 0.47 and 21.666666 at 0.48 (fee 1.39496 + 0.37856); per share
    # (47.99999968 + 1.77352) / 101.666666 = 0.4895756, and 0.4895756 x 1.02 -> 0.50 still.
    q = priced(Side.BUY, "100", rate="0.07")
    assert q.price == D("0.50")
    assert q.hedge_fee == D("1.74440")
    assert q.hedge_limit_price == D("0.48")
    assert q.spread_bps == D("212.93")  # (0.50 - 0.4895756) / 0.4895756


def test_user_sell_against_held_yes_takes_the_bids():
    # Walk the bids for 120: 100 at 0.45 + 20 at 0.44 = 53.80, VWAP 0.448333..
    # Price: 0.448333 x 0.98 = 0.439366.. down to the tick: 0.43.
    # Limit: the spread needs 0.43 / 0.98 = 0.438775.. -> 0.44; the worst level is 0.44;
    # slippage allows 0.448333 x 0.95 = 0.4259 -> 0.43: so 0.44.
    q = priced(Side.SELL, "120", available="120")
    assert q.price == D("0.43")
    assert (q.hedge.leg, q.hedge.side) == (Leg.YES, Side.SELL)
    assert q.hedge_limit_price == D("0.44")
    assert q.spread_bps == D("426.36")  # (0.448333 - 0.43) / 0.43


def test_user_sell_with_fees_takes_the_fee_off_the_proceeds():
    # 100 at 0.45: fee 100 x 0.07 x 0.45 x 0.55 = 1.73250; proceeds 0.45 - 0.017325 = 0.432675;
    # x 0.98 = 0.42402.. -> 0.42. Limit: a share must bring 0.42 / 0.98 = 0.428571 after its fee:
    # 0.43 brings 0.412843, 0.44 brings 0.422752, 0.45 brings 0.432675 (fits): 0.45.
    book = Book("yes", ((D("0.45"), D(100)),), (), T0)
    q = priced(Side.SELL, "100", book=book, rate="0.07", available="100")
    assert q.price == D("0.42")
    assert q.hedge_fee == D("1.73250")
    assert q.hedge_limit_price == D("0.45")


def test_user_sell_without_yes_buys_no_off_the_complement_book():
    # The NO asks are 1 - the YES bids: 100 at 0.55, 50 at 0.56. For 120: 55 + 11.2 = 66.20,
    # VWAP 0.551666.. Each YES share sold back is worth 1 - 0.551666 = 0.448333; x 0.98 -> 0.43.
    # Limit: the spread allows NO to cost 1 - 0.43 / 0.98 = 0.561224.. -> 0.56; worst level 0.56;
    # slippage allows 0.551666 x 1.05 = 0.57925 -> 0.57: so 0.56.
    q = priced(Side.SELL, "120")
    assert q.price == D("0.43")
    assert (q.hedge.leg, q.hedge.side, q.hedge.token_id) == (Leg.NO, Side.BUY, "no")
    assert q.reference_price == D("66.20") / 120
    assert q.hedge_limit_price == D("0.56")
    # The budget 120 x 0.56 = 67.20 buys 100 at 0.55 and 21.785714 at 0.56: 0.5517889 per NO
    # share; 1 - 0.5517889 less 2% still rounds down to 0.43.
    assert q.spread_bps == D("330.04")  # (0.57 - 0.5517889) / 0.5517889


def test_no_hedge_fee_is_charged_at_the_no_price():
    # 10 NO at 0.55 (the complement of a YES bid at 0.45), r 0.07, e 2:
    # 10 x 0.07 x (0.55 x 0.45)^2 = 0.7 x 0.06125625 = 0.042879375 -> 0.04288.
    book = Book("yes", ((D("0.45"), D(100)),), (), T0)
    q = quote(
        Side.SELL,
        D(10),
        MarketTerms("yes", "no", D("0.01"), D(5), D("0.07"), D(2)),
        book,
        yes_available=D(0),
        min_spread_bps=0,
        max_slippage_bps=0,
    )
    assert isinstance(q, Quote)
    assert q.hedge_fee == D("0.04288")
    # The user gets 1 - (0.55 + 0.004288) = 0.445712, down to 0.44.
    assert q.price == D("0.44")


# --- rounding is always in the platform's favour


@pytest.mark.parametrize(
    ("ask", "tick", "expected"),
    [
        ("0.50", "0.01", "0.50"),
        ("0.501", "0.001", "0.501"),
        ("0.501", "0.01", "0.51"),
        ("0.509", "0.01", "0.51"),
    ],
)
def test_a_buy_price_rounds_up_to_the_tick(ask, tick, expected):
    assert priced(Side.BUY, "10", book=one_level(ask=ask), spread=0, tick=tick).price == D(expected)


@pytest.mark.parametrize(
    ("bid", "tick", "expected"),
    [
        ("0.50", "0.01", "0.50"),
        ("0.509", "0.001", "0.509"),
        ("0.509", "0.01", "0.50"),
        ("0.501", "0.01", "0.50"),
    ],
)
def test_a_sell_price_rounds_down_to_the_tick(bid, tick, expected):
    q = priced(Side.SELL, "10", book=one_level(bid=bid), spread=0, available="10", tick=tick)
    assert q.price == D(expected)


def test_the_spread_is_charged_on_top_with_zero_slippage():
    # 0.50 x 1.02 = 0.51 exactly: on the tick, not rounded further.
    q = priced(Side.BUY, "10", book=one_level(ask="0.50"), slippage=0)
    assert q.price == D("0.51")
    assert q.hedge_limit_price == D("0.50")


# --- bounds and liquidity


def test_a_buy_at_the_top_tick_is_priced_and_one_tick_beyond_is_not():
    # 0.97 x 1.02 = 0.9894 -> 0.99 = 1 - tick: allowed. 0.98 x 1.02 = 0.9996 -> 1.00: refused.
    assert priced(Side.BUY, "10", book=one_level(ask="0.97")).price == D("0.99")
    refused = unpriced(Side.BUY, "10", book=one_level(ask="0.98"))
    assert refused.reason is RejectReason.INSUFFICIENT_LIQUIDITY
    assert "1.00" in refused.message


def test_a_sell_at_the_bottom_tick_is_priced_and_below_it_is_not():
    # 0.02 x 0.98 = 0.0196 -> 0.01 = tick: allowed. 0.01 x 0.98 -> 0.00: refused.
    assert priced(Side.SELL, "10", book=one_level(bid="0.02"), available="10").price == D("0.01")
    refused = unpriced(Side.SELL, "10", book=one_level(bid="0.01"), available="10")
    assert refused.reason is RejectReason.INSUFFICIENT_LIQUIDITY


def test_a_book_one_share_short_is_insufficient_and_exactly_enough_is_not():
    assert priced(Side.BUY, "280").size == D(280)  # 80 + 200
    refused = unpriced(Side.BUY, "280.01")
    assert refused.reason is RejectReason.INSUFFICIENT_LIQUIDITY
    assert "280" in refused.message and "280.01" in refused.message


def test_an_empty_book_is_insufficient():
    assert unpriced(Side.BUY, "1", book=Book("yes", (), (), T0)).reason is RejectReason.INSUFFICIENT_LIQUIDITY


def test_a_walk_beyond_the_slippage_bound_is_refused():
    # VWAP 0.472; 100 bps allows 0.472 x 1.01 = 0.47672 -> 0.47, but 20 shares sit at 0.48.
    refused = unpriced(Side.BUY, "100", slippage=100)
    assert refused.reason is RejectReason.INSUFFICIENT_LIQUIDITY
    assert "0.47" in refused.message


def test_a_sell_walk_beyond_the_slippage_bound_is_refused():
    # VWAP for 150 bids: (45 + 22) / 150 = 0.446666; 10 bps allows 0.446666 x 0.999 -> up to 0.45,
    # and 50 shares sit at 0.44.
    refused = unpriced(Side.SELL, "150", available="150", slippage=10)
    assert refused.reason is RejectReason.INSUFFICIENT_LIQUIDITY


def test_the_hedge_limit_stays_inside_the_market_bounds():
    # A single ask at 0.01 with a huge spread: the strict bound falls below the tick; the limit is
    # still the tick (never 0).
    q = priced(Side.BUY, "10", book=one_level(ask="0.01"), spread=5000)
    assert q.price == D("0.02")  # 0.01 x 1.5 = 0.015 -> 0.02
    assert q.hedge_limit_price == D("0.01")


def test_a_sell_with_fees_reports_its_spread_over_the_proceeds_after_fees():
    # Proceeds per share after fees 0.432675 against the user's 0.42: 0.012675 / 0.42 = 301.79 bps.
    book = Book("yes", ((D("0.45"), D(100)),), (), T0)
    assert priced(Side.SELL, "100", book=book, rate="0.07", available="100").spread_bps == D("301.79")


# Books a tick change has not caught up with yet (levels off the market's 0.01 tick) leave room
# between the spread's bound and the levels walked: the bound itself must then be exact.


def test_a_no_hedge_may_pay_up_to_what_the_user_price_leaves():
    # NO ask 0.551 (YES bid 0.449), no spread: the user gets 1 - 0.551 = 0.449 -> 0.44, so NO may cost
    # up to 1 - 0.44 = 0.56 and still earn it; 0.56 is on the tick and exactly at the bound.
    q = priced(Side.SELL, "10", book=one_level(bid="0.449"), spread=0)
    assert q.price == D("0.44")
    assert q.hedge_limit_price == D("0.56")


def test_a_no_hedge_with_fees_steps_its_limit_down_until_price_and_fee_fit():
    # NO ask 0.559 (YES bid 0.441), r 0.07: fee 10 x 0.07 x 0.246519 = 0.1725633 -> 0.17256
    # (0.017256 per share); the user gets 1 - 0.576256 -> 0.42, so a NO share with its fee may cost 0.58:
    # 0.58 + 0.017052 and 0.57 + 0.017157 are too much, 0.56 + 0.017248 = 0.577248 fits.
    q = priced(Side.SELL, "10", book=one_level(bid="0.441"), rate="0.07", spread=0)
    assert q.price == D("0.42")
    assert q.hedge_fee == D("0.17256")
    assert q.hedge_limit_price == D("0.56")


def test_a_yes_sale_may_not_go_below_what_the_user_price_needs():
    # YES bid 0.559, no spread: the user gets 0.55, so each share sold must bring at least 0.55,
    # which is on the tick: the limit is 0.55 (not the level's 0.559).
    q = priced(Side.SELL, "10", book=one_level(bid="0.559"), spread=0, available="10")
    assert q.price == D("0.55")
    assert q.hedge_limit_price == D("0.55")
