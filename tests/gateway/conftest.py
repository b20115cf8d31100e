"""The gateway over real sockets: uvicorn on port 0 on an event loop thread of its own, the gRPC
service in-process, PostgreSQL and the CLOB simulator; httpx and websockets as clients."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

import httpx
import pytest

from gateway.app import RunningGateway, start_gateway
from server.secret import Secret
from server.settings import AdminToken, Settings
from server.sim.runner import RunningSimulator, start_simulator
from tests.harness import ServiceThread, running_service, seed_mappings, service_settings, set_config

ADMIN_TOKEN = "admin-token-0123456789abcdef"
VIEWER_TOKEN = "viewer-token-0123456789abcdef"
TOKENS = (
    AdminToken("alice", "admin", Secret(ADMIN_TOKEN)),
    AdminToken("victor", "viewer", Secret(VIEWER_TOKEN)),
)


class GatewayThread:
    """The gateway started by `start_gateway` on its own event loop thread."""

    def __init__(self, settings: Settings) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="gateway-loop", daemon=True)
        self._thread.start()
        self.running: RunningGateway = self._call(start_gateway(settings))
        self.url = self.running.url
        self.ws_url = "ws" + self.url[len("http") :]

    def _call(self, coro: Any, timeout: float = 30) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout)

    def stop(self) -> None:
        self._call(self.running.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


class Client:
    """A GraphQL client over HTTP with an optional bearer token."""

    def __init__(self, url: str, token: str | None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(headers=headers, timeout=30)
        self.url = url

    def post(self, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(self.url, json={"query": query, "variables": variables or {}})

    def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        response = self.post(query, variables)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def close(self) -> None:
        self.http.close()


def wait_for(condition: Callable[[], Any], timeout: float = 10, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    with start_simulator(port=0) as running:
        yield running


@pytest.fixture
def mappings(pg_db: Any, sim: RunningSimulator) -> dict[str, Any]:
    return seed_mappings(pg_db, sim)


@pytest.fixture
def live(pg_db: Any, pg_url: str, sim: RunningSimulator, mappings: dict[str, Any]) -> Iterator[ServiceThread]:
    set_config(pg_db, mode="live")
    with running_service(service_settings(pg_url, sim.url)) as service:
        yield service


def gateway_settings(pg_url: str, sim_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "gateway_listen": "127.0.0.1:0",
        "admin_tokens": TOKENS,
        "dev_mode": False,
        "db_threads": 4,
    }
    return replace(service_settings(pg_url, sim_url), **{**values, **overrides})


@pytest.fixture
def gateway(pg_db: Any, pg_url: str, sim: RunningSimulator) -> Iterator[GatewayThread]:
    running = GatewayThread(gateway_settings(pg_url, sim.url))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def admin(gateway: GatewayThread) -> Iterator[Client]:
    client = Client(gateway.url, ADMIN_TOKEN)
    yield client
    client.close()


@pytest.fixture
def viewer(gateway: GatewayThread) -> Iterator[Client]:
    client = Client(gateway.url, VIEWER_TOKEN)
    yield client
    client.close()


class Subscriber:
    """A graphql-transport-ws client over a real WebSocket (websockets' sync client)."""

    def __init__(self, url: str, token: str | None) -> None:
        from websockets.sync.client import connect

        self.ws = connect(url, subprotocols=["graphql-transport-ws"], open_timeout=10).__enter__()  # type: ignore[list-item]
        payload = {"Authorization": f"Bearer {token}"} if token is not None else {}
        self.send({"type": "connection_init", "payload": payload})

    def send(self, message: dict[str, Any]) -> None:
        import json

        self.ws.send(json.dumps(message))

    def recv(self, timeout: float = 10) -> dict[str, Any]:
        import json

        return json.loads(self.ws.recv(timeout=timeout))

    def close(self) -> None:
        self.ws.close()
