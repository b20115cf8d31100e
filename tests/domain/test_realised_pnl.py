"""Realised P&L of a resolved market: a hand-worked market under each winner, and properties (the
five parts add up to the cash flows; the cash flows equal a brute-force recomputation)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain.payouts import UserTrade, payouts
from server.domain.realised_pnl import HedgeFill, UserFill, realised_pnl
from server.domain.types import Leg, Side

D = Decimal
BUY, SELL, YES, NO = Side.BUY, Side.SELL, Leg.YES, Leg.NO

# alice buys 100 at 0.55, hedged by buying 100 YES for 51.00 (reference 0.50: 1.00 of slippage), fee 0.70;
# bob buys 40 at 0.60, unhedged; alice sells 20 back at 0.45, hedged by selling 20 YES for 9.40
# (reference 0.48: 9.60, 0.20 of slippage), fee 0.10; carol sells 10 at 0.40, hedged by buying 10 NO
# for 5.30 (reference 0.52: 5.20, 0.10 of slippage), fee 0.05.
ORDERS = [("alice", BUY, "100", "0.55"), ("bob", BUY, "40", "0.60"), ("alice", SELL, "20", "0.45"),
          ("carol", SELL, "10", "0.40")]  # fmt: skip
USERS = [UserFill(side, D(size), D(price)) for _, side, size, price in ORDERS]
TRADES = [UserTrade(account, side, D(size)) for account, side, size, _ in ORDERS]
HEDGES = [
    HedgeFill(YES, BUY, D("100"), D("51.00"), D("0.70"), D("100"), D("0.55"), D("0.50")),
    HedgeFill(YES, SELL, D("20"), D("9.40"), D("0.10"), D("20"), D("0.45"), D("0.48")),
    HedgeFill(NO, BUY, D("10"), D("5.30"), D("0.05"), D("10"), D("0.40"), D("0.52")),
]


def test_yes_wins_hand_worked():
    books = realised_pnl(USERS, HEDGES, payouts(TRADES, YES), YES)
    # in: 55 + 24 = 79; out: sell-backs 9 + 4 = 13 and payouts alice 80 + bob 40 + carol -10 = 110
    assert (books.cash_from_users, books.cash_to_users) == (D("79"), D("123"))
    assert books.hedge_cost == D("46.90")  # 51.00 - 9.40 + 5.30
    assert books.fees == D("0.85")
    assert books.redemption == D("80")  # YES bought 100, sold 20
    assert books.realised == D("-11.75")  # 79 - 123 - 46.90 - 0.85 + 80
    # spread: (0.55 - 0.50) x 100 + (0.48 - 0.45) x 20 + (1 - 0.40 - 0.52) x 10 = 5 + 0.60 + 0.80
    assert books.spread == D("6.40")
    assert books.slippage == D("1.30")  # 1.00 + 0.20 + 0.10
    # 79 - 13 - 110 - (50 - 9.60 + 5.20) - 6.40
    assert books.unhedged == D("-96.00")
    # unhedged + redemption is bob's unhedged 40 shares: paid 24, owed 40
    assert books.unhedged + books.redemption == D("-16")
    assert books.parts == books.realised


def test_no_wins_hand_worked():
    books = realised_pnl(USERS, HEDGES, payouts(TRADES, NO), NO)
    assert (books.cash_to_users, books.redemption) == (D("13"), D("10"))  # carol's hedge: 10 NO
    assert books.realised == D("28.25")  # 79 - 13 - 46.90 - 0.85 + 10
    assert books.unhedged == D("14.00")  # 79 - 13 - 0 - 45.60 - 6.40
    assert books.unhedged + books.redemption == D("24")  # bob's 24 kept
    assert books.spread - books.fees - books.slippage + books.unhedged + books.redemption == D("28.25")


def test_a_buy_hedge_s_extra_shares_are_inventory_not_spread():
    # The user bought 10 at 0.55; the hedge's budget bought 10.5 YES for 5.25 (reference 0.50), fee 0.
    books = realised_pnl(
        [UserFill(BUY, D("10"), D("0.55"))],
        [HedgeFill(YES, BUY, D("10.5"), D("5.25"), D("0"), D("10"), D("0.55"), D("0.50"))],
        payouts([UserTrade("a", BUY, D("10"))], YES),
        YES,
    )
    assert books.spread == D("0.50")  # on the user's 10 shares only
    assert books.slippage == D("0")
    assert books.redemption == D("10.5")
    assert books.realised == D("0.75")  # 5.50 - 10 - 5.25 + 10.5
    assert books.parts == books.realised


def test_a_rebalancer_hedge_without_reference_counts_in_unhedged():
    books = realised_pnl(
        [UserFill(BUY, D("10"), D("0.55"))],
        [HedgeFill(YES, BUY, D("10"), D("5.10"), D("0.02"))],
        payouts([UserTrade("a", BUY, D("10"))], NO),
        NO,
    )
    assert (books.spread, books.slippage, books.redemption) == (D("0"), D("0"), D("0"))
    assert books.unhedged == D("0.40")  # 5.50 - 5.10
    assert books.realised == D("0.38")


money = st.decimals(min_value=D("0.01"), max_value=D("1000"), places=2)
price = st.decimals(min_value=D("0.01"), max_value=D("0.99"), places=2)
legs, sides = st.sampled_from([YES, NO]), st.sampled_from([BUY, SELL])
orders_ = st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), sides, money, price), max_size=12)
reference = st.none() | price
hedges_ = st.lists(
    st.builds(HedgeFill, legs, sides, money, money, money, money, price, reference), max_size=12
)


@settings(max_examples=300, deadline=None)
@given(orders_, hedges_, legs)
def test_parts_sum_to_the_cash_flows_recomputed_by_brute_force(orders, hedges, winner):
    books = realised_pnl(
        [UserFill(s, n, p) for _, s, n, p in orders],
        hedges,
        payouts([UserTrade(a, s, n) for a, s, n, _ in orders], winner),
        winner,
    )
    cash = D(0)
    for _, side, size, p in orders:  # each user trade, then each share's payout
        cash += size * p if side is BUY else -size * p
        if winner is YES:
            cash -= size if side is BUY else -size
    for h in hedges:  # each hedge's cash, then its winning tokens redeemed
        cash -= h.cost + h.fee if h.side is BUY else h.fee - h.cost
        if h.leg is winner:
            cash += h.filled if h.side is BUY else -h.filled
    assert books.realised == cash
    assert books.parts == cash
