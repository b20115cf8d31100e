"""Payouts at resolution: hand-worked cases, and a property against a brute-force recomputation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain.payouts import Payout, UserTrade, payouts, winning_leg
from server.domain.types import Leg, Side

D = Decimal
BUY, SELL = Side.BUY, Side.SELL


def test_yes_pays_each_net_share_one_usdc_per_account():
    trades = [
        UserTrade("alice", BUY, D("100")),
        UserTrade("bob", BUY, D("40")),
        UserTrade("alice", SELL, D("20")),
        UserTrade("carol", SELL, D("10")),  # sold back more than held: owes the platform
        UserTrade("dave", BUY, D("5")),
        UserTrade("dave", SELL, D("5")),
    ]
    # alice 100 - 20 = 80, bob 40, carol -10, dave 5 - 5 = 0
    assert payouts(trades, Leg.YES) == [
        Payout("alice", D("80"), D("80")),
        Payout("bob", D("40"), D("40")),
        Payout("carol", D("-10"), D("-10")),
        Payout("dave", D("0"), D("0")),
    ]


def test_no_pays_nothing_but_every_account_is_settled():
    trades = [UserTrade("bob", BUY, D("40.5")), UserTrade("alice", BUY, D("1"))]
    assert payouts(trades, Leg.NO) == [Payout("alice", D("1"), D("0")), Payout("bob", D("40.5"), D("0"))]
    assert payouts([], Leg.YES) == []


def test_the_winning_leg_is_one_of_the_markets_tokens():
    assert winning_leg("y", "y", "n") is Leg.YES
    assert winning_leg("n", "y", "n") is Leg.NO
    with pytest.raises(ValueError, match="neither"):
        winning_leg("other", "y", "n")


accounts = st.sampled_from(["a", "b", "c", "d"])
sizes = st.decimals(min_value=D("0.01"), max_value=D("10000"), places=2)
trades_ = st.lists(st.builds(UserTrade, accounts, st.sampled_from([BUY, SELL]), sizes), max_size=30)


@settings(max_examples=200, deadline=None)
@given(trades_, st.sampled_from([Leg.YES, Leg.NO]))
def test_payouts_equal_a_brute_force_recomputation(trades, winner):
    got = {p.account_id: p for p in payouts(trades, winner)}
    for account in {t.account_id for t in trades}:
        held = D(0)
        for t in trades:
            if t.account_id == account:
                held = held + t.size if t.side is BUY else held - t.size
        assert got[account].shares == held
        assert got[account].payout == (held if winner is Leg.YES else D(0))
    assert set(got) == {t.account_id for t in trades}
