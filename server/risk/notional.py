"""Hedged and unhedged notional of user orders, and limit utilisation. Pure: no I/O."""

from __future__ import annotations

from decimal import Decimal

ZERO = Decimal(0)
UTILISATION_PLACES = Decimal("0.000001")


def order_notional(size: Decimal, price: Decimal, hedged_size: Decimal) -> tuple[Decimal, Decimal]:
    """(hedged, unhedged) notional of one accepted order: shares covered by confirmed hedges, and the
    rest, each at the order's price. A BUY hedge may bring a hair more shares than planned; the excess
    covers nothing more."""
    covered = min(hedged_size, size)
    return covered * price, (size - covered) * price


def utilisation(exposure: Decimal, limit: Decimal) -> Decimal | None:
    """max(exposure, 0) / limit to six places; None when the limit is zero (undefined)."""
    if limit <= 0:
        return None
    return (max(exposure, ZERO) / limit).quantize(UTILISATION_PLACES)
