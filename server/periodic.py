"""A pass of background work repeated on the event loop: the risk monitor, the re-hedger, the hedge
resolver and the state cache each run one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any


class Periodic:
    """Runs `work` every `interval` seconds once started (first at once when `run_first`, else
    after one interval). A pass that raises is logged, `failure` with the exception on `logger`,
    and the next one runs on schedule: a background loop never dies of one bad pass."""

    def __init__(
        self,
        name: str,
        work: Callable[[], Awaitable[Any]],
        interval: float,
        *,
        failure: str,
        logger: logging.Logger,
        run_first: bool = False,
    ) -> None:
        self._name = name
        self._work = work
        self._interval = interval
        self._failure = failure
        self._log = logger  # the component's own, so its failures read as its own
        self._run_first = run_first
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=self._name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        if not self._run_first:
            await asyncio.sleep(self._interval)
        while True:
            try:
                await self._work()
            except Exception:
                self._log.exception(self._failure)
            await asyncio.sleep(self._interval)
