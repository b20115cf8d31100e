"""What a hedge's venue answer means for the books: status, fills, fees, spread and profit."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from server.domain.types import HedgeStatus, Leg, OrderHedgeStatus, Side

ZERO = Decimal(0)
SHOWN_PRICE = Decimal("0.000001")


@dataclass(frozen=True)
class HedgeResult:
    status: HedgeStatus  # HEDGED, PARTIAL, FAILED or PAPER
    filled: Decimal
    cost: Decimal  # USDC paid (BUY) or received (SELL), before fees
    fee: Decimal
    failure_reason: str | None = None
    # The venue's trades of the fill, followed until each is CONFIRMED or FAILED (`Settlement`).
    trade_ids: tuple[str, ...] = ()

    @property
    def fill_price(self) -> Decimal | None:
        return self.cost / self.filled if self.filled > 0 else None


def shown_fill_price(price: Decimal | None) -> Decimal | None:
    """A volume-weighted fill price as shown on the wire: 6 decimals, for display only (cost / filled
    rarely terminates; the exact cost and filled size stay stored and are what profit uses)."""
    return None if price is None else price.quantize(SHOWN_PRICE, rounding=ROUND_HALF_EVEN)


def status_for_fill(planned: Decimal, filled: Decimal) -> HedgeStatus:
    if filled >= planned:
        return HedgeStatus.HEDGED
    return HedgeStatus.PARTIAL if filled > 0 else HedgeStatus.FAILED


@dataclass(frozen=True)
class Profit:
    """What one hedge earned on the user's shares: `spread_captured` before fees, `net_profit` after
    the user's shares' part of the fee."""

    spread_captured: Decimal
    net_profit: Decimal


def profit(
    leg: Leg,
    side: Side,
    user_price: Decimal,
    size: Decimal,
    filled: Decimal,
    cost: Decimal,
    fee: Decimal,
) -> Profit:
    """The profit of a hedge of `size` user shares that filled `filled` for `cost` USDC and `fee`.

    Only the user's shares, min(filled, size), count: a BUY hedge spends a budget rounded up to the
    cent and usually gets a few more shares than the user bought; those are hedge inventory at their
    cost, not shares sold to the user, so they take their part of the cost and fee with them. On the
    user's shares u, at cost c and fee f for them:
    a user BUY at p hedged by buying YES earns p x u - c; a user SELL at p hedged by selling YES earns
    c (proceeds) - p x u; hedged by buying NO (each YES + NO pair pays 1) it earns (1 - p) x u - c."""
    if filled == 0:
        return Profit(ZERO, ZERO)
    shares = min(filled, size)
    if shares < filled:
        cost, fee = cost * shares / filled, fee * shares / filled
    if leg is Leg.YES and side is Side.BUY:
        captured = user_price * shares - cost
    elif leg is Leg.YES:
        captured = cost - user_price * shares
    else:
        captured = (1 - user_price) * shares - cost
    return Profit(captured, captured - fee)


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
