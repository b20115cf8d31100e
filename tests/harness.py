"""Running the real service for tests: in-process on its own event loop thread (fast, for most tests)
or as a `hedging serve` subprocess (for crash and multi-process tests). Both serve real gRPC on port 0."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal
from typing import Any

import grpc
from Crypto.Hash import keccak

from hedging.v1 import hedging_service_pb2_grpc
from server.app import start_service
from server.secret import Secret
from server.settings import Settings
from server.sim.runner import RunningSimulator
from server.store import config as config_store
from server.store import mappings as mapping_store
from server.up import sim_mapping_spec

HEDGER_KEY = "0x" + keccak.new(digest_bits=256, data=b"hedging-service-test-key").hexdigest()


def service_settings(database_url: str, sim_url: str, **overrides: Any) -> Settings:
    base = Settings(
        grpc_listen="127.0.0.1:0",
        database_url=database_url,
        polymarket_url=sim_url,
        gamma_url=sim_url + "/gamma",
        rpc_url=sim_url + "/rpc",
        private_key=Secret(HEDGER_KEY),
        venue_timeout=Decimal("1"),
        db_threads=8,
    )
    return replace(base, **overrides)


def seed_mappings(database: Any, sim: RunningSimulator) -> dict[str, Any]:
    """Maps each simulator market to the platform event named by its slug (outcome YES)."""
    created = {}
    for m in sim.exchange.markets:
        created[m.slug] = mapping_store.create(database, sim_mapping_spec(m), author="test")
    return created


def make_netted(database: Any, service: Any, mapping: Any, **keys: str) -> None:
    """Sets the mapping's hedgePolicy to netted (with these other policy keys) and shows the change to
    the running `service` at once."""
    from server.store.models import PolymarketMarketMapping

    mapping_store.update(
        database, mapping.id, author="test", hedge_overrides={"hedgePolicy": "netted", **keys}
    )
    service.runtime.state.remember(PolymarketMarketMapping.get_by_id(mapping.id))


def set_config(database: Any, **values: str) -> None:
    for key, value in values.items():
        config_store.set_value(database, key, value, author="test", reason="test setup")


class ServiceThread:
    """The gRPC service started in this process, on an event loop of its own."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="service-loop", daemon=True)
        self._thread.start()
        self.runtime, self.server = self.call(start_service(settings))
        self.port = self.server.port
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.stub = hedging_service_pb2_grpc.HedgingServiceStub(self.channel)

    def call(self, coro: Any, timeout: float = 30) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout)

    def stop(self) -> None:
        self.channel.close()
        self.call(self.server.stop(0.5))
        self.call(self.runtime.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@contextmanager
def running_service(settings: Settings) -> Iterator[ServiceThread]:
    service = ServiceThread(settings)
    try:
        yield service
    finally:
        service.stop()


_LISTEN = re.compile(r"gRPC HedgingService listening on [^:]+:(\d+)")
_WORKER = re.compile(r"worker (\d+) \(pid (\d+)\): Prometheus metrics (?:on (\S+))?")
# Every multi-process test runs each server as `hedging serve --workers 2` (server/workers.py).
WORKERS = 2


class ServerProcess:
    """`hedging serve --workers N` in a subprocess; `port` is read from what it prints, and with
    several workers `worker_pids` and `metrics_urls` (by worker) too."""

    def __init__(self, env: dict[str, str], workers: int = WORKERS) -> None:
        full_env = {
            "HEDGING_METRICS_LISTEN": "127.0.0.1:0",
            **os.environ,
            **env,
            "HEDGING_GRPC_LISTEN": "127.0.0.1:0",
            "PYTHONUNBUFFERED": "1",
        }
        if "POLYMARKET_CLOB_URL" in env:  # serve asks where it trades whether the region is blocked
            full_env.setdefault("POLYMARKET_GEOBLOCK_URL", env["POLYMARKET_CLOB_URL"] + "/api/geoblock")
        self.workers = workers
        self.worker_pids: list[int] = []
        self.metrics_urls: list[str | None] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--workers", str(workers)],
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output: list[str] = []
        self.port = self._wait_for_port()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.stub = hedging_service_pb2_grpc.HedgingServiceStub(self.channel)
        self._channels: list[grpc.Channel] = []
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()

    def _wait_for_port(self) -> int:
        assert self.process.stdout is not None
        port = None
        for line in self.process.stdout:
            self.output.append(line)
            match = _LISTEN.search(line)
            if match:
                port = int(match.group(1))
            worker = _WORKER.search(line)
            if worker:
                self.worker_pids.append(int(worker.group(2)))
                self.metrics_urls.append(worker.group(3))
            if port is not None and len(self.worker_pids) == (self.workers if self.workers > 1 else 0):
                return port
        raise RuntimeError("hedging serve exited before listening:\n" + "".join(self.output))

    def stubs(self, count: int) -> list[hedging_service_pb2_grpc.HedgingServiceStub]:
        """Stubs on `count` channels of their own connection each: the kernel spreads connections,
        not calls, over the workers, so calls meant for every worker need several."""
        channels = [
            grpc.insecure_channel(f"127.0.0.1:{self.port}", options=[("grpc.use_local_subchannel_pool", 1)])
            for _ in range(count)
        ]
        self._channels += channels
        return [hedging_service_pb2_grpc.HedgingServiceStub(c) for c in channels]

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def _close_channels(self) -> None:
        self.channel.close()
        for channel in self._channels:
            channel.close()

    def kill(self) -> None:
        """SIGKILL (of the parent: its workers are killed with it): no shutdown code runs."""
        self._close_channels()
        self.process.kill()
        self.process.wait(10)
        self._close_output()

    def _close_output(self) -> None:
        self._drainer.join(10)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def stop(self) -> None:
        self._close_channels()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._close_output()


def server_env(database_url: str, sim_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "POLYMARKET_CLOB_URL": sim_url,
        "POLYMARKET_PRIVATE_KEY": HEDGER_KEY,
        "HEDGING_VENUE_TIMEOUT_SECONDS": "1",
        "HEDGING_LOG_LEVEL": "WARNING",
    }


def hedger_address() -> str:
    from eth_account import Account

    return str(Account.from_key(HEDGER_KEY).address).lower()


def order_request(event_id: str, side: int, size: str, **fields: Any) -> Any:
    from hedging.v1 import hedging_service_pb2 as pb
    from hedging.v1 import types_pb2

    return pb.PlaceOrderRequest(
        request_id=fields.pop("request_id", None) or __import__("uuid").uuid4().hex,
        account_id=fields.pop("account_id", "user-1"),
        market=types_pb2.MarketRef(event_id=event_id, outcome=fields.pop("outcome", "YES")),
        side=side,
        size=size,
        **fields,
    )


def wait_until(
    condition: Any, timeout: float = 10.0, interval: float = 0.02, message: str = "condition"
) -> Any:
    """Polls `condition` until it returns something truthy; fails after `timeout` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(interval)
