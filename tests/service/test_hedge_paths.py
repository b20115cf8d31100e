"""User SELLs, FAK partial fills and FOK failures, checked against the simulator's ground truth."""

from __future__ import annotations

from decimal import Decimal

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.store.models import HedgePosition, MarketExposure, PolymarketMarketMapping, RiskTotals
from tests.harness import hedger_address, order_request, set_config

NO_FEE = "fed-cut-december-2026"  # tick 0.01, no fee; bids 0.61 x 1800, asks 0.63 x 1700


def _exposure(slug: str) -> MarketExposure:
    return (
        MarketExposure.select()
        .join(PolymarketMarketMapping)
        .where(PolymarketMarketMapping.event_id == slug)
        .get()
    )


def _market(sim, slug):
    return next(m for m in sim.exchange.markets if m.slug == slug)


def test_a_user_sell_with_inventory_is_hedged_by_selling_yes(live, sim):
    market = _market(sim, NO_FEE)
    bought = live.stub.PlaceOrder(order_request(NO_FEE, types_pb2.SIDE_BUY, "100"), timeout=10)
    assert bought.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, bought.message
    sold = live.stub.PlaceOrder(order_request(NO_FEE, types_pb2.SIDE_SELL, "60"), timeout=10)

    assert sold.status == types_pb2.ORDER_STATUS_ACCEPTED, sold.message
    assert sold.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, sold.message
    # Best bid 0.61, no fee, 200 bps below it, rounded down to the tick.
    assert Decimal(sold.executed_price) == Decimal("0.59")
    hedge = live.stub.GetOrder(pb.GetOrderRequest(order_id=sold.order_id), timeout=5).hedges[0]
    assert hedge.token_id == market.yes_token_id and hedge.side == types_pb2.SIDE_SELL
    held = sim.exchange.balances(hedger_address())["tokens"][market.yes_token_id]
    bought_hedge = live.stub.GetOrder(pb.GetOrderRequest(order_id=bought.order_id), timeout=5).hedges[0]
    assert held == Decimal(bought_hedge.filled_size) - 60
    assert Decimal(hedge.spread_captured) == (Decimal(hedge.fill_price) - Decimal("0.59")) * 60
    row = _exposure(NO_FEE)
    assert row.hedge_yes == held and row.yes_reserved_for_sale == 0


def test_a_user_sell_without_inventory_is_hedged_by_buying_no(live, sim):
    market = _market(sim, NO_FEE)
    sold = live.stub.PlaceOrder(order_request(NO_FEE, types_pb2.SIDE_SELL, "50"), timeout=10)
    assert sold.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, sold.message
    hedge = live.stub.GetOrder(pb.GetOrderRequest(order_id=sold.order_id), timeout=5).hedges[0]
    assert hedge.token_id == market.no_token_id and hedge.side == types_pb2.SIDE_BUY
    # NO is offered at 1 - best YES bid = 0.39: the user gets (1 - 0.39) less the spread, floored.
    assert Decimal(sold.executed_price) == Decimal("0.59")
    assert sim.exchange.balances(hedger_address())["tokens"][market.no_token_id] == Decimal(hedge.filled_size)
    assert Decimal(hedge.filled_size) >= 50
    position = _exposure(NO_FEE)
    # Short 50 YES to users, long >= 50 NO: every outcome pays off, nothing left at risk.
    assert position.worst_case_loss < 0
    assert RiskTotals.get().unhedged_exposure == 0


def test_a_fak_hedge_that_fills_in_part_leaves_the_residual_unhedged_and_visible(live, sim, pg_db):
    market = _market(sim, NO_FEE)
    set_config(pg_db, hedgeOrderType="FAK")
    live.call(live.runtime.state.refresh())
    quote = live.stub.GetQuote(
        pb.GetQuoteRequest(
            account_id="u",
            market=types_pb2.MarketRef(event_id=NO_FEE, outcome="YES"),
            side=types_pb2.SIDE_BUY,
            size="100",
        ),
        timeout=5,
    )
    assert quote.quote.price == "0.65"
    # The book thins after the service read it (it is still fresh enough to quote from).
    sim.exchange.set_book(market.yes_token_id, bids=[("0.61", "1800")], asks=[("0.63", "40")])
    placed = live.stub.PlaceOrder(order_request(NO_FEE, types_pb2.SIDE_BUY, "100"), timeout=10)

    assert placed.status == types_pb2.ORDER_STATUS_ACCEPTED
    assert placed.hedge_status == types_pb2.HEDGE_STATUS_PARTIALLY_HEDGED, placed.message
    hedge = HedgePosition.get()
    assert hedge.status == "partial"
    assert hedge.filled_size == sim.exchange.balances(hedger_address())["tokens"][market.yes_token_id]
    assert 0 < hedge.filled_size < 100
    assert Decimal(placed.order.hedged_size) == hedge.filled_size
    # The residual is exposure: 100 owed at YES, only the filled shares cover it.
    row = _exposure(NO_FEE)
    assert row.user_shares == 100 and row.hedge_yes == hedge.filled_size
    assert RiskTotals.get().unhedged_exposure == row.worst_case_loss > 0


def test_a_fok_hedge_that_cannot_fill_fails_and_the_position_stays_unhedged_within_limits(live, sim):
    market = _market(sim, NO_FEE)
    live.stub.GetQuote(
        pb.GetQuoteRequest(
            account_id="u",
            market=types_pb2.MarketRef(event_id=NO_FEE, outcome="YES"),
            side=types_pb2.SIDE_BUY,
            size="100",
        ),
        timeout=5,
    )
    sim.exchange.set_book(market.yes_token_id, bids=[("0.61", "1800")], asks=[("0.63", "40")])
    placed = live.stub.PlaceOrder(order_request(NO_FEE, types_pb2.SIDE_BUY, "100"), timeout=10)

    assert placed.status == types_pb2.ORDER_STATUS_ACCEPTED
    assert placed.hedge_status == types_pb2.HEDGE_STATUS_UNHEDGED
    hedge = HedgePosition.get()
    assert hedge.status == "failed" and hedge.filled_size == 0
    assert "FOK" in hedge.failure_reason
    assert market.yes_token_id not in sim.exchange.balances(hedger_address())["tokens"]
    row = _exposure(NO_FEE)
    assert row.user_shares == 100 and row.hedge_yes == 0
    # 100 shares sold at 0.65: the platform loses 35 if YES wins, and that is within the limits.
    assert row.worst_case_loss == Decimal("35.00")
    assert RiskTotals.get().unhedged_exposure == Decimal("35.00")


def test_an_order_that_would_push_unhedged_exposure_past_the_limit_is_rejected_up_front(live, sim, pg_db):
    set_config(pg_db, mode="off", maxUnhedgedExposure="50")
    live.call(live.runtime.state.refresh())
    first = live.stub.PlaceOrder(order_request(NO_FEE, types_pb2.SIDE_BUY, "100"), timeout=10)
    assert first.status == types_pb2.ORDER_STATUS_ACCEPTED
    assert first.hedge_status == types_pb2.HEDGE_STATUS_NOT_ATTEMPTED
    second = live.stub.PlaceOrder(order_request(NO_FEE, types_pb2.SIDE_BUY, "100"), timeout=10)
    assert second.status == types_pb2.ORDER_STATUS_REJECTED
    assert second.reject_reason == types_pb2.REJECT_REASON_TOTAL_EXPOSURE_LIMIT
    assert RiskTotals.get().unhedged_exposure == Decimal("35.00")
    assert sim.exchange.orders(hedger_address()) == []


FINE_TICK = "atlantic-hurricanes-20-named-2026"  # tick 0.001, no fee; asks 30 @ 0.972, 45 @ 0.978


def test_hedges_on_a_fine_tick_market_are_signed_as_the_venue_takes_them(live, sim):
    """On a 0.001 tick the client's FOK amounts carry 5 decimals, which the venue refuses; ours carry 4."""
    market = _market(sim, FINE_TICK)
    # 33 shares: the cent budget divided by a 3-decimal limit does not end within 4 decimals.
    bought = live.stub.PlaceOrder(order_request(FINE_TICK, types_pb2.SIDE_BUY, "33"), timeout=10)
    assert bought.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, bought.message
    buy_hedge = live.stub.GetOrder(pb.GetOrderRequest(order_id=bought.order_id), timeout=5).hedges[0]
    assert Decimal(buy_hedge.filled_size) >= 33
    # 29.99 shares (within the 33 held) at a 3-decimal limit is a 5-decimal USDC amount before rounding.
    sold = live.stub.PlaceOrder(order_request(FINE_TICK, types_pb2.SIDE_SELL, "29.99"), timeout=10)
    assert sold.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, sold.message
    sell_hedge = live.stub.GetOrder(pb.GetOrderRequest(order_id=sold.order_id), timeout=5).hedges[0]
    assert sell_hedge.side == types_pb2.SIDE_SELL and Decimal(sell_hedge.filled_size) == Decimal("29.99")
    held = sim.exchange.balances(hedger_address())["tokens"][market.yes_token_id]
    assert held == Decimal(buy_hedge.filled_size) - Decimal("29.99")
