"""`per_order` hedges within the signer's venue order budget (issue 18, "Within the budget, always"):
each post takes its token from the bucket every process and both policies share (PostgreSQL), and a 429
is honoured by every process and never fails a hedge. The simulator enforces a low budget (5 orders a
second, a burst of 5), the same as the service's `venueOrderRate`/`venueOrderBurst`, so a short flow
is well above it.

How many 429s the protocol allows: none while the venue's bucket and ours drain together. A post
reaches the venue after we took its token, and before it lands the venue's bucket holds what ours
holds plus the tokens of the posts still on their way, so it has the post's token too. The one gap is
a bucket at its burst: the venue's, still full while our first posts travel, wastes the refill ours
counts, so the first post after the burst is spent can meet a 429 (more than one only when posts
travel longer than a token takes to refill). Its Retry-After then empties our bucket for every process
until the venue's has had at least as long to refill, and from there ours runs behind the venue's. So:
about one 429 each time the buckets drain from full; a steady per-order flow drains them once."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from hedging.v1 import types_pb2
from server.sim.order_budget import Tier
from server.sim.runner import RunningSimulator
from server.store import mappings as mapping_store
from server.store.models import BookHedge, HedgePosition, PolymarketMarketMapping
from tests.harness import (
    ServerProcess,
    ServiceThread,
    hedger_address,
    order_request,
    running_service,
    server_env,
    service_settings,
    set_config,
    wait_until,
)

PER_ORDER = ("fed-cut-december-2026", "btc-above-150k-dec-31-2026")
NETTED = "gpt-release-q1-2027"
LOW = Tier("low", rate=5, burst=5)


class Clock:
    """Unix seconds that move only when the test says so."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def low_budget(pg_db: Any, sim: RunningSimulator) -> None:
    set_config(pg_db, mode="live", venueOrderRate=str(LOW.rate), venueOrderBurst=str(LOW.burst))
    sim.exchange.set_order_budget(LOW)


def place_all(stubs: list[Any], markets: tuple[str, ...], count: int, size: str = "5") -> list[Any]:
    """`count` BUY orders at once from 12 callers, spread over `stubs` and `markets`."""

    def place(i: int) -> Any:
        request = order_request(markets[i % len(markets)], types_pb2.SIDE_BUY, size)
        return stubs[i % len(stubs)].PlaceOrder(request, timeout=60)

    with ThreadPoolExecutor(12) as pool:
        return list(pool.map(place, range(count)))


def all_hedged() -> bool:
    return all(h.status == "hedged" for h in HedgePosition.select())


def assert_each_hedge_at_the_venue_once(sim: RunningSimulator, hedge_ids: list[str]) -> None:
    venue_ids = [o["id"] for o in sim.exchange.orders(hedger_address())]
    assert sorted(venue_ids) == sorted(hedge_ids)


def test_a_per_order_flow_above_the_budget_from_two_processes_stays_within_it(pg_db, pg_url, sim, mappings):
    low_budget(pg_db, sim)
    # A grace far above the queue's depth: each hedge waits its turn with the process that booked it.
    env = {**server_env(pg_url, sim.url), "HEDGING_VENUE_TIMEOUT_SECONDS": "10"}
    servers = [ServerProcess(env), ServerProcess(env)]
    try:
        responses = place_all([s.stub for s in servers], PER_ORDER, 24)  # 24 orders: about 4 s of budget
        assert all(r.status == types_pb2.ORDER_STATUS_ACCEPTED for r in responses), [
            r.message for r in responses
        ]
        wait_until(all_hedged, timeout=60, message="every hedge filled")
    finally:
        for server in servers:
            server.stop()
    budget = sim.exchange.order_budget
    assert budget is not None
    assert budget.refused <= 1, f"{budget.refused} 429s"
    hedges = list(HedgePosition.select())
    assert len(hedges) == 24
    assert not [h for h in hedges if h.status == "failed"]
    assert_each_hedge_at_the_venue_once(sim, [h.venue_order_id for h in hedges])
    # Each hedge admitted at the venue once; each post again followed a 429 (the same bytes).
    assert budget.admitted == 24
    assert sum(h.attempt_count for h in hedges) == 24 + budget.refused


def test_a_429_storm_on_per_order_hedges_fails_none_and_posts_each_once_it_ends(pg_db, sim, live):
    address = hedger_address()
    clock = Clock(sim.exchange.now())
    sim.exchange.set_order_budget("standard", clock=clock)
    budget = sim.exchange.order_budget
    assert budget is not None and budget.charge(address, 60).admitted  # the venue's bucket: empty
    budget.admitted = 0

    responses = [
        live.stub.PlaceOrder(order_request(PER_ORDER[i % 2], types_pb2.SIDE_BUY, "5"), timeout=20)
        for i in range(3)
    ]
    assert all(r.status == types_pb2.ORDER_STATUS_ACCEPTED for r in responses)
    assert all(r.hedge_status == types_pb2.HEDGE_STATUS_UNKNOWN for r in responses)  # to be posted again

    # Refused again and again, each Retry-After recorded for every process, never failed.
    wait_until(lambda: budget.refused >= 6, timeout=30, message="six 429s")
    assert sim.exchange.orders(address) == []
    assert {h.status for h in HedgePosition.select()} == {"unknown"}

    clock.now += 60  # the storm ends: the venue's bucket refills
    wait_until(all_hedged, timeout=30, message="every hedge filled")
    hedges = list(HedgePosition.select())
    assert len(hedges) == 3
    assert_each_hedge_at_the_venue_once(sim, [h.venue_order_id for h in hedges])
    assert budget.admitted == 3
    assert live.runtime.gate.refused == budget.refused  # each 429 recorded in the shared bucket


@pytest.fixture
def low_live(
    pg_db: Any, pg_url: str, sim: RunningSimulator, mappings: dict[str, Any]
) -> Iterator[ServiceThread]:
    """The service in live mode with the low budget, one market netted, the others per order."""
    low_budget(pg_db, sim)
    mapping_store.update(
        pg_db,
        mappings[NETTED].id,
        author="test",
        hedge_overrides={"hedgePolicy": "netted", "hedgeMinShares": "5", "hedgeMaxDelayMs": "200"},
    )
    with running_service(service_settings(pg_url, sim.url)) as service:
        service.runtime.state.remember(PolymarketMarketMapping.get_by_id(mappings[NETTED].id))
        yield service


def test_both_policies_at_once_share_one_budget(pg_db, sim, low_live):
    # 16 per-order hedges and a stream of netted orders, each of 6 shares (the rebalancer posts a hedge
    # whenever the market's gap reaches 5), all at once.
    responses = place_all([low_live.stub], (*PER_ORDER, NETTED, NETTED), 32, size="6")
    assert all(r.status == types_pb2.ORDER_STATUS_ACCEPTED for r in responses)

    def settled() -> bool:
        open_book = BookHedge.select().where(BookHedge.status.in_(["pending", "unknown"])).exists()
        return all_hedged() and not open_book and BookHedge.select().exists()

    wait_until(settled, timeout=60, message="every hedge of both policies filled")
    budget = sim.exchange.order_budget
    assert budget is not None
    # Here the bucket may come back to its burst more than once (the rebalancer's hedges come in
    # bursts): a few 429s at such turns, each recorded for every process, out of some 30 posts.
    assert budget.refused <= 3, f"{budget.refused} 429s"
    runtime = low_live.runtime
    assert runtime.gate.refused + runtime.rebalancer._dispatcher.refused == budget.refused
    order_hedges = [h.venue_order_id for h in HedgePosition.select()]
    book_hedges = [h.venue_order_id for h in BookHedge.select() if h.status != "failed"]
    assert len(order_hedges) == 16
    assert_each_hedge_at_the_venue_once(sim, order_hedges + book_hedges)
