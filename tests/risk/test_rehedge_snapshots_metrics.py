"""Re-hedging of unhedged residuals, periodic risk snapshots and the /metrics endpoint."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import peewee
import pytest

from hedging.v1 import types_pb2
from server.domain.hedge import SignedIntent
from server.domain.limits import Limits
from server.errors import FailedPrecondition, InvalidArgument, NotFound
from server.metrics import Metrics
from server.risk import snapshots
from server.risk.monitor import RiskMonitor
from server.runtime import DatabaseRunner
from server.store import mappings as mapping_store
from server.store.fields import utcnow
from server.store.models import HedgeEvent, HedgePosition, MarketExposure, RiskSnapshot, UserOrder
from server.store.orders import OrderStore
from tests.harness import hedger_address, order_request, set_config, wait_until

MARKET = "fed-cut-december-2026"
GENEROUS = Limits(Decimal(1000), Decimal(5), Decimal(1000), Decimal(1000))


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


# --- re-hedges a person asked for (the gateway's retryHedge records them with request_rehedge) -------


def _failed_by_a_refused_post(live, sim) -> HedgePosition:
    """A live FOK hedge the venue refused with a 400 before it reached the book: FAILED, nothing filled."""
    sim.exchange.inject_fault("/order", 1, "before", status=400, method="POST")
    answer = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "20"), timeout=15)
    assert answer.hedge_status == types_pb2.HEDGE_STATUS_UNHEDGED
    failed = HedgePosition.get()
    assert failed.status == "failed" and not failed.is_paper
    return failed


def _child_of(parent_id: str) -> HedgePosition | None:
    return HedgePosition.get_or_none(HedgePosition.parent_hedge == parent_id)


def _filled_child(parent_id: str) -> HedgePosition | None:
    child = _child_of(parent_id)
    return child if child is not None and child.status == "hedged" else None


def test_a_requested_re_hedge_is_posted_once_with_rehedging_off(live, sim, pg_db, caplog):
    caplog.set_level(logging.INFO, logger="server.risk.rehedge")
    assert not live.runtime.state.current.settings.rehedge_enabled
    failed = _failed_by_a_refused_post(live, sim)
    rehedger = live.runtime.services.rehedger
    # Off and not asked for: nothing, however often the re-hedger looks.
    assert live.call(rehedger.run_once()) == 0
    assert HedgePosition.select().count() == 1

    asked = OrderStore(pg_db).rehedges.request(failed.id, "alice", "  INC-9: venue is back  ")
    assert (asked.rehedge_requested_by, asked.rehedge_request_reason) == ("alice", "INC-9: venue is back")

    child = wait_until(lambda: _filled_child(failed.id), timeout=15, message="the requested re-hedge")
    assert child.size == failed.size and child.limit_price == failed.limit_price
    assert UserOrder.get().hedge_status == "hedged" and UserOrder.get().hedged_size == child.filled_size
    # The refused post never reached the book: the re-hedge is the one venue order, posted once.
    assert [o["id"] for o in sim.exchange.orders(hedger_address())] == [child.venue_order_id]
    assert sim.exchange.post_count(child.venue_order_id) == 1
    parent = HedgePosition.get_by_id(failed.id)
    assert parent.rehedge_requested_at is not None and parent.rehedge_requested_by == "alice"
    assert parent.rehedge_request_reason == "INC-9: venue is back"
    submitted = HedgeEvent.get(
        (HedgeEvent.event_type == "hedge_submitted") & (HedgeEvent.hedge_id == child.id)
    )
    assert "requested by alice" in submitted.message
    assert json.loads(submitted.data)["requested_by"] == "alice"
    assert f"of hedge {failed.id} (attempt 2) as alice requested at" in caplog.text
    # The request is consumed: nothing more to do, and asking again is refused.
    assert live.call(rehedger.run_once()) == 0
    with pytest.raises(FailedPrecondition, match=child.id):
        OrderStore(pg_db).rehedges.request(failed.id, "bob", "again")
    assert HedgePosition.select().count() == 2


@pytest.mark.parametrize(
    ("attempts", "backoff"), [("0", "1"), ("3", "3600")], ids=["attempts-used-up", "backing-off"]
)
def test_a_request_overrides_the_attempt_limit_and_the_back_off(live, sim, pg_db, attempts, backoff):
    set_config(pg_db, rehedgeEnabled="true", rehedgeMaxAttempts=attempts, rehedgeBackoffSeconds=backoff)
    wait_until(
        lambda: (
            (s := live.runtime.state.current.settings).rehedge_enabled
            and s.rehedge_backoff_seconds == int(backoff)
        )
    )
    failed = _failed_by_a_refused_post(live, sim)
    rehedger = live.runtime.services.rehedger
    assert live.call(rehedger.run_once()) == 0
    assert _child_of(failed.id) is None

    OrderStore(pg_db).rehedges.request(failed.id, "alice", "retry now")
    child = wait_until(lambda: _filled_child(failed.id), timeout=15, message="the requested re-hedge")
    assert sim.exchange.post_count(child.venue_order_id) == 1
    assert HedgePosition.select().count() == 2


def _cached_best_ask_size(live, token_id: str) -> Decimal:
    book = live.call(live.runtime.services.rehedger._books.get(token_id, 2000))
    return book.asks[0][1] if book is not None and book.asks else Decimal(0)


def test_a_request_waits_for_live_mode_and_a_book_that_fills_it(live, sim, pg_db):
    failed = _failed_by_a_refused_post(live, sim)
    market = next(m for m in sim.exchange.markets if m.slug == MARKET)
    rehedger = live.runtime.services.rehedger
    # A book too thin for the residual within the hedge's limit price: the request waits.
    sim.exchange.set_book(market.yes_token_id, bids=[("0.61", "1800")], asks=[("0.63", "5")])
    wait_until(lambda: _cached_best_ask_size(live, market.yes_token_id) == 5, message="the thin book")
    OrderStore(pg_db).rehedges.request(failed.id, "alice", "INC-10")
    assert live.call(rehedger.run_once()) == 0
    assert _child_of(failed.id) is None

    # Paper mode: the book is back, but only live trading re-hedges.
    set_config(pg_db, mode="paper")
    wait_until(lambda: live.runtime.state.current.settings.mode == "paper")
    sim.exchange.set_book(market.yes_token_id, bids=[("0.61", "1800")], asks=[("0.63", "1700")])
    wait_until(lambda: _cached_best_ask_size(live, market.yes_token_id) == 1700, message="the full book")
    assert live.call(rehedger.run_once()) == 0
    assert _child_of(failed.id) is None
    assert sim.exchange.orders(hedger_address()) == []

    set_config(pg_db, mode="live")
    child = wait_until(lambda: _filled_child(failed.id), timeout=15, message="the requested re-hedge")
    assert [o["id"] for o in sim.exchange.orders(hedger_address())] == [child.venue_order_id]
    assert sim.exchange.post_count(child.venue_order_id) == 1


# --- request_rehedge and rehedge_candidates --------------------------------------------------------------


@pytest.fixture
def store_db(pg_db: peewee.Database) -> peewee.Database:
    return pg_db


def _mapping(database: peewee.Database) -> Any:
    return mapping_store.create(
        database,
        mapping_store.MappingSpec(
            event_id="e1",
            outcome="YES",
            condition_id="0x" + "ab" * 32,
            yes_token_id="1",
            no_token_id="2",
            neg_risk=False,
            tick_size=Decimal("0.01"),
            min_order_size=Decimal("5"),
            fee_rate=Decimal("0"),
            fee_exponent=Decimal("0"),
            question="q",
        ),
        author="test",
    )


def _hedge(
    mapping: Any, status: str, *, paper: bool = False, filled: str = "0", age: timedelta = timedelta(0)
) -> HedgePosition:
    created = utcnow() - age
    order = UserOrder.create(
        id=str(uuid.uuid4()),
        account_id="a",
        request_id=uuid.uuid4().hex,
        request_hash="h",
        mapping=mapping.id,
        event_id="e1",
        outcome="YES",
        side="BUY",
        size=Decimal("10"),
        status="accepted",
        message="",
        price=Decimal("0.55"),
        hedge_status="unhedged",
        hedged_size=Decimal(filled),
        created_at=created,
        updated_at=created,
    )
    return HedgePosition.create(
        id=str(uuid.uuid4()),
        order=order.id,
        mapping=mapping.id,
        token_id="1",
        leg="YES",
        side="BUY",
        size=Decimal("10"),
        limit_price=Decimal("0.56"),
        quoted_price=Decimal("0.53"),
        user_price=Decimal("0.55"),
        order_type="FOK",
        is_paper=paper,
        status=status,
        venue_order_id=None if paper else "0x" + uuid.uuid4().hex,
        filled_size=Decimal(filled),
        fill_cost=Decimal(filled) * Decimal("0.53"),
        fee=Decimal(0),
        spread_captured=Decimal(0),
        net_profit=Decimal(0),
        attempt_count=0 if paper else 1,
        created_at=created,
        updated_at=created,
        resolved_at=created,
    )


def test_request_rehedge_checks_the_hedge_and_keeps_the_first_request(store_db):
    store = OrderStore(store_db)
    mapping = _mapping(store_db)
    failed = _hedge(mapping, "failed")
    partial = _hedge(mapping, "partial", filled="4")
    refused = {
        "hedged": _hedge(mapping, "hedged", filled="10"),
        "paper": _hedge(mapping, "paper", paper=True, filled="10"),
        "pending": _hedge(mapping, "pending"),
        "unknown": _hedge(mapping, "unknown"),
    }
    with pytest.raises(NotFound):
        store.rehedges.request("no-such-hedge", "alice", "why")
    for kind, hedge in refused.items():
        with pytest.raises(FailedPrecondition, match=kind):
            store.rehedges.request(hedge.id, "alice", "why")
    for reason in ("", "   ", "x" * 501):
        with pytest.raises(InvalidArgument) as bad:
            store.rehedges.request(failed.id, "alice", reason)
        assert bad.value.field == "reason"
    assert HedgePosition.select().where(HedgePosition.rehedge_requested_at.is_null(False)).count() == 0

    first = store.rehedges.request(failed.id, "alice", "INC-1")
    again = store.rehedges.request(failed.id, "bob", "INC-2")
    stored = HedgePosition.get_by_id(failed.id)
    for row in (first, again, stored):
        assert (row.rehedge_requested_by, row.rehedge_request_reason) == ("alice", "INC-1")
        assert row.rehedge_requested_at == first.rehedge_requested_at
    assert stored.status == "failed" and stored.filled_size == 0
    assert store.rehedges.request(partial.id, "bob", "INC-3").rehedge_requested_by == "bob"
    assert HedgePosition.select().count() == 6  # nothing was created


def test_requested_hedges_are_candidates_whatever_their_age_until_re_hedged(store_db):
    store = OrderStore(store_db)
    mapping = _mapping(store_db)
    old = _hedge(mapping, "failed", age=timedelta(days=3))
    old_requested = _hedge(mapping, "partial", filled="4", age=timedelta(days=5))
    recent = _hedge(mapping, "failed")
    since = utcnow() - timedelta(days=1)

    assert [h.id for h in store.rehedges.candidates(since=since)] == [recent.id]
    store.rehedges.request(old_requested.id, "alice", "INC-4")
    assert [h.id for h in store.rehedges.candidates(since=since)] == [old_requested.id, recent.id]
    assert [h.id for h in store.rehedges.candidates(since=since, automatic=False)] == [old_requested.id]
    store.rehedges.request(recent.id, "alice", "INC-5")
    # A hedge both recent and requested is listed once.
    assert [h.id for h in store.rehedges.candidates(since=since)] == [old_requested.id, recent.id]
    assert old.id not in {h.id for h in store.rehedges.candidates(since=since)}

    # The re-hedge consumes the request: the parent is no longer a candidate, and asking again is refused.
    # (Users are owed 10 YES shares of which the partial hedge holds 4: the market needs the other 6.)
    MarketExposure.update(user_shares=Decimal("10"), hedge_yes=Decimal("4")).where(
        MarketExposure.mapping == mapping.id
    ).execute()
    child = store.rehedges.create(
        old_requested.id, lambda size: SignedIntent("0x" + "cd" * 32, "{}"), GENEROUS
    )
    assert child is not None and child.size == Decimal("6") and child.parent_hedge_id == old_requested.id
    assert [h.id for h in store.rehedges.candidates(since=since, automatic=False)] == [recent.id]
    with pytest.raises(FailedPrecondition, match=child.id):
        store.rehedges.request(old_requested.id, "bob", "again")
    event = HedgeEvent.get((HedgeEvent.event_type == "hedge_submitted") & (HedgeEvent.hedge_id == child.id))
    assert json.loads(event.data)["requested_by"] == "alice"


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


def test_the_monitor_counts_every_status_on_every_pass(live, pg_db, sim):
    """Hedges by status come from the markets' running totals, so every pass counts all of them (no
    scan of the hedge table to ration)."""

    def gauge(metrics: Metrics, status: str) -> float | None:
        return metrics.registry.get_sample_value("hedging_hedges", {"status": status})

    runner = DatabaseRunner(pg_db, 1)
    metrics = Metrics()
    try:
        live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "10"), timeout=15)
        with ThreadPoolExecutor(1) as thread:  # an event loop of its own, made and closed there
            monitor = RiskMonitor(pg_db, runner, None, metrics)
            thread.submit(asyncio.run, monitor.evaluate_once()).result(15)
            assert gauge(metrics, "hedged") == 1 and gauge(metrics, "failed") == 0

            sim.exchange.inject_fault("/order", 1, "before", status=400, method="POST")
            for _ in range(3):
                live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "10"), timeout=15)
            thread.submit(asyncio.run, monitor.evaluate_once()).result(15)
            assert gauge(metrics, "hedged") == 3 and gauge(metrics, "failed") == 1
            assert gauge(metrics, "pending") == 0 and gauge(metrics, "unknown") == 0
    finally:
        runner.close()


def _grouped_pair(database: peewee.Database) -> tuple[Any, Any]:
    """Two neg-risk markets of one event group: "e1" (token 1, like `_hedge`'s) and "e2"."""
    made = []
    for i in (1, 2):
        spec = mapping_store.MappingSpec(
            event_id=f"e{i}", outcome="YES", condition_id="0x" + f"{i:02x}" * 32, yes_token_id=str(2 * i - 1),
            no_token_id=str(2 * i), neg_risk=True, tick_size=Decimal("0.01"), min_order_size=Decimal("5"),
            fee_rate=Decimal("0"), fee_exponent=Decimal("0"), question="q",
        )  # fmt: skip
        created = mapping_store.create(database, spec, author="test")
        made.append(mapping_store.update(database, created.id, author="test", event_group="g"))
    return made[0], made[1]


@pytest.mark.parametrize(("group_limit", "booked"), [("50.11", True), ("50.10", False)])
def test_a_re_hedge_in_a_group_is_checked_against_the_group_s_limit(store_db, group_limit, booked):
    store = OrderStore(store_db)
    one, two = _grouped_pair(store_db)
    failed = _hedge(one, "failed")
    # e1: users bought 10 at 0.55, unhedged: 4.50 if YES wins, -5.50 if NO. e2: 50 if YES, 0 if NO.
    # The group now: e2 winning costs -5.50 + 50 = 44.50 (e1 winning 4.50, none -5.50).
    MarketExposure.update(user_shares=Decimal("10"), net_cash=Decimal("5.50")).where(
        MarketExposure.mapping == one.id
    ).execute()
    MarketExposure.update(user_shares=Decimal("50")).where(MarketExposure.mapping == two.id).execute()
    # The re-hedge buys 10 YES for at most 10 x 0.56 = 5.60: in flight it adds 5.60 + 0.01 (fee
    # rounding) to e1's loss if NO wins (-> 0.11) and 0.01 if YES wins: e2 winning costs 50.11.
    limits = Limits(Decimal(1000), Decimal(5), Decimal(1), Decimal(1000), Decimal(group_limit))
    child = store.rehedges.create(failed.id, lambda size: SignedIntent("0x" + "ef" * 32, "{}"), limits)
    assert (child is not None) is booked
    assert HedgePosition.select().count() == (2 if booked else 1)
