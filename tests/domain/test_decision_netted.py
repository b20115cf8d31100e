"""Orders in a `netted` market: accepted down to platformMinShares within the limits, with no per-order
hedge (the market's rebalancer covers them); `per_order` markets keep refusing what the venue cannot
take. Book and settings as in test_decision: asks 0.47 x 80, 0.48 x 200; 200 bps spread, no fee."""

from __future__ import annotations

from decimal import Decimal as D

from server.domain.book import Book
from server.domain.decision import Accepted
from server.domain.exposure import Position
from server.domain.rebalance import LimitPrices, MarketLimits, RebalanceOrder, RebalancePolicy, rebalance
from server.domain.types import BreakerLevel, RejectReason, Side
from tests.domain.test_decision import NOW, T0, TERMS, order, rejected, run


def accepted(decision) -> Accepted:
    assert isinstance(decision, Accepted), decision
    return decision


def test_a_three_share_order_is_refused_per_order_and_accepted_netted():
    per_order = rejected(run(order(size="3"), mode="live"))
    assert per_order.reason is RejectReason.SIZE_TOO_SMALL
    assert per_order.message == "size 3 is below the venue's minimum order size 5"
    a = accepted(run(order(size="3"), mode="live", hedgePolicy="netted"))
    assert a.hedge is None and a.paper_fill is None
    assert a.quote.hedge_size == 0
    # 0.47 + 2 % = 0.4794, up to the tick: 0.48. The platform owes 3 YES and took 1.44 USDC; nothing in flight.
    assert a.quote.price == D("0.48")
    assert a.after == Position(user_shares=D(3), net_cash=D("1.44"))
    assert a.total_after == D("1.56")  # 3 - 1.44 if YES wins


def test_large_netted_orders_have_no_per_order_hedge_either():
    for mode in ("live", "paper"):
        a = accepted(run(order(size="100"), mode=mode, hedgePolicy="netted"))
        assert a.hedge is None and a.paper_fill is None


def test_platform_min_shares_is_the_floor_in_netted_markets():
    assert accepted(run(order(size="1"), mode="live", hedgePolicy="netted"))  # the default floor: 1
    small = rejected(run(order(size="0.99"), mode="live", hedgePolicy="netted"))
    assert small.reason is RejectReason.SIZE_TOO_SMALL
    assert small.message == "size 0.99 is below platformMinShares 1"
    assert accepted(run(order(size="0.5"), mode="live", hedgePolicy="netted", platformMinShares="0.5"))


def test_small_netted_orders_stay_within_the_limits_with_room_for_their_hedge():
    # 3 shares at 0.48: loss if YES 3 - 1.44 = 1.56, and its hedge (a BUY of 3 YES) in flight may add
    # the cent of fee rounding to it: the order needs 1.57 of room, though 1.56 is booked.
    at_limit = run(order(size="3"), mode="live", hedgePolicy="netted", market_limit="1.57")
    assert accepted(at_limit).after.exposure == D("1.56")
    over = rejected(run(order(size="3"), mode="live", hedgePolicy="netted", market_limit="1.56"))
    assert over.reason is RejectReason.MARKET_EXPOSURE_LIMIT
    total = rejected(
        run(order(size="3"), mode="live", hedgePolicy="netted", total="998.44", maxUnhedgedExposure="1000")
    )
    assert total.reason is RejectReason.TOTAL_EXPOSURE_LIMIT  # 998.44 + 1.57 = 1000.01
    assert accepted(
        run(order(size="3"), mode="live", hedgePolicy="netted", total="998.43", maxUnhedgedExposure="1000")
    )
    # With hedging off nothing will be in flight: no room is kept.
    assert accepted(run(order(size="3"), mode="off", hedgePolicy="netted", market_limit="1.56"))


def test_a_market_filled_to_its_limit_can_still_be_rebalanced():
    # 5 shares at 0.48 (5 x 0.4794 = 2.397 -> 0.48 a share): loss if YES 5 - 2.40 = 2.60; accepted with a
    # limit of 2.61. The rebalancer's BUY of 5 YES at 0.50 then adds 0.01 if YES wins (2.61, within)
    # and 2.50 + 0.01 if NO wins (-2.40 + 2.51 = 0.11): it goes.
    a = accepted(run(order(size="5"), mode="live", hedgePolicy="netted", market_limit="2.61"))
    assert a.after == Position(user_shares=D(5), net_cash=D("2.40"))
    step = rebalance(
        a.after,
        RebalancePolicy(ratio=D(1), min_shares=D(5), max_delay_ms=0),
        TERMS,
        LimitPrices(D("0.50"), D("0.52"), D("0.48"), D("0.46")),
        MarketLimits(market_limit=D("2.61"), total=a.total_after, total_limit=D(1000)),
        oldest_unhedged_at=None,
        now=NOW,
    )
    assert isinstance(step, RebalanceOrder) and step.size == D(5)
    assert step.after.exposure == D("2.61")


def test_reducing_accepts_only_what_lowers_exposure_in_netted_markets_too():
    owed = Position(user_shares=D(10), net_cash=D("4.80"))  # exposure 5.20
    sell = run(
        order(Side.SELL, size="3"),
        mode="live",
        hedgePolicy="netted",
        position=owed,
        breaker=BreakerLevel.REDUCING,
    )
    assert accepted(sell).after.exposure < owed.exposure
    buy = rejected(
        run(order(size="3"), mode="live", hedgePolicy="netted", position=owed, breaker=BreakerLevel.REDUCING)
    )
    assert buy.reason is RejectReason.REDUCE_ONLY


def test_an_order_that_brings_the_market_back_needs_no_room_for_a_hedge():
    # A wide book: asks 0.47, bids 0.10. After a 3-share BUY at 0.48 (loss if YES 1.56, within 1.57), a
    # user sells the 3 back at 0.09: nothing is left to hedge, and the sale is accepted at the same limit.
    wide = Book(token_id="yes", bids=((D("0.10"), D(100)),), asks=((D("0.47"), D(80)),), updated_at=T0)
    bought = accepted(run(order(size="3"), book=wide, mode="live", hedgePolicy="netted", market_limit="1.57"))
    assert bought.after.exposure == D("1.56")
    sold = run(
        order(Side.SELL, size="3"), book=wide, mode="live", hedgePolicy="netted", market_limit="1.57",
        position=bought.after,
    )  # fmt: skip
    assert accepted(sold).after.user_shares == 0


def test_a_netted_order_adding_to_the_gap_is_queued_one_lowering_it_is_not():
    assert accepted(run(order(size="3"), mode="live", hedgePolicy="netted")).queued
    # The platform already owes 10 YES unhedged: a user SELL of 3 brings it towards flat.
    owed = Position(user_shares=D(10), net_cash=D("4.8"))
    assert not accepted(
        run(order(side=Side.SELL, size="3"), position=owed, mode="live", hedgePolicy="netted")
    ).queued
    # Nothing goes to the venue in paper or off mode, nor per order through the rebalancer.
    assert not accepted(run(order(size="3"), mode="paper", hedgePolicy="netted")).queued
    assert not accepted(run(order(size="10"), mode="live")).queued
