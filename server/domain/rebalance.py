"""The rebalancer's decision for one `netted` market: which one venue order (if any) brings the market's
hedge inventory towards `hedgeRatio` x what removes its directional exposure. Pure: no I/O.

The market's directional exposure is the YES shares owed to users (`Position.user_shares`). Holding
as many YES-equivalent shares (YES counts +1, NO -1) removes it; the target is `ratio` times that.
Inventory counts confirmed shares plus every hedge in flight as if it fills (`Position.in_flight_delta`),
so what is already on its way is never hedged again; the limits meanwhile count in-flight hedges at
their worst (`server.domain.in_flight`), and the order is sized so they still hold once it is sent.

The gap is worked the cheapest way first: inventory of the over-held outcome is sold before the other
is bought. One order covers the whole gap (or all the inventory there is to sell); a gap is only sent
once it reaches `hedgeMinShares`, or once its oldest part has waited `hedgeMaxDelayMs` and it is at least
the venue's minimum. Opposite user flows meet in `user_shares` before any of this: they net to no order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from enum import StrEnum

from server.domain.exposure import Position, total_after
from server.domain.in_flight import InFlight, in_flight
from server.domain.limits import MIN_MARKETABLE_BUY, Limits, check_exposure
from server.domain.pricing import MarketTerms
from server.domain.types import Leg, Side

ZERO = Decimal(0)
SHARE_QUANTUM = Decimal("0.01")  # the venue's share precision


@dataclass(frozen=True)
class RebalancePolicy:
    """A market's hedge policy keys: `hedgeRatio`, `hedgeMinShares` and `hedgeMaxDelayMs`."""

    ratio: Decimal
    min_shares: Decimal
    max_delay_ms: int


@dataclass(frozen=True)
class LimitPrices:
    """The worst price each possible hedge may fill at (from the book, the slippage allowed and the tick)."""

    buy_yes: Decimal
    buy_no: Decimal
    sell_yes: Decimal
    sell_no: Decimal

    def of(self, leg: Leg, side: Side) -> Decimal:
        if leg is Leg.YES:
            return self.buy_yes if side is Side.BUY else self.sell_yes
        return self.buy_no if side is Side.BUY else self.sell_no


@dataclass(frozen=True)
class MarketLimits:
    """What the market may reach: its own exposure limit, and the total over markets."""

    market_limit: Decimal
    total: Decimal  # the total exposure now, this market included
    total_limit: Decimal


@dataclass(frozen=True)
class RebalanceOrder:
    """One venue order to send: its token, side, shares, limit price and worst case while in flight."""

    leg: Leg
    side: Side
    size: Decimal
    limit_price: Decimal
    bound: InFlight
    after: Position  # the market once the order is booked in flight
    gap: Decimal  # the YES-equivalent shares the market was short of its target (< 0: over it)


class HoldReason(StrEnum):
    ON_TARGET = "on_target"  # nothing left to hedge (the venue's share precision aside)
    WAITING = "waiting"  # below hedgeMinShares and younger than hedgeMaxDelayMs
    BELOW_VENUE_MINIMUM = "below_venue_minimum"  # too small for the venue on its own
    LIMITS = "limits"  # even the venue's minimum would take the market over a limit while in flight
    HALTED = "halted"


@dataclass(frozen=True)
class Hold:
    reason: HoldReason
    gap: Decimal


Rebalance = RebalanceOrder | Hold


def target_delta(position: Position, ratio: Decimal) -> Decimal:
    """The YES-equivalent shares the market's hedges should hold."""
    return ratio * position.user_shares


def gap(position: Position, ratio: Decimal) -> Decimal:
    """What the hedges, held and in flight, lack of the target (below zero when they hold too much)."""
    held = position.hedge_yes - position.hedge_no + position.in_flight_delta
    return target_delta(position, ratio) - held


def rebalance(
    position: Position,
    policy: RebalancePolicy,
    terms: MarketTerms,
    prices: LimitPrices,
    limits: MarketLimits,
    *,
    oldest_unhedged_at: datetime | None,
    now: datetime,
    halted: bool = False,
) -> Rebalance:
    """The one order to send now, or why none. `oldest_unhedged_at` is when the oldest user order the
    hedges do not cover yet was accepted (None: none waits). `terms.min_order_size` is the venue's
    minimum in shares; a marketable BUY must also spend at least 1 USDC."""
    short = gap(position, policy.ratio)
    wanted = abs(short).quantize(SHARE_QUANTUM, rounding=ROUND_DOWN)
    if halted:
        return Hold(HoldReason.HALTED, short)
    if wanted == ZERO:
        return Hold(HoldReason.ON_TARGET, short)
    if wanted < terms.min_order_size:
        return Hold(HoldReason.BELOW_VENUE_MINIMUM, short)
    if wanted < policy.min_shares and not _waited(oldest_unhedged_at, now, policy.max_delay_ms):
        return Hold(HoldReason.WAITING, short)
    leg, side, size = _cheapest(position, short, wanted, terms.min_order_size)
    price = prices.of(leg, side)
    smallest = smallest_order(side, price, terms.min_order_size)
    if size < smallest:
        return Hold(HoldReason.BELOW_VENUE_MINIMUM, short)
    sized = _within_limits(position, leg, side, smallest, size, price, terms, limits)
    if sized is None:
        return Hold(HoldReason.LIMITS, short)
    size, bound, after = sized
    return RebalanceOrder(leg, side, size, price, bound, after, short)


def smallest_order(side: Side, price: Decimal, venue_min: Decimal) -> Decimal:
    """The fewest shares the venue takes in one order: its minimum size, and for a marketable BUY
    enough to spend 1 USDC at the limit price."""
    if side is Side.SELL:
        return venue_min
    return max(venue_min, (MIN_MARKETABLE_BUY / price).quantize(SHARE_QUANTUM, rounding=ROUND_CEILING))


def _waited(since: datetime | None, now: datetime, max_delay_ms: int) -> bool:
    return since is not None and (now - since).total_seconds() * 1000 >= max_delay_ms


def _cheapest(
    position: Position, short: Decimal, wanted: Decimal, venue_min: Decimal
) -> tuple[Leg, Side, Decimal]:
    """Short of YES: sell NO held, else buy YES. Over the target: sell YES held, else buy NO. A sale
    takes what inventory there is up to the gap (the rest is bought next time), if the venue takes it."""
    over_held, other = (Leg.NO, Leg.YES) if short > 0 else (Leg.YES, Leg.NO)
    available = position.no_available if over_held is Leg.NO else position.yes_available
    sellable = min(wanted, available.quantize(SHARE_QUANTUM, rounding=ROUND_DOWN))
    if sellable >= venue_min:
        return over_held, Side.SELL, sellable
    return other, Side.BUY, wanted


def _within_limits(
    position: Position,
    leg: Leg,
    side: Side,
    smallest: Decimal,
    size: Decimal,
    price: Decimal,
    terms: MarketTerms,
    limits: MarketLimits,
) -> tuple[Decimal, InFlight, Position] | None:
    """The largest size up to `size` (and at least `smallest`) whose worst case in flight keeps
    the market and the total within their limits, with its bound and the market after; None if none."""
    low, high = smallest, size
    best = _booked(position, leg, side, high, price, terms, limits)
    if best is not None:
        return best
    best = _booked(position, leg, side, low, price, terms, limits)
    if best is None:
        return None
    # Losses grow with size: bisect in share quanta between a size that fits (low) and one that does not.
    while high - low > SHARE_QUANTUM:
        middle = ((low + high) / 2).quantize(SHARE_QUANTUM, rounding=ROUND_DOWN)
        fits = _booked(position, leg, side, middle, price, terms, limits)
        if fits is None:
            high = middle
        else:
            low, best = middle, fits
    return best


def _booked(
    position: Position,
    leg: Leg,
    side: Side,
    size: Decimal,
    price: Decimal,
    terms: MarketTerms,
    limits: MarketLimits,
) -> tuple[Decimal, InFlight, Position] | None:
    bound = in_flight(
        leg, side, size, price, tick=terms.tick_size, fee_rate=terms.fee_rate, fee_exponent=terms.fee_exponent
    )
    after = position.with_hedge_sent(bound)
    checks = Limits(size, terms.min_order_size, limits.market_limit, limits.total_limit)
    if check_exposure(position, after, limits.total, total_after(limits.total, position, after), checks):
        return None
    return size, bound, after
