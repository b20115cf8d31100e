from __future__ import annotations

from decimal import Decimal

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.store.models import HedgeEvent, HedgePosition, MarketExposure, UserOrder
from tests.harness import order_request, set_config

FEE_MARKET = "btc-above-150k-dec-31-2026"  # asks 0.35 x 2400, 0.36 ..., fee 0.07


def test_paper_mode_prices_and_records_like_live_but_sends_nothing(live, sim, pg_db):
    set_config(pg_db, mode="paper")
    live.call(live.runtime.state.refresh())
    placed = live.stub.PlaceOrder(order_request(FEE_MARKET, types_pb2.SIDE_BUY, "100"), timeout=10)

    assert placed.status == types_pb2.ORDER_STATUS_ACCEPTED
    assert placed.hedge_status == types_pb2.HEDGE_STATUS_PAPER
    assert Decimal(placed.executed_price) == Decimal("0.38")  # the same price live mode gives
    hedge = HedgePosition.get()
    assert hedge.is_paper and hedge.status == "paper" and hedge.venue_order_id is None
    assert hedge.filled_size == 100 and hedge.fill_price == Decimal("0.35")
    fee = (Decimal("100") * Decimal("0.07") * Decimal("0.35") * Decimal("0.65")).quantize(Decimal("0.00001"))
    assert hedge.fee == fee
    assert hedge.spread_captured == Decimal("3.00") and hedge.net_profit == Decimal("3.00") - fee
    assert MarketExposure.get(MarketExposure.mapping == hedge.mapping_id).hedge_yes == 100
    assert sum(sim.exchange.post_counts().values()) == 0
    kinds = [e.event_type for e in HedgeEvent.select().where(HedgeEvent.order_id == placed.order_id)]
    assert kinds == ["order_accepted", "hedge_paper_filled"]


def test_a_quote_walks_the_book_and_books_nothing(live, sim, pg_db):
    set_config(pg_db, maxSlippageBps="300")  # the second level is 1.4% above the average
    live.call(live.runtime.state.refresh())
    market = next(m for m in sim.exchange.markets if m.slug == FEE_MARKET)
    sim.exchange.set_book(
        market.yes_token_id, bids=[("0.33", "1000")], asks=[("0.35", "50"), ("0.36", "1000")]
    )
    response = live.stub.GetQuote(
        pb.GetQuoteRequest(
            account_id="u",
            market=types_pb2.MarketRef(event_id=FEE_MARKET, outcome="YES"),
            side=types_pb2.SIDE_BUY,
            size="100",
        ),
        timeout=5,
    )
    quote = response.quote
    assert response.reject_reason == types_pb2.REJECT_REASON_UNSPECIFIED, response.message
    # Volume-weighted over the two levels the size consumes, not the top of the book.
    assert Decimal(quote.reference_price) == Decimal("0.355")
    assert Decimal(quote.hedge_limit_price) == Decimal("0.36")
    assert quote.hedge_token_id == market.yes_token_id
    fees = (50 * Decimal("0.07") * Decimal("0.35") * Decimal("0.65")).quantize(Decimal("0.00001")) + (
        50 * Decimal("0.07") * Decimal("0.36") * Decimal("0.64")
    ).quantize(Decimal("0.00001"))
    assert Decimal(quote.hedge_fee) == fees
    cost_per_share = Decimal("0.355") + fees / 100
    assert Decimal(quote.price) == Decimal("0.38") >= cost_per_share * Decimal("1.02")
    assert UserOrder.select().count() == 0 and sum(sim.exchange.post_counts().values()) == 0


def test_a_limit_price_worse_than_the_quote_rejects_with_price_moved(live, sim):
    placed = live.stub.PlaceOrder(
        order_request(FEE_MARKET, types_pb2.SIDE_BUY, "100", limit_price="0.37"), timeout=10
    )
    assert placed.status == types_pb2.ORDER_STATUS_REJECTED
    assert placed.reject_reason == types_pb2.REJECT_REASON_PRICE_MOVED
    assert placed.quote.price == "0.38"
    assert sum(sim.exchange.post_counts().values()) == 0
    assert UserOrder.get().status == "rejected"
