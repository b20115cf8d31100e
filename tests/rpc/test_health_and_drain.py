"""gRPC health follows the database (NOT_SERVING while it does not answer, SERVING again once it
does), and SIGTERM drains `hedging serve`: NOT_SERVING at once, new calls refused with UNAVAILABLE,
the call in flight finished, the event stream ended cleanly, and a clean exit."""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.sim.runner import RunningSimulator, start_simulator
from server.store.models import HedgePosition
from tests.harness import (
    ServerProcess,
    order_request,
    running_service,
    seed_mappings,
    server_env,
    service_settings,
    set_config,
    wait_until,
)

SERVICE = "hedging.v1.HedgingService"
MARKET = "fed-cut-december-2026"  # tick 0.01, no fee: a 10-share BUY fills at once


class CuttableProxy:
    """A TCP proxy to PostgreSQL that the test can cut (every connection dropped, new ones closed
    at once, as when the database host goes away) and restore."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self._upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._cut = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if self._cut:
                    client.close()
                    continue
                upstream = socket.create_connection(self._upstream)
                self._open += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        for s in (source, target):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            for s in self._open:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self._open.clear()

    def restore(self) -> None:
        with self._lock:
            self._cut = False

    def close(self) -> None:
        self.cut()
        self._listener.close()


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    with start_simulator(port=0) as running:
        yield running


def _status(channel: grpc.Channel, service: str) -> Any:
    return (
        health_pb2_grpc.HealthStub(channel)
        .Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        .status
    )


def test_health_is_not_serving_while_the_database_does_not_answer(pg_db, pg_url, sim):
    parts = urlsplit(pg_url)
    proxy = CuttableProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    netloc = (parts.username + "@" if parts.username else "") + f"127.0.0.1:{proxy.port}"
    proxied = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    try:
        with running_service(service_settings(proxied, sim.url)) as service:
            channel = service.channel
            for name in ("", SERVICE):
                assert _status(channel, name) == health_pb2.HealthCheckResponse.SERVING
            proxy.cut()
            for name in ("", SERVICE):
                wait_until(
                    lambda name=name: _status(channel, name) == health_pb2.HealthCheckResponse.NOT_SERVING,
                    timeout=20,
                    message=f"health of {name!r} to say NOT_SERVING while the database is gone",
                )
            proxy.restore()
            for name in ("", SERVICE):
                wait_until(
                    lambda name=name: _status(channel, name) == health_pb2.HealthCheckResponse.SERVING,
                    timeout=20,
                    message=f"health of {name!r} to say SERVING once the database is back",
                )
    finally:
        proxy.close()


def test_sigterm_drains_refuses_new_calls_finishes_the_one_in_flight_and_ends_streams(pg_db, pg_url, sim):
    seed_mappings(pg_db, sim)
    set_config(pg_db, mode="live")
    env = {
        **server_env(pg_url, sim.url),
        "HEDGING_VENUE_TIMEOUT_SECONDS": "20",
        "HEDGING_METRICS_LISTEN": "127.0.0.1:0",
    }
    server = ServerProcess(env)
    try:
        channel = server.channel
        assert _status(channel, "") == health_pb2.HealthCheckResponse.SERVING

        # A stream open across the drain.
        stream_end: dict[str, Any] = {}
        stream = server.stub.StreamHedgeEvents(
            pb.StreamHedgeEventsRequest(from_now=True, heartbeat_seconds=1)
        )

        def follow() -> None:
            try:
                for _ in stream:
                    pass
                stream_end["code"] = grpc.StatusCode.OK
            except grpc.RpcError as exc:
                stream_end["code"] = exc.code()

        follower = threading.Thread(target=follow, daemon=True)
        follower.start()

        # A call in flight across the drain: the venue holds its hedge for a while.
        sim.exchange.inject_fault("/order", 1, "after", delay=6, method="POST")
        placed: dict[str, Any] = {}

        def place() -> None:
            placed["answer"] = server.stub.PlaceOrder(
                order_request(MARKET, types_pb2.SIDE_BUY, "10"), timeout=30
            )

        placing = threading.Thread(target=place, daemon=True)
        placing.start()
        wait_until(lambda: HedgePosition.select().count() == 1, timeout=15, message="the hedge to be booked")

        server.process.send_signal(signal.SIGTERM)
        wait_until(
            lambda: _status(channel, SERVICE) == health_pb2.HealthCheckResponse.NOT_SERVING,
            timeout=5,
            message="health to say NOT_SERVING while draining",
        )
        with pytest.raises(grpc.RpcError) as refused:
            server.stub.GetOrder(
                pb.GetOrderRequest(order_id="00000000-0000-0000-0000-000000000000"), timeout=5
            )
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        follower.join(10)
        assert stream_end == {"code": grpc.StatusCode.OK}

        placing.join(30)
        answer = placed["answer"]
        assert answer.status == types_pb2.ORDER_STATUS_ACCEPTED
        assert answer.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, answer.message
        assert server.process.wait(30) == 0
    finally:
        server.stop()
    assert "Traceback" not in "".join(server.output)


def test_a_client_leaving_a_stream_ends_it_on_the_server_without_an_error(pg_db, pg_url, sim, capfd):
    with running_service(service_settings(pg_url, sim.url)) as service:
        drain = service.server.drain
        for _ in range(5):
            stream = service.stub.StreamHedgeEvents(
                pb.StreamHedgeEventsRequest(from_now=True, heartbeat_seconds=1)
            )
            first = next(iter(stream))  # a heartbeat: the server side is parked waiting for events
            assert first.WhichOneof("item") == "heartbeat"
            stream.cancel()
            wait_until(lambda: drain.in_flight == 0, message="the server to end the stream")
    err = capfd.readouterr().err
    assert "already running" not in err
    assert "ExecuteBatchError" not in err
