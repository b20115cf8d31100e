"""The signer's order bucket on our side (`server.domain.order_bucket`), worked out by hand on the
documented Standard tier: 40 orders a second, a burst of 60."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from server.domain.order_bucket import (
    Bucket,
    OrderBudget,
    full,
    honour_retry_after,
    refilled,
    take,
    take_up_to,
)

T0 = datetime(2026, 12, 3, 12, tzinfo=UTC)
STANDARD = OrderBudget(rate=40, burst=60)


def at(seconds: str) -> datetime:
    return T0 + timedelta(microseconds=int(D(seconds) * 1_000_000))


def test_a_full_bucket_admits_the_burst_in_batches_then_refuses_with_the_wait():
    bucket = full(STANDARD, T0)
    left = []
    for _ in range(4):
        taken = take(bucket, STANDARD, 15, T0)
        assert taken.admitted and taken.wait == timedelta(0)
        bucket = taken.bucket
        left.append(taken.bucket.tokens)
    assert left == [45, 30, 15, 0]
    refused = take(bucket, STANDARD, 1, T0)
    assert not refused.admitted
    assert refused.wait == timedelta(milliseconds=25)  # one token at 40 a second
    assert refused.bucket.tokens == 0


def test_all_or_nothing_after_a_partial_refill():
    empty = Bucket(D(0), T0)
    # A quarter second refills 10: a batch of 15 is refused whole (5 short: 125 ms), 10 fit exactly.
    refused = take(empty, STANDARD, 15, at("0.25"))
    assert (refused.admitted, refused.bucket.tokens, refused.wait) == (False, 10, timedelta(milliseconds=125))
    admitted = take(refused.bucket, STANDARD, 10, at("0.25"))
    assert admitted.admitted and admitted.bucket.tokens == 0
    # Exactly one token's worth of time: exactly one token, enough for one order.
    assert take(empty, STANDARD, 1, at("0.025")).admitted
    assert not take(empty, STANDARD, 1, at("0.024999")).admitted


def test_refill_is_continuous_and_stops_at_the_burst():
    empty = Bucket(D(0), T0)
    assert refilled(empty, OrderBudget(rate=3, burst=5), at("0.1")).tokens == D("0.3")
    assert refilled(empty, STANDARD, at("10")).tokens == 60
    assert refilled(Bucket(D(59), T0), STANDARD, at("0.1")).tokens == 60  # 59 + 4, capped


def test_a_clock_that_went_back_refills_nothing():
    bucket = Bucket(D(7), at("1"))
    assert refilled(bucket, STANDARD, T0) == Bucket(D(7), at("1"))


def test_a_retry_after_empties_the_bucket_until_it_ends():
    blocked = honour_retry_after(Bucket(D(50), T0), T0, timedelta(seconds=2))
    assert blocked == Bucket(D(0), T0, at("2"))
    still = take(blocked, STANDARD, 1, at("1.999"))
    assert not still.admitted
    assert still.wait == timedelta(milliseconds=26)  # 1 ms of the venue's wait, then 25 ms for a token
    at_end = take(blocked, STANDARD, 1, at("2"))
    assert not at_end.admitted and at_end.wait == timedelta(milliseconds=25)
    assert at_end.bucket == Bucket(D(0), at("2"))  # the wait is over: refilling from empty
    # However it was stored, a bucket under a wait refills from empty once the wait ends.
    assert refilled(Bucket(D(50), T0, at("2")), STANDARD, at("2.1")) == Bucket(D(4), at("2.1"))
    after = take(blocked, STANDARD, 1, at("2.025"))
    assert after.admitted and after.bucket.tokens == 0 and after.bucket.blocked_until is None


def test_a_shorter_retry_after_does_not_cut_a_longer_wait():
    blocked = honour_retry_after(Bucket(D(50), T0), T0, timedelta(seconds=5))
    assert honour_retry_after(blocked, at("1"), timedelta(seconds=1)).blocked_until == at("5")
    assert honour_retry_after(blocked, at("1"), timedelta(seconds=6)).blocked_until == at("7")
    assert honour_retry_after(Bucket(D(50), T0), T0, timedelta(seconds=-3)).blocked_until == T0


def test_a_batch_larger_than_the_burst_or_empty_is_a_programming_error():
    assert take(full(STANDARD, T0), STANDARD, 60, T0).admitted
    with pytest.raises(ValueError, match="does not fit a burst of 60"):
        take(full(STANDARD, T0), STANDARD, 61, T0)
    with pytest.raises(ValueError):
        take(full(STANDARD, T0), STANDARD, 0, T0)
    with pytest.raises(ValueError):
        OrderBudget(rate=0, burst=60)
    with pytest.raises(ValueError):
        OrderBudget(rate=40, burst=0)
    OrderBudget(rate=1, burst=1)


def test_waits_round_up_to_the_microsecond():
    # 1 token at 3 a second: 0.3333.. s -> 333334 us.
    assert take(Bucket(D(0), T0), OrderBudget(rate=3, burst=5), 1, T0).wait == timedelta(microseconds=333334)


# --- take_up_to: single orders waiting at one moment, as many as the bucket holds whole tokens for ---


def test_take_up_to_grants_every_order_asked_while_the_bucket_holds_them():
    granted = take_up_to(full(STANDARD, T0), STANDARD, 15, T0)
    assert (granted.count, granted.bucket.tokens, granted.wait) == (15, 45, timedelta(0))


def test_take_up_to_grants_what_the_bucket_holds_and_never_more_than_the_burst():
    empty = Bucket(D(0), T0)
    # 0.1 s at 40 a second refills exactly 4 tokens: 4 of the 10 orders go, the bucket is left empty.
    four = take_up_to(empty, STANDARD, 10, at("0.1"))
    assert (four.count, four.bucket.tokens, four.wait) == (4, 0, timedelta(0))
    # 2.5 tokens admit 2 whole orders and keep the half.
    two = take_up_to(Bucket(D("2.5"), T0), STANDARD, 3, T0)
    assert (two.count, two.bucket.tokens) == (2, D("0.5"))
    # A full bucket of 60 and 100 orders waiting: the burst, 60, goes.
    burst = take_up_to(full(STANDARD, T0), STANDARD, 100, T0)
    assert (burst.count, burst.bucket.tokens) == (60, 0)


def test_take_up_to_grants_none_under_one_token_and_says_when_one_is_there():
    # 0.02 s refills 0.8 of a token: the missing 0.2 takes 0.2 / 40 s = 5 ms; the 0.8 stays.
    none = take_up_to(Bucket(D(0), T0), STANDARD, 3, at("0.02"))
    assert (none.count, none.bucket.tokens, none.wait) == (0, D("0.8"), timedelta(milliseconds=5))


def test_take_up_to_grants_none_while_a_retry_after_lasts():
    blocked = Bucket(D(0), T0, blocked_until=at("2"))
    # 1 s of the venue's wait left, then a token's refill (25 ms) from empty.
    during = take_up_to(blocked, STANDARD, 5, at("1"))
    assert (during.count, during.wait) == (0, timedelta(seconds=1, milliseconds=25))
    # 0.1 s after the wait ended: 4 tokens, counted from its end, not from before it.
    after = take_up_to(blocked, STANDARD, 5, at("2.1"))
    assert (after.count, after.bucket.tokens) == (4, 0)


def test_take_up_to_needs_at_least_one_order():
    with pytest.raises(ValueError):
        take_up_to(full(STANDARD, T0), STANDARD, 0, T0)
