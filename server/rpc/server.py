"""The grpc.aio server: HedgingService, the standard health service and server reflection."""

from __future__ import annotations

import logging

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from hedging.v1 import hedging_service_pb2, hedging_service_pb2_grpc
from server.preflight import CannotListen

log = logging.getLogger(__name__)

SERVICE_NAME = hedging_service_pb2.DESCRIPTOR.services_by_name["HedgingService"].full_name


class GrpcServer:
    """A started server; `port` is the bound port (useful when asked for port 0)."""

    def __init__(self, server: grpc.aio.Server, port: int, health_servicer: HealthServicer) -> None:
        self.server = server
        self.port = port
        self.health = health_servicer

    async def stop(self, grace: float = 5.0) -> None:
        """Reports NOT_SERVING, lets in-flight calls finish for `grace` seconds, then stops."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)


async def start_grpc_server(
    listen: str,
    servicer: hedging_service_pb2_grpc.HedgingServiceServicer,
    *,
    interceptors: tuple[grpc.aio.ServerInterceptor, ...] = (),
) -> GrpcServer:
    server = grpc.aio.server(
        interceptors=interceptors,
        options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", 1 << 20)],
    )
    hedging_service_pb2_grpc.add_HedgingServiceServicer_to_server(servicer, server)
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
    return GrpcServer(server, port, health_servicer)
