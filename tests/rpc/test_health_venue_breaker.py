"""gRPC health follows the venue breaker: NOT_SERVING while it is tripped (this process cannot hedge),
SERVING again once it is reset."""

from __future__ import annotations

import logging

from grpc_health.v1 import health_pb2, health_pb2_grpc

from server.risk import breaker_store
from server.risk.breakers import BreakerName, Trip
from tests.gateway.conftest import sim  # noqa: F401 (a simulator on port 0)
from tests.harness import running_service, service_settings, wait_until

SERVICE = "hedging.v1.HedgingService"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def test_health_is_not_serving_while_the_venue_breaker_is_tripped(pg_db, pg_url, sim, caplog):  # noqa: F811
    caplog.set_level(logging.WARNING, logger="server.rpc.health")
    with running_service(service_settings(pg_url, sim.url)) as service:
        health = health_pb2_grpc.HealthStub(service.channel)

        def status(name: str) -> int:
            return int(health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5).status)

        assert status("") == status(SERVICE) == SERVING
        breaker_store.trip(pg_db, Trip(BreakerName.VENUE, "venue answered 503 for 30 s"), author="test")
        for name in ("", SERVICE):
            wait_until(lambda n=name: status(n) == NOT_SERVING, timeout=20, message=f"{name!r} NOT_SERVING")
        assert any(
            "the venue breaker is tripped (venue answered 503 for 30 s): health NOT_SERVING" in r.getMessage()
            for r in caplog.records
        )

        breaker_store.reset(pg_db, BreakerName.VENUE, reason="venue back", author="test")
        for name in ("", SERVICE):
            wait_until(lambda n=name: status(n) == SERVING, timeout=20, message=f"{name!r} SERVING again")
