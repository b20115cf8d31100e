"""A person's HALT stops new orders on every server process within a second; RESUME restores them."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from hedging.v1 import types_pb2
from server.risk import manual
from tests.harness import ServerProcess, order_request, server_env, set_config

MARKET = "fed-cut-december-2026"


@pytest.fixture
def two_servers(pg_db, pg_url, sim, mappings) -> Iterator[list[ServerProcess]]:
    set_config(pg_db, mode="off")
    env = {**server_env(pg_url, sim.url), "HEDGING_METRICS_LISTEN": "127.0.0.1:0"}
    servers = [ServerProcess(env) for _ in range(2)]
    yield servers
    for server in servers:
        server.stop()


def until_every_server(servers: list[ServerProcess], halted: bool, timeout: float = 10.0) -> None:
    """Places orders on each server (on connections to each of its workers) until each answers as
    wanted."""
    start = time.monotonic()
    stubs = [stub for server in servers for stub in server.stubs(4)]
    pending = set(range(len(stubs)))
    while pending:
        for i in list(pending):
            answer = stubs[i].PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "1"), timeout=5)
            is_halted = answer.reject_reason == types_pb2.REJECT_REASON_HALTED
            if is_halted == halted:
                pending.discard(i)
        if time.monotonic() - start > timeout:
            raise AssertionError(f"servers {sorted(pending)} did not follow within {timeout}s")


@pytest.mark.parametrize("round_", range(2))
def test_halt_reaches_both_processes_within_a_second_and_resume_restores_them(two_servers, pg_db, round_):
    until_every_server(two_servers, halted=False)

    assert manual.halt(pg_db, f"drill {round_}", "risk-officer")
    until_every_server(two_servers, halted=True)

    assert manual.resume(pg_db, "drill over", "risk-officer") == ["manual"]
    until_every_server(two_servers, halted=False)
