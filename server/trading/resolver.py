"""Settles hedges whose outcome is not known: UNKNOWN ones, and PENDING ones whose poster may have
died. Runs once at start, before the server takes orders, and then in the background."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

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
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def resolve_all(self, *, include_fresh: bool = False) -> int:
        """One pass over every open hedge; returns how many were looked at."""
        cutoff = utcnow() + timedelta(days=1) if include_fresh else utcnow() - self._grace
        hedges = await self._run(lambda: self._store.open_hedges(submitted_before=cutoff))
        for hedge in hedges:
            try:
                await self._hedger.resolve(hedge)
            except Exception:
                log.exception("resolving hedge %s failed; will retry", hedge.id)
        return len(hedges)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="hedge-resolver")

    def nudge(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            try:
                await self.resolve_all()
            except Exception:
                log.exception("resolver pass failed")
