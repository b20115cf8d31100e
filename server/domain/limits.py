"""Pre-trade risk checks on a priced order. Each failing check has its own reason. An order that does
not raise exposure is never refused by an exposure limit (it can only help)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING

from server.domain.types import BreakerLevel, RejectReason

if TYPE_CHECKING:  # exposure counts in-flight hedges with `hedge_budget`: no import cycle at run time
    from server.domain.exposure import Position
    from server.domain.group_exposure import GroupExposure


@dataclass(frozen=True)
class Rejection:
    reason: RejectReason
    message: str


@dataclass(frozen=True)
class Limits:
    max_position_size: Decimal
    min_order_size: Decimal
    market_limit: Decimal
    total_limit: Decimal


def check_size(
    size: Decimal, limits: Limits, minimum: str = "the venue's minimum order size"
) -> Rejection | None:
    """Refuses a size above maxPositionSize or below `limits.min_order_size` (named `minimum`)."""
    if size > limits.max_position_size:
        return Rejection(
            RejectReason.SIZE_TOO_LARGE, f"size {size} is above maxPositionSize {limits.max_position_size}"
        )
    if size < limits.min_order_size:
        return Rejection(
            RejectReason.SIZE_TOO_SMALL,
            f"size {size} is below {minimum} {limits.min_order_size}",
        )
    return None


def check_breaker(level: BreakerLevel, before: Position, after: Position) -> Rejection | None:
    if level is BreakerLevel.HALTED:
        return Rejection(RejectReason.HALTED, "trading is halted by a circuit breaker")
    if level is BreakerLevel.REDUCING and after.exposure >= before.exposure:
        return Rejection(RejectReason.REDUCE_ONLY, "only orders that lower exposure are accepted now")
    return None


def check_exposure(
    before: Position, after: Position, total_before: Decimal, total_after: Decimal, limits: Limits
) -> Rejection | None:
    if after.exposure <= before.exposure:
        return None
    if after.exposure > limits.market_limit:
        return Rejection(
            RejectReason.MARKET_EXPOSURE_LIMIT,
            f"market exposure would be {after.exposure:.2f}, above its limit {limits.market_limit}",
        )
    return check_total(before, after, total_after, limits)


def check_group(before: GroupExposure, after: GroupExposure, limit: Decimal) -> Rejection | None:
    """The limit of a neg-risk event group on its worst case over which outcome wins; like every
    exposure limit, only an order that raises the group's exposure is refused by it."""
    if after.exposure <= before.exposure or after.exposure <= limit:
        return None
    return Rejection(
        RejectReason.GROUP_EXPOSURE_LIMIT,
        f"the event group's exposure would be {after.exposure:.2f}, above maxGroupExposure {limit}",
    )


def check_total(before: Position, after: Position, total_after: Decimal, limits: Limits) -> Rejection | None:
    """The total limit (maxUnhedgedExposure) on an order that raises its market's exposure."""
    if after.exposure <= before.exposure:
        return None
    if total_after > limits.total_limit:
        return Rejection(
            RejectReason.TOTAL_EXPOSURE_LIMIT,
            f"unhedged exposure would be {total_after:.2f}, above maxUnhedgedExposure {limits.total_limit}",
        )
    return None


MIN_MARKETABLE_BUY = Decimal(1)  # USDC: the venue refuses smaller FOK/FAK buys


def hedge_budget(size: Decimal, limit_price: Decimal) -> Decimal:
    """The USDC a marketable BUY hedge may spend: enough for `size` shares at its limit, in cents
    (the venue takes at most 2 decimals), rounded up so the hedge is never short at the limit."""
    return (size * limit_price).quantize(Decimal("0.01"), rounding=ROUND_CEILING)


def check_venue_minimum(hedge_side_is_buy: bool, size: Decimal, limit_price: Decimal) -> Rejection | None:
    if hedge_side_is_buy and hedge_budget(size, limit_price) < MIN_MARKETABLE_BUY:
        return Rejection(
            RejectReason.SIZE_TOO_SMALL,
            f"the hedge would buy {hedge_budget(size, limit_price)} USDC, below the venue's "
            f"{MIN_MARKETABLE_BUY} USDC minimum for marketable orders",
        )
    return None
