"""The server killed with SIGKILL after posting a hedge but before storing its result."""

from __future__ import annotations

import threading

import grpc

from hedging.v1 import types_pb2
from server.store.models import HedgePosition, UserOrder
from tests.harness import ServerProcess, hedger_address, order_request, server_env, set_config, wait_until

MARKET = "fed-cut-december-2026"


def test_a_kill_between_post_and_record_ends_with_exactly_one_venue_order_and_the_right_status(
    pg_db, pg_url, sim, mappings
):
    set_config(pg_db, mode="live")
    env = {**server_env(pg_url, sim.url), "HEDGING_VENUE_TIMEOUT_SECONDS": "10"}
    first = ServerProcess(env)
    # The venue processes the order, then holds its answer: the server is killed while waiting.
    sim.exchange.inject_fault("/order", 1, "after", delay=30.0, method="POST")
    errors: list[grpc.RpcError] = []

    def call() -> None:
        try:
            first.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "25"), timeout=30)
        except grpc.RpcError as exc:
            errors.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    try:
        wait_until(
            lambda: sim.exchange.orders(hedger_address()), timeout=15, message="the venue to take the hedge"
        )
        first.kill()
    finally:
        caller.join(30)
    assert errors, "the call should have died with the server"
    hedge = HedgePosition.get()
    assert hedge.status == "pending", "the result must not have been recorded before the kill"

    second = ServerProcess(server_env(pg_url, sim.url))
    try:
        settled = wait_until(
            lambda: (h := HedgePosition.get()).status not in ("pending", "unknown") and h,
            timeout=20,
            message="the restarted server to resolve the hedge",
        )
    finally:
        second.stop()
    assert settled.status == "hedged"
    venue_orders = sim.exchange.orders(hedger_address())
    assert [o["id"] for o in venue_orders] == [settled.venue_order_id]
    assert sim.exchange.post_count(settled.venue_order_id) == 1
    assert UserOrder.get().hedge_status == "hedged"
    assert settled.filled_size == sim.exchange.balances(hedger_address())["tokens"][settled.token_id]
