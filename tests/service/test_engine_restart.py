"""A hedge posted while the matching engine restarts (425, then post-only orders only) is UNKNOWN, not
FAILED; once trading is normal again the resolver finds no order under its hash and re-posts the same
bytes, which fill: one venue order. The restart's phases run on the simulator's clock, which the test
moves on once the service has met each phase."""

from __future__ import annotations

from hedging.v1 import types_pb2
from server.store.models import HedgePosition, MarketExposure
from tests.harness import hedger_address, order_request, wait_until

MARKET = "fed-cut-december-2026"


def _hedge() -> HedgePosition:
    return HedgePosition.get()


def test_a_hedge_posted_during_an_engine_restart_is_resolved_by_hash_into_one_venue_order(live, sim):
    sim.exchange.start_restart(too_early=600, post_only=600)
    placed = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "20"), timeout=15)

    assert placed.status == types_pb2.ORDER_STATUS_ACCEPTED, placed.message
    assert placed.hedge_status == types_pb2.HEDGE_STATUS_UNKNOWN, placed.message
    hedge = _hedge()
    assert hedge.status == "unknown" and "425" in hedge.failure_reason
    # The resolver's look-ups are answered 425 as well: still unknown, nothing at the venue.
    wait_until(
        lambda: "order lookup answered HTTP 425" in _hedge().failure_reason,
        timeout=20,
        message="a look-up during the 425 phase",
    )
    assert _hedge().status == "unknown"
    assert sim.exchange.orders(hedger_address()) == []

    # Post-only phase: no order under the hash, so the same bytes are re-posted and refused with a
    # 503, which proves nothing either.
    sim.exchange.advance_time(600)
    assert sim.exchange.restart_phase == "post-only"
    wait_until(
        lambda: "post-only mode" in _hedge().failure_reason,
        timeout=20,
        message="a re-post during the post-only phase",
    )
    assert _hedge().status == "unknown"
    assert sim.exchange.orders(hedger_address()) == []

    sim.exchange.advance_time(600)
    assert sim.exchange.restart_phase is None
    settled = wait_until(
        lambda: (h := _hedge()).status not in ("pending", "unknown") and h,
        timeout=20,
        message="the resolver to settle the hedge",
    )
    assert settled.status == "hedged"
    assert [o["id"] for o in sim.exchange.orders(hedger_address())] == [settled.venue_order_id]
    posts = sim.exchange.post_count(settled.venue_order_id)
    assert posts >= 3  # the 425, at least one post-only refusal, the fill
    assert settled.attempt_count == posts
    position = MarketExposure.get(MarketExposure.mapping == settled.mapping_id)
    assert (
        position.hedge_yes
        == settled.filled_size
        == sim.exchange.balances(hedger_address())["tokens"][settled.token_id]
    )
