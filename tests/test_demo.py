"""The demo of `hedging up` trades with a stocked wallet: every hedge succeeds except the ones it
makes fail on purpose, so it never trips the failure-rate breaker on its own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from eth_account import Account

from server.demo import drive, stock_wallet
from server.sim.runner import RunningSimulator, start_simulator
from server.store.models import HedgePosition
from server.up import MOVER_HOLD, _prepare_store, refuse_next_hedge
from tests.harness import HEDGER_KEY, running_service, service_settings, wait_until

ORDERS = 240
FAIL_EVERY = 30


@pytest.fixture
def moving_sim() -> Iterator[RunningSimulator]:
    """The simulator as `hedging up` runs it: books drifting."""
    with start_simulator(port=0, move_books=True) as running:
        running.mover.hold = MOVER_HOLD
        running.mover.interval = 0.05  # ten times `hedging up`'s pace, as are the orders
        yield running


def _statuses() -> dict[str, int]:
    counts: dict[str, int] = {}
    for hedge in HedgePosition.select(HedgePosition.status):
        counts[hedge.status] = counts.get(hedge.status, 0) + 1
    return counts


def test_the_demos_hedges_succeed_but_for_the_failures_it_injects(pg_db, pg_url, moving_sim):
    settings = service_settings(pg_url, moving_sim.url)
    pairs = _prepare_store(settings, list(moving_sim.exchange.markets), None)
    tokens = [t for m in moving_sim.exchange.markets for t in (m.yes_token_id, m.no_token_id)]
    stock_wallet(moving_sim.exchange, Account.from_key(HEDGER_KEY).address, tokens)
    with running_service(settings) as service:
        injected = asyncio.run(
            drive(
                f"127.0.0.1:{service.port}",
                pairs,
                asyncio.Event(),
                per_second=40,
                orders=ORDERS,
                fail_every=FAIL_EVERY,
                inject_failure=lambda: refuse_next_hedge(moving_sim),
            )
        )
        unresolved = {"pending", "submitted", "unknown"}
        wait_until(lambda: not unresolved & set(_statuses()), timeout=30, message="every hedge resolved")
        # An injected refusal waits for the next order post: one whose order needed no hedge stays.
        unused = sum(int(f["remaining"]) for f in moving_sim.exchange.faults.pending())
    statuses = _statuses()
    assert injected == ORDERS // FAIL_EVERY == 8
    assert statuses.get("failed", 0) == injected - unused, statuses
    assert set(statuses) <= {"hedged", "failed"}, statuses
    assert statuses["hedged"] > ORDERS // 2
