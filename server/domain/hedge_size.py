"""How much of a user order to hedge: only what moves the market's unhedged position away from zero.

An order that brings the platform back towards flat (a user selling back shares whose hedge failed,
say) needs no hedge for that part: hedging it would open a new position, not close one. Hedges held
and in flight both count as cover, as if they fill; the limits count in-flight hedges at their worst
(`server.domain.in_flight`), so whatever they end up doing, the market stays within them."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from server.domain.types import Side

ZERO = Decimal(0)
SHARE_QUANTUM = Decimal("0.01")  # the venue's share precision for a hedge's size


def hedge_size(side: Side, size: Decimal, unhedged: Decimal, dust: Decimal) -> Decimal:
    """The shares of an order of `size` on `side` to hedge, given the market's `unhedged` YES shares
    (`Position.unhedged_shares`; below zero when the hedges are long). An unhedged position smaller
    than `dust` (the venue's minimum order) counts as none: it cannot be hedged on its own, and
    without this every order after a hedge that filled a few shares over would be trimmed by them.
    A part smaller than the whole order is rounded down to the venue's share precision."""
    start = unhedged if abs(unhedged) >= dust else ZERO
    if side is Side.BUY:
        needed = max(start + size, ZERO) - max(start, ZERO)
    else:
        needed = max(size - start, ZERO) - max(-start, ZERO)
    if needed >= size:
        return size
    return needed.quantize(SHARE_QUANTUM, rounding=ROUND_DOWN)


def cover_needed(buys_yes: bool, residual: Decimal, unhedged: Decimal) -> Decimal:
    """How much of a re-hedge's `residual` the market still needs, given its `unhedged` YES shares
    (`Position.unhedged_shares`, which no longer counts the failed part as cover): a hedge that buys
    YES covers users' YES, one that sells YES or buys NO covers the platform's long YES. Orders
    booked since may have brought the market towards flat."""
    needed = unhedged if buys_yes else -unhedged
    if needed >= residual:
        return residual
    return max(needed, ZERO).quantize(SHARE_QUANTUM, rounding=ROUND_DOWN)
