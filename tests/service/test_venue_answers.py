"""Only an answer the venue documents as a refusal fails a hedge; any other answer to `POST /order`
leaves it UNKNOWN until its hash is looked up, so a lost answer never leads to a second venue order,
even with the re-hedger running (issue 15, item 2)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from hedging.v1 import types_pb2
from server.domain.limits import Limits
from server.store.models import HedgePosition, MarketExposure
from server.store.orders import OrderStore
from tests.harness import hedger_address, order_request, set_config, wait_until

MARKET = "fed-cut-december-2026"  # tick 0.01, no fee, asks 0.63 x 1700: a 10-share BUY fills at once
ORDERED = Decimal(10)
# Statuses that do not prove a refusal: a request timeout, the rate limit, the venue's 5xx and the
# 52x of a proxy in front of it (Cloudflare: 520 unknown error, 524 origin timeout).
NOT_REFUSALS = (408, 429, 500, 502, 503, 520, 524)


@pytest.fixture
def rehedging(live, pg_db):
    """The re-hedger on, with the shortest back-off: a FAILED hedge would be bought again at once."""
    set_config(pg_db, rehedgeEnabled="true", rehedgeBackoffSeconds="1", rehedgeMaxAttempts="3")
    wait_until(
        lambda: live.runtime.state.current.settings.rehedge_backoff_seconds == 1,
        message="the service to read the re-hedge settings",
    )
    return live


def _settled() -> HedgePosition | None:
    hedge = HedgePosition.get()
    return hedge if hedge.status not in ("pending", "unknown") else None


def _assert_one_venue_order_of_the_ordered_shares(live, sim, hedge: HedgePosition) -> None:
    assert HedgePosition.select().count() == 1  # no re-hedge row
    assert [o["id"] for o in sim.exchange.orders(hedger_address())] == [hedge.venue_order_id]
    tokens = sim.exchange.balances(hedger_address())["tokens"][hedge.token_id]
    # A BUY of 10 YES is hedged by buying 10 YES; at 0.63 against a limit above it the budget may
    # buy a hair more, never twice as many.
    assert ORDERED <= tokens < 2 * ORDERED
    assert tokens == hedge.filled_size
    assert MarketExposure.get(MarketExposure.mapping == hedge.mapping_id).hedge_yes == tokens
    # With the back-off long over, another re-hedge pass still finds nothing to buy.
    assert live.call(live.runtime.services.rehedger.run_once()) == 0
    assert HedgePosition.select().count() == 1


@pytest.mark.parametrize("status", NOT_REFUSALS)
def test_an_answer_lost_after_the_venue_executed_the_order_is_resolved_not_hedged_again(
    rehedging, sim, status
):
    sim.exchange.inject_fault("/order", 1, "after", status=status, method="POST")
    placed = rehedging.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, str(ORDERED)), timeout=15)

    assert placed.status == types_pb2.ORDER_STATUS_ACCEPTED, placed.message
    assert placed.hedge_status == types_pb2.HEDGE_STATUS_UNKNOWN, placed.message
    hedge = wait_until(_settled, timeout=20, message="the resolver to find the order by its hash")
    assert hedge.status == "hedged", hedge.failure_reason
    # Looked up, never posted again: the venue executed it the first time.
    assert sim.exchange.post_count(hedge.venue_order_id) == 1
    _assert_one_venue_order_of_the_ordered_shares(rehedging, sim, hedge)


@pytest.mark.parametrize("status", NOT_REFUSALS)
def test_an_answer_that_does_not_prove_a_refusal_is_resolved_by_re_posting_the_same_bytes(
    rehedging, sim, status
):
    sim.exchange.inject_fault("/order", 1, "before", status=status, method="POST")
    placed = rehedging.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, str(ORDERED)), timeout=15)

    assert placed.hedge_status == types_pb2.HEDGE_STATUS_UNKNOWN, placed.message
    signed = HedgePosition.get().signed_order
    hedge = wait_until(_settled, timeout=20, message="the resolver to re-post the hedge")
    assert hedge.status == "hedged", hedge.failure_reason
    # The venue never saw the first post: the resolver found nothing and sent the same bytes again.
    assert hedge.signed_order == signed
    assert sim.exchange.post_count(hedge.venue_order_id) == 2 == hedge.attempt_count
    _assert_one_venue_order_of_the_ordered_shares(rehedging, sim, hedge)


def test_a_documented_refusal_fails_the_hedge(live, sim, pg_db):
    set_config(pg_db, rehedgeEnabled="false")
    wait_until(lambda: not live.runtime.state.current.settings.rehedge_enabled)
    address = hedger_address()
    sim.exchange.fund(address, usdc=-Decimal(str(sim.exchange.balances(address)["usdc"])))

    placed = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, str(ORDERED)), timeout=15)

    # The venue's own refusal (400 "not enough balance / allowance"), not an injected fault.
    assert placed.hedge_status == types_pb2.HEDGE_STATUS_UNHEDGED, placed.message
    hedge = HedgePosition.get()
    assert (hedge.status, hedge.failure_reason) == ("failed", "not enough balance / allowance")
    assert sim.exchange.post_count(hedge.venue_order_id) == 1
    assert sim.exchange.orders(address) == []


def test_the_re_hedger_never_re_hedges_an_unknown_hedge(rehedging, sim, pg_db):
    sim.exchange.inject_fault("/order", 1, "after", status=408, method="POST")
    sim.exchange.inject_fault("/data/order/*", 1_000_000, "before", status=503)  # lookups stay blind
    placed = rehedging.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, str(ORDERED)), timeout=15)
    assert placed.hedge_status == types_pb2.HEDGE_STATUS_UNKNOWN, placed.message
    hedge = HedgePosition.get()
    assert hedge.status == "unknown"

    assert rehedging.call(rehedging.runtime.services.rehedger.run_once()) == 0
    store = OrderStore(pg_db)
    assert store.rehedges.candidates(since=hedge.created_at - timedelta(days=1), automatic=True) == []

    def must_not_sign(size: Decimal) -> object:
        raise AssertionError("an UNKNOWN hedge was signed for a re-hedge")

    generous = Limits(Decimal(1000), Decimal(5), Decimal(1000), Decimal(1000))
    assert store.rehedges.create(hedge.id, must_not_sign, generous) is None  # type: ignore[arg-type]
    assert HedgePosition.select().count() == 1
    assert [o["id"] for o in sim.exchange.orders(hedger_address())] == [hedge.venue_order_id]
