"""The platform's price for a user order: Polymarket's executable price for the size, plus the spread,
with the hedge's taker fee included so that `minSpreadBps` is profit after fees; and the hedge order's
worst acceptable price."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from server.domain.book import Book, spend, walk
from server.domain.fees import taker_fee, taker_fee_per_share
from server.domain.limits import hedge_budget
from server.domain.types import Leg, RejectReason, Side

BPS = Decimal(10_000)
ONE = Decimal(1)
BUDGET_ROUNDS = 4


@dataclass(frozen=True)
class MarketTerms:
    """What pricing needs to know of a Polymarket market."""

    yes_token_id: str
    no_token_id: str
    tick_size: Decimal
    min_order_size: Decimal
    fee_rate: Decimal
    fee_exponent: Decimal


@dataclass(frozen=True)
class HedgePlan:
    """Which token the hedge trades and how: a user BUY is hedged by buying YES; a user SELL by selling
    YES held from earlier hedges, else by buying NO (YES + NO pay exactly 1)."""

    leg: Leg
    side: Side
    token_id: str


@dataclass(frozen=True)
class Quote:
    side: Side
    size: Decimal
    price: Decimal  # per share, paid (BUY) or received (SELL) by the user, on tick
    reference_price: Decimal  # VWAP of the hedge over the levels the size consumes
    hedge_fee: Decimal  # USDC, taker fee of the hedge at the reference levels
    hedge: HedgePlan
    hedge_limit_price: Decimal  # worst price the hedge may fill at, on tick
    hedge_size: Decimal  # shares the hedge trades: `size`, less what the order needs no hedge for
    spread_bps: Decimal  # realised spread over the hedge cost (after fees), in bps
    book_time: datetime

    @property
    def notional(self) -> Decimal:
        return self.size * self.price


@dataclass(frozen=True)
class Unpriceable:
    reason: RejectReason
    message: str


def plan_hedge(side: Side, size: Decimal, terms: MarketTerms, yes_available: Decimal) -> HedgePlan:
    if side is Side.BUY:
        return HedgePlan(Leg.YES, Side.BUY, terms.yes_token_id)
    if yes_available >= size:
        return HedgePlan(Leg.YES, Side.SELL, terms.yes_token_id)
    return HedgePlan(Leg.NO, Side.BUY, terms.no_token_id)


def quote(
    side: Side,
    size: Decimal,
    terms: MarketTerms,
    yes_book: Book,
    *,
    yes_available: Decimal,
    min_spread_bps: int,
    max_slippage_bps: int,
) -> Quote | Unpriceable:
    """Prices `size` shares for a user on `side` off the YES token's book."""
    plan = plan_hedge(side, size, terms, yes_available)
    book = yes_book if plan.leg is Leg.YES else yes_book.complement(terms.no_token_id)
    levels = book.side_taken_by(plan.side)
    fill = walk(levels, size, side=plan.side)
    if fill.shares < size:
        return Unpriceable(
            RejectReason.INSUFFICIENT_LIQUIDITY,
            f"the Polymarket book holds {fill.shares} of the {size} shares needed",
        )
    reference = fill.average_price
    fee = taker_fee(fill, terms.fee_rate, terms.fee_exponent)
    fee_per_share = fee / size
    spread = Decimal(min_spread_bps) / BPS
    tick = terms.tick_size

    hedge_cost = reference + fee_per_share if plan.side is Side.BUY else reference - fee_per_share
    price = _user_price(plan, hedge_cost, spread, tick)
    if not tick <= price <= ONE - tick:
        return _out_of_bounds(price)
    limit = _hedge_limit(
        plan, price, reference, fill.worst_price, terms, spread, Decimal(max_slippage_bps) / BPS
    )
    if plan.side is Side.BUY:
        # A BUY hedge spends a budget for `size` shares at its limit: filling better than the limit,
        # it buys a few shares more at the worst levels it reaches, and the user's shares carry
        # their part of the whole fill's cost and fee (`hedge_result.profit`). The price covers
        # that average, so the spread holds on what the venue charges; a higher price may raise the
        # limit and so the budget, hence a few rounds.
        for _ in range(BUDGET_ROUNDS):
            bought = spend(levels, hedge_budget(size, limit), limit)
            if bought.shares <= size:
                break
            average = (bought.cost + taker_fee(bought, terms.fee_rate, terms.fee_exponent)) / bought.shares
            if average <= hedge_cost:
                break
            hedge_cost = average
            price = _user_price(plan, hedge_cost, spread, tick)
            if not tick <= price <= ONE - tick:
                return _out_of_bounds(price)
            limit = _hedge_limit(
                plan, price, reference, fill.worst_price, terms, spread, Decimal(max_slippage_bps) / BPS
            )
    within = walk(levels, size, limit=limit, side=plan.side)
    if within.shares < size:
        return Unpriceable(
            RejectReason.INSUFFICIENT_LIQUIDITY,
            f"only {within.shares} of {size} shares are available within the slippage and spread bound "
            f"(hedge limit {limit})",
        )
    user_value = price if plan.leg is Leg.YES else ONE - price  # in the hedge token's terms
    realised = (
        (user_value - hedge_cost) / hedge_cost if plan.side is Side.BUY else (hedge_cost - price) / price
    )
    return Quote(
        side=side,
        size=size,
        price=price,
        reference_price=reference,
        hedge_fee=fee,
        hedge=plan,
        hedge_limit_price=limit,
        hedge_size=size,
        spread_bps=(realised * BPS).quantize(Decimal("0.01")),
        book_time=yes_book.updated_at,
    )


def _user_price(plan: HedgePlan, hedge_cost: Decimal, spread: Decimal, tick: Decimal) -> Decimal:
    """The user's price, on the tick in the platform's favour, for a hedge costing (BUY) or bringing
    (SELL) `hedge_cost` per share, fee included."""
    if plan.side is Side.BUY and plan.leg is Leg.YES:
        return _to_tick(hedge_cost * (ONE + spread), tick, up=True)
    if plan.side is Side.SELL:
        return _to_tick(hedge_cost * (ONE - spread), tick, up=False)
    # A user SELL hedged by buying NO: each YES share sold back is worth 1 - the cost of NO.
    return _to_tick((ONE - hedge_cost) * (ONE - spread), tick, up=False)


def _out_of_bounds(price: Decimal) -> Unpriceable:
    return Unpriceable(
        RejectReason.INSUFFICIENT_LIQUIDITY, f"no price within the market's bounds (computed {price})"
    )


def _hedge_limit(
    plan: HedgePlan,
    price: Decimal,
    reference: Decimal,
    worst_level: Decimal,
    terms: MarketTerms,
    spread: Decimal,
    slippage: Decimal,
) -> Decimal:
    """The hedge's limit price, on the tick, inside [tick, 1 - tick].

    It is the worse of (a) the price at which every share would still earn the minimum spread after
    fees and (b) the worst level the quote walks (without it a quote that walks several levels could
    never fill, though its volume-weighted price earns the spread), and never beyond the slippage bound
    around the reference price. The caller rejects the order when (b) lies beyond that bound."""
    tick = terms.tick_size

    def fee(p: Decimal) -> Decimal:
        return taker_fee_per_share(p, terms.fee_rate, terms.fee_exponent)

    if plan.side is Side.BUY:
        # Most a share may cost (price plus fee) and still leave the spread.
        ceiling = price / (ONE + spread) if plan.leg is Leg.YES else ONE - price / (ONE - spread)
        strict = _to_tick(ceiling, tick, up=False)
        while strict >= tick and strict + fee(strict) > ceiling:
            strict -= tick
        limit = min(max(strict, worst_level), _to_tick(reference * (ONE + slippage), tick, up=False))
        return max(min(limit, ONE - tick), tick)
    floor = price / (ONE - spread)  # least a share may bring (price less fee)
    strict = _to_tick(floor, tick, up=True)
    while strict <= ONE - tick and strict - fee(strict) < floor:
        strict += tick
    limit = max(min(strict, worst_level), _to_tick(reference * (ONE - slippage), tick, up=True))
    return min(max(limit, tick), ONE - tick)


def _to_tick(value: Decimal, tick: Decimal, *, up: bool) -> Decimal:
    steps = (value / tick).to_integral_value(rounding=ROUND_CEILING if up else ROUND_FLOOR)
    return (steps * tick).quantize(tick)
