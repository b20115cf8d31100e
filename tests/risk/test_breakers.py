"""Circuit breakers end to end: trips from hedge failures, the venue, unknown hedges and exposure;
automatic and manual resets; state that survives a restart."""

from __future__ import annotations

from decimal import Decimal

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.risk import manual
from server.store.models import CircuitBreaker, HedgeEvent, HedgePosition, RiskSnapshot
from tests.harness import order_request, running_service, service_settings, set_config, wait_until

MARKETS = ["fed-cut-december-2026", "btc-above-150k-dec-31-2026", "gpt-release-q1-2027"]


def breaker(name: str) -> str:
    row = CircuitBreaker.get_or_none(CircuitBreaker.name == name)
    return "active" if row is None else row.state


def place(stub, market: str, side: int = types_pb2.SIDE_BUY, size: str = "10") -> pb.PlaceOrderResponse:
    return stub.PlaceOrder(order_request(market, side, size), timeout=15)


def settings_seen(service, **expected) -> bool:
    current = service.runtime.state.current.settings
    return all(getattr(current, k) == v for k, v in expected.items())


def test_twelve_percent_failed_hedges_halt_trading_until_a_person_resets_even_across_a_restart(
    live, sim, pg_db, pg_url
):
    set_config(pg_db, failureRateThreshold="0.10", failureRateMinHedges="20", failureRateWindowSeconds="3600")
    wait_until(lambda: settings_seen(live, failure_rate_min_hedges=20))
    monitor = live.runtime.services.monitor
    for i in range(22):
        assert place(live.stub, MARKETS[i % 3]).hedge_status == types_pb2.HEDGE_STATUS_HEDGED
    for _ in range(2):
        sim.exchange.inject_fault("/order", 1, "before", status=400, method="POST")
        assert place(live.stub, MARKETS[0]).hedge_status == types_pb2.HEDGE_STATUS_UNHEDGED
    # 2 of 24 (8.3%) is within the threshold.
    assert live.call(monitor.evaluate_once()) == []
    assert breaker("failure_rate") == "active"

    sim.exchange.inject_fault("/order", 1, "before", status=400, method="POST")
    assert place(live.stub, MARKETS[1]).hedge_status == types_pb2.HEDGE_STATUS_UNHEDGED
    # 3 of 25 (12%) is not.
    wait_until(lambda: breaker("failure_rate") == "halted", timeout=5, message="the failure-rate breaker")
    assert HedgePosition.select().where(HedgePosition.status == "failed").count() == 3
    tripped = HedgeEvent.get(HedgeEvent.event_type == "breaker_tripped")
    assert "3 of 25" in tripped.message and '"breaker": "failure_rate"' in tripped.data
    assert RiskSnapshot.select().where(RiskSnapshot.reason.startswith("breaker failure_rate")).exists()

    wait_until(lambda: live.runtime.state.current.breaker == "halted", timeout=2)
    answer = place(live.stub, MARKETS[2])
    assert answer.status == types_pb2.ORDER_STATUS_REJECTED
    assert answer.reject_reason == types_pb2.REJECT_REASON_HALTED

    live.stop()
    with running_service(service_settings(pg_url, sim.url, metrics_listen="127.0.0.1:0")) as again:
        answer = place(again.stub, MARKETS[2])
        assert answer.reject_reason == types_pb2.REJECT_REASON_HALTED
        exposure = again.stub.GetExposure(pb.GetExposureRequest(), timeout=10)
        assert exposure.breaker_state == types_pb2.BREAKER_STATE_HALTED
        (shown,) = [b for b in exposure.breakers if b.name == "failure_rate"]
        assert shown.state == types_pb2.BREAKER_STATE_HALTED and not shown.auto_reset
        assert shown.tripped_at.seconds > 0

        # A person resets it; the window restarts, so the old failures do not trip it again.
        assert manual.reset_breaker(pg_db, "failure_rate", "venue fixed", "alice")
        wait_until(lambda: again.runtime.state.current.breaker == "active", timeout=2)
        assert again.call(again.runtime.services.monitor.evaluate_once()) == []
        assert place(again.stub, MARKETS[2]).status == types_pb2.ORDER_STATUS_ACCEPTED
        reset = HedgeEvent.get(HedgeEvent.event_type == "breaker_reset")
        assert "alice" in reset.message and "venue fixed" in reset.message
    live.stop = lambda: None  # already stopped


def test_a_venue_answering_503_trips_the_venue_breaker_and_the_cool_down_resets_it(live, sim, pg_db):
    set_config(pg_db, venueOutageSeconds="1", venueCooldownSeconds="1")
    wait_until(lambda: settings_seen(live, venue_outage_seconds=1, venue_cooldown_seconds=1))
    sim.exchange.inject_fault("/*", 1_000_000, "before", status=503)
    wait_until(lambda: breaker("venue") == "halted", timeout=10, message="the venue breaker to trip")
    wait_until(lambda: live.runtime.state.current.breaker == "halted", timeout=2)
    assert place(live.stub, MARKETS[0]).reject_reason == types_pb2.REJECT_REASON_HALTED
    exposure = live.stub.GetExposure(pb.GetExposureRequest(), timeout=10)
    (venue,) = [b for b in exposure.breakers if b.name == "venue"]
    assert venue.auto_reset
    assert "HTTP 503" in venue.reason or "does not answer" in venue.reason

    sim.exchange.reset_faults()
    wait_until(lambda: breaker("venue") == "active", timeout=10, message="the cool-down to reset the breaker")
    row = CircuitBreaker.get_by_id("venue")
    assert row.updated_by == "risk-monitor"
    wait_until(lambda: live.runtime.state.current.breaker == "active", timeout=2)
    assert place(live.stub, MARKETS[0]).status == types_pb2.ORDER_STATUS_ACCEPTED
    kinds = [e.event_type for e in HedgeEvent.select().where(HedgeEvent.event_type.startswith("breaker_"))]
    assert kinds == ["breaker_tripped", "breaker_reset"]


def test_an_unknown_hedge_older_than_the_bound_halts_trading(live, sim, pg_db):
    set_config(pg_db, unknownHedgeMaxAgeSeconds="1")
    wait_until(lambda: settings_seen(live, unknown_hedge_max_age_seconds=1))
    # The answer to the post is lost and lookups fail: the hedge stays UNKNOWN.
    sim.exchange.inject_fault("/data/order/*", 1_000_000, "before", status=503)
    sim.exchange.inject_fault("/order", 1, "before", status=503, method="POST")
    answer = place(live.stub, MARKETS[0])
    assert answer.hedge_status == types_pb2.HEDGE_STATUS_UNKNOWN
    wait_until(
        lambda: breaker("unknown_hedges") == "halted", timeout=10, message="the unknown-hedges breaker"
    )
    exposure = live.stub.GetExposure(pb.GetExposureRequest(), timeout=10)
    assert exposure.totals.unknown_hedges == 1
    assert exposure.breaker_state == types_pb2.BREAKER_STATE_HALTED

    sim.exchange.reset_faults()
    wait_until(
        lambda: HedgePosition.get().status not in ("pending", "unknown"), timeout=10, message="resolution"
    )
    assert manual.resume(pg_db, "resolved at the venue", "bob") == ["unknown_hedges"]
    assert breaker("unknown_hedges") == "active"


def test_unhedged_exposure_above_the_limit_allows_only_reducing_orders(live, sim, pg_db):
    set_config(pg_db, mode="off")
    wait_until(lambda: settings_seen(live, mode="off"))
    for _ in range(3):
        assert place(live.stub, MARKETS[0], size="50").status == types_pb2.ORDER_STATUS_ACCEPTED
    total = Decimal(live.stub.GetExposure(pb.GetExposureRequest(), timeout=10).totals.unhedged_exposure)
    set_config(pg_db, maxUnhedgedExposure=str((total / 2).quantize(Decimal(1))))
    wait_until(lambda: breaker("unhedged_exposure") == "reducing", timeout=5, message="the exposure breaker")
    wait_until(lambda: live.runtime.state.current.breaker == "reducing", timeout=2)
    assert place(live.stub, MARKETS[0], size="10").reject_reason == types_pb2.REJECT_REASON_REDUCE_ONLY
    sold = place(live.stub, MARKETS[0], side=types_pb2.SIDE_SELL, size="10")
    assert sold.status == types_pb2.ORDER_STATUS_ACCEPTED, sold.message
    exposure = live.stub.GetExposure(pb.GetExposureRequest(), timeout=10)
    assert exposure.breaker_state == types_pb2.BREAKER_STATE_REDUCING


def test_manual_halt_and_resume_are_audited_and_idempotent(pg_db):
    assert manual.halt(pg_db, "market event", "carol")
    assert not manual.halt(pg_db, "again", "carol")
    assert breaker("manual") == "halted"
    assert manual.resume(pg_db, "all clear", "dave") == ["manual"]
    assert manual.resume(pg_db, "all clear", "dave") == []
    events = list(HedgeEvent.select().order_by(HedgeEvent.id))
    assert [e.event_type for e in events] == ["breaker_tripped", "breaker_reset"]
    assert "carol" in events[0].message and "market event" in events[0].message
    assert '"author": "dave"' in events[1].data
    assert RiskSnapshot.select().count() == 1


def test_manual_inputs_are_checked(pg_db):
    import pytest

    from server.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="reason"):
        manual.halt(pg_db, "  ", "carol")
    with pytest.raises(InvalidArgument, match="name"):
        manual.reset_breaker(pg_db, "nope", "why", "carol")
    assert not HedgeEvent.select().exists()
