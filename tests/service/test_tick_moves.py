"""The venue refines a market's tick near 0 and 1 and coarsens it back: the service prices and signs
on the tick the venue sends with the book, and stores it on the mapping (with an audit event)."""

from __future__ import annotations

from decimal import Decimal

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.store.models import HedgeEvent, HedgePosition, PolymarketMarketMapping
from tests.harness import hedger_address, order_request, set_config, wait_until

MARKET = "fed-cut-december-2026"  # listed at tick 0.01, no fee; minSpreadBps 200, maxSlippageBps 100


def _mapping() -> PolymarketMarketMapping:
    return PolymarketMarketMapping.get(PolymarketMarketMapping.event_id == MARKET)


def _quote(live) -> pb.GetQuoteResponse:
    return live.stub.GetQuote(
        pb.GetQuoteRequest(
            account_id="u", market=types_pb2.MarketRef(event_id=MARKET, outcome="YES"), side=types_pb2.SIDE_BUY,
            size="20",
        ),
        timeout=5,
    )  # fmt: skip


def test_a_hedge_is_priced_and_signed_on_the_tick_the_venue_moved_to(live, sim):
    market = next(m for m in sim.exchange.markets if m.slug == MARKET)
    yes = market.yes_token_id
    # Midpoint 0.965 is above 0.96: the venue refines the tick to 0.001, then a provider asks 0.965.
    sim.exchange.set_book(yes, bids=[("0.96", "500")], asks=[("0.97", "500")])
    assert sim.exchange.market(market.condition_id).tick_size == Decimal("0.001")
    sim.exchange.add_liquidity(yes, "SELL", "0.965", "300")

    quoted = _quote(live)
    # 0.965 x 1.0200 = 0.98430, up to the 0.001 tick: 0.985 (on the stale 0.01 tick it would be 0.99).
    assert (quoted.quote.tick_size, quoted.quote.price) == ("0.001", "0.985"), quoted.message
    assert _mapping().tick_size == Decimal("0.001")

    placed = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "20"), timeout=10)
    assert placed.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, placed.message
    assert Decimal(placed.executed_price) == Decimal("0.985")
    hedge = HedgePosition.get(HedgePosition.order == placed.order_id)
    # The most a share may cost and keep the spread: 0.985 / 1.02 = 0.96568..., down to the tick.
    assert hedge.limit_price == Decimal("0.965")
    venue_order = sim.exchange.order(hedge.venue_order_id)
    assert venue_order is not None and venue_order["status"] == "MATCHED"
    assert sim.exchange.balances(hedger_address())["tokens"][yes] == hedge.filled_size == Decimal("20")

    # Back inside (midpoint 0.61): the tick returns to 0.01 and the next order is priced on it.
    sim.exchange.set_book(yes, bids=[("0.60", "500")], asks=[("0.62", "500")])
    assert sim.exchange.market(market.condition_id).tick_size == Decimal("0.01")
    # The service reuses a book while it is fresh: wait until it has read the moved one.
    wait_until(lambda: _quote(live).quote.tick_size == "0.01", message="a quote off the moved book")
    again = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "20"), timeout=10)
    assert again.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, again.message
    # 0.62 x 1.02 = 0.6324, up to 0.01: 0.64 (on the stale 0.001 tick it would be 0.633).
    assert Decimal(again.executed_price) == Decimal("0.64")
    assert _mapping().tick_size == Decimal("0.01")
    changes = [
        e.message
        for e in HedgeEvent.select().where(HedgeEvent.event_type == "mapping_changed").order_by(HedgeEvent.id)
        if "by venue" in e.message
    ]
    assert changes == [
        "mapping changed by venue: tick_size=0.001",
        "mapping changed by venue: tick_size=0.01",
    ]


def test_a_tick_change_on_the_market_channel_is_followed_while_the_cached_book_is_fresh(live, sim, pg_db):
    """The venue announces a tick change on its market channel (here the market is listed anew at
    0.001, its book unchanged). Books are reused for 5 minutes here, so only the feed can tell the
    service: it drops the cached book and the next quote reads the tick with a fresh one."""
    market = next(m for m in sim.exchange.markets if m.slug == MARKET)
    sim.exchange.set_book(market.yes_token_id, bids=[("0.60", "500")], asks=[("0.62", "500")])
    set_config(pg_db, maxBookAgeMs="600000")
    live.call(live.runtime.state.refresh())
    assert live.runtime.feed is not None
    wait_until(live.runtime.feed.connected.is_set, message="the market channel connected")
    assert _quote(live).quote.tick_size == "0.01"  # this book is now cached for 5 minutes

    sim.exchange.set_tick_size(market.condition_id, "0.001")
    wait_until(lambda: _quote(live).quote.tick_size == "0.001", message="a quote on the announced tick")
    # 0.62 x 1.02 = 0.6324, up to the 0.001 tick: 0.633 (on the cached 0.01 tick it would be 0.64).
    assert _quote(live).quote.price == "0.633"
    assert _mapping().tick_size == Decimal("0.001")
