"""The signer's venue order budget, shared by every server process (migration 0008): one row per signer
holds its bucket (`server.domain.order_bucket`). Each take locks the row (`SELECT ... FOR UPDATE`),
reads the database's clock, decides and writes back in one transaction, so the processes take turns
and together never admit more than the budget. PostgreSQL only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

import peewee

from server.domain import order_bucket
from server.domain.order_bucket import Bucket, Granted, OrderBudget, Taken
from server.store.models import VenueOrderBudget


def take(database: peewee.Database, signer: str, budget: OrderBudget, cost: int) -> Taken:
    """Takes `cost` orders' tokens from `signer`'s bucket if all are there (else none), atomically
    across processes. A refusal says how long to wait."""
    return _in_turn(
        database, signer, budget, lambda bucket, now: order_bucket.take(bucket, budget, cost, now)
    )


def take_up_to(database: peewee.Database, signer: str, budget: OrderBudget, wanted: int) -> Granted:
    """Takes tokens for as many of `wanted` single orders as `signer`'s bucket holds, atomically across
    processes; when none, says how long to wait."""
    return _in_turn(
        database, signer, budget, lambda bucket, now: order_bucket.take_up_to(bucket, budget, wanted, now)
    )


def honour_retry_after(
    database: peewee.Database, signer: str, budget: OrderBudget, retry_after: timedelta
) -> Bucket:
    """After a 429: every process's takes for `signer` wait until `retry_after` from now."""
    with database.atomic():
        locked = _locked(database, signer, budget)
        now = _now(database)
        bucket = order_bucket.honour_retry_after(locked, now, retry_after)
        _save(signer, bucket)
    return bucket


class _Decided(Protocol):
    @property
    def bucket(self) -> Bucket: ...


D = TypeVar("D", bound=_Decided)


def _in_turn(
    database: peewee.Database, signer: str, budget: OrderBudget, decide: Callable[[Bucket, datetime], D]
) -> D:
    """Decides on `signer`'s bucket under its row lock, at the database's clock read once the lock is
    ours (a waiter's earlier reading would be stale), and writes the bucket after, in one transaction."""
    with database.atomic():
        bucket = _locked(database, signer, budget)
        decided = decide(bucket, _now(database))
        _save(signer, decided.bucket)
    return decided


def _locked(database: peewee.Database, signer: str, budget: OrderBudget) -> Bucket:
    """The signer's bucket under its row lock, held to the end of the transaction; a signer seen for
    the first time starts full (two first takes at once: one inserts, both then lock the one row)."""
    query = VenueOrderBudget.select().where(VenueOrderBudget.signer == signer).for_update()
    row = query.get_or_none()
    if row is None:
        first = order_bucket.full(budget, _now(database))
        VenueOrderBudget.insert(
            signer=signer, tokens=first.tokens, as_of=first.as_of
        ).on_conflict_ignore().execute()
        row = query.get()
    return Bucket(row.tokens, row.as_of, row.blocked_until)


def _save(signer: str, bucket: Bucket) -> None:
    VenueOrderBudget.update(
        tokens=bucket.tokens, as_of=bucket.as_of, blocked_until=bucket.blocked_until
    ).where(VenueOrderBudget.signer == signer).execute()


def _now(database: peewee.Database) -> datetime:
    """The database's clock (not the transaction's start): one clock for every process."""
    value: datetime = database.execute_sql("SELECT clock_timestamp()").fetchone()[0]
    return value.astimezone(UTC)
