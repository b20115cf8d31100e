"""Optional background drift of the liquidity provider's books, for demos (off by default).

Every ``interval`` seconds one market (seeded choice) has its provider levels shifted by one tick,
up or down, pulled back toward the middle when the mid leaves [0.1, 0.9]. With ``hold`` set, a market
whose book was read over ``/book`` in the last ``hold`` seconds is left alone that step: a client that
prices off a book it read that recently (as `hedging up`'s demo does) then never finds it moved.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from decimal import Decimal

from server.sim.exchange import Exchange

log = logging.getLogger(__name__)


class BookMover:
    def __init__(
        self,
        exchange: Exchange,
        *,
        seed: int = 0,
        interval: float = 0.5,
        enabled: bool = False,
        hold: float = 0.0,
    ) -> None:
        self.hold = hold
        self._exchange = exchange
        self._rng = random.Random(seed)
        self.interval = interval
        self.enabled = enabled
        self._task: asyncio.Task[None] | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._task = loop.create_task(self._run())

    def detach(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def step(self) -> None:
        """Shift one market by one tick."""
        markets = self._exchange.markets
        if not markets:
            return
        market = self._rng.choice(markets)
        ticks = self._rng.choice((-1, 1))
        read_at = self._exchange.book_read_at.get(market.condition_id)
        if self.hold and read_at is not None and time.monotonic() - read_at < self.hold:
            return
        try:
            mid = self._exchange.midpoint(market.yes_token_id)
        except Exception:
            mid = Decimal("0.5")
        if mid > Decimal("0.9"):
            ticks = -1
        elif mid < Decimal("0.1"):
            ticks = 1
        try:
            self._exchange.shift_book(market.condition_id, ticks)
        except (ValueError, KeyError):
            log.debug("book mover skipped %s", market.slug, exc_info=True)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if self.enabled:
                try:
                    self.step()
                except Exception:
                    log.exception("book mover step failed")
