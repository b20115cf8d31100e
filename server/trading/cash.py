"""The wallet's USDC that new hedges may spend, so the desk never plans a hedge it cannot pay for.

Read every second: the venue's balance less the most that hedges in flight may still take (summed
from every market's position, so other processes' hedges count too), less what this process's
decisions planned since that read. Hedges in flight are read before the balance: one that fills in
between is counted twice, never missed, and so are hedges planned while a read is under way. The
result is an upper bound on what is spoken for, so the available figure errs low. Until a first read
succeeds nothing is known and no hedge is held back (`available` is None)."""

from __future__ import annotations

import logging
import threading
from decimal import Decimal

import peewee

from server.errors import Unavailable
from server.periodic import Periodic
from server.store import positions
from server.trading.state import RunInDb
from server.venue.client import VenueClient

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 1.0
ZERO = Decimal(0)


class CashWatch:
    """`available()` for `decide`; `spend()` after each hedge it plans."""

    def __init__(
        self,
        venue: VenueClient,
        signature_type: int,
        database: peewee.Database,
        run_in_db: RunInDb,
        *,
        interval: float = INTERVAL_SECONDS,
    ) -> None:
        self._venue = venue
        self._signature_type = signature_type
        self._db = database
        self._run = run_in_db
        self._lock = threading.Lock()  # decisions run on database threads
        self._base: Decimal | None = None
        self._spent = ZERO
        self._periodic = Periodic(
            "cash", self.refresh, interval, failure="cash read failed", logger=log, run_first=True
        )

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    def available(self) -> Decimal | None:
        """USDC new hedges may take; None until the balance was read once."""
        with self._lock:
            return None if self._base is None else self._base - self._spent

    def spend(self, amount: Decimal) -> None:
        """Counts a hedge planned since the last read."""
        with self._lock:
            self._spent += amount

    async def refresh(self) -> None:
        """Reads what hedges in flight may take, then the balance."""
        with self._lock:
            spent_before = self._spent
        committed = await self._run(lambda: positions.in_flight_cash(self._db))
        try:
            balance = await self._venue.usdc_balance(self._signature_type)
        except Unavailable as exc:
            log.warning("wallet balance not read (%s); keeping the last figure", exc)
            return
        with self._lock:
            # What was planned before the reads began is in `committed` now; later plans stay counted.
            self._base, self._spent = balance - committed, self._spent - spent_before
