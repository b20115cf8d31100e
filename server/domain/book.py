"""A Polymarket order book for one token, best level first, and walking it for a size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

from server.domain.types import Side

Level = tuple[Decimal, Decimal]  # (price, size in shares)
ONE = Decimal(1)


@dataclass(frozen=True)
class Book:
    token_id: str
    bids: tuple[Level, ...]  # best (highest) first
    asks: tuple[Level, ...]  # best (lowest) first
    updated_at: datetime
    # The market's tick as the venue reported it with this book (it moves near 0 and 1); None: unsaid.
    tick_size: Decimal | None = None

    def side_taken_by(self, side: Side) -> tuple[Level, ...]:
        """The levels a taker of `side` consumes: asks for a BUY, bids for a SELL."""
        return self.asks if side is Side.BUY else self.bids

    def complement(self, token_id: str) -> Book:
        """The book of the complementary token: a bid for YES at p is an ask for NO at 1 - p."""
        return Book(
            token_id=token_id,
            bids=tuple((ONE - p, s) for p, s in self.asks),
            asks=tuple((ONE - p, s) for p, s in self.bids),
            updated_at=self.updated_at,
            tick_size=self.tick_size,
        )

    def mid(self) -> Decimal | None:
        if not self.bids or not self.asks:
            return None
        return (self.bids[0][0] + self.asks[0][0]) / 2


@dataclass(frozen=True)
class Fill:
    """What a taker of `size` would get: the levels consumed, each (price, shares)."""

    levels: tuple[Level, ...]

    @property
    def shares(self) -> Decimal:
        return sum((s for _, s in self.levels), Decimal(0))

    @property
    def cost(self) -> Decimal:
        return sum((p * s for p, s in self.levels), Decimal(0))

    @property
    def worst_price(self) -> Decimal:
        return self.levels[-1][0]

    @property
    def average_price(self) -> Decimal:
        return self.cost / self.shares


def walk(
    levels: tuple[Level, ...], size: Decimal, limit: Decimal | None = None, side: Side = Side.BUY
) -> Fill:
    """Consumes up to `size` shares from `levels` (best first), stopping at `limit` if given.

    The result may hold fewer shares than asked when depth runs out."""
    taken: list[Level] = []
    remaining = size
    for price, available in levels:
        if remaining <= 0:
            break
        if limit is not None and (price > limit if side is Side.BUY else price < limit):
            break
        take = min(available, remaining)
        if take > 0:
            taken.append((price, take))
            remaining -= take
    return Fill(tuple(taken))


SHARE_UNIT = Decimal("0.000001")  # the venue settles shares in micro-units


def spend(levels: tuple[Level, ...], budget: Decimal, limit: Decimal) -> Fill:
    """What a marketable BUY of `budget` USDC takes from the ask `levels` (best first) at prices up to
    `limit`: whole levels while the budget lasts, then what is left buys at the next one (in whole
    micro-shares). Filling better than its limit, a budget sized at the limit buys extra shares."""
    taken: list[Level] = []
    left = budget
    for price, available in levels:
        if price > limit or left <= 0:
            break
        take = min(available, (left / price).quantize(SHARE_UNIT, rounding=ROUND_FLOOR))
        if take <= 0:
            break
        taken.append((price, take))
        left -= price * take
    return Fill(tuple(taken))
