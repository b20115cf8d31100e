"""`hedging serve`: the gRPC HedgingService on its own."""

from __future__ import annotations

import asyncio
import logging

from server.metrics import PlaceOrderMetrics, RpcMetrics
from server.rpc.exposure import ExposureReader
from server.rpc.server import GrpcServer, start_grpc_server
from server.rpc.service import HedgingServicer
from server.rpc.stream import EventStream
from server.runtime import Runtime
from server.settings import Settings

log = logging.getLogger(__name__)
# On SIGTERM health says NOT_SERVING for at least this long before the port closes, so a load
# balancer polling it takes the instance out before its connections are refused.
DRAIN_NOTICE_SECONDS = 1.0


async def start_service(settings: Settings) -> tuple[Runtime, GrpcServer]:
    runtime = await Runtime.start(settings)
    services = runtime.services
    assert services is not None
    servicer = HedgingServicer(
        runtime.desk,
        exposure=ExposureReader(runtime.db.database, runtime.db),
        stream=EventStream(services.feed),
    )
    server = await start_grpc_server(
        settings.grpc_listen,
        servicer,
        interceptors=(RpcMetrics(services.metrics), PlaceOrderMetrics(services.metrics)),
    )
    database = runtime.db.database
    server.watch_database(lambda: runtime.db(lambda: database.execute_sql("SELECT 1").fetchone()))
    return runtime, server


def metrics_banner(settings: Settings, runtime: Runtime) -> str:
    """The start banner's line about /metrics: where it is served, or that it is off and why."""
    port = runtime.services.metrics.port if runtime.services is not None else None
    if port is None:
        return f"Prometheus metrics off: cannot listen on {settings.metrics_listen}"
    host = settings.metrics_listen.rpartition(":")[0]
    return f"Prometheus metrics on http://{host}:{port}/metrics"


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    runtime, server = await start_service(settings)
    host = settings.grpc_listen.rpartition(":")[0]
    print(f"gRPC HedgingService listening on {host}:{server.port}", flush=True)
    print(metrics_banner(settings, runtime), flush=True)
    await stop.wait()
    log.info("stopping: draining in-flight calls")
    await server.stop(notice=DRAIN_NOTICE_SECONDS)
    await runtime.stop()
