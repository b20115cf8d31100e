"""Follows the append-only event log for the hedgeEvents subscription: stored events after a cursor,
then live ones, in id order, with no gap and no duplicate.

Event ids are handed out in commit order (`server.store.events`), so reading `id > cursor` in pages
and polling when caught up never skips an event. This stands in until the shared follower
(`server/events/feed.py`) lands."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import peewee

from server.store.events import ID_CEILING, latest_id
from server.store.models import HedgeEvent

T = TypeVar("T")
PAGE = 500
POLL_SECONDS = 0.1

RunInDb = Callable[[Callable[[], Any]], Awaitable[Any]]


@dataclass(frozen=True)
class EventFilter:
    """Only these markets (global events such as config changes always pass) and these types."""

    markets: tuple[tuple[str, str], ...] = ()
    types: tuple[str, ...] = ()


def read_page(
    database: peewee.Database, after: int, which: EventFilter, limit: int = PAGE
) -> list[HedgeEvent]:
    return list(page_query(after, which, limit))


def page_query(after: int, which: EventFilter, limit: int = PAGE) -> Any:
    """The events after `after` that `which` lets through, oldest first, at most `limit`."""
    query = HedgeEvent.select().where((HedgeEvent.id > after) & (HedgeEvent.id < ID_CEILING))
    if which.markets:
        in_market: Any = None
        for event_id, outcome in which.markets:
            clause = (HedgeEvent.event_id == event_id) & (HedgeEvent.outcome == outcome)
            in_market = clause if in_market is None else (in_market | clause)
        query = query.where(HedgeEvent.event_id.is_null() | in_market)
    if which.types:
        query = query.where(HedgeEvent.event_type.in_(list(which.types)))
    return query.order_by(HedgeEvent.id).limit(limit)


async def follow(
    run: RunInDb, database: peewee.Database, after: int | None, which: EventFilter
) -> AsyncIterator[HedgeEvent]:
    """Yields events with id > `after` (None: only events written from now on), forever."""
    cursor = after if after is not None else await run(lambda: latest_id(database))
    while True:
        page: list[HedgeEvent] = await run(functools.partial(read_page, database, cursor, which))
        for row in page:
            cursor = row.id
            yield row
        if len(page) < PAGE:
            if not page:
                # Filtered-out events still move nothing; the cursor only advances over what we read.
                await asyncio.sleep(POLL_SECONDS)
