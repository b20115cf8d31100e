"""Posts the rebalancer's hedges of every market this process works as batches (`POST /orders`, at most
15, and never more than the budget's burst), each batch's tokens first taken from the signer's order
budget shared by every process (`server.store.venue_budget`), so the signer's orders stay within it.

A 429 refuses a whole batch (the venue admits a batch all or nothing): its `Retry-After` is honoured
by every process and its hedges stay queued and PENDING, to be posted again byte for byte. It is
never a failed hedge."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import peewee

from server.domain.book_hedge import BookHedge
from server.domain.order_bucket import OrderBudget
from server.store import venue_budget
from server.venue.client import MAX_BATCH, PostOutcome, VenueClient

log = logging.getLogger(__name__)
RunInDb = Callable[[Callable[[], Any]], Awaitable[Any]]
Apply = Callable[..., Awaitable[None]]
DEFAULT_RETRY_AFTER = timedelta(seconds=1)  # a 429 without a readable Retry-After


class Dispatcher:
    def __init__(
        self,
        venue: VenueClient,
        database: peewee.Database,
        run_in_db: RunInDb,
        budget: Callable[[], OrderBudget],
    ) -> None:
        self._venue = venue
        self._db = database
        self._run = run_in_db
        self._budget = budget
        self._queue: dict[str, tuple[BookHedge, bool]] = {}
        self._not_before = 0.0  # time.monotonic() before which no batch is tried
        self.refused = 0  # 429s received

    def queue(self, hedge: BookHedge, *, resolved: bool = False) -> None:
        """Queues a booked (or re-posted) hedge; `resolved`: its outcome settles an UNKNOWN lookup."""
        self._queue.setdefault(hedge.id, (hedge, resolved))

    def holds(self, hedge_id: str) -> bool:
        """Whether the hedge is queued or being posted here (a lookup must leave it alone)."""
        return hedge_id in self._queue

    async def dispatch(self, apply: Apply) -> int:
        """Posts what is queued, batch after batch, while the budget allows; returns how many were
        posted. What the budget does not admit yet stays queued for the next call."""
        posted = 0
        while self._queue and time.monotonic() >= self._not_before:
            budget = self._budget()
            batch = list(self._queue.values())[: min(MAX_BATCH, budget.burst)]
            admitted = await self._take(budget, len(batch))
            if admitted == 0:
                return posted
            batch = batch[:admitted]
            outcome = await self._venue.post_orders(
                [(hedge.venue_order_id, hedge.signed_order.encode()) for hedge, _ in batch]
            )
            if outcome.retry_after is not None or any(o.status_code == 429 for o in outcome.outcomes):
                self.refused += 1
                wait = outcome.retry_after or DEFAULT_RETRY_AFTER
                log.warning(
                    "the venue refused a batch of %d hedges (429); retrying after %s", len(batch), wait
                )
                await self._honour(budget, wait)
                self._not_before = time.monotonic() + wait.total_seconds()
                return posted
            for (hedge, resolved), one in zip(batch, outcome.outcomes, strict=True):
                self._queue.pop(hedge.id, None)
                await _apply(apply, hedge, one, resolved)
            posted += len(batch)
        return posted

    async def _honour(self, budget: OrderBudget, wait: timedelta) -> None:
        await self._run(lambda: venue_budget.honour_retry_after(self._db, self._venue.address, budget, wait))

    async def _take(self, budget: OrderBudget, wanted: int) -> int:
        """Takes tokens for up to `wanted` orders (all it asks, else what the bucket holds); 0 when
        none are there, and then nothing is tried before they can be."""
        taken = await self._run(lambda: venue_budget.take(self._db, self._venue.address, budget, wanted))
        if taken.admitted:
            return wanted
        fewer = int(taken.bucket.tokens)
        if fewer >= 1:
            again = await self._run(lambda: venue_budget.take(self._db, self._venue.address, budget, fewer))
            if again.admitted:
                return fewer
        self._not_before = time.monotonic() + max(taken.wait.total_seconds(), 0.005)
        return 0


async def _apply(apply: Apply, hedge: BookHedge, outcome: PostOutcome, resolved: bool) -> None:
    try:
        await apply(hedge, outcome, resolved=resolved)
    except Exception:
        # Its outcome is not recorded: it stays open and is looked up by its hash.
        log.exception("recording the outcome of book hedge %s failed; it will be looked up", hedge.id)
