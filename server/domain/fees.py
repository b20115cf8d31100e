"""Polymarket's taker fee: shares x rate x (p x (1 - p)) ^ exponent USDC per fill, rounded to 5
decimal places (half up) with a minimum of 0.00001 on fee-charging markets; makers pay nothing."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from server.domain.book import Fill

FEE_QUANTUM = Decimal("0.00001")
ZERO = Decimal(0)


def taker_fee_per_share(price: Decimal, rate: Decimal, exponent: Decimal) -> Decimal:
    """The unrounded fee of one share at `price` (for pricing bounds)."""
    if rate == 0:
        return ZERO
    base = price * (1 - price)
    return rate * (base ** int(exponent) if exponent == exponent.to_integral_value() else base**exponent)


def fill_fee(shares: Decimal, price: Decimal, rate: Decimal, exponent: Decimal) -> Decimal:
    """The venue's fee for one fill of `shares` at `price`."""
    raw = shares * taker_fee_per_share(price, rate, exponent)
    if raw <= 0:
        return ZERO
    return max(raw.quantize(FEE_QUANTUM, rounding=ROUND_HALF_UP), FEE_QUANTUM)


def taker_fee(fill: Fill, rate: Decimal, exponent: Decimal) -> Decimal:
    """The fee for taking every level of `fill`, each level one fill."""
    return sum((fill_fee(shares, price, rate, exponent) for price, shares in fill.levels), ZERO)
