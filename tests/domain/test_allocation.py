"""Allocating a netted hedge's fill to the user orders it covers (`server.domain.allocation`): oldest
first, each up to its need; cost and fee split by shares in whole micro-USDC, summing exactly."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.allocation import USDC_QUANTUM, Allocation, Need, allocate, split


def test_oldest_first_each_up_to_its_need():
    # 8 shares for 4.00 USDC and a fee of 0.07: orders of 3, 3, 3 shares get 3, 3, 2.
    # Cost by shares: 3/8 x 4 = 1.5, 1.5, 1.0; fee 3/8 x 0.07 = 0.02625 each, 0.0175 for the last.
    got = allocate([Need("a", D(3)), Need("b", D(3)), Need("c", D(3))], D(8), D("4.00"), D("0.07"))
    assert got == [
        Allocation("a", D(3), D("1.500000"), D("0.026250")),
        Allocation("b", D(3), D("1.500000"), D("0.026250")),
        Allocation("c", D(2), D("1.000000"), D("0.017500")),
    ]


def test_shares_beyond_every_need_are_left_over_and_carry_their_cost():
    # 5.5 filled for orders needing 2 and 3: 0.5 left, unowned. 1.10 USDC over 2 : 3 : 0.5 shares.
    got = allocate([Need("a", D(2)), Need("b", D(3))], D("5.5"), D("1.10"), D(0))
    assert got == [
        Allocation("a", D(2), D("0.400000"), D(0)),
        Allocation("b", D(3), D("0.600000"), D(0)),
        Allocation(None, D("0.5"), D("0.100000"), D(0)),
    ]


def test_a_cost_that_does_not_divide_goes_to_the_largest_remainders_first():
    # 0.000010 in 3 equal parts: 10 micro-USDC = 3 + 3 + 3, one more to the first (ties: earlier).
    assert split(D("0.000010"), [D(1), D(1), D(1)], USDC_QUANTUM) == [
        D("0.000004"), D("0.000003"), D("0.000003"),
    ]  # fmt: skip
    # 7 units over weights 1 : 2 : 4 -> exactly 1, 2, 4. Over 1 : 1 : 5 -> 1, 1, 5.
    assert split(D(7), [D(1), D(2), D(4)], D(1)) == [1, 2, 4]
    # 10 over 0.3 : 0.3 : 0.4 -> 3, 3, 4; 5 over 0.25 : 0.75 -> 1.25 / 3.75 -> 1 + (larger .75) -> 1, 4.
    assert split(D(10), [D("0.3"), D("0.3"), D("0.4")], D(1)) == [3, 3, 4]
    assert split(D(5), [D("0.25"), D("0.75")], D(1)) == [1, 4]
    assert split(D(0), [D(0)], D(1)) == [0]


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        allocate([Need("a", D(0))], D(1), D(1), D(0))
    with pytest.raises(ValueError):
        allocate([Need("a", D(1))], D("-0.01"), D(0), D(0))
    with pytest.raises(ValueError, match="cost must be a non-negative multiple"):
        allocate([Need("a", D(1))], D(1), D("0.0000001"), D(0))
    with pytest.raises(ValueError, match="fee must be"):
        allocate([Need("a", D(1))], D(1), D(1), D(-1))
    with pytest.raises(ValueError):
        split(D(1), [D(0)], D(1))


shares = st.integers(1, 100_000).map(lambda n: D(n) / 100)
micro = st.integers(0, 10**9).map(lambda n: D(n) * USDC_QUANTUM)


@given(st.lists(shares, max_size=20), st.integers(1, 2_000_000).map(lambda n: D(n) / 100), micro, micro)
def test_every_sum_is_exact_and_oldest_orders_are_served_first(need_sizes, filled, cost, fee):
    needs = [Need(str(i), s) for i, s in enumerate(need_sizes)]
    got = allocate(needs, filled, cost, fee)
    assert sum(a.shares for a in got) == filled
    assert sum(a.cost for a in got) == cost
    assert sum(a.fee for a in got) == fee
    owned = [a for a in got if a.order_id is not None]
    for i, a in enumerate(owned):
        assert a.order_id == needs[i].order_id and 0 < a.shares <= needs[i].shares
        if i < len(owned) - 1:
            assert a.shares == needs[i].shares  # only the last one served may get less than its need
    unowned = [a for a in got if a.order_id is None]
    assert sum(a.shares for a in unowned) == max(filled - sum(need_sizes, D(0)), D(0))
    total_shares = sum(a.shares for a in got)
    for a in got:  # each part within one quantum of its exact share
        if total_shares:
            assert abs(a.cost - cost * a.shares / total_shares) < USDC_QUANTUM
            assert abs(a.fee - fee * a.shares / total_shares) < USDC_QUANTUM


def test_opposite_orders_net_oldest_first_for_what_both_sides_still_need():
    from server.domain.allocation import net_opposite

    buys = [Need("b1", D(3)), Need("b2", D(5))]
    sells = [Need("s1", D(4)), Need("s2", D("0.5"))]
    # b1's 3 meet s1's first 3; b2 meets s1's last 1 and s2's 0.5: 4.5 shares a side.
    assert net_opposite(buys, sells) == [
        Allocation("b1", D(3), D(0), D(0)),
        Allocation("s1", D(4), D(0), D(0)),
        Allocation("b2", D("1.5"), D(0), D(0)),
        Allocation("s2", D("0.5"), D(0), D(0)),
    ]
    assert net_opposite(buys, []) == []
