"""The background services of one server process beyond order taking: the event feed, the risk
monitor (breakers), periodic risk snapshots, the re-hedger and the metrics endpoint. Built before
the hedger (it reports every venue answer and hedge result here) and started once the runtime is."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging

import peewee

from server.domain.hedge import Hedge
from server.domain.hedge_result import HedgeResult
from server.domain.types import Side
from server.events.feed import EventFeed, RunInDb
from server.metrics import Metrics, endpoint_of
from server.risk import snapshots
from server.risk.monitor import RiskMonitor
from server.risk.rehedge import Rehedger
from server.settings import Settings
from server.store.fields import utcnow
from server.store.models import HedgeConfig
from server.store.orders import OrderStore
from server.trading.books import BookCache
from server.trading.hedger import Hedger
from server.trading.state import StateCache
from server.venue.client import PostOutcome, VenueClient
from server.venue.order_signing import OrderSigner

log = logging.getLogger(__name__)
FEED_DB_THREADS = 4


class RiskServices:
    def __init__(
        self,
        settings: Settings,
        database: peewee.Database,
        run_in_db: RunInDb,
        venue: VenueClient | None,
        feed_db: RunInDb,
    ) -> None:
        self._settings = settings
        self._database = database
        self._run = run_in_db
        self.metrics = Metrics()
        self.monitor = RiskMonitor(database, run_in_db, venue, self.metrics)
        # The feed reads on threads of its own: subscribers catching up never queue behind orders.
        self._feed_db = feed_db
        self.feed = EventFeed(database, feed_db)
        self.rehedger: Rehedger | None = None
        self._tasks: list[asyncio.Task[None]] = []
        if venue is not None:
            venue.observe(self.metrics.venue_answered)

    # --- hooks for the hedger (called on the event loop) ----------------------------------------------
    def on_outcome(self, outcome: PostOutcome) -> None:
        self.monitor.on_outcome(outcome)
        self.metrics.venue_failed(endpoint_of("/order"), outcome.status_code)

    def on_result(self, hedge: Hedge, result: HedgeResult) -> None:
        seconds = (utcnow() - hedge.created_at).total_seconds()
        self.metrics.hedge_recorded(
            result.status.value
            if result.filled == 0
            else ("hedged" if result.filled >= hedge.size else "partial"),
            seconds,
            Side(hedge.side),
            hedge.quoted_price,
            result.fill_price,
        )

    # --- life cycle -----------------------------------------------------------------------------------
    async def start(
        self,
        *,
        store: OrderStore,
        hedger: Hedger,
        books: BookCache,
        signer: OrderSigner | None,
        api_key: str,
        state: StateCache,
    ) -> None:
        self.metrics.serve(self._settings.metrics_listen)
        await self.feed.start()
        self.monitor.start()
        self.rehedger = Rehedger(
            store=store,
            hedger=hedger,
            books=books,
            signer=signer,
            api_key=api_key,
            state=state,
            run_in_db=self._run,
        )
        self.rehedger.start()
        self._tasks.append(asyncio.create_task(self._snapshots(), name="risk-snapshots"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.rehedger is not None:
            await self.rehedger.stop()
        await self.monitor.stop()
        await self.feed.stop()
        close = getattr(self._feed_db, "close", None)
        if close is not None:
            close()
        self.metrics.close()

    async def _snapshots(self) -> None:
        """A snapshot every snapshotIntervalSeconds across all processes (they take turns)."""
        while True:
            interval = 60
            try:
                interval = await self._run(_interval)
                await self._run(functools.partial(snapshots.take_if_due, self._database, interval))
            except Exception:
                log.exception("risk snapshot failed; retrying")
            await asyncio.sleep(min(max(interval / 4, 0.25), 1.0))


def _interval() -> int:
    row = HedgeConfig.get_or_none(HedgeConfig.key == "snapshotIntervalSeconds")
    return int(row.value) if row is not None else 60
