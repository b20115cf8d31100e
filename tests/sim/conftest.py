"""Fixtures: a simulator on port 0 per test, and the unmodified py-clob-client-v2 pointed at it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import httpx
import pytest
from eth_account import Account
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.http_helpers import helpers as clob_http

from server.sim.markets import SimMarket
from server.sim.runner import RunningSimulator, start_simulator

CHAIN_ID = 137
# Tighter than the project-wide 120 s: a simulator test that takes a minute is hung.
SIM_TEST_TIMEOUT = 60


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("timeout") is None and "tests/sim/" in item.nodeid:
            item.add_marker(pytest.mark.timeout(SIM_TEST_TIMEOUT))


def private_key(name: str) -> str:
    """A deterministic test key per name."""
    from Crypto.Hash import keccak

    return "0x" + keccak.new(digest_bits=256, data=f"clob-sim-test:{name}".encode()).hexdigest()


@dataclass
class Trader:
    client: ClobClient
    address: str  # lower case

    @property
    def checksum(self) -> str:
        return str(self.client.get_address())


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    with start_simulator(port=0) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_http_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    """Give each test its own copy of the client's module-level httpx client (same settings).

    A short read timeout keeps "hang" fault tests fast; the client itself is untouched.
    """
    client = httpx.Client(http2=True, timeout=httpx.Timeout(5.0, read=2.0))
    monkeypatch.setattr(clob_http, "_http_client", client)
    yield client
    client.close()


@pytest.fixture
def trader(sim: RunningSimulator) -> Callable[..., Trader]:
    """Factory: an L2 client for ``name`` whose API key was created through ``/auth/api-key``."""

    def make(name: str = "alice", **kwargs: object) -> Trader:
        key = private_key(name)
        client = ClobClient(sim.url, CHAIN_ID, key=key, **kwargs)  # type: ignore[arg-type]
        client.set_api_creds(client.create_or_derive_api_key())
        return Trader(client, Account.from_key(key).address.lower())

    return make


def market_by_slug(sim: RunningSimulator, slug_prefix: str) -> SimMarket:
    return next(m for m in sim.exchange.markets if m.slug.startswith(slug_prefix))


def state_of(sim: RunningSimulator, *addresses: str) -> tuple[object, ...]:
    """Everything a rejected request must leave alone: books, balances, orders, trades."""
    ex = sim.exchange
    books = tuple((t, ex.book(t)) for m in ex.markets for t in m.token_ids)
    return (
        books,
        tuple(ex.balances(a) for a in addresses),
        len(ex.orders()),
        len(ex.trades()),
        ex.totals(),
    )


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll a condition (the state we wait on lives in another thread)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


D = Decimal
