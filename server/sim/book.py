"""One price-time-priority order book per market, kept in YES prices.

YES and NO are complementary, so one book holds both: a BUY YES at p and a SELL NO at 1 - p are bids
at p; a SELL YES at p and a BUY NO at 1 - p are asks at p. The NO token's book is this one mirrored
(``levels`` does the mirroring), so ``/book`` for either token shows the combined liquidity.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from decimal import Decimal
from typing import Literal, Protocol

BookSide = Literal["bid", "ask"]


class Resting(Protocol):
    """What the book needs to know about a resting order."""

    id: str

    @property
    def remaining(self) -> Decimal: ...


class OrderBook:
    """Levels keyed by YES price; each level keeps its orders in arrival order and a running total."""

    def __init__(self) -> None:
        self._orders: dict[BookSide, dict[Decimal, dict[str, Resting]]] = {"bid": {}, "ask": {}}
        self._totals: dict[BookSide, dict[Decimal, Decimal]] = {"bid": {}, "ask": {}}
        # Ascending price lists; the best bid is the last bid, the best ask the first ask.
        self._prices: dict[BookSide, list[Decimal]] = {"bid": [], "ask": []}
        self._where: dict[str, tuple[BookSide, Decimal]] = {}

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._where

    def __len__(self) -> int:
        return len(self._where)

    def add(self, order: Resting, side: BookSide, yes_price: Decimal) -> None:
        levels = self._orders[side]
        level = levels.get(yes_price)
        if level is None:
            level = levels[yes_price] = {}
            self._totals[side][yes_price] = Decimal(0)
            bisect.insort(self._prices[side], yes_price)
        level[order.id] = order
        self._totals[side][yes_price] += order.remaining
        self._where[order.id] = (side, yes_price)

    def remove(self, order_id: str) -> Resting | None:
        """Take an order off the book, whatever is left of it."""
        located = self._where.pop(order_id, None)
        if located is None:
            return None
        side, price = located
        level = self._orders[side][price]
        order = level.pop(order_id)
        self._totals[side][price] -= order.remaining
        if not level:
            del self._orders[side][price]
            del self._totals[side][price]
            prices = self._prices[side]
            del prices[bisect.bisect_left(prices, price)]
        return order

    def reduce(self, order_id: str, quantity: Decimal) -> None:
        """Record that ``quantity`` of a resting order was just filled (call before updating the order)."""
        side, price = self._where[order_id]
        self._totals[side][price] -= quantity

    def best(self, side: BookSide) -> Decimal | None:
        prices = self._prices[side]
        if not prices:
            return None
        return prices[-1] if side == "bid" else prices[0]

    def crossing(self, side: BookSide, limit: Decimal) -> Iterator[tuple[Decimal, Resting]]:
        """``(yes_price, order)`` on ``side`` that a taker with YES ``limit`` can hit, best first.

        Read-only: matching plans its fills from this, then applies them.
        """
        prices = self._prices[side]
        ordered = reversed(prices) if side == "bid" else iter(prices)
        for price in ordered:
            if (side == "bid" and price < limit) or (side == "ask" and price > limit):
                return
            for order in self._orders[side][price].values():
                yield price, order

    def would_cross(self, side: BookSide, limit: Decimal) -> bool:
        best = self.best(side)
        if best is None:
            return False
        return best >= limit if side == "bid" else best <= limit

    def levels(self, side: BookSide) -> list[tuple[Decimal, Decimal]]:
        """``(yes_price, total_size)`` ascending by price, empty levels skipped."""
        totals = self._totals[side]
        return [(p, totals[p]) for p in self._prices[side] if totals[p] > 0]

    def order_ids(self) -> list[str]:
        return list(self._where)

    def location(self, order_id: str) -> tuple[BookSide, Decimal] | None:
        return self._where.get(order_id)
