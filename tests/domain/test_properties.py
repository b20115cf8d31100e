"""Properties over random books and orders, each checked against a small reference written here:
a quote is never better for the user than the book after fees and spread, prices and budgets round in
the platform's favour, and exposure is the worst case over the two outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain.book import Book
from server.domain.config_schema import HedgeSettings
from server.domain.decision import Accepted, OrderRequest, decide
from server.domain.exposure import Position
from server.domain.in_flight import InFlight
from server.domain.limits import hedge_budget
from server.domain.pricing import MarketTerms, Quote, quote
from server.domain.types import BreakerLevel, Leg, Side

T0 = datetime(2026, 12, 1, tzinfo=UTC)
TICK = Decimal("0.01")
ONE = Decimal(1)

# --- references


def ref_walk(levels, size):
    """(shares, cost, [(price, shares)]) taking `size` shares from the best level on."""
    taken, left = [], size
    for price, available in levels:
        take = min(available, left)
        if take > 0:
            taken.append((price, take))
            left -= take
    return sum(s for _, s in taken), sum(p * s for p, s in taken), taken


def ref_fee(taken, rate, exponent):
    """The venue's formula, one fill per level: shares x r x (p(1-p))^e, half up to 5 places, min 0.00001."""
    total = Decimal(0)
    for price, shares in taken:
        raw = shares * rate * (price * (ONE - price)) ** exponent
        if raw > 0:
            total += max(raw.quantize(Decimal("0.00001"), rounding=ROUND_HALF_UP), Decimal("0.00001"))
    return total


@dataclass
class Ledger:
    """Every flow of the platform: cash in (+) or out (-), and what each outcome pays it (+) or costs it (-)."""

    cash: Decimal = Decimal(0)
    if_yes: Decimal = Decimal(0)
    if_no: Decimal = Decimal(0)
    worse_if_yes: Decimal = Decimal(0)  # the most hedges still in flight can add to the loss if YES
    worse_if_no: Decimal = Decimal(0)

    def loss_if_yes(self) -> Decimal:
        return -(self.cash + self.if_yes) + self.worse_if_yes

    def loss_if_no(self) -> Decimal:
        return -(self.cash + self.if_no) + self.worse_if_no

    def exposure(self) -> Decimal:
        return max(self.loss_if_yes(), self.loss_if_no(), Decimal(0))


# --- strategies

cents = st.integers(min_value=1, max_value=99).map(lambda c: Decimal(c) / 100)
shares = st.integers(min_value=1, max_value=50_000).map(lambda c: Decimal(c) / 100)


@st.composite
def books(draw):
    asks = sorted(set(draw(st.lists(st.integers(2, 99), min_size=1, max_size=5))))
    best_ask = asks[0]
    bids = sorted(set(draw(st.lists(st.integers(1, best_ask - 1), min_size=1, max_size=5))), reverse=True)
    return Book(
        "yes",
        tuple((Decimal(p) / 100, draw(shares)) for p in bids),
        tuple((Decimal(p) / 100, draw(shares)) for p in asks),
        T0,
    )


fee_terms = st.tuples(st.sampled_from(["0", "0.02", "0.05", "0.07", "0.25"]), st.sampled_from([0, 1, 2])).map(
    lambda t: MarketTerms("yes", "no", TICK, Decimal(5), Decimal(t[0]), Decimal(t[1]))
)


# --- quotes


@settings(deadline=None)
@given(
    book=books(),
    terms=fee_terms,
    side=st.sampled_from([Side.BUY, Side.SELL]),
    size=shares,
    held=shares,
    spread=st.integers(0, 1000),
    slippage=st.integers(0, 5000),
)
def test_a_quote_is_never_better_for_the_user_than_the_book_after_fees_and_spread(
    book, terms, side, size, held, spread, slippage
):
    q = quote(side, size, terms, book, yes_available=held, min_spread_bps=spread, max_slippage_bps=slippage)
    if not isinstance(q, Quote):
        return
    s = Decimal(spread) / 10_000
    assert q.price % TICK == 0 and TICK <= q.price <= ONE - TICK
    if side is Side.BUY:
        got, cost, taken = ref_walk(book.asks, size)
        bound = (cost + ref_fee(taken, terms.fee_rate, terms.fee_exponent)) / size * (1 + s)
        # The user pays at least the hedge's cost with fee plus the spread (more when the hedge's
        # budget buys extra shares at worse levels: see test_pricing).
        assert bound <= q.price
    elif held >= size:
        got, proceeds, taken = ref_walk(book.bids, size)
        bound = (proceeds - ref_fee(taken, terms.fee_rate, terms.fee_exponent)) / size * (1 - s)
        assert bound - TICK < q.price <= bound
    else:
        no_asks = tuple((ONE - p, n) for p, n in book.bids)
        got, cost, taken = ref_walk(no_asks, size)
        bound = (ONE - (cost + ref_fee(taken, terms.fee_rate, terms.fee_exponent)) / size) * (1 - s)
        assert q.price <= bound
    assert got == size


@settings(deadline=None)
@given(size=shares, limit=cents)
def test_a_hedge_budget_covers_the_size_at_the_limit_by_less_than_a_cent(size, limit):
    budget = hedge_budget(size, limit)
    assert budget % Decimal("0.01") == 0
    assert size * limit <= budget < size * limit + Decimal("0.01")


# --- exposure

user_trades = st.tuples(st.just("user"), st.sampled_from([Side.BUY, Side.SELL]), shares, cents)
hedges = st.tuples(
    st.just("hedge"),
    st.sampled_from([(Leg.YES, Side.BUY), (Leg.NO, Side.BUY), (Leg.YES, Side.SELL)]),
    shares,
    cents,
    st.integers(0, 500).map(lambda f: Decimal(f) / 1000),
    st.tuples(shares, shares),  # its bounds while in flight
    st.booleans(),  # settled (else still in flight at the end)
)


@settings(deadline=None)
@given(st.lists(st.one_of(user_trades, hedges), max_size=12))
def test_exposure_is_the_worst_outcome_of_every_flow(steps):
    position, ledger = Position(), Ledger()
    reserved = Decimal(0)
    for step in steps:
        if step[0] == "user":
            _, side, size, price = step
            position = position.with_user_trade(side, size, price)
            sign = 1 if side is Side.BUY else -1
            ledger.cash += sign * size * price  # the user pays (BUY) or is paid (SELL)
            ledger.if_yes -= sign * size  # and is owed (or gives back) a share that pays 1 if YES
        else:
            _, (leg, side), size, price, fee, (worse_if_yes, worse_if_no), settled = step
            hedge = InFlight(leg, side, size, worse_if_yes, worse_if_no)
            position = position.with_hedge_sent(hedge)
            if not settled:
                ledger.worse_if_yes += worse_if_yes
                ledger.worse_if_no += worse_if_no
                reserved += size if side is Side.SELL else 0
                assert position.exposure == ledger.exposure()
                continue
            cost = size * price
            position = position.with_hedge_result(hedge, filled=size, cost=cost, fee=fee)
            ledger.cash -= fee
            if side is Side.SELL:
                ledger.cash += cost
                ledger.if_yes -= size
            else:
                ledger.cash -= cost
                if leg is Leg.YES:
                    ledger.if_yes += size
                else:
                    ledger.if_no += size
        assert position.exposure == ledger.exposure()
        assert position.loss_if_yes == ledger.loss_if_yes()
        assert position.loss_if_no == ledger.loss_if_no()
    assert position.yes_reserved_for_sale == reserved  # every settled sale released its reservation


@settings(deadline=None)
@given(
    book=books(),
    terms=fee_terms,
    side=st.sampled_from([Side.BUY, Side.SELL]),
    size=st.integers(500, 20_000).map(lambda c: Decimal(c) / 100),
    owed=st.integers(-200, 200).map(Decimal),
    held_yes=st.integers(0, 300).map(Decimal),
    held_no=st.integers(0, 300).map(Decimal),
    cash=st.integers(-100, 100).map(Decimal),
    total=st.integers(0, 500).map(Decimal),
    mode=st.sampled_from(["off", "paper"]),
)
def test_exposure_after_an_accepted_order_is_the_worst_outcome(
    book, terms, side, size, owed, held_yes, held_no, cash, total, mode
):
    config = {
        "mode": mode,
        "maxSlippageBps": "5000",
        "maxUnhedgedExposure": "1000000",
        "hedgeOrderType": "FOK",
    }
    position = Position(user_shares=owed, hedge_yes=held_yes, hedge_no=held_no, net_cash=cash)
    request = OrderRequest("a", "r", "e", "YES", side, size, None)
    decision = decide(
        request,
        terms,
        book,
        position,
        total,
        HedgeSettings.from_values(config),
        Decimal(1_000_000),
        BreakerLevel.ACTIVE,
        T0,
    )
    if not isinstance(decision, Accepted):
        return
    before = Ledger(cash=cash, if_yes=held_yes - owed, if_no=held_no)
    ledger = Ledger(before.cash, before.if_yes, before.if_no)
    price = decision.quote.price
    sign = 1 if side is Side.BUY else -1
    ledger.cash += sign * size * price
    ledger.if_yes -= sign * size
    hedged = decision.quote.hedge_size
    if mode == "paper" and hedged > 0:
        # The hedge fills at the book's levels up to its limit price (FOK: all or nothing).
        limit = decision.quote.hedge_limit_price
        leg, hedge_side = decision.quote.hedge.leg, decision.quote.hedge.side
        if hedge_side is Side.SELL:
            levels = tuple(lv for lv in book.bids if lv[0] >= limit)
        elif leg is Leg.YES:
            levels = tuple(lv for lv in book.asks if lv[0] <= limit)
        else:
            levels = tuple((ONE - p, n) for p, n in book.bids if ONE - p <= limit)
        got, cost, taken = ref_walk(levels, hedged)
        assert got == hedged  # the quote only prices what fills within its limit
        ledger.cash -= ref_fee(taken, terms.fee_rate, terms.fee_exponent)
        if hedge_side is Side.SELL:
            ledger.cash += cost
            ledger.if_yes -= hedged
        else:
            ledger.cash -= cost
            if leg is Leg.YES:
                ledger.if_yes += hedged
            else:
                ledger.if_no += hedged
    else:
        assert hedged == 0
    assert decision.after.exposure == ledger.exposure()
    assert decision.total_after == total - before.exposure() + ledger.exposure()
