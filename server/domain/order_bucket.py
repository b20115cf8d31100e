"""The signer's venue order budget on our side: a token bucket as the venue keeps it (refills at `rate`
tokens a second up to `burst`; a batch of N orders costs N, taken all or nothing), so our orders stay
within it instead of finding it with 429s. When the venue answers 429 anyway (another client of the
signer, a clock of its own), its `Retry-After` is honoured: the bucket is emptied and does not refill
until then. Pure: the caller brings the time (one clock for every process: the database's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal

ZERO = Decimal(0)
MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class OrderBudget:
    """`rate` orders a second, at most `burst` at once (config `venueOrderRate`, `venueOrderBurst`)."""

    rate: int
    burst: int

    def __post_init__(self) -> None:
        if self.rate < 1 or self.burst < 1:
            raise ValueError("an order budget needs a rate and a burst of at least 1")


@dataclass(frozen=True)
class Bucket:
    """The tokens left as of an instant, and until when the venue asked us to wait (None: it did not)."""

    tokens: Decimal
    as_of: datetime
    blocked_until: datetime | None = None


@dataclass(frozen=True)
class Taken:
    """Whether the cost was taken, the bucket after, and (if not) how long until it could be."""

    admitted: bool
    bucket: Bucket
    wait: timedelta


def full(budget: OrderBudget, now: datetime) -> Bucket:
    """A signer's bucket when first seen: full, as the venue starts it."""
    return Bucket(Decimal(budget.burst), now)


def refilled(bucket: Bucket, budget: OrderBudget, now: datetime) -> Bucket:
    """The bucket at `now`: refilled at the rate since it was last seen, or since the venue's wait
    ended; empty while that wait lasts. A clock that went back refills nothing."""
    tokens, since = bucket.tokens, bucket.as_of
    if bucket.blocked_until is not None:
        if now < bucket.blocked_until:
            return Bucket(ZERO, now, bucket.blocked_until)
        tokens, since = ZERO, bucket.blocked_until
    elapsed = max(_seconds(now - since), ZERO)
    return Bucket(min(Decimal(budget.burst), tokens + elapsed * budget.rate), max(now, since))


def take(bucket: Bucket, budget: OrderBudget, cost: int, now: datetime) -> Taken:
    """Takes `cost` tokens if they are all there, else none. A cost above the burst never fits: the
    caller must split the batch (`ValueError`)."""
    if cost < 1 or cost > budget.burst:
        raise ValueError(f"a batch of {cost} orders does not fit a burst of {budget.burst}")
    current = refilled(bucket, budget, now)
    if current.tokens >= cost:
        return Taken(True, Bucket(current.tokens - cost, current.as_of), timedelta(0))
    short = Decimal(cost) - current.tokens
    wait = _duration(short / budget.rate)
    if current.blocked_until is not None:
        wait += current.blocked_until - now
    return Taken(False, current, wait)


@dataclass(frozen=True)
class Granted:
    """How many of the orders asked for got their tokens (0 up to the number asked), the bucket after,
    and (when none did) how long until one could."""

    count: int
    bucket: Bucket
    wait: timedelta


def take_up_to(bucket: Bucket, budget: OrderBudget, wanted: int, now: datetime) -> Granted:
    """Takes tokens for as many of `wanted` orders (each its own request, costing 1) as the bucket
    holds whole tokens for (so never more than the burst); none while a Retry-After lasts."""
    if wanted < 1:
        raise ValueError(f"ask for at least one order, not {wanted}")
    current = refilled(bucket, budget, now)
    count = min(wanted, int(current.tokens))  # a refilled bucket never holds more than the burst
    taken = take(current, budget, max(count, 1), now)
    return Granted(count if taken.admitted else 0, taken.bucket, taken.wait)


def honour_retry_after(bucket: Bucket, now: datetime, retry_after: timedelta) -> Bucket:
    """After a 429: no tokens until `now + retry_after` (a later wait already set stands)."""
    until = now + max(retry_after, timedelta(0))
    if bucket.blocked_until is not None:
        until = max(until, bucket.blocked_until)
    return Bucket(ZERO, now, until)


def _seconds(delta: timedelta) -> Decimal:
    return Decimal(delta // MICROSECOND) / 1_000_000


def _duration(seconds: Decimal) -> timedelta:
    """Rounded up to the microsecond: waiting that long is always enough."""
    return timedelta(microseconds=int((seconds * 1_000_000).to_integral_value(rounding=ROUND_CEILING)))
