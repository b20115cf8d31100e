"""A market's running totals: the sums over its orders and hedges that exposure and P&L views show,
kept up to date one order or hedge at a time instead of summed over the history. Pure: no I/O.

The rule, in one place: a market's totals are the sum of `of_order` over its accepted orders and of
`of_hedge` over its hedges. A write that changes an order or a hedge adds the difference between its
share after and before (`MarketTotals.__sub__`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from typing import Any

from server.risk.notional import order_notional

ZERO = Decimal(0)
# Sums are exact: a hedge's P&L can carry 28 significant digits, and the default context would round
# a sum of several of them (NUMERIC, which the database adds them in, does not).
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


@dataclass(frozen=True)
class MarketTotals:
    """Notional of accepted orders, P&L of hedges, and hedges by status, of one market (or of all)."""

    hedged_notional: Decimal = ZERO
    unhedged_notional: Decimal = ZERO
    spread_captured: Decimal = ZERO
    fees: Decimal = ZERO
    net_profit: Decimal = ZERO
    pending_hedges: int = 0
    unknown_hedges: int = 0
    hedged_hedges: int = 0
    partial_hedges: int = 0
    failed_hedges: int = 0
    paper_hedges: int = 0

    def __add__(self, other: MarketTotals) -> MarketTotals:
        return _made([_add(a, b) for a, b in zip(self.values(), other.values(), strict=True)])

    def __sub__(self, other: MarketTotals) -> MarketTotals:
        return _made([_add(a, -b) for a, b in zip(self.values(), other.values(), strict=True)])

    def values(self) -> tuple[Decimal | int, ...]:
        """The fields in `NAMES` order."""
        return tuple(getattr(self, name) for name in NAMES)

    @property
    def by_status(self) -> dict[str, int]:
        """Hedges by status (`HedgeStatus` values)."""
        return {status: getattr(self, name) for status, name in _COUNT_OF.items()}


NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(MarketTotals))
_COUNT_OF = {
    "pending": "pending_hedges",
    "unknown": "unknown_hedges",
    "hedged": "hedged_hedges",
    "partial": "partial_hedges",
    "failed": "failed_hedges",
    "paper": "paper_hedges",
}


def of_order(size: Decimal, price: Decimal, hedged_size: Decimal) -> MarketTotals:
    """An accepted order's share: its hedged and unhedged notional (`order_notional`)."""
    hedged, unhedged = order_notional(size, price, hedged_size)
    return MarketTotals(hedged_notional=hedged, unhedged_notional=unhedged)


def of_hedge(status: str, spread_captured: Decimal, fee: Decimal, net_profit: Decimal) -> MarketTotals:
    """A hedge's share: its P&L, and one hedge of its status."""
    return hedges_of(status, 1, spread_captured=spread_captured, fees=fee, net_profit=net_profit)


def hedges_of(status: str, hedges: int, **money: Decimal) -> MarketTotals:
    """`hedges` hedges of `status` (and `money`, by field name)."""
    values: dict[str, Any] = {_COUNT_OF[status]: hedges, **money}
    return MarketTotals(**values)


def _add(a: Decimal | int, b: Decimal | int) -> Decimal | int:
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    return _EXACT.add(a, b)


def _made(values: list[Any]) -> MarketTotals:
    return MarketTotals(*values)


def total(markets: list[MarketTotals]) -> MarketTotals:
    """The sum over markets."""
    result = MarketTotals()
    for m in markets:
        result = result + m
    return result
