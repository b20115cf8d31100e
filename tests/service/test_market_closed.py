"""A market that closes mid-flow: the service follows the venue's market object, rejects new orders
with MARKET_CLOSED (booking only the rejected order, asking the venue nothing) and still records the
outcomes of the hedges already at the venue."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.store.models import HedgeEvent, HedgePosition, MarketExposure, PolymarketMarketMapping, RiskTotals
from server.store.rows import position_of
from tests.harness import order_request, wait_until
from tests.service.conftest import VENUE_DELAY

MARKET = "fed-cut-december-2026"  # tick 0.01, no fee; asks 0.63 x 1700
OTHER = "btc-above-150k-dec-31-2026"


def _mapping(slug: str) -> PolymarketMarketMapping:
    return PolymarketMarketMapping.get(PolymarketMarketMapping.event_id == slug)


def _exposure(slug: str) -> Any:
    return position_of(MarketExposure.get(MarketExposure.mapping == _mapping(slug).id))


def _market(sim: Any, slug: str) -> Any:
    return next(m for m in sim.exchange.markets if m.slug == slug)


def _buy(service: Any, slug: str, size: str) -> Any:
    return service.stub.PlaceOrder(order_request(slug, types_pb2.SIDE_BUY, size), timeout=15)


def _exposure_of(service: Any, slug: str) -> Any:
    request = pb.GetExposureRequest(markets=[types_pb2.MarketRef(event_id=slug, outcome="YES")])
    return service.stub.GetExposure(request, timeout=10).markets[0]


def test_a_market_closed_mid_flow_rejects_new_orders_and_keeps_its_hedges_outcomes(patient, sim):
    market = _market(sim, MARKET)
    # Hedge 1: the venue executes it but its answer is lost: UNKNOWN until looked up.
    sim.exchange.inject_fault("/order", 1, "after", status=504, method="POST")
    lost = _buy(patient, MARKET, "10")
    assert lost.hedge_status == types_pb2.HEDGE_STATUS_UNKNOWN, lost.message
    # Hedge 2: executed at the venue, its answer held there while the market closes.
    sim.exchange.inject_fault("/order", 1, "after", delay=VENUE_DELAY * 2, method="POST")
    answers: list[Any] = []
    buyer = threading.Thread(target=lambda: answers.append(_buy(patient, MARKET, "20")))
    buyer.start()
    wait_until(
        lambda: HedgePosition.select().where(HedgePosition.status == "pending").exists(),
        message="the second hedge to be booked and sent",
    )

    sim.exchange.close_market(market.condition_id)
    # (The background pass, every 5 s, may see it first: then this pass has nothing left to change.)
    patient.call(patient.runtime.market_states.follow_all())

    stored = _mapping(MARKET)
    assert (stored.market_state, stored.winning_token_id) == ("closed", None)
    assert _exposure_of(patient, MARKET).market_state == types_pb2.MARKET_STATE_CLOSED
    change = (
        HedgeEvent.select().where(HedgeEvent.event_type == "mapping_changed").order_by(HedgeEvent.id.desc())
    )
    assert "now closed (was open)" in change.get().message
    # Nothing but the rejected order is written, and the venue is asked nothing (no book, no order).
    position, total = _exposure(MARKET), RiskTotals.get().unhedged_exposure
    hedges, posts = HedgePosition.select().count(), sim.exchange.post_counts()
    book_read = sim.exchange.book_read_at.get(market.condition_id)
    quote = patient.stub.GetQuote(
        pb.GetQuoteRequest(
            account_id="u",
            market=types_pb2.MarketRef(event_id=MARKET, outcome="YES"),
            side=types_pb2.SIDE_BUY,
            size="5",
        ),
        timeout=5,
    )
    refused = _buy(patient, MARKET, "5")

    assert quote.reject_reason == types_pb2.REJECT_REASON_MARKET_CLOSED
    assert refused.status == types_pb2.ORDER_STATUS_REJECTED
    assert refused.reject_reason == types_pb2.REJECT_REASON_MARKET_CLOSED, refused.message
    assert "closed" in refused.message
    booked = patient.stub.GetOrder(pb.GetOrderRequest(order_id=refused.order_id), timeout=5)
    assert booked.order.status == types_pb2.ORDER_STATUS_REJECTED and not booked.hedges
    assert (_exposure(MARKET), RiskTotals.get().unhedged_exposure) == (position, total)
    assert HedgePosition.select().count() == hedges
    assert sim.exchange.post_counts() == posts
    assert sim.exchange.book_read_at.get(market.condition_id) == book_read

    # The hedges already at the venue still get their outcomes.
    buyer.join(20)
    assert answers[0].hedge_status == types_pb2.HEDGE_STATUS_HEDGED, answers[0].message
    patient.call(patient.runtime.resolver.resolve_all(include_fresh=True))
    resolved = patient.stub.GetOrder(pb.GetOrderRequest(order_id=lost.order_id), timeout=5)
    assert resolved.order.hedge_status == types_pb2.HEDGE_STATUS_HEDGED
    assert Decimal(resolved.hedges[0].filled_size) >= 10
    # Other markets trade on.
    assert _buy(patient, OTHER, "10").status == types_pb2.ORDER_STATUS_ACCEPTED


def test_a_resolution_is_kept_and_a_pause_is_not_an_end(live, sim, pg_db):
    market = _market(sim, MARKET)
    follow = live.runtime.market_states.follow_all
    sim.exchange.set_trading_mode("disabled")  # the whole venue pauses: accepting_orders false
    try:
        live.call(follow())
        assert {m.market_state for m in PolymarketMarketMapping.select()} == {"not_accepting"}
        paused = _buy(live, MARKET, "10")
        assert paused.reject_reason != types_pb2.REJECT_REASON_MARKET_CLOSED
    finally:
        sim.exchange.set_trading_mode("normal")
    live.call(follow())
    assert _mapping(MARKET).market_state == "open"

    sim.exchange.resolve_market(market.condition_id, market.no_token_id)
    live.call(follow())
    stored = _mapping(MARKET)
    assert (stored.market_state, stored.winning_token_id) == ("resolved", market.no_token_id)
    assert _buy(live, MARKET, "10").reject_reason == types_pb2.REJECT_REASON_MARKET_CLOSED
    # A resolved market is no longer asked about: a fault waiting for its next read stays unused.
    sim.exchange.inject_fault(f"/markets/{market.condition_id}", 1, "before", status=500)
    live.call(follow())
    assert [f["remaining"] for f in sim.exchange.faults.pending()] == [1]
