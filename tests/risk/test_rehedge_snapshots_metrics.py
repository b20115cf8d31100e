"""Re-hedging of unhedged residuals, periodic risk snapshots and the /metrics endpoint."""

from __future__ import annotations

from datetime import timedelta

import httpx

from hedging.v1 import types_pb2
from server.risk import snapshots
from server.store.fields import utcnow
from server.store.models import HedgeEvent, HedgePosition, RiskSnapshot, UserOrder
from tests.harness import hedger_address, order_request, set_config, wait_until

MARKET = "fed-cut-december-2026"


def test_a_failed_hedge_is_re_hedged_once_as_a_new_signed_hedge(live, sim, pg_db):
    set_config(pg_db, rehedgeEnabled="true", rehedgeBackoffSeconds="1", rehedgeMaxAttempts="2")
    wait_until(lambda: live.runtime.state.current.settings.rehedge_enabled)
    sim.exchange.inject_fault("/order", 1, "before", status=400, method="POST")
    answer = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "20"), timeout=15)
    assert answer.hedge_status == types_pb2.HEDGE_STATUS_UNHEDGED

    wait_until(lambda: UserOrder.get().hedge_status == "hedged", timeout=15, message="the re-hedge to fill")
    first, second = HedgePosition.select().order_by(HedgePosition.created_at)
    assert first.status == "failed" and first.parent_hedge_id is None
    assert second.parent_hedge_id == first.id and second.status == "hedged"
    assert second.size == first.size and second.venue_order_id != first.venue_order_id
    assert UserOrder.get().hedged_size == second.filled_size
    # Exactly one venue order (the first never reached it) and it was posted once.
    assert [o["id"] for o in sim.exchange.orders(hedger_address())] == [second.venue_order_id]
    assert sim.exchange.post_count(second.venue_order_id) == 1
    submitted = HedgeEvent.select().where(HedgeEvent.event_type == "hedge_submitted").count()
    assert submitted == 2
    # Nothing left to re-hedge: another pass does nothing.
    assert live.call(live.runtime.services.rehedger.run_once()) == 0


def test_re_hedging_stops_after_the_configured_attempts(live, sim, pg_db):
    set_config(pg_db, rehedgeEnabled="true", rehedgeBackoffSeconds="1", rehedgeMaxAttempts="1")
    wait_until(lambda: live.runtime.state.current.settings.rehedge_max_attempts == 1)
    sim.exchange.inject_fault("/order", 2, "before", status=400, method="POST")
    live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "20"), timeout=15)
    wait_until(lambda: HedgePosition.select().count() == 2, timeout=15, message="one re-hedge")
    wait_until(
        lambda: HedgePosition.select().where(HedgePosition.status == "failed").count() == 2, timeout=10
    )
    assert live.call(live.runtime.services.rehedger.run_once()) == 0
    assert HedgePosition.select().count() == 2
    assert UserOrder.get().hedge_status == "unhedged"


def test_snapshots_are_taken_periodically_and_queryable_by_time(live, pg_db):
    live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "10"), timeout=15)
    set_config(pg_db, snapshotIntervalSeconds="1")
    wait_until(
        lambda: RiskSnapshot.select().where(RiskSnapshot.reason == "periodic").count() >= 2,
        timeout=10,
        message="two periodic snapshots",
    )
    now = utcnow()
    taken = snapshots.between(pg_db, now - timedelta(minutes=1), now + timedelta(seconds=1))
    assert len(taken) >= 2 and taken == sorted(taken, key=lambda s: s.taken_at)
    last = taken[-1]
    (market,) = last.per_market
    assert market["event_id"] == MARKET and market["hedge_yes"] != "0"
    assert last.breaker_state == "active" and last.spread_captured > 0
    assert last.net_profit == last.spread_captured - last.fees
    assert snapshots.between(pg_db, now - timedelta(hours=2), now - timedelta(hours=1)) == []


def test_metrics_are_served_in_prometheus_format(live, sim):
    live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "10"), timeout=15)
    port = live.runtime.services.metrics.port
    assert port
    text = wait_until(
        lambda: (
            (t := httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
            and "hedging_breaker_state" in t
            and t
        ),
        timeout=5,
    )
    assert 'hedging_orders_total{outcome="accepted",reason=""} 1.0' in text
    assert 'hedging_hedge_results_total{status="hedged"} 1.0' in text
    assert 'hedging_venue_request_seconds_count{endpoint="/order",method="POST"} 1.0' in text
    assert 'hedging_venue_responses_total{endpoint="/order",method="POST",status="200"} 1.0' in text
    assert "hedging_hedge_latency_seconds_bucket" in text and "hedging_hedge_slippage_bps_bucket" in text
    assert 'hedging_breaker_state{breaker="manual"} 0.0' in text
    assert "hedging_unhedged_exposure_usdc" in text
    assert f'hedging_market_exposure_usdc{{market="{MARKET}/YES"}}' in text
