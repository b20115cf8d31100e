"""A 429 storm from the simulator: the signer's budget at the venue is spent (by another client of the
signer, say) and its clock stands still, so every batch the rebalancer posts is refused with 429 and
`Retry-After`. The hedges wait, PENDING, never FAILED; once the venue's bucket refills they go out as
batches of several markets, each hedge once."""

from __future__ import annotations

from hedging.v1 import types_pb2
from server.store import mappings as mapping_store
from server.store.models import BookHedge, MarketExposure, PolymarketMarketMapping
from tests.harness import hedger_address, order_request, wait_until

MARKETS = ("fed-cut-december-2026", "btc-above-150k-dec-31-2026")


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_429_storm_is_honoured_with_no_failed_hedge_and_the_hedges_sent_once_it_ends(
    pg_db, mappings, sim, live
):
    address = hedger_address()
    clock = Clock(sim.exchange.now())
    sim.exchange.set_order_budget("standard", clock=clock)
    assert sim.exchange.order_budget is not None
    assert sim.exchange.order_budget.charge(address, 60).admitted  # the venue's bucket: empty
    rebalancer = live.runtime.rebalancer
    dispatcher = rebalancer._dispatcher
    for slug in MARKETS:
        mapping_store.update(
            pg_db,
            mappings[slug].id,
            author="test",
            hedge_overrides={"hedgePolicy": "netted", "hedgeMinShares": "5"},
        )
        live.runtime.state.remember(PolymarketMarketMapping.get_by_id(mappings[slug].id))
    for slug in MARKETS:
        response = live.stub.PlaceOrder(order_request(slug, types_pb2.SIDE_BUY, "6"), timeout=10)
        assert response.status == types_pb2.ORDER_STATUS_ACCEPTED, response.message

    # Refused again and again (each Retry-After honoured by our own bucket too), never failed.
    wait_until(lambda: dispatcher.refused >= 3, timeout=20, message="three 429s")
    assert sim.exchange.orders(address) == []
    assert [h.status for h in BookHedge.select()] == ["pending", "pending"]

    clock.now += 60  # the storm ends: the venue's bucket refills
    wait_until(
        lambda: all(h.status == "hedged" for h in BookHedge.select()) and BookHedge.select().count() == 2,
        timeout=20,
        message="both hedges filled",
    )
    venue_orders = sim.exchange.orders(address)
    assert sorted(o["id"] for o in venue_orders) == sorted(h.venue_order_id for h in BookHedge.select())
    for slug in MARKETS:
        position = MarketExposure.get(MarketExposure.mapping == mappings[slug].id)
        assert abs(position.user_shares - position.hedge_yes) < 1
