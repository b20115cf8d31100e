"""The decision on a user order: each reject reason on its own, and what an accepted order books."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from server.domain.book import Book
from server.domain.config_schema import HedgeSettings
from server.domain.decision import Accepted, OrderRequest, PaperFill, Rejected, decide, paper_fill
from server.domain.exposure import Position
from server.domain.pricing import MarketTerms, Quote, quote
from server.domain.types import BreakerLevel, Leg, Mode, RejectReason, Side

T0 = datetime(2026, 12, 1, tzinfo=UTC)
NOW = T0 + timedelta(milliseconds=500)
BOOK = Book(
    token_id="yes",
    bids=((D("0.45"), D(100)), (D("0.44"), D(50))),
    asks=((D("0.47"), D(80)), (D("0.48"), D(200))),
    updated_at=T0,
)
TERMS = MarketTerms("yes", "no", D("0.01"), D(5), D(0), D(1))


def settings(**values: str) -> HedgeSettings:
    base = {
        "mode": "off",
        "minSpreadBps": "200",
        "maxSlippageBps": "500",
        "maxPositionSize": "1000",
        "maxUnhedgedExposure": "1000",
        "maxBookAgeMs": "2000",
    }
    return HedgeSettings.from_values(base | values)


def order(side: Side = Side.BUY, size: str = "100", limit: str | None = None) -> OrderRequest:
    return OrderRequest(
        account_id="acct",
        request_id="req-1",
        event_id="event",
        outcome="YES",
        side=side,
        size=D(size),
        limit_price=D(limit) if limit else None,
    )


def run(
    request: OrderRequest | None = None,
    *,
    book: Book | None = BOOK,
    terms: MarketTerms = TERMS,
    position: Position | None = None,
    total: str = "0",
    market_limit: str = "500",
    breaker: BreakerLevel = BreakerLevel.ACTIVE,
    now: datetime = NOW,
    **config: str,
):
    return decide(
        request or order(),
        terms,
        book,
        position or Position(),
        D(total),
        settings(**config),
        D(market_limit),
        breaker,
        now,
    )


def rejected(decision) -> Rejected:
    assert isinstance(decision, Rejected), decision
    return decision


def accepted(decision) -> Accepted:
    assert isinstance(decision, Accepted), decision
    return decision


# --- each reject reason on its own


def test_halted_refuses_before_anything_else():
    # Even an order too large for the limits is refused as HALTED, without a quote.
    r = rejected(run(order(size="5000"), breaker=BreakerLevel.HALTED))
    assert r.reason is RejectReason.HALTED
    assert r.message == "trading is halted by a circuit breaker"
    assert r.quote is None


def test_one_tick_over_max_position_size_is_too_large_and_equal_is_not():
    r = rejected(run(order(size="1000.01"), book=None))
    assert r.reason is RejectReason.SIZE_TOO_LARGE
    assert r.message == "size 1000.01 is above maxPositionSize 1000"
    assert r.quote is None
    # Equal to the limit passes the size check (and then finds no book).
    assert rejected(run(order(size="1000"), book=None)).reason is RejectReason.BOOK_STALE


def test_one_tick_under_the_venue_minimum_is_too_small_and_equal_is_not():
    assert rejected(run(order(size="4.99"))).reason is RejectReason.SIZE_TOO_SMALL
    assert accepted(run(order(size="5")))


def test_no_book_is_stale():
    r = rejected(run(book=None))
    assert r.reason is RejectReason.BOOK_STALE
    assert r.message == "the Polymarket book is missing or older than maxBookAgeMs"
    assert r.quote is None


def test_a_book_exactly_max_book_age_old_is_used_and_one_millisecond_older_is_not():
    assert accepted(run(now=T0 + timedelta(milliseconds=2000)))
    assert rejected(run(now=T0 + timedelta(milliseconds=2001))).reason is RejectReason.BOOK_STALE
    assert (
        rejected(run(now=T0 + timedelta(milliseconds=51), maxBookAgeMs="50")).reason
        is RejectReason.BOOK_STALE
    )


def test_too_little_depth_is_insufficient_liquidity():
    r = rejected(run(order(size="281")))
    assert r.reason is RejectReason.INSUFFICIENT_LIQUIDITY
    assert r.message == "the Polymarket book holds 280 of the 281 shares needed"
    assert r.quote is None


def test_a_buy_priced_above_its_limit_has_moved_and_at_it_has_not():
    # The price is 0.49 (see test_pricing: VWAP 0.472 + 2%, up to the tick).
    r = rejected(run(order(limit="0.48")))
    assert r.reason is RejectReason.PRICE_MOVED
    assert r.quote is not None and r.quote.price == D("0.49")
    assert "0.49" in r.message and "0.48" in r.message
    assert accepted(run(order(limit="0.49"))).quote.price == D("0.49")


def test_a_sell_priced_below_its_limit_has_moved_and_at_it_has_not():
    # The price is 0.43 (VWAP of NO 0.551666, 1 - that less 2%, down to the tick).
    r = rejected(run(order(Side.SELL, "120", limit="0.44")))
    assert r.reason is RejectReason.PRICE_MOVED
    assert accepted(run(order(Side.SELL, "120", limit="0.43"))).quote.price == D("0.43")


SMALL_BOOK = Book("yes", (), ((D("0.10"), D(1000)),), T0)


@pytest.mark.parametrize("mode", ["live", "paper"])
def test_a_hedge_below_the_venue_s_dollar_minimum_is_too_small_when_hedging(mode):
    # 5 shares at ask 0.10: the user pays 0.102 -> 0.11, the hedge limit is 0.10, so the hedge
    # would spend 0.50 USDC.
    r = rejected(run(order(size="5"), book=SMALL_BOOK, mode=mode))
    assert r.reason is RejectReason.SIZE_TOO_SMALL
    assert r.message.startswith("the hedge would buy 0.50 USDC, below the venue's 1 USDC minimum")
    assert r.quote is not None
    # 10 shares spend exactly 1.00: allowed.
    assert accepted(run(order(size="10"), book=SMALL_BOOK, mode=mode))


def test_the_dollar_minimum_does_not_apply_when_not_hedging():
    assert accepted(run(order(size="5"), book=SMALL_BOOK, mode="off"))


def test_reducing_refuses_an_order_that_raises_exposure():
    r = rejected(run(breaker=BreakerLevel.REDUCING))
    assert r.reason is RejectReason.REDUCE_ONLY
    assert r.message == "only orders that lower exposure are accepted now"
    assert r.quote is not None


def test_reducing_accepts_an_order_that_lowers_exposure():
    # Owes 100, took 49: exposure 51. A user sell of 10 is priced off 10 NO at 0.55:
    # (1 - 0.55) x 0.98 = 0.441 -> 0.44. It leaves 90 owed and 49 - 4.40 = 44.60 in hand: 45.40.
    position = Position(user_shares=D(100), net_cash=D(49))
    a = accepted(run(order(Side.SELL, "10"), position=position, total="51", breaker=BreakerLevel.REDUCING))
    assert a.after == Position(user_shares=D(90), net_cash=D("44.60"))
    assert a.total_after == D("45.40")


def test_market_exposure_equal_to_the_limit_passes_and_one_cent_under_it_refuses():
    # A user buy of 100 at 0.49 with no hedge: owes 100, took 49, exposure 51.
    assert accepted(run(market_limit="51")).after.exposure == D(51)
    r = rejected(run(market_limit="50.99"))
    assert r.reason is RejectReason.MARKET_EXPOSURE_LIMIT
    assert r.quote is not None


def test_total_exposure_equal_to_the_limit_passes_and_one_cent_over_refuses():
    assert accepted(run(total="949")).total_after == D(1000)
    r = rejected(run(total="949.01"))
    assert r.reason is RejectReason.TOTAL_EXPOSURE_LIMIT


# --- what an accepted order books


def test_off_mode_books_the_user_trade_unhedged():
    a = accepted(run(total="10"))
    assert a.mode is Mode.OFF
    assert a.before == Position()
    assert a.after == Position(user_shares=D(100), net_cash=D(49))
    assert (a.total_before, a.total_after, a.total_limit) == (D(10), D(61), D(1000))
    assert a.paper_fill is None
    assert a.order_type == "FOK"


def test_live_mode_books_the_user_trade_with_its_hedge_in_flight_at_its_worst():
    a = accepted(run(mode="live", hedgeOrderType="FAK"))
    assert a.mode is Mode.LIVE
    assert a.order_type == "FAK"
    assert a.paper_fill is None
    assert a.hedge is not None
    assert (a.hedge.leg, a.hedge.side, a.hedge.size) == (Leg.YES, Side.BUY, D(100))
    assert a.quote.hedge_size == D(100)
    assert (a.after.user_shares, a.after.net_cash, a.after.hedge_yes) == (D(100), D(49), 0)
    assert a.after.in_flight_delta == D(100)
    # Owes 100 and took 49; the hedge in flight adds its worst to each outcome.
    assert a.after.loss_if_yes == D(51) + a.hedge.loss_if_yes
    assert a.after.loss_if_no == D(-49) + a.hedge.loss_if_no


def test_off_mode_sends_no_hedge():
    a = accepted(run())
    assert a.hedge is None and a.quote.hedge_size == 0
    assert a.after.in_flight_delta == 0


def test_live_sell_hedges_only_what_moves_the_market_away_from_flat_and_reserves_it():
    # Owes 200, holds 150 YES: 50 unhedged. The user sells 120 back: owed 80 against 150 held, long
    # 70 YES, so the hedge sells 70 (not 120) and reserves them.
    position = Position(user_shares=D(200), hedge_yes=D(150), net_cash=D(90))
    a = accepted(run(order(Side.SELL, "120"), position=position, total="0", mode="live"))
    assert a.quote.hedge.leg is Leg.YES and a.quote.hedge.side is Side.SELL
    assert a.quote.hedge_size == D(70) and a.hedge is not None and a.hedge.size == D(70)
    # 120 sold back at 0.43: 80 owed, 90 - 51.60 = 38.40 in hand, 70 of the 150 YES promised.
    assert (a.after.user_shares, a.after.hedge_yes, a.after.yes_reserved_for_sale, a.after.net_cash) == (
        D(80),
        D(150),
        D(70),
        D("38.40"),
    )


def test_off_mode_reserves_nothing_for_a_sale_it_will_not_make():
    position = Position(user_shares=D(200), hedge_yes=D(150), net_cash=D(90))
    a = accepted(run(order(Side.SELL, "120"), position=position, mode="off"))
    assert a.after.yes_reserved_for_sale == 0


def test_paper_mode_fills_the_hedge_against_the_book():
    # 100 at 0.49 hedged at 80 x 0.47 + 20 x 0.48 = 47.20: owes 100, holds 100 YES, 49 - 47.20 in hand.
    a = accepted(run(mode="paper", total="5"))
    assert a.paper_fill == PaperFill(D(100), D("47.20"), D(0))
    assert a.after == Position(user_shares=D(100), hedge_yes=D(100), net_cash=D("1.80"))
    assert a.total_after == D(5)  # fully hedged at a profit: exposure 0


def test_paper_mode_charges_the_fee_to_the_position():
    terms = MarketTerms("yes", "no", D("0.01"), D(5), D("0.07"), D(1))
    # See test_pricing: price 0.50, fee 1.74440. Cash 50 - 47.20 - 1.74440 = 1.05560.
    a = accepted(run(terms=terms, mode="paper"))
    assert a.paper_fill == PaperFill(D(100), D("47.20"), D("1.74440"))
    assert a.after.net_cash == D("1.05560")


def test_paper_mode_hedges_a_user_sell_by_buying_no():
    # 120 NO: 100 at 0.55 + 20 at 0.56 = 66.20. The user is paid 120 x 0.43 = 51.60.
    a = accepted(run(order(Side.SELL, "120"), mode="paper", total="0"))
    assert a.paper_fill == PaperFill(D(120), D("66.20"), D(0))
    assert a.after == Position(user_shares=D(-120), hedge_no=D(120), net_cash=D("-117.80"))
    assert a.after.loss_if_no == D("-2.20") and a.after.loss_if_yes == D("-2.20")


def test_paper_mode_sells_held_yes_and_releases_its_reservation():
    # 120 sold back at 0.43 (51.60 paid to the user); the hedge sells the 70 that leave the market
    # long (see above) at the bids down to 0.44: 70 x 0.45 = 31.50. Owes 80, holds 80 YES,
    # 90 - 51.60 + 31.50 in hand, nothing reserved or in flight.
    position = Position(user_shares=D(200), hedge_yes=D(150), net_cash=D(90))
    a = accepted(run(order(Side.SELL, "120"), position=position, mode="paper"))
    assert (a.quote.hedge.leg, a.quote.hedge.side) == (Leg.YES, Side.SELL)
    assert a.paper_fill == PaperFill(D(70), D("31.50"), D(0))
    assert a.after == Position(user_shares=D(80), hedge_yes=D(80), net_cash=D("69.90"))


def _quote_100() -> Quote:
    q = quote(Side.BUY, D(100), TERMS, BOOK, yes_available=D(0), min_spread_bps=200, max_slippage_bps=500)
    assert isinstance(q, Quote) and q.hedge_limit_price == D("0.48")
    return q


THIN = Book("yes", (), ((D("0.47"), D(80)), (D("0.49"), D(200))), T0)


def test_a_paper_fok_that_cannot_fill_within_its_limit_fills_nothing():
    assert paper_fill(_quote_100(), THIN, TERMS, "FOK") == PaperFill(D(0), D(0), D(0))


def test_a_paper_fak_fills_what_it_can_within_its_limit():
    assert paper_fill(_quote_100(), THIN, TERMS, "FAK") == PaperFill(D(80), D("37.60"), D(0))


def test_a_paper_fill_with_no_level_within_the_limit_fills_nothing():
    empty = Book("yes", (), ((D("0.49"), D(200)),), T0)
    assert paper_fill(_quote_100(), empty, TERMS, "FAK") == PaperFill(D(0), D(0), D(0))


# --- how much of an order is hedged (only what moves the market away from flat)

DEEP_AT_HALF = Book("yes", ((D("0.49"), D(1000)),), ((D("0.50"), D(1000)),), T0)
DEEP_AT_TENTH = Book("yes", ((D("0.09"), D(1000)),), ((D("0.10"), D(1000)),), T0)


def test_a_buy_against_a_long_position_hedges_only_the_part_beyond_flat():
    # Holds 95 YES and owes nothing (long 95): a user buy of 100 leaves users owed 5 beyond the 95
    # held; the venue's minimum is 5 shares, and 5 at the limit 0.50 cost 2.50 USDC: hedged.
    position = Position(hedge_yes=D(95), net_cash=D("-47.50"))
    a = accepted(run(order(size="100"), book=DEEP_AT_HALF, position=position, mode="live"))
    assert a.quote.hedge_limit_price == D("0.50")
    assert a.quote.hedge_size == D(5)
    assert a.hedge is not None and a.hedge.size == D(5)


def test_a_part_below_the_venue_s_dollar_minimum_stays_unhedged():
    # Long 92: 8 shares beyond flat, at the limit 0.10 (price 0.102 -> 0.11; 0.11 / 1.02 -> 0.10):
    # 0.80 USDC, below the venue's 1 USDC: the order is booked without a hedge.
    position = Position(hedge_yes=D(92), net_cash=D("-9.20"))
    a = accepted(run(order(size="100"), book=DEEP_AT_TENTH, position=position, mode="live"))
    assert a.quote.hedge_limit_price == D("0.10")
    assert a.quote.hedge_size == 0 and a.hedge is None


def test_a_part_below_the_venue_s_share_minimum_stays_unhedged():
    # Long 96: 4 shares beyond flat, under the 5-share minimum.
    position = Position(hedge_yes=D(96), net_cash=D("-48"))
    a = accepted(run(order(size="100"), book=DEEP_AT_HALF, position=position, mode="live"))
    assert a.quote.hedge_size == 0 and a.hedge is None


def test_a_whole_order_of_one_share_is_hedged_where_the_venue_allows_one():
    # A market whose minimum is 1 share; the user sells 1 back of 10 held as YES: the hedge sells 1.
    terms = MarketTerms("yes", "no", D("0.01"), D(1), D(0), D(1))
    position = Position(user_shares=D(10), hedge_yes=D(10), net_cash=D(-1))
    a = accepted(run(order(Side.SELL, "1"), terms=terms, book=DEEP_AT_HALF, position=position, mode="live"))
    assert a.hedge is not None
    assert (a.hedge.leg, a.hedge.side, a.hedge.size) == (Leg.YES, Side.SELL, D(1))
