"""An order the venue answers `order_version_mismatch` (signed for another exchange version, as after a
cutover) was refused: the hedge is FAILED with the venue's words, posted once, and nothing is held.
The simulator answers it on cue here: the service signs the version the simulator runs, which every
other service test shows by its hedges being accepted."""

from __future__ import annotations

from hedging.v1 import types_pb2
from server.store.models import HedgePosition
from tests.harness import hedger_address, order_request, set_config, wait_until

MARKET = "fed-cut-december-2026"


def test_a_version_mismatch_fails_the_hedge_once_and_nothing_is_held(live, sim, pg_db):
    set_config(pg_db, rehedgeEnabled="false")
    wait_until(lambda: not live.runtime.state.current.settings.rehedge_enabled)
    sim.exchange.inject_fault(
        "/order", 1, "before", status=400, error="order_version_mismatch", method="POST"
    )

    placed = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "10"), timeout=15)

    assert placed.status == types_pb2.ORDER_STATUS_ACCEPTED, placed.message
    assert placed.hedge_status == types_pb2.HEDGE_STATUS_UNHEDGED, placed.message
    hedge = HedgePosition.get()
    assert (hedge.status, hedge.failure_reason, hedge.attempt_count) == (
        "failed",
        "order_version_mismatch",
        1,
    )
    assert sim.exchange.orders(hedger_address()) == []  # the venue never took it
    assert sim.exchange.balances(hedger_address())["tokens"].get(hedge.token_id, 0) == 0
