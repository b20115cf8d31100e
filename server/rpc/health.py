"""What the standard health service (grpc.health.v1) reports: SERVING while the database answers
(and the probe finds nothing else wrong: `server.rpc.readiness`), NOT_SERVING while it does not, and
NOT_SERVING for good once the server drains."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from grpc_health.v1 import health_pb2
from grpc_health.v1._async import HealthServicer

from server.periodic import Periodic
from server.rpc.readiness import NotReady

log = logging.getLogger(__name__)

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class DatabaseHealth:
    """Probes the database every `interval` seconds and sets `services` SERVING or NOT_SERVING.

    A probe unanswered after `timeout` seconds counts as down; no second probe is queued behind it
    (a database that hangs must not take one database thread per probe)."""

    def __init__(
        self,
        health: HealthServicer,
        services: tuple[str, ...],
        probe: Callable[[], Awaitable[Any]],
        *,
        interval: float = 1.0,
        timeout: float = 2.0,
    ) -> None:
        self._health = health
        self._services = services
        self._probe = probe
        self._timeout = timeout
        self._pending: asyncio.Future[Any] | None = None
        self._up = True
        self._periodic = Periodic(
            "database-health", self.check, interval, failure="a health probe failed", logger=log
        )

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()
        if self._pending is not None and not self._pending.done():
            self._pending.cancel()

    async def check(self) -> bool:
        """Probes once (or keeps waiting on the probe still out) and reports; True if it answered."""
        if self._pending is None:
            self._pending = asyncio.ensure_future(self._probe())
        done, _ = await asyncio.wait({self._pending}, timeout=self._timeout)
        up = False
        why = "the database does not answer"
        if done:
            error = self._pending.exception()
            up = error is None
            if isinstance(error, NotReady):
                why = str(error)
            self._pending = None
        if up != self._up:
            if up:
                log.warning("health SERVING again")
            else:
                log.warning("%s: health NOT_SERVING until it clears", why)
            self._up = up
        for service in self._services:
            # Ignored once draining began: the health servicer keeps NOT_SERVING for good then.
            await self._health.set(service, SERVING if up else NOT_SERVING)
        return up
