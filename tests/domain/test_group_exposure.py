"""Neg-risk group exposure: hand-worked cases, and properties against a brute force over every way
the event can resolve."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain.group_exposure import OutcomeLosses, group_exposure

D = Decimal


def test_five_outcomes_sold_yes_worst_case_is_one_winner_not_all_five():
    # Users bought 100 YES at 0.20 on each of five outcomes: each market loses 100 - 20 = 80 if YES,
    # and gains the 20 taken if NO. Alone, each market's worst case is 80 (sum 400). In the event one
    # outcome wins: 80 - 4 x 20 = 0; none wins: -100.
    markets = [OutcomeLosses(D("80"), D("-20"))] * 5
    exposure = group_exposure(markets)
    assert (exposure.worst_case_loss, exposure.worst_outcome, exposure.loss_if_none) == (D("0"), 0, D("-100"))


def test_the_worst_outcome_is_named_and_none_can_be_worst():
    markets = [
        OutcomeLosses(D("10"), D("-2")),
        OutcomeLosses(D("30"), D("-5")),
        OutcomeLosses(D("1"), D("4")),
    ]
    # none: -2 - 5 + 4 = -3; outcome 0: 10 - 5 + 4 = 9; outcome 1: -2 + 30 + 4 = 32; outcome 2: -2 - 5 + 1 = -6
    exposure = group_exposure(markets)
    assert (exposure.worst_case_loss, exposure.worst_outcome, exposure.loss_if_none) == (D("32"), 1, D("-3"))
    # Long YES everywhere (the platform holds hedges): only "none wins" loses.
    held = [OutcomeLosses(D("-50"), D("10")), OutcomeLosses(D("-50"), D("10"))]
    # none: 20; outcome 0 or 1: -50 + 10 = -40
    assert (group_exposure(held).worst_case_loss, group_exposure(held).worst_outcome) == (D("20"), None)
    assert group_exposure([]).worst_case_loss == 0 and group_exposure([]).exposure == 0


money = st.decimals(min_value=-10_000, max_value=10_000, places=2, allow_nan=False, allow_infinity=False)
groups = st.lists(st.builds(OutcomeLosses, money, money), max_size=8)


def _brute_force(markets: list[OutcomeLosses]) -> Decimal:
    """Every way the event can end - no outcome, or exactly one - each market paid as it resolves."""
    worlds: list[int | None] = [None, *range(len(markets))]
    return max(
        sum(((m.loss_if_yes if i == winner else m.loss_if_no) for i, m in enumerate(markets)), Decimal(0))
        for winner in worlds
    )


@settings(max_examples=300, deadline=None)
@given(groups)
def test_the_group_worst_case_is_the_brute_force_maximum_over_outcomes(markets):
    exposure = group_exposure(markets)
    assert exposure.worst_case_loss == _brute_force(markets)
    winner = exposure.worst_outcome
    named = sum(((m.loss_if_yes if i == winner else m.loss_if_no) for i, m in enumerate(markets)), Decimal(0))
    assert named == exposure.worst_case_loss


@settings(max_examples=300, deadline=None)
@given(groups)
def test_the_group_never_counts_more_than_the_sum_of_its_markets(markets):
    per_market = sum((max(m.loss_if_yes, m.loss_if_no, Decimal(0)) for m in markets), Decimal(0))
    assert group_exposure(markets).exposure <= per_market


def test_the_group_limit_refuses_only_a_rise_past_it():
    from server.domain.group_exposure import GroupLimit
    from server.domain.limits import check_group
    from server.domain.types import RejectReason

    group = GroupLimit((OutcomeLosses(D("30"), D("-10")),), D("100"))
    # The other market wins: 30 + no; this one wins: yes - 10; none: -10 + no.
    before = group.with_market(D("50"), D("-5"))  # max(25, 40, -15) = 40
    at_limit = group.with_market(D("110"), D("-5"))  # max(25, 100, -15) = 100
    above = group.with_market(D("110.01"), D("-5"))  # 100.01
    assert (before.worst_case_loss, at_limit.worst_case_loss) == (D("40"), D("100"))
    assert check_group(before, at_limit, group.limit) is None
    refused = check_group(before, above, group.limit)
    assert refused is not None and refused.reason is RejectReason.GROUP_EXPOSURE_LIMIT
    # Already above the limit, an order that lowers the group's worst case is not refused.
    assert check_group(above, at_limit, group.limit) is None
    assert check_group(above, above, group.limit) is None
