"""Cursor pagination over orders and hedges, newest first, keyed on (created_at, id) so a page never
skips or repeats a row however many arrive meanwhile."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar

from server.domain import inputs
from server.domain.hedge import Hedge
from server.domain.order import Order
from server.errors import InvalidArgument
from server.store.models import HedgePosition, MarketPayout, PolymarketMarketMapping, UserOrder
from server.store.rows import hedge_of, order_of

T = TypeVar("T")
DEFAULT_PAGE = 50
MAX_PAGE = 200
MAX_RANGE = timedelta(days=366)
MAX_CURSOR = 400
PERIODS = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[tuple[str, T]]  # (cursor, row)
    has_next: bool
    has_previous: bool


@dataclass(frozen=True)
class OrderQuery:
    status: str | None = None
    market: tuple[str, str] | None = None
    account_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class HedgeQuery:
    statuses: tuple[str, ...] = ()
    market: tuple[str, str] | None = None
    order_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class PayoutQuery:
    market: tuple[str, str] | None = None
    account_id: str | None = None


@dataclass(frozen=True)
class AccountPayout:
    """What the platform owes one account for one resolved market."""

    id: str
    event_id: str
    outcome: str
    account_id: str
    shares: Decimal
    payout: Decimal
    settled_at: datetime


def time_range(start: datetime, end: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) with `end` defaulting to now; both must be timezone-aware and at most a year apart."""
    end = end or now
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidArgument("range", "times must carry a timezone, as 2026-11-25T09:00:00Z")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if not start < end:
        raise InvalidArgument("range", "`from` must be before `to`")
    if end - start > MAX_RANGE:
        raise InvalidArgument("range", "may span at most 366 days")
    return start, end


def period_range(period: str, now: datetime) -> tuple[datetime, datetime]:
    return now - PERIODS[period], now


def page_size(first: int | None) -> int:
    size = DEFAULT_PAGE if first is None else first
    if not 1 <= size <= MAX_PAGE:
        raise InvalidArgument("first", f"must be from 1 to {MAX_PAGE}")
    return size


def encode_cursor(created_at: datetime, row_id: str) -> str:
    raw = json.dumps([created_at.astimezone(UTC).isoformat(), row_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) a cursor of `encode_cursor` holds; anything else is InvalidArgument."""
    try:
        # Bounded before decoding: the JSON of a long cursor could nest deep enough for json.loads
        # to raise RecursionError (a cursor of ours is at most ~230 characters).
        if len(cursor) > MAX_CURSOR:
            raise ValueError
        created, row_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        when = datetime.fromisoformat(created)
        if when.tzinfo is None or not isinstance(row_id, str):
            raise ValueError
        # The id goes into SQL: it must be an id (no NUL, which PostgreSQL refuses, no spaces).
        return when, inputs.identifier("after", row_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, InvalidArgument):
        raise InvalidArgument("after", "is not a cursor from this API") from None


def _keyset(query: Any, created: Any, ident: Any, after: str | None, size: int) -> tuple[list[Any], bool]:
    if after is not None:
        when, row_id = decode_cursor(after)
        query = query.where((created < when) | ((created == when) & (ident < row_id)))
    rows = list(query.order_by(created.desc(), ident.desc()).limit(size + 1))
    return rows[:size], len(rows) > size


def orders_page(which: OrderQuery, first: int | None, after: str | None) -> Page[Order]:
    """A page of orders (call from a database thread)."""
    size = page_size(first)
    query = UserOrder.select()
    if which.status is not None:
        query = query.where(UserOrder.status == which.status)
    if which.market is not None:
        query = query.where((UserOrder.event_id == which.market[0]) & (UserOrder.outcome == which.market[1]))
    if which.account_id is not None:
        query = query.where(UserOrder.account_id == which.account_id)
    if which.start is not None:
        query = query.where(UserOrder.created_at >= which.start)
    if which.end is not None:
        query = query.where(UserOrder.created_at < which.end)
    rows, more = _keyset(query, UserOrder.created_at, UserOrder.id, after, size)
    return Page([(encode_cursor(r.created_at, r.id), order_of(r)) for r in rows], more, after is not None)


def hedges_of(order_ids: list[str]) -> dict[str, list[Hedge]]:
    """Every hedge of these orders, oldest first, in one query."""
    found: dict[str, list[Hedge]] = {i: [] for i in order_ids}
    if order_ids:
        query = HedgePosition.select().where(HedgePosition.order.in_(order_ids))
        for h in query.order_by(HedgePosition.created_at, HedgePosition.id):
            found[h.order_id].append(hedge_of(h))
    return found


def hedges_page(which: HedgeQuery, first: int | None, after: str | None) -> Page[Hedge]:
    size = page_size(first)
    query = HedgePosition.select()
    if which.statuses:
        query = query.where(HedgePosition.status.in_(list(which.statuses)))
    if which.market is not None:
        mapping_ids = PolymarketMarketMapping.select(PolymarketMarketMapping.id).where(
            (PolymarketMarketMapping.event_id == which.market[0])
            & (PolymarketMarketMapping.outcome == which.market[1])
        )
        query = query.where(HedgePosition.mapping.in_(mapping_ids))
    if which.order_id is not None:
        query = query.where(HedgePosition.order == which.order_id)
    if which.start is not None:
        query = query.where(HedgePosition.created_at >= which.start)
    if which.end is not None:
        query = query.where(HedgePosition.created_at < which.end)
    rows, more = _keyset(query, HedgePosition.created_at, HedgePosition.id, after, size)
    return Page([(encode_cursor(r.created_at, r.id), hedge_of(r)) for r in rows], more, after is not None)


def payouts_page(which: PayoutQuery, first: int | None, after: str | None) -> Page[AccountPayout]:
    """A page of payouts, newest settlement first (call from a database thread)."""
    size = page_size(first)
    query = MarketPayout.select(
        MarketPayout, PolymarketMarketMapping.event_id, PolymarketMarketMapping.outcome
    ).join(PolymarketMarketMapping, on=MarketPayout.mapping == PolymarketMarketMapping.id)
    if which.market is not None:
        query = query.where(
            (PolymarketMarketMapping.event_id == which.market[0])
            & (PolymarketMarketMapping.outcome == which.market[1])
        )
    if which.account_id is not None:
        query = query.where(MarketPayout.account_id == which.account_id)
    rows, more = _keyset(query.objects(), MarketPayout.created_at, MarketPayout.id, after, size)
    items = [
        (
            encode_cursor(r.created_at, r.id),
            AccountPayout(r.id, r.event_id, r.outcome, r.account_id, r.shares, r.payout, r.created_at),
        )
        for r in rows
    ]
    return Page(items, more, after is not None)
