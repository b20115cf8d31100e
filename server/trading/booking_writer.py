"""The process's one writer of bookings: every order waiting when a transaction can start is booked
in that one transaction (`OrderStore.book`), so orders arriving together share the locks and the
commit they would otherwise take one after another (`server.store.booking` says why that matters).
One transaction at a time per process: the orders that arrive while it runs form the next batch; a
lone order is a batch of one, booked at once."""

from __future__ import annotations

import asyncio
from functools import partial

from server.domain.order import OrderWithHedges
from server.store.booking import Booking
from server.store.orders import OrderStore
from server.trading.hedger import RunInDb

Answer = tuple[OrderWithHedges, bool]


class BookingWriter:
    def __init__(self, store: OrderStore, run_in_db: RunInDb) -> None:
        """Books through `store` on `run_in_db`'s threads."""
        self._store = store
        self._run = run_in_db
        self._waiting: list[tuple[Booking, asyncio.Future[Answer]]] = []
        self._writing: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        """How many bookings wait for the next transaction."""
        return len(self._waiting)

    async def book(self, booking: Booking) -> Answer:
        """The stored order and whether this call created it (as `OrderStore.place`); raises what
        that booking's transaction raised. Once handed over, a booking is written even if the
        caller stops waiting."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Answer] = loop.create_future()
        self._waiting.append((booking, answer))
        if self._writing is None:
            self._writing = loop.create_task(self._write(), name="booking-writer")
        return await asyncio.shield(answer)

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                bookings = [b for b, _ in batch]
                try:
                    outcomes = await self._run(partial(self._store.book, bookings))
                except Exception as error:  # the whole transaction failed: nothing was written
                    for _, answer in batch:
                        _settle(answer, error)
                    continue
                for (_, answer), outcome in zip(batch, outcomes, strict=True):
                    _settle(answer, outcome)
        finally:
            self._writing = None
            for _, answer in self._waiting:  # only when cancelled (the process is stopping)
                answer.cancel()


def _settle(answer: asyncio.Future[Answer], outcome: Answer | Exception) -> None:
    if answer.done():
        return
    if isinstance(outcome, Exception):
        answer.set_exception(outcome)
    else:
        answer.set_result(outcome)
