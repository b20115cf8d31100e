"""Polymarket books, fetched on demand and reused while fresh, one fetch in flight per token, with our
own hedges' fills taken out of them: a quote must not price off liquidity we already took."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from server.domain.book import Book, Level
from server.errors import Unavailable
from server.venue.client import VenueClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Cached:
    book: Book
    asked_at: int  # the token's count of our hedge posts when the venue was asked for the book


class BookCache:
    def __init__(self, venue: VenueClient) -> None:
        self._venue = venue
        self._books: dict[str, _Cached] = {}
        self._inflight: dict[str, asyncio.Future[Book]] = {}
        # Our hedge posts and fills per token, counted: a book asked for before a post cannot hold its
        # fill, one asked for after it may or may not.
        self._changes: dict[str, int] = {}

    def fresh(self, token_id: str, max_age_ms: int) -> Book | None:
        """The cached book when `get` would return it without asking the venue, else None."""
        cached = self._books.get(token_id)
        return cached.book if cached is not None and _age_ms(cached.book) <= max_age_ms / 2 else None

    async def get(self, token_id: str, max_age_ms: int) -> Book | None:
        """A book no older than half of `max_age_ms` when the venue answers, else the last one seen
        (possibly too old: the caller checks its age), else None."""
        fresh = self.fresh(token_id, max_age_ms)
        if fresh is not None:
            return fresh
        cached = self._books.get(token_id)
        try:
            return await self._fetch(token_id)
        except Unavailable as exc:
            log.warning("book for token %s unavailable: %s", token_id[:16], exc)
            return cached.book if cached is not None else None

    def forget(self, token_id: str) -> None:
        """Drops the cached book of `token_id` (its tick moved: `server.venue.tick_feed`), so the next
        `get` asks the venue. A fetch already in flight is not kept either."""
        self._changes[token_id] = self._changes.get(token_id, 0) + 1
        self._books.pop(token_id, None)

    def forget_all(self) -> None:
        """Drops every cached book (the tick feed may have missed changes)."""
        for token_id in list(self._books):
            self.forget(token_id)

    def posting(self, token_id: str) -> int:
        """Call just before one of our hedges on the book of `token_id` is posted; pass what it
        returns to `took` once the venue has answered."""
        ticket = self._changes.get(token_id, 0) + 1
        self._changes[token_id] = ticket
        return ticket

    def took(self, token_id: str, takes_asks: bool, shares: Decimal | None, ticket: int) -> None:
        """Our hedge (posted under `ticket`) took `shares` (None: unknown) from the asks (or bids) of
        `token_id`'s book. A cached book asked for before the post loses them from its best levels, as
        the venue's matching did; one asked for since may already show the fill, so it is dropped, as
        is any book when what the hedge took is unknown."""
        self._changes[token_id] = self._changes.get(token_id, 0) + 1
        cached = self._books.get(token_id)
        if cached is None or shares == 0:
            return
        if shares is None or cached.asked_at >= ticket:
            del self._books[token_id]
            return
        book = cached.book
        if takes_asks:
            book = replace(book, asks=_without(book.asks, shares))
        else:
            book = replace(book, bids=_without(book.bids, shares))
        self._books[token_id] = _Cached(book, cached.asked_at)

    async def _fetch(self, token_id: str) -> Book:
        pending = self._inflight.get(token_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Book] = asyncio.get_running_loop().create_future()
        self._inflight[token_id] = future
        asked_at = self._changes.get(token_id, 0)
        try:
            book = await self._venue.get_book(token_id)
            # A fill of ours that came in while the venue was answering may or may not show in this
            # book: the callers waiting for it use it, but it is not kept for the next quote.
            if self._changes.get(token_id, 0) == asked_at:
                self._books[token_id] = _Cached(book, asked_at)
            else:
                self._books.pop(token_id, None)
            future.set_result(book)
            return book
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            del self._inflight[token_id]


def _without(levels: tuple[Level, ...], shares: Decimal) -> tuple[Level, ...]:
    """`levels` (best first) less `shares` taken from the best ones."""
    left: list[Level] = []
    remaining = shares
    for price, size in levels:
        take = min(size, remaining)
        remaining -= take
        if size > take:
            left.append((price, size - take))
    return tuple(left)


def _age_ms(book: Book) -> float:
    return (datetime.now(UTC) - book.updated_at).total_seconds() * 1000
