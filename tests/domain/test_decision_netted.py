"""Orders in a `netted` market: accepted down to platformMinShares within the limits, with no per-order
hedge (the market's rebalancer covers them); `per_order` markets keep refusing what the venue cannot
take. Book and settings as in test_decision: asks 0.47 x 80, 0.48 x 200; 200 bps spread, no fee."""

from __future__ import annotations

from decimal import Decimal as D

from server.domain.decision import Accepted
from server.domain.exposure import Position
from server.domain.types import BreakerLevel, RejectReason, Side
from tests.domain.test_decision import order, rejected, run


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


def test_small_netted_orders_stay_within_the_limits():
    # 3 shares at 0.48: loss if YES 3 - 1.44 = 1.56.
    at_limit = run(order(size="3"), mode="live", hedgePolicy="netted", market_limit="1.56")
    assert accepted(at_limit).after.exposure == D("1.56")
    over = rejected(run(order(size="3"), mode="live", hedgePolicy="netted", market_limit="1.55"))
    assert over.reason is RejectReason.MARKET_EXPOSURE_LIMIT
    total = rejected(
        run(order(size="3"), mode="live", hedgePolicy="netted", total="998.45", maxUnhedgedExposure="1000")
    )
    assert total.reason is RejectReason.TOTAL_EXPOSURE_LIMIT  # 998.45 + 1.56 = 1000.01


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
