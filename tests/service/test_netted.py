"""A netted market against the simulator: small orders accepted, hedged by the market's rebalancer in
venue orders of at least the venue's minimum, each fill allocated to the user orders it covers with
exact sums. Per-order markets keep their own hedges."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.store import mappings as mapping_store
from server.store.models import BookHedge, HedgeAllocation, HedgePosition, MarketExposure, UserOrder
from tests.harness import hedger_address, order_request, wait_until

FEE_MARKET = "btc-above-150k-dec-31-2026"  # fee rate 0.07, exponent 1, tick 0.01, venue minimum 5
OTHER_MARKET = "fed-cut-december-2026"


def netted(pg_db: Any, mapping: Any, **keys: str) -> None:
    mapping_store.update(pg_db, mapping.id, author="test", hedge_overrides={"hedgePolicy": "netted", **keys})


def test_a_stream_of_3_share_orders_is_hedged_in_venue_sized_orders_with_exact_allocations(
    pg_db, mappings, sim, live
):
    mapping = mappings[FEE_MARKET]
    netted(pg_db, mapping, hedgeMinShares="10", hedgeMaxDelayMs="300")
    live.runtime.state.remember(mapping_store_get(mapping.id))
    responses = [live.stub.PlaceOrder(order_request(FEE_MARKET, types_pb2.SIDE_BUY, "3"), timeout=10)
                 for _ in range(10)]  # fmt: skip
    assert all(r.status == types_pb2.ORDER_STATUS_ACCEPTED for r in responses), [r.message for r in responses]
    assert responses[0].message == "accepted; hedge queued: the market's rebalancer hedges its net exposure"

    # 30 shares owed to users: covered once the hedges settle, to within the venue's minimum (a residual
    # below it is never sent on its own; one above it is once it has waited hedgeMaxDelayMs).
    def covered() -> bool:
        open_hedges = BookHedge.select().where(BookHedge.status.in_(["pending", "unknown"])).count()
        p = MarketExposure.get(MarketExposure.mapping == mapping.id)
        return open_hedges == 0 and p.user_shares == 30 and abs(p.user_shares - p.hedge_yes + p.hedge_no) < 5

    wait_until(covered, timeout=30, message="the market covered by the rebalancer's hedges")

    hedges = list(BookHedge.select().where(BookHedge.mapping == mapping.id))
    assert hedges and all(h.status == "hedged" for h in hedges)
    # No order hedge per user order: only the rebalancer's, each at least the venue's minimum.
    assert HedgePosition.select().count() == 0
    assert len(hedges) < len(responses)
    assert all(h.size >= Decimal(5) for h in hedges)
    address = hedger_address()
    venue_orders = sim.exchange.orders(address)
    assert len(venue_orders) == len(hedges)
    for hedge in hedges:
        assert sim.exchange.post_count(hedge.venue_order_id) == 1
        parts = list(HedgeAllocation.select().where(HedgeAllocation.book_hedge == hedge.id))
        # The fill's shares, cost and fee are split exactly (left-over shares held unowned).
        assert sum(p.shares for p in parts) == hedge.filled_size
        assert sum(p.cost for p in parts) == hedge.fill_cost
        assert sum(p.fee for p in parts) == hedge.fee
    orders = list(UserOrder.select().where(UserOrder.mapping == mapping.id))
    for order in orders:
        parts = list(HedgeAllocation.select().where(HedgeAllocation.order == order.id))
        assert sum(p.shares for p in parts) == order.hedged_size <= order.size
        assert order.hedge_status == ("hedged" if order.hedged_size == order.size else "partially_hedged")
    # GetOrder shows which hedges covered each order, with the shares, cost and fee allocated.
    for order in orders:
        shown = live.stub.GetOrder(pb.GetOrderRequest(order_id=order.id), timeout=5)
        stored = (
            HedgeAllocation.select().where(HedgeAllocation.order == order.id).order_by(HedgeAllocation.id)
        )
        by_hash = {h.id: h.venue_order_id for h in hedges}
        assert [(a.book_hedge_id, a.venue_order_id, Decimal(a.shares), Decimal(a.cost), Decimal(a.fee))
                for a in shown.allocations] == [
            (p.book_hedge_id, by_hash[p.book_hedge_id], p.shares, p.cost, p.fee) for p in stored
        ]  # fmt: skip
        assert sum(Decimal(a.shares) for a in shown.allocations) == Decimal(shown.order.hedged_size)
    # The oldest orders first: covered orders, then at most one in part, then the residual's.
    sizes = [o.hedged_size for o in sorted(orders, key=lambda o: o.created_at)]
    assert sizes == sorted(sizes, reverse=True) and sum(0 < s < 3 for s in sizes) <= 1
    assert sum(sizes) > 30 - 5 - 1  # a BUY's budget may bring a little more, held unowned

    # The simulator's inventory is what the market records, and the fees are the venue's.
    market = next(m for m in sim.exchange.markets if m.slug == FEE_MARKET)
    balance = sim.exchange.balances(address)
    position = MarketExposure.get(MarketExposure.mapping == mapping.id)
    assert Decimal(str(balance["tokens"].get(market.yes_token_id, 0))) == position.hedge_yes
    venue_fees = sum(Decimal(str(t["fee"])) for t in sim.exchange.trades(address))
    assert venue_fees == sum(h.fee for h in hedges)
    assert position.in_flight_delta == 0


def test_a_buy_then_an_opposite_sell_sends_no_venue_order_and_a_buy_alone_does(pg_db, mappings, sim, live):
    mapping = mappings[OTHER_MARKET]
    netted(pg_db, mapping, hedgeMinShares="5", hedgeMaxDelayMs="100")
    live.runtime.state.remember(mapping_store_get(mapping.id))
    rebalancer = live.runtime.rebalancer
    live.call(rebalancer._periodic.stop())  # passes run by hand below, between orders
    buy = live.stub.PlaceOrder(order_request(OTHER_MARKET, types_pb2.SIDE_BUY, "8"), timeout=10)
    sell = live.stub.PlaceOrder(order_request(OTHER_MARKET, types_pb2.SIDE_SELL, "8"), timeout=10)
    assert buy.status == sell.status == types_pb2.ORDER_STATUS_ACCEPTED
    assert live.call(rebalancer.run_once(now_slow=True)) == 0
    assert mapping.id in rebalancer._locks.owned
    assert sim.exchange.orders(hedger_address()) == []
    assert BookHedge.select().count() == 0
    # Each order shows it was covered by the other: netted, no venue order, no cost, no fee.
    for response in (buy, sell):
        (part,) = HedgeAllocation.select().where(HedgeAllocation.order == response.order_id)
        assert (part.book_hedge_id, part.shares, part.cost, part.fee) == (None, Decimal(8), 0, 0)
        assert UserOrder.get_by_id(response.order_id).hedge_status == "hedged"
        (shown,) = live.stub.GetOrder(pb.GetOrderRequest(order_id=response.order_id), timeout=5).allocations
        assert (shown.book_hedge_id, shown.venue_order_id, shown.shares, shown.cost) == ("", "", "8", "0")

    # The same buy alone is hedged: one venue order of 8 YES shares.
    live.stub.PlaceOrder(order_request(OTHER_MARKET, types_pb2.SIDE_BUY, "8"), timeout=10)
    assert live.call(rebalancer.run_once(now_slow=True)) == 1
    (hedge,) = BookHedge.select()
    assert (hedge.leg, hedge.side, hedge.size, hedge.status) == ("YES", "BUY", Decimal(8), "hedged")
    assert len(sim.exchange.orders(hedger_address())) == 1


def mapping_store_get(mapping_id: int) -> Any:
    from server.store.models import PolymarketMarketMapping

    return PolymarketMarketMapping.get_by_id(mapping_id)
