"""`VenueClient.post_orders` (one `POST /orders` of up to 15 signed orders) against the simulator: each
order's answer classified as a single post's would be, a whole-batch 429 UNKNOWN for every order with
its Retry-After surfaced, and a 429 storm worked through the order bucket without a failed hedge or an
order over the budget. The simulator's bucket runs on a clock the test moves (no sleeps)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from py_clob_client_v2.client import ClobClient

from server.domain import order_bucket
from server.domain.order_bucket import OrderBudget
from server.secret import Secret
from server.sim.runner import RunningSimulator, start_simulator
from server.venue.client import ApiCredentials, BatchOutcome, PostKind, VenueClient
from server.venue.order_signing import OrderSigner, new_salt
from server.venue.wire import post_order_body
from tests.sim.conftest import CHAIN_ID, private_key

T0 = 1_900_000_000.0
STANDARD = OrderBudget(rate=40, burst=60)


class ManualClock:
    def __init__(self) -> None:
        self.t = T0

    def now(self) -> float:
        return self.t

    def instant(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    with start_simulator(port=0) as running:
        yield running


class Desk:
    """A signer with its API key on the simulator, and our venue client for it."""

    def __init__(self, sim: RunningSimulator) -> None:
        key = private_key("batch-desk")
        creds = ClobClient(sim.url, CHAIN_ID, key=key).create_or_derive_api_key()
        self.api_key = creds.api_key
        self.signer = OrderSigner(key, CHAIN_ID)
        self.credentials = ApiCredentials(
            Secret(creds.api_key), Secret(creds.api_secret), Secret(creds.api_passphrase)
        )
        self.url = sim.url
        self.token = next(m for m in sim.exchange.markets if m.slug.startswith("fed-cut")).yes_token_id

    def order(self, limit: str = "0.99", usdc: str = "1", order_type: str = "FOK") -> tuple[str, bytes]:
        """A marketable BUY of `usdc` USDC of YES at most at `limit`: (its hash, its body)."""
        signed = self.signer.build_marketable_order(
            self.token, Decimal(usdc), "BUY", Decimal(limit), Decimal("0.01"), False,
            salt=new_salt(), timestamp_ms=1_700_000_000_000,
        )  # fmt: skip
        return signed.order_hash, post_order_body(signed, self.api_key, order_type)

    def post(self, orders: list[tuple[str, bytes]]) -> BatchOutcome:
        async def run() -> BatchOutcome:
            client = VenueClient(self.url, address=self.signer.address, credentials=self.credentials)
            try:
                return await client.post_orders(orders)
            finally:
                await client.aclose()

        return asyncio.run(run())


@pytest.fixture
def desk(sim: RunningSimulator) -> Desk:
    return Desk(sim)


def test_a_batch_is_answered_order_by_order(sim, desk):
    matched = [desk.order() for _ in range(3)]
    # A FOK BUY whose limit is under every ask matches nothing: the venue's documented refusal.
    unfillable = desk.order(limit="0.01", usdc="1")
    batch = [*matched[:2], unfillable, matched[2]]
    result = desk.post(batch)
    kinds = [o.kind for o in result.outcomes]
    assert kinds == [PostKind.ACCEPTED, PostKind.ACCEPTED, PostKind.REJECTED, PostKind.ACCEPTED]
    assert (
        result.outcomes[2].message == "order couldn't be fully filled. FOK orders are fully filled or killed."
    )
    assert all(
        o.making == Decimal(1) and o.taking > 0 for o in result.outcomes if o.kind is PostKind.ACCEPTED
    )
    assert result.retry_after is None
    placed = {o["id"] for o in sim.exchange.orders(desk.signer.address)}
    assert {h for h, _ in matched} <= placed
    assert all(sim.exchange.post_count(h) == 1 for h, _ in batch)


def test_batches_hold_one_to_fifteen_orders(desk):
    with pytest.raises(ValueError, match="1 to 15 orders, not 16"):
        desk.post([desk.order() for _ in range(16)])
    with pytest.raises(ValueError):
        desk.post([])


def test_a_429_is_unknown_for_every_order_and_carries_its_retry_after(sim, desk):
    clock = ManualClock()
    sim.exchange.set_order_budget("standard", clock=clock.now)
    for _ in range(4):  # the burst: 60 orders
        assert all(o.kind is PostKind.ACCEPTED for o in desk.post([desk.order() for _ in range(15)]).outcomes)
    refused = [desk.order() for _ in range(15)]
    result = desk.post(refused)
    assert [o.kind for o in result.outcomes] == [PostKind.UNKNOWN] * 15
    assert {o.status_code for o in result.outcomes} == {429}
    assert result.retry_after == timedelta(seconds=1)  # 15 tokens at 40/s: 0.375 s, rounded up
    placed = {o["id"] for o in sim.exchange.orders(desk.signer.address)}
    assert not placed & {h for h, _ in refused}


def test_a_429_storm_is_honoured_with_no_failed_hedge_and_no_order_over_the_budget(sim, desk):
    """Another client of the same signer spends tokens behind our back, so our bucket (right about the
    budget, wrong about what is left) meets 429s. Each is honoured: the same bytes go again once the
    Retry-After has passed. Every hedge ends matched, each placed once."""
    clock = ManualClock()
    sim.exchange.set_order_budget("standard", clock=clock.now)
    budget = sim.exchange.order_budget
    assert budget is not None
    due = [desk.order() for _ in range(90)]
    bucket = order_bucket.full(STANDARD, clock.instant())
    outcomes: dict[str, PostKind] = {}
    storms = 0
    while due:
        batch = due[:15]
        budget.charge(desk.signer.address.lower(), 20)  # the other client's orders, admitted or not
        taken = order_bucket.take(bucket, STANDARD, len(batch), clock.instant())
        if not taken.admitted:
            clock.t += taken.wait.total_seconds()  # our own bucket says wait: time passes, no post
            bucket = taken.bucket
            continue
        bucket = taken.bucket
        result = desk.post(batch)
        if result.retry_after is not None:
            storms += 1
            assert all(o.kind is PostKind.UNKNOWN for o in result.outcomes)  # never a failed hedge
            bucket = order_bucket.honour_retry_after(bucket, clock.instant(), result.retry_after)
            continue  # the same signed bytes go again after the wait
        for (order_hash, _), outcome in zip(batch, result.outcomes, strict=True):
            outcomes[order_hash] = outcome.kind
        due = due[15:]
    assert storms > 0
    assert set(outcomes.values()) == {PostKind.ACCEPTED}
    assert len(outcomes) == 90
    placed = [o["id"] for o in sim.exchange.orders(desk.signer.address)]
    assert sorted(placed) == sorted(outcomes)  # each placed exactly once


def test_our_bucket_alone_keeps_every_order_within_the_budget(sim, desk):
    # In warning mode the simulator admits everything and flags what enforcement would refuse.
    clock = ManualClock()
    sim.exchange.set_order_budget("standard", mode="warn", clock=clock.now)
    bucket = order_bucket.full(STANDARD, clock.instant())
    sent = 0
    while sent < 150:
        taken = order_bucket.take(bucket, STANDARD, 15, clock.instant())
        bucket = taken.bucket
        if not taken.admitted:
            clock.t += taken.wait.total_seconds()
            continue
        result = desk.post([desk.order() for _ in range(15)])
        assert not result.warned and result.retry_after is None
        sent += 15
    # The check can fail: posting the next batch without the bucket's leave is flagged.
    assert desk.post([desk.order() for _ in range(15)]).warned is True
