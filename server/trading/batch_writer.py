"""A process's one writer of a kind of record (bookings of orders, results of hedges): every record
waiting when a transaction can start is written in that one transaction, so records arriving
together share the locks and the commit they would otherwise take one after another
(`server.store.booking` says why that matters). One transaction at a time per writer: the records
that arrive while it runs form the next batch; a lone record is a batch of one, written at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Generic, TypeVar

from server.trading.state import RunInDb

T = TypeVar("T")
R = TypeVar("R")


class BatchWriter(Generic[T, R]):
    def __init__(
        self, run_in_db: RunInDb, write: Callable[[list[T]], list[R | Exception]], name: str
    ) -> None:
        """`write` takes a batch in one transaction, on `run_in_db`'s threads, and returns each
        record's answer or error in order; it raises when the whole transaction failed."""
        self._run = run_in_db
        self._write_batch = write
        self._name = name
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._writing: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        """How many records wait for the next transaction."""
        return len(self._waiting)

    async def write(self, record: T) -> R:
        """The record's answer; raises its error, or the whole transaction's. Once handed over, a
        record is written even if the caller stops waiting."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[R] = loop.create_future()
        self._waiting.append((record, answer))
        if self._writing is None:
            self._writing = loop.create_task(self._write(), name=self._name)
        return await asyncio.shield(answer)

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                records = [r for r, _ in batch]
                try:
                    outcomes = await self._run(partial(self._write_batch, records))
                except Exception as error:  # the whole transaction failed: nothing was written
                    for _, answer in batch:
                        _settle(answer, error)
                    continue
                except BaseException:  # cancelled (the process is stopping): nobody waits forever
                    for _, answer in batch:
                        answer.cancel()
                    raise
                for (_, answer), outcome in zip(batch, outcomes, strict=True):
                    _settle(answer, outcome)
        finally:
            self._writing = None
            for _, answer in self._waiting:  # only when cancelled (the process is stopping)
                answer.cancel()


def _settle(answer: asyncio.Future[R], outcome: R | Exception) -> None:
    if answer.done():
        return
    if isinstance(outcome, Exception):
        answer.set_exception(outcome)
    else:
        answer.set_result(outcome)
