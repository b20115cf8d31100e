"""Polymarket books, fetched on demand and reused while fresh, one fetch in flight per token."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from server.domain.book import Book
from server.errors import Unavailable
from server.venue.client import VenueClient

log = logging.getLogger(__name__)


class BookCache:
    def __init__(self, venue: VenueClient) -> None:
        self._venue = venue
        self._books: dict[str, Book] = {}
        self._inflight: dict[str, asyncio.Future[Book]] = {}

    def fresh(self, token_id: str, max_age_ms: int) -> Book | None:
        """The cached book when `get` would return it without asking the venue, else None."""
        cached = self._books.get(token_id)
        return cached if cached is not None and _age_ms(cached) <= max_age_ms / 2 else None

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
            return cached

    async def _fetch(self, token_id: str) -> Book:
        pending = self._inflight.get(token_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Book] = asyncio.get_running_loop().create_future()
        self._inflight[token_id] = future
        try:
            book = await self._venue.get_book(token_id)
            self._books[token_id] = book
            future.set_result(book)
            return book
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            del self._inflight[token_id]


def _age_ms(book: Book) -> float:
    return (datetime.now(UTC) - book.updated_at).total_seconds() * 1000
