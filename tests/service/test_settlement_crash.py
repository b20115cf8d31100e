"""The server (two worker processes, one of them following settlement: the one holding the settlement
lock) killed with SIGKILL while it reads a trade that has FAILED: the next server takes the trade out
of the hedge's fill once."""

from __future__ import annotations

from decimal import Decimal

from hedging.v1 import types_pb2
from server.store.models import HedgeEvent, HedgePosition, HedgeTrade, MarketExposure
from tests.harness import (
    ServerProcess,
    hedger_address,
    order_request,
    server_env,
    set_config,
    wait_until,
)

MARKET = "fed-cut-december-2026"  # best ask 0.63: 20 YES at 0.65 for the user, hedged for 12.60


def _hedge() -> HedgePosition:
    return HedgePosition.get()


def test_a_kill_while_reading_a_failed_trade_ends_with_it_taken_out_once(pg_db, pg_url, sim, mappings):
    # Without a re-hedge of the undone shares (test_settlement.py shows it), what is left is the correction.
    set_config(pg_db, mode="live", rehedgeEnabled="false")
    sim.exchange.set_settlement(None)
    env = {**server_env(pg_url, sim.url), "HEDGING_VENUE_TIMEOUT_SECONDS": "10"}
    first = ServerProcess(env)
    try:
        placed = first.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "20"), timeout=15)
        assert placed.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, placed.message
        assert _hedge().settlement == "settling"
        trades = [t.trade_id for t in HedgeTrade.select()]
        # The working follower's next read of each trade is answered only after 30 s; the trades fail
        # meanwhile.
        sim.exchange.inject_fault("/data/trades", len(trades), "after", delay=30.0, method="GET")
        for trade in trades:
            sim.exchange.fail_trade(trade)
        wait_until(
            lambda: not sim.exchange.faults.pending(), timeout=15, message="the follower reading every trade"
        )
    finally:
        first.kill()
    assert (_hedge().status, _hedge().settlement, _hedge().filled_size) == ("hedged", "settling", Decimal(20))

    second = ServerProcess(server_env(pg_url, sim.url))
    try:
        wait_until(
            lambda: _hedge().settlement == "settled", timeout=20, message="the next server to apply it"
        )
    finally:
        second.stop()
    hedge = _hedge()
    assert (hedge.status, hedge.filled_size, hedge.fill_cost) == ("failed", 0, 0)
    assert HedgeEvent.select().where(HedgeEvent.event_type == "hedge_trade_failed").count() == len(trades)
    # Users owe 20 YES for 13.00 USDC and nothing is held: 20 - 13.00 = 7.00 lost if YES wins.
    position = MarketExposure.get(MarketExposure.mapping == hedge.mapping_id)
    assert (position.hedge_yes, position.worst_case_loss) == (0, Decimal("7.00"))
    assert sim.exchange.balances(hedger_address())["tokens"].get(hedge.token_id, 0) == 0
