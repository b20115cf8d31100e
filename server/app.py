"""`hedging serve`: the gRPC HedgingService on its own."""

from __future__ import annotations

import asyncio
import logging

from server.metrics import PlaceOrderMetrics, RpcMetrics
from server.rpc.exposure import ExposureReader
from server.rpc.readiness import check_ready
from server.rpc.server import GrpcServer, start_grpc_server
from server.rpc.service import HedgingServicer
from server.rpc.stream import EventStream
from server.runtime import Runtime
from server.settings import Settings
from server.workers import Ready, Slot

log = logging.getLogger(__name__)
# On SIGTERM health says NOT_SERVING for at least this long before the port closes, so a load
# balancer polling it takes the instance out before its connections are refused.
DRAIN_NOTICE_SECONDS = 1.0


async def start_service(settings: Settings, *, settle_fresh: bool = True) -> tuple[Runtime, GrpcServer]:
    """The runtime and the gRPC server on it; `settle_fresh` as for `Runtime.start`."""
    runtime = await Runtime.start(settings, settle_fresh=settle_fresh)
    services = runtime.services
    assert services is not None
    servicer = HedgingServicer(
        runtime.desk,
        exposure=ExposureReader(
            runtime.db.database,
            runtime.db,
            runtime.cash.available if runtime.cash is not None else lambda: None,
        ),
        stream=EventStream(services.feed),
    )
    server = await start_grpc_server(
        settings.grpc_listen,
        servicer,
        interceptors=(RpcMetrics(services.metrics), PlaceOrderMetrics(services.metrics)),
        reuse_port=(settings.workers or 1) > 1,
    )
    server.watch_database(lambda: runtime.db(check_ready))
    return runtime, server


def metrics_banner(settings: Settings, runtime: Runtime) -> str:
    """The start banner's line about /metrics: where it is served, or that it is off and why."""
    port = runtime.services.metrics.port if runtime.services is not None else None
    if port is None:
        return f"Prometheus metrics off: cannot listen on {settings.metrics_listen}"
    host = settings.metrics_listen.rpartition(":")[0]
    return f"Prometheus metrics on http://{host}:{port}/metrics"


def serve_banner(settings: Settings, ready: Ready) -> str:
    """The start banner of `hedging serve --workers N`: the shared port, then each worker."""
    host = settings.grpc_listen.rpartition(":")[0]
    metrics_host = settings.metrics_listen.rpartition(":")[0]
    lines = [f"gRPC HedgingService listening on {host}:{ready.port} ({len(ready.pids)} workers)"]
    for index, (pid, port) in enumerate(zip(ready.pids, ready.metrics_ports, strict=True)):
        where = f"on http://{metrics_host}:{port}/metrics" if port is not None else "off: cannot listen"
        lines.append(f"worker {index} (pid {pid}): Prometheus metrics {where}")
    return "\n".join(lines)


async def serve(settings: Settings, stop: asyncio.Event, *, slot: Slot | None = None) -> None:
    """Serves until `stop` is set, then drains. As a worker (`slot`), it tells its parent when it
    serves instead of printing the banner."""
    if slot is None or slot.first:  # once per `serve`, not once per worker
        from server.doctor.gate import check_start

        await check_start(settings)
    runtime, server = await start_service(settings, settle_fresh=slot is None or slot.first)
    if slot is not None:
        slot.ready(runtime.services.metrics.port if runtime.services is not None else None)
    else:
        host = settings.grpc_listen.rpartition(":")[0]
        print(f"gRPC HedgingService listening on {host}:{server.port}", flush=True)
        print(metrics_banner(settings, runtime), flush=True)
    await stop.wait()
    log.info("stopping: draining in-flight calls")
    await server.stop(notice=DRAIN_NOTICE_SECONDS)
    await runtime.stop()
