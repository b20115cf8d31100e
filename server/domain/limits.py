"""Pre-trade risk checks on a priced order. Each failing check has its own reason. An order that does
not raise exposure is never refused by an exposure limit (it can only help)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING

from server.domain.types import BreakerLevel, RejectReason

if TYPE_CHECKING:  # exposure counts in-flight hedges with `hedge_budget`: no import cycle at run time
    from server.domain.exposure import Position
    from server.domain.group_exposure import GroupExposure, GroupLimit


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
    group_limit: Decimal | None = None  # maxGroupExposure, for a writer that checks a group itself


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


def check_breaker(
    level: BreakerLevel, before: Position, after: Position, group: GroupLimit | None = None
) -> Rejection | None:
    """HALTED refuses everything; REDUCING refuses an order that does not lower the exposure the total
    counts for it: its market's, or in a neg-risk group the group's worst case."""
    from server.domain.exposure import counted  # here: exposure imports this module (via in_flight)

    if level is BreakerLevel.HALTED:
        return Rejection(RejectReason.HALTED, "trading is halted by a circuit breaker")
    siblings = None if group is None else group.siblings
    if level is BreakerLevel.REDUCING and counted(after, siblings) >= counted(before, siblings):
        return Rejection(RejectReason.REDUCE_ONLY, "only orders that lower exposure are accepted now")
    return None


def check_limits(
    before: Position, after: Position, total: Decimal, limits: Limits, group: GroupLimit | None
) -> Rejection | None:
    """Every exposure limit on a market moving from `before` to `after` (the total then `total`): in
    a neg-risk group its group's limit in place of the market's own, and the total limit."""
    if group is None:
        return check_exposure(before, after, total, total, limits)
    grouped = check_group(
        group.with_market(before.loss_if_yes, before.loss_if_no),
        group.with_market(after.loss_if_yes, after.loss_if_no),
        group.limit,
    )
    return grouped or check_total(
        group.with_market(before.loss_if_yes, before.loss_if_no),
        group.with_market(after.loss_if_yes, after.loss_if_no),
        total,
        limits,
    )


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


def check_total(
    before: Position | GroupExposure, after: Position | GroupExposure, total_after: Decimal, limits: Limits
) -> Rejection | None:
    """The total limit (maxUnhedgedExposure) on an order that raises what the total counts for it (its
    market's exposure, or its group's)."""
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
