"""The grpc.aio server: HedgingService, the standard health service and server reflection."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from hedging.v1 import hedging_service_pb2, hedging_service_pb2_grpc
from server.preflight import CannotListen
from server.rpc.decode import add_hedging_service
from server.rpc.drain import Drain, DrainInterceptor
from server.rpc.health import DatabaseHealth
from server.rpc.interceptor import ServerInterceptor

log = logging.getLogger(__name__)

SERVICE_NAME = hedging_service_pb2.DESCRIPTOR.services_by_name["HedgingService"].full_name


DRAIN_SECONDS = 10.0  # the longest a stop waits for calls in flight before cutting them off


class GrpcServer:
    """A started server; `port` is the bound port (useful when asked for port 0)."""

    def __init__(
        self, server: grpc.aio.Server, port: int, health_servicer: HealthServicer, drain: Drain
    ) -> None:
        self.server = server
        self.port = port
        self.health = health_servicer
        self.drain = drain
        self._database_health: DatabaseHealth | None = None

    def watch_database(self, probe: Callable[[], Awaitable[Any]], *, interval: float = 1.0) -> None:
        """Reports NOT_SERVING while `probe` (a round trip to the database) fails or hangs."""
        self._database_health = DatabaseHealth(
            self.health, ("", SERVICE_NAME), probe, interval=interval, timeout=max(interval, 1.0) * 2
        )
        self._database_health.start()

    async def stop(self, grace: float = DRAIN_SECONDS, notice: float = 0.0) -> None:
        """Drains: NOT_SERVING at once and new calls refused with UNAVAILABLE, while health checks
        are still answered for at least `notice` seconds; streams end cleanly; calls in flight get
        up to `grace` seconds to finish, then the port closes and any left are cancelled."""
        started = time.monotonic()
        self.drain.begin()
        await self.health.enter_graceful_shutdown()
        if self._database_health is not None:
            await self._database_health.stop()
        log.info("draining: %d calls in flight", self.drain.in_flight)
        if not await self.drain.wait_idle(grace):
            log.warning(
                "draining: %d calls still in flight after %gs; cancelling them", self.drain.in_flight, grace
            )
        left = notice - (time.monotonic() - started)
        if left > 0:
            await asyncio.sleep(left)
        await self.server.stop(0.5)


async def start_grpc_server(
    listen: str,
    servicer: hedging_service_pb2_grpc.HedgingServiceServicer,
    *,
    interceptors: tuple[ServerInterceptor, ...] = (),
    reuse_port: bool = False,
) -> GrpcServer:
    """Starts the server on `listen`. `reuse_port` lets the workers of `--workers N` share the port
    (`server/workers.py`); off, a port another process holds is refused as `CannotListen`."""
    drain = Drain()
    server = grpc.aio.server(
        interceptors=(DrainInterceptor(drain), *interceptors),
        options=[("grpc.so_reuseport", int(reuse_port)), ("grpc.max_receive_message_length", 1 << 20)],
    )
    add_hedging_service(servicer, server)
    health_servicer = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
        server,
    )
    try:
        port = server.add_insecure_port(listen)
    except RuntimeError:  # grpcio's way of saying the bind failed
        port = 0
    if port == 0:
        raise CannotListen(listen, "HEDGING_GRPC_LISTEN", "address in use or not available")
    await server.start()
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    await health_servicer.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
    log.info("gRPC listening on %s", listen.rpartition(":")[0] + f":{port}")
    return GrpcServer(server, port, health_servicer, drain)
