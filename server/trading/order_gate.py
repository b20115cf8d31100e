"""Admits this process's single venue orders (`per_order` hedges, and re-posts of their stored bytes)
within the signer's order budget, the one bucket every process and both hedge policies take from
(`server.store.venue_budget`; the rebalancer's batches take theirs through `Dispatcher`).

The posts waiting at one moment take their tokens together, in one transaction: a busy flow pays one
round trip per batch of posts, not one per post. A post the bucket cannot admit yet waits until it can,
in the order it came. A 429 empties the bucket until its `Retry-After` for every process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import peewee

from server.domain.order_bucket import Granted, OrderBudget
from server.store import venue_budget
from server.venue.client import PostOutcome

log = logging.getLogger(__name__)
RunInDb = Callable[[Callable[[], Any]], Awaitable[Any]]
DEFAULT_RETRY_AFTER = timedelta(seconds=1)  # a 429 without a readable Retry-After
SHORTEST_WAIT = 0.005  # seconds: a wait the bucket reports as shorter is rounded up to this


class OrderGate:
    def __init__(
        self, signer: str, database: peewee.Database, run_in_db: RunInDb, budget: Callable[[], OrderBudget]
    ) -> None:
        self._signer = signer
        self._db = database
        self._run = run_in_db
        self._budget = budget
        self._waiting: list[asyncio.Future[None]] = []
        self._taking: asyncio.Task[None] | None = None
        self.refused = 0  # 429s received

    @property
    def waiting(self) -> int:
        """How many posts wait for their token."""
        return len(self._waiting)

    async def admit(self) -> None:
        """Returns once one order's token is taken, waiting as long as the budget needs; raises when the
        budget cannot be read (then nothing may be posted)."""
        loop = asyncio.get_running_loop()
        admitted: asyncio.Future[None] = loop.create_future()
        self._waiting.append(admitted)
        if self._taking is None or self._taking.done():
            self._taking = loop.create_task(self._take(), name="order-gate")
        await admitted

    async def stop(self) -> None:
        """Stops taking tokens (the process is stopping); callers still waiting are cancelled."""
        if self._taking is not None:
            self._taking.cancel()
            await asyncio.gather(self._taking, return_exceptions=True)
        for future in self._waiting:
            future.cancel()

    async def refused_by_venue(self, wait: timedelta) -> None:
        """After a 429: no process posts for the signer before `wait` has passed."""
        self.refused += 1
        log.warning("the venue refused an order (429); every process waits %s", wait)
        budget = self._budget()
        await self._run(lambda: venue_budget.honour_retry_after(self._db, self._signer, budget, wait))

    async def _take(self) -> None:
        while True:
            self._waiting = [f for f in self._waiting if not f.done()]  # callers that stopped waiting
            if not self._waiting:
                return
            asking, self._waiting = self._waiting, []
            try:
                granted = await self._take_up_to(len(asking))
            except Exception as error:
                for future in asking:
                    _settle(future, error)
                continue
            except BaseException:  # cancelled (the process is stopping): nobody waits forever
                for future in asking:
                    future.cancel()
                raise
            for future in asking[: granted.count]:
                _settle(future, None)  # a caller gone since: its token is spent unused
            self._waiting = asking[granted.count :] + self._waiting  # first come, first posted
            if granted.count == 0:
                await asyncio.sleep(max(granted.wait.total_seconds(), SHORTEST_WAIT))

    async def _take_up_to(self, wanted: int) -> Granted:
        budget = self._budget()
        taken: Granted = await self._run(
            lambda: venue_budget.take_up_to(self._db, self._signer, budget, wanted)
        )
        return taken


def refused_for(outcome: PostOutcome) -> timedelta | None:
    """How long a 429 asks every post of the signer to wait (a second when it does not say); None for
    any other answer."""
    if outcome.status_code != 429:
        return None
    return outcome.retry_after if outcome.retry_after is not None else DEFAULT_RETRY_AFTER


def _settle(future: asyncio.Future[None], error: Exception | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
