"""The service knows its USDC balance and never plans a hedge it cannot pay for: with the wallet
short, a user order is accepted unhedged (within the limits), says why, and nothing goes to the
venue; once the wallet holds enough again, orders are hedged as before."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.store.models import HedgeEvent, HedgePosition
from tests.harness import hedger_address, order_request, wait_until

MARKET = "fed-cut-december-2026"  # tick 0.01, no fee; asks 0.63 x 1700


def _wallet(sim: Any) -> Decimal:
    return Decimal(sim.exchange.balances(hedger_address())["usdc"])


def _cash_reads(live: Any, wanted: Any) -> Any:
    cash = live.runtime.cash
    return wait_until(lambda: (a := cash.available()) is not None and wanted(a), message="the cash read")


def test_a_hedge_the_wallet_cannot_pay_for_is_not_planned(live, sim):
    # A BUY of 10 YES hedges by buying 10 YES at the ask 0.63: up to 6.30 USDC and the cent allowed
    # for fee rounding, 6.31. Leave the wallet 6.30.
    sim.exchange.fund(hedger_address(), -(_wallet(sim) - Decimal("6.30")))
    _cash_reads(live, lambda a: a == Decimal("6.30"))
    exposure = live.stub.GetExposure(pb.GetExposureRequest(), timeout=10)
    assert exposure.totals.wallet_usdc_available == "6.3"

    answer = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "10"), timeout=15)
    assert answer.status == types_pb2.ORDER_STATUS_ACCEPTED
    assert answer.hedge_status == types_pb2.HEDGE_STATUS_NOT_ATTEMPTED
    assert "cannot pay for its hedge (it needs up to 6.31, 6.3 is available)" in answer.message
    assert not HedgePosition.select().exists() and sim.exchange.post_counts() == {}
    event = HedgeEvent.get(HedgeEvent.event_type == "hedge_unaffordable")
    assert '"needed": "6.31"' in event.data and '"available": "6.3"' in event.data
    assert _wallet(sim) == Decimal("6.30")  # nothing spent

    sim.exchange.fund(hedger_address(), 100)
    _cash_reads(live, lambda a: a >= 100)
    hedged = live.stub.PlaceOrder(order_request(MARKET, types_pb2.SIDE_BUY, "10"), timeout=15)
    assert hedged.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, hedged.message
    assert _wallet(sim) == Decimal("106.30") - Decimal("6.30")
