"""Which user orders a netted hedge covered: its filled shares go to the market's open user orders
oldest first, each up to what it still needs; its cost and fee are split in proportion to the shares,
in whole units of the venue's USDC precision, by largest remainder. Every sum is exact: the shares
allocated plus what is left over equal the fill, and the parts of the cost and of the fee add up to
the cost and the fee. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)
USDC_QUANTUM = Decimal("0.000001")  # the collateral token's 6 decimals


@dataclass(frozen=True)
class Need:
    """An open user order and the hedge shares it still needs."""

    order_id: str
    shares: Decimal


@dataclass(frozen=True)
class Allocation:
    """The part of one hedge's fill that covers one user order (order_id None: the left-over shares,
    held as the market's inventory), with its part of the hedge's cost and fee."""

    order_id: str | None
    shares: Decimal
    cost: Decimal
    fee: Decimal


def allocate(
    needs: Sequence[Need], filled: Decimal, cost: Decimal, fee: Decimal, quantum: Decimal = USDC_QUANTUM
) -> list[Allocation]:
    """Allocates a fill of `filled` shares for `cost` and `fee` (multiples of `quantum`) to `needs`,
    oldest first. Orders that get nothing are left out; shares beyond every need come last, unowned."""
    if filled < 0 or any(n.shares <= 0 for n in needs):
        raise ValueError("a fill and every need must be positive")
    for name, amount in (("cost", cost), ("fee", fee)):
        if amount < 0 or amount % quantum != 0:
            raise ValueError(f"{name} must be a non-negative multiple of {quantum}")
    parts: list[tuple[str | None, Decimal]] = []
    left = filled
    for need in needs:
        if left <= 0:
            break
        shares = min(need.shares, left)
        parts.append((need.order_id, shares))
        left -= shares
    if left > 0:
        parts.append((None, left))
    costs = split(cost, [shares for _, shares in parts], quantum)
    fees = split(fee, [shares for _, shares in parts], quantum)
    return [
        Allocation(order_id, shares, part_cost, part_fee)
        for (order_id, shares), part_cost, part_fee in zip(parts, costs, fees, strict=True)
    ]


def split(total: Decimal, weights: Sequence[Decimal], quantum: Decimal) -> list[Decimal]:
    """`total` in parts proportional to `weights`, each a multiple of `quantum`, summing to `total`
    exactly: each part's floor, then one quantum more to the largest remainders (earlier first on ties).
    Integer arithmetic throughout, so no rounding of a quotient can tip a floor."""
    scale = max((_decimals(w) for w in weights), default=0)
    ints = [int(w.scaleb(scale)) for w in weights]
    weight = sum(ints)
    units = int(total / quantum)
    if weight <= 0:
        if units != 0:
            raise ValueError("a non-zero total needs a positive weight")
        return [ZERO for _ in weights]
    floors = [units * w // weight for w in ints]
    remainders = [units * w % weight for w in ints]
    ranked = sorted(range(len(ints)), key=lambda i: (-remainders[i], i))
    for i in ranked[: units - sum(floors)]:
        floors[i] += 1
    return [Decimal(f) * quantum for f in floors]


def _decimals(value: Decimal) -> int:
    """How many digits `value` has after the point (0 for a whole number)."""
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int):
        raise ValueError("a weight must be finite")
    return max(-exponent, 0)


def net_opposite(buys: Sequence[Need], sells: Sequence[Need]) -> list[Allocation]:
    """Opposite user flows cover each other: waiting BUY orders are matched with waiting SELL orders,
    oldest first on each side, each pair for the shares both still need. Returns each order's part
    (no cost and no fee: no venue order is involved); the shares of each side's parts are equal."""
    parts: dict[str, Decimal] = {}
    i = j = 0
    left_buy = buys[0].shares if buys else ZERO
    left_sell = sells[0].shares if sells else ZERO
    while i < len(buys) and j < len(sells):
        matched = min(left_buy, left_sell)
        parts[buys[i].order_id] = parts.get(buys[i].order_id, ZERO) + matched
        parts[sells[j].order_id] = parts.get(sells[j].order_id, ZERO) + matched
        left_buy -= matched
        left_sell -= matched
        if left_buy == 0:
            i += 1
            left_buy = buys[i].shares if i < len(buys) else ZERO
        if left_sell == 0:
            j += 1
            left_sell = sells[j].shares if j < len(sells) else ZERO
    return [Allocation(order_id, shares, ZERO, ZERO) for order_id, shares in parts.items()]
