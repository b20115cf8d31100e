"""Walking a book and its complement, against books walked by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from server.domain.book import Book, Fill, spend, walk
from server.domain.types import Side

T0 = datetime(2026, 12, 1, tzinfo=UTC)
BOOK = Book(
    token_id="yes",
    bids=((D("0.45"), D(100)), (D("0.44"), D(50))),
    asks=((D("0.47"), D(80)), (D("0.48"), D(200))),
    updated_at=T0,
)


def test_a_buy_takes_asks_and_a_sell_takes_bids():
    assert BOOK.side_taken_by(Side.BUY) == BOOK.asks
    assert BOOK.side_taken_by(Side.SELL) == BOOK.bids


def test_the_complement_turns_yes_bids_into_no_asks_at_one_minus_the_price():
    no = BOOK.complement("no")
    assert no.token_id == "no"
    assert no.asks == ((D("0.55"), D(100)), (D("0.56"), D(50)))
    assert no.bids == ((D("0.53"), D(80)), (D("0.52"), D(200)))
    assert no.updated_at == T0


def test_mid_is_halfway_between_the_best_bid_and_ask():
    assert BOOK.mid() == D("0.46")
    assert Book("t", (), BOOK.asks, T0).mid() is None
    assert Book("t", BOOK.bids, (), T0).mid() is None


def test_walk_takes_levels_best_first_until_the_size_is_met():
    fill = walk(BOOK.asks, D(100))
    assert fill.levels == ((D("0.47"), D(80)), (D("0.48"), D(20)))
    assert fill.shares == D(100)
    assert fill.cost == D("47.20")  # 80 x 0.47 + 20 x 0.48 = 37.6 + 9.6
    assert fill.average_price == D("0.472")
    assert fill.worst_price == D("0.48")


def test_walk_ending_exactly_on_a_level_takes_nothing_of_the_next():
    assert walk(BOOK.asks, D(80)).levels == ((D("0.47"), D(80)),)


def test_walk_returns_what_there_is_when_depth_runs_out():
    fill = walk(BOOK.asks, D(1000))
    assert fill.shares == D(280)
    assert fill.levels == BOOK.asks


def test_a_buy_walk_stops_at_a_level_above_its_limit_and_takes_one_at_it():
    assert walk(BOOK.asks, D(100), D("0.47"), Side.BUY).levels == ((D("0.47"), D(80)),)
    assert walk(BOOK.asks, D(100), D("0.48"), Side.BUY).shares == D(100)
    assert walk(BOOK.asks, D(100), D("0.46"), Side.BUY).levels == ()


def test_a_sell_walk_stops_at_a_level_below_its_limit_and_takes_one_at_it():
    assert walk(BOOK.bids, D(120), D("0.45"), Side.SELL).levels == ((D("0.45"), D(100)),)
    assert walk(BOOK.bids, D(120), D("0.44"), Side.SELL).levels == ((D("0.45"), D(100)), (D("0.44"), D(20)))
    assert walk(BOOK.bids, D(120), D("0.46"), Side.SELL).levels == ()


def test_walk_skips_empty_levels_and_takes_nothing_for_nothing():
    levels = ((D("0.40"), D(0)), (D("0.41"), D(5)))
    assert walk(levels, D(3)).levels == ((D("0.41"), D(3)),)
    assert walk(levels, D(0)).levels == ()


def test_walk_takes_a_fraction_of_a_share_or_one_share_from_the_next_level():
    levels = ((D("0.40"), D(2)), (D("0.41"), D(5)))
    assert walk(levels, D("2.5")).levels == ((D("0.40"), D(2)), (D("0.41"), D("0.5")))
    assert walk(levels, D(3)).levels == ((D("0.40"), D(2)), (D("0.41"), D(1)))


def test_fill_sums():
    fill = Fill(((D("0.2"), D(1)), (D("0.5"), D(3))))
    assert fill.shares == D(4)
    assert fill.cost == D("1.7")
    assert fill.average_price == D("0.425")
    assert fill.worst_price == D("0.5")
    assert Fill(()).shares == 0 and Fill(()).cost == 0


# --- spending a USDC budget (a marketable BUY hedge)

TWO_ASKS = ((D("0.40"), D(10)), (D("0.50"), D(100)))


def test_a_budget_takes_whole_levels_then_what_is_left_buys_at_the_next():
    # 10 at 0.40 cost 4.00; the 0.50 left buys exactly 1 share at 0.50.
    assert spend(TWO_ASKS, D("4.50"), D("0.50")).levels == ((D("0.40"), D(10)), (D("0.50"), D(1)))


def test_a_budget_spent_exactly_on_a_level_takes_nothing_more():
    assert spend(TWO_ASKS, D("4.00"), D("0.50")).levels == ((D("0.40"), D(10)),)


def test_a_budget_stops_at_a_level_above_its_limit():
    assert spend(TWO_ASKS, D("4.50"), D("0.45")).levels == ((D("0.40"), D(10)),)


def test_a_budget_buys_whole_micro_shares_rounded_down():
    # 1.00 / 0.60 = 1.6666666..: 1.666666 shares, never 1.666667 (that would cost more than 1.00).
    assert spend(((D("0.60"), D(100)),), D("1.00"), D("0.60")).levels == ((D("0.60"), D("1.666666")),)


def test_a_budget_left_with_less_than_a_micro_share_stops():
    # 1.666666 at 0.60 cost 0.9999996: the 0.0000004 left buys nothing at 0.61 (no empty level).
    levels = ((D("0.60"), D(100)), (D("0.61"), D(100)))
    assert spend(levels, D("1.00"), D("0.61")).levels == ((D("0.60"), D("1.666666")),)
