"""What a hedge's venue answer means for the books: status, fills, fees, spread and profit."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from server.domain.types import HedgeStatus, Leg, OrderHedgeStatus, Side

ZERO = Decimal(0)


@dataclass(frozen=True)
class HedgeResult:
    status: HedgeStatus  # HEDGED, PARTIAL, FAILED or PAPER
    filled: Decimal
    cost: Decimal  # USDC paid (BUY) or received (SELL), before fees
    fee: Decimal
    failure_reason: str | None = None

    @property
    def fill_price(self) -> Decimal | None:
        return self.cost / self.filled if self.filled > 0 else None


def status_for_fill(planned: Decimal, filled: Decimal) -> HedgeStatus:
    if filled >= planned:
        return HedgeStatus.HEDGED
    return HedgeStatus.PARTIAL if filled > 0 else HedgeStatus.FAILED


def spread_captured(leg: Leg, side: Side, user_price: Decimal, filled: Decimal, cost: Decimal) -> Decimal:
    """USDC earned over the hedge's price on the filled shares, before fees.

    A user BUY at p hedged by buying YES: p x filled - cost. A user SELL at p hedged by selling YES:
    cost (proceeds) - p x filled. Hedged by buying NO: each pair pays 1, so (1 - p) x filled - cost."""
    if filled == 0:
        return ZERO
    if leg is Leg.YES and side is Side.BUY:
        return user_price * filled - cost
    if leg is Leg.YES:
        return cost - user_price * filled
    return (1 - user_price) * filled - cost


def order_hedge_status(statuses: list[HedgeStatus]) -> OrderHedgeStatus:
    """The combined hedge state a caller sees for an order with these hedges (newest last)."""
    if not statuses:
        return OrderHedgeStatus.NOT_ATTEMPTED
    latest = statuses[-1]
    return {
        HedgeStatus.PENDING: OrderHedgeStatus.PENDING,
        HedgeStatus.UNKNOWN: OrderHedgeStatus.UNKNOWN,
        HedgeStatus.HEDGED: OrderHedgeStatus.HEDGED,
        HedgeStatus.PARTIAL: OrderHedgeStatus.PARTIALLY_HEDGED,
        HedgeStatus.FAILED: OrderHedgeStatus.UNHEDGED,
        HedgeStatus.PAPER: OrderHedgeStatus.PAPER,
    }[latest]
