from __future__ import annotations

import uuid
from decimal import Decimal

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.store.models import HedgePosition, UserOrder
from tests.harness import HEDGER_KEY

FEE_MARKET = "btc-above-150k-dec-31-2026"  # fee rate 0.07, exponent 1, tick 0.01


def place(stub, event_id: str, side: int, size: str, **kw) -> pb.PlaceOrderResponse:
    return stub.PlaceOrder(
        pb.PlaceOrderRequest(
            request_id=kw.pop("request_id", uuid.uuid4().hex),
            account_id=kw.pop("account_id", "user-1"),
            market=types_pb2.MarketRef(event_id=event_id, outcome="YES"),
            side=side,
            size=size,
            **kw,
        ),
        timeout=10,
    )


def hedger_address(sim) -> str:
    from eth_account import Account

    return Account.from_key(HEDGER_KEY).address.lower()


def test_a_user_buy_is_priced_off_the_book_and_hedged_by_buying_yes(live, sim):
    market = next(m for m in sim.exchange.markets if m.slug == FEE_MARKET)
    response = place(live.stub, FEE_MARKET, types_pb2.SIDE_BUY, "100")

    assert response.status == types_pb2.ORDER_STATUS_ACCEPTED, response.message
    assert response.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, response.message
    # Best ask 0.35 x 2400; fee 0.07 x 0.35 x 0.65 per share; 200 bps spread; rounded up to the tick.
    cost = Decimal("0.35") + Decimal("0.07") * Decimal("0.35") * Decimal("0.65")
    assert Decimal(response.executed_price) == Decimal("0.38")
    assert Decimal(response.executed_price) >= cost * Decimal("1.02")

    order = live.stub.GetOrder(pb.GetOrderRequest(order_id=response.order_id), timeout=5)
    (hedge,) = order.hedges
    assert hedge.token_id == market.yes_token_id
    assert hedge.side == types_pb2.SIDE_BUY
    assert Decimal(hedge.filled_size) >= 100

    # The simulator's ledger is the ground truth: what left the account is cost plus fee.
    trades = sim.exchange.trades(hedger_address(sim))
    assert trades, "the hedge never reached the venue"
    balance = sim.exchange.balances(hedger_address(sim))
    venue_shares = balance["tokens"][market.yes_token_id]
    venue_paid = Decimal("1000000") - balance["usdc"]
    venue_fee = sum(Decimal(str(t["fee"])) for t in trades)
    assert Decimal(hedge.filled_size) == venue_shares
    assert Decimal(hedge.fee) == venue_fee
    stored = HedgePosition.get()
    assert stored.fill_cost + stored.fee == venue_paid
    # Profit is on the user's 100 shares: the budget's extra shares are inventory and take their
    # part of the cost and fee with them.
    users = Decimal(100) / venue_shares
    captured = Decimal("0.38") * 100 - stored.fill_cost * users
    assert abs(Decimal(hedge.spread_captured) - captured) < Decimal("1e-18")
    assert abs(Decimal(hedge.net_profit) - (captured - venue_fee * users)) < Decimal("1e-18")
    assert sim.exchange.post_count(hedge.venue_order_id) == 1

    assert stored.status == "hedged"
    assert UserOrder.get().hedge_status == "hedged"
