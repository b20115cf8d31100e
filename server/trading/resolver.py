"""Settles hedges whose outcome is not known: UNKNOWN ones, and PENDING ones whose poster may have
died. Runs once at start, before the server takes orders, and then in the background."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from server.periodic import Periodic
from server.store.fields import utcnow
from server.store.orders import OrderStore
from server.trading.hedger import Hedger

log = logging.getLogger(__name__)


class Resolver:
    def __init__(
        self,
        store: OrderStore,
        hedger: Hedger,
        run_in_db: Callable[[Callable[[], Any]], Awaitable[Any]],
        *,
        pending_grace: timedelta,
        interval: float = 0.5,
    ) -> None:
        self._store = store
        self._hedger = hedger
        self._run = run_in_db
        self._grace = pending_grace
        self._periodic = Periodic(
            "hedge-resolver", self.resolve_all, interval, failure="resolver pass failed", logger=log
        )

    async def resolve_all(self, *, include_fresh: bool = False) -> int:
        """One pass over every open hedge; returns how many were looked at."""
        cutoff = utcnow() + timedelta(days=1) if include_fresh else utcnow() - self._grace
        hedges = await self._run(lambda: self._store.outcomes.open_hedges(submitted_before=cutoff))
        for hedge in hedges:
            try:
                await self._hedger.resolve(hedge)
            except Exception:
                log.exception("resolving hedge %s failed; will retry", hedge.id)
        return len(hedges)

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()
