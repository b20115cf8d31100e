"""A FOK/FAK answer lists trade ids, not transaction hashes: the hedger reads each trade by id and
charges the fee trade by trade (it is not linear in price), matching what the venue charged."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.store.models import HedgePosition
from tests.harness import hedger_address, order_request, set_config, wait_until

FEE_MARKET = "btc-above-150k-dec-31-2026"  # tick 0.01, fee 0.07 x p(1-p), exponent 1


def _quotable(live) -> bool:
    answer = live.stub.GetQuote(
        pb.GetQuoteRequest(
            account_id="u", market=types_pb2.MarketRef(event_id=FEE_MARKET, outcome="YES"),
            side=types_pb2.SIDE_BUY, size="20",
        ),
        timeout=5,
    )  # fmt: skip
    return answer.HasField("quote")


def test_a_hedge_filled_by_several_trades_is_charged_the_fee_of_each(live, sim, pg_db):
    market = next(m for m in sim.exchange.markets if m.slug == FEE_MARKET)
    sim.exchange.set_book(market.yes_token_id, bids=[("0.30", "100")], asks=[("0.35", "10"), ("0.36", "500")])
    # Room for the hedge to reach the second level: 0.355 x 1.05 floors to 0.37, above 0.36.
    set_config(pg_db, maxSlippageBps="500")
    wait_until(lambda: _quotable(live), message="the service to read the new slippage bound")

    placed = live.stub.PlaceOrder(order_request(FEE_MARKET, types_pb2.SIDE_BUY, "20"), timeout=10)
    assert placed.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, placed.message
    hedge = HedgePosition.get()

    trades = [t for t in sim.exchange.trades(hedger_address()) if t["taker_order_id"] == hedge.venue_order_id]
    assert [t["price"] for t in trades] == ["0.35", "0.36"]  # two trades, as the answer's tradeIDs said
    assert all(t["transaction_hash"] for t in trades)  # sent since; the answer itself had no hashes
    # 10 shares at 0.35, the rest of the budget at 0.36; each trade's fee rounded half up to 5 places.
    second = hedge.filled_size - 10
    assert second > 10
    first_fee = Decimal("10") * Decimal("0.07") * Decimal("0.35") * Decimal("0.65")  # 0.15925
    second_fee = (second * Decimal("0.07") * Decimal("0.36") * Decimal("0.64")).quantize(
        Decimal("0.00001"), rounding=ROUND_HALF_UP
    )
    assert hedge.fee == first_fee + second_fee
    # ... which is what the venue charged.
    assert hedge.fee == sum(Decimal(str(t["fee"])) for t in trades) == sim.exchange.totals()["fees"]
    # The whole budget, 20 shares at the 0.36 limit, was spent.
    assert hedge.fill_cost == Decimal("7.20")
