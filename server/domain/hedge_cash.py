"""Whether the wallet can pay for a hedge: a hedge is planned only if the USDC it may take is there.
A hedge buy that cannot be paid for is not planned, so the order's exposure stays unhedged, bounded
by the limits like any unhedged exposure, rather than sent to fail at the venue."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from server.domain.in_flight import InFlight
from server.domain.types import Side

ZERO = Decimal(0)


@dataclass(frozen=True)
class Unaffordable:
    """A hedge not planned: it needs `needed` USDC, the wallet has `available` for new hedges."""

    needed: Decimal
    available: Decimal


def cash_needed(hedge: InFlight) -> Decimal:
    """The most USDC the hedge can take from the wallet: a BUY's whole budget and its highest fee
    (what its fill loses on the outcome its token does not pay); a SELL takes none."""
    return max(hedge.loss_if_yes, hedge.loss_if_no) if hedge.side is Side.BUY else ZERO


def unaffordable(hedge: InFlight, available: Decimal | None) -> Unaffordable | None:
    """Why the hedge cannot be paid for from `available` USDC (None: not tracked, or it can)."""
    needed = cash_needed(hedge)
    if available is None or needed <= available:
        return None
    return Unaffordable(needed, available)
