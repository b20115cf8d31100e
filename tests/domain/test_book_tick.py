"""A book carries the tick the venue sent with it; the complementary token's book keeps it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from server.domain.book import Book

NOW = datetime(2026, 12, 3, tzinfo=UTC)


def test_the_complement_keeps_the_venues_tick() -> None:
    yes = Book(
        "yes", bids=((Decimal("0.965"), Decimal(5)),), asks=(), updated_at=NOW, tick_size=Decimal("0.001")
    )
    no = yes.complement("no")
    assert no.tick_size == Decimal("0.001")
    assert no.asks == ((Decimal("0.035"), Decimal(5)),)


def test_a_book_without_a_tick_says_so() -> None:
    assert Book("yes", bids=(), asks=(), updated_at=NOW).tick_size is None
    assert Book("yes", bids=(), asks=(), updated_at=NOW).complement("no").tick_size is None
