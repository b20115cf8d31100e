"""Taker fees: ``shares x rate x (p(1-p))^exponent`` USDC, makers pay nothing.

The venue rounds fees to 5 decimals with a floor of 0.00001 USDC on fee-charging markets.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from server.sim.markets import SimMarket
from server.sim.wire import ONE, ZERO

_FEE_QUANTUM = Decimal("0.00001")


def taker_fee(market: SimMarket, shares: Decimal, price: Decimal) -> Decimal:
    """Fee in USDC for a taker filling ``shares`` at ``price`` of its own token."""
    if market.fee_rate <= 0 or shares <= 0:
        return ZERO
    base = price * (ONE - price)
    exponent = market.fee_exponent
    # Integral exponents stay exact; Decimal handles fractional ones at context precision.
    factor = base ** int(exponent) if exponent == exponent.to_integral_value() else base**exponent
    raw = shares * market.fee_rate * factor
    fee = raw.quantize(_FEE_QUANTUM, rounding=ROUND_HALF_UP)
    return max(fee, _FEE_QUANTUM) if raw > 0 else ZERO


def fee_rate_bps(market: SimMarket) -> int:
    """The market's fee rate in basis points (informational; V2 orders do not sign fees)."""
    return int(market.fee_rate * 10_000)
