"""The total exposure with neg-risk groups: each group counted once at its worst case over which
single outcome wins. Hand-worked boundaries of the total limit, and properties: moving markets one
at a time with `total_after` keeps the total equal to a brute-force recount."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain.exposure import Position, total_after, total_exposure
from server.domain.group_exposure import GroupLimit, OutcomeLosses
from server.domain.limits import Limits, check_breaker, check_limits
from server.domain.types import BreakerLevel, RejectReason

D = Decimal
# Users hold 100 YES bought at 0.20 in a market: loses 100 - 20 = 80 if YES wins, gains 20 if NO.
SOLD = Position(user_shares=D("100"), net_cash=D("20"))


def _losses(p: Position) -> OutcomeLosses:
    return OutcomeLosses(p.loss_if_yes, p.loss_if_no)


def test_a_five_outcome_group_counts_once_in_the_total():
    # Four markets sold as above; the fifth moves from flat to sold. Each market's own worst case is 80
    # (the per-market sum would go 320 -> 400); the group's: one outcome wins, 80 - 3 x 20 = 20 before,
    # 80 - 4 x 20 = 0 after; none wins: -80 / -100. So the total goes 20 -> 0, not up by 80.
    siblings = [_losses(SOLD)] * 4
    assert total_exposure([], [[SOLD] * 4 + [Position()]]) == D("20")
    assert total_after(D("20"), Position(), SOLD, siblings) == D("0")
    assert total_after(D("20"), Position(), SOLD) == D("100")  # as a market in no group
    # With a standalone market at 30 besides: 30 + 0.
    assert total_exposure([Position(user_shares=D("50"), net_cash=D("20"))], [[SOLD] * 5]) == D("30")


def test_the_total_limit_on_a_grouped_order_binds_at_the_group_s_worst_case():
    limits = Limits(D("1000"), D("1"), market_limit=D("5"), total_limit=D("50"))
    group = GroupLimit((_losses(Position()),) * 4, limit=D("1000"))
    # One flat group: a user buys 100 at 0.50 in one market: YES loses 50, NO gains 50.
    before, after = Position(), Position(user_shares=D("100"), net_cash=D("50"))
    # Market limit 5 is not the group's check: the group limit is. Total 0 -> 50: exactly at the limit.
    assert (
        check_limits(before, after, total_after(D("0"), before, after, group.siblings), limits, group) is None
    )
    over = Position(user_shares=D("100.02"), net_cash=D("50.01"))  # loses 50.01 if YES
    refused = check_limits(before, over, total_after(D("0"), before, over, group.siblings), limits, group)
    assert refused is not None and refused.reason is RejectReason.TOTAL_EXPOSURE_LIMIT
    # Without the group, the market limit refuses the same order.
    alone = check_limits(before, after, total_after(D("0"), before, after), limits, None)
    assert alone is not None and alone.reason is RejectReason.MARKET_EXPOSURE_LIMIT


def test_reduce_only_judges_a_grouped_order_by_its_group():
    # A group of two markets, the other one sold (80 if YES, -20 if NO).
    group = GroupLimit((_losses(SOLD),), limit=D("1000"))
    # Selling this market too: its own worst case rises 0 -> 80, the group's falls:
    # before: none -20, other wins 80 + 0 = 80, this wins -20 + 0 = -20 -> 80;
    # after:  none -40, other wins 80 - 20 = 60, this wins -20 + 80 = 60 -> 60.
    assert check_breaker(BreakerLevel.REDUCING, Position(), SOLD, group) is None
    refused = check_breaker(BreakerLevel.REDUCING, Position(), SOLD)  # in no group: 0 -> 80
    assert refused is not None and refused.reason is RejectReason.REDUCE_ONLY
    # Buying it back: its own worst case falls 80 -> 0, the group's rises 60 -> 80 (its NO gain offset
    # the other's loss): refused while reducing, in the group only.
    refused = check_breaker(BreakerLevel.REDUCING, SOLD, Position(), group)
    assert refused is not None and refused.reason is RejectReason.REDUCE_ONLY
    assert check_breaker(BreakerLevel.REDUCING, SOLD, Position()) is None
    # Level with the group's worst case (60 -> 60) is not lower: refused.
    # This market at 60 if YES, -20 if NO: none -40, other wins 80 - 20 = 60, this wins -20 + 60 = 40.
    same = Position(user_shares=D("80"), net_cash=D("20"))
    assert check_breaker(BreakerLevel.REDUCING, SOLD, same, group) is not None


money = st.decimals(min_value=-500, max_value=500, places=2)
positions = st.builds(Position, user_shares=money, hedge_yes=money, hedge_no=money, net_cash=money)
worlds = st.lists(st.lists(positions, min_size=1, max_size=5), min_size=0, max_size=3)  # groups
moves = st.lists(st.tuples(st.integers(0, 99), positions), max_size=12)


def _brute(standalone: list[Position], groups: list[list[Position]]) -> Decimal:
    """Each market alone at its worse outcome; each group at its worst over every way it can end."""
    total = sum((max(p.loss_if_yes, p.loss_if_no, D(0)) for p in standalone), D(0))
    for g in groups:
        ends = [sum(((p.loss_if_yes if i == w else p.loss_if_no) for i, p in enumerate(g)), D(0)) for w in
                [None, *range(len(g))]]  # fmt: skip
        total += max(max(ends), D(0))
    return total


@settings(max_examples=300, deadline=None)
@given(st.lists(positions, max_size=4), worlds, moves)
def test_moving_markets_one_at_a_time_keeps_the_total_a_brute_force_recount(standalone, groups, steps):
    total = _brute(standalone, groups)
    assert total_exposure(standalone, groups) == total
    slots = [(None, i) for i in range(len(standalone))] + [
        (g, i) for g in range(len(groups)) for i in range(len(groups[g]))
    ]
    for pick, after in steps:
        if not slots:
            break
        g, i = slots[pick % len(slots)]
        if g is None:
            total = total_after(total, standalone[i], after)
            standalone[i] = after
        else:
            siblings = [_losses(p) for j, p in enumerate(groups[g]) if j != i]
            total = total_after(total, groups[g][i], after, siblings)
            groups[g][i] = after
        assert total == _brute(standalone, groups)
