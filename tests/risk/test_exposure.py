"""GetExposure against a recomputation from the order and hedge rows."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import grpc
import pytest

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.store.models import HedgeEvent, HedgePosition, PolymarketMarketMapping, RiskTotals, UserOrder
from tests.harness import order_request, set_config, wait_until
from tests.reference import Market, notional

MARKETS = ["fed-cut-december-2026", "btc-above-150k-dec-31-2026", "gpt-release-q1-2027"]
ZERO = Decimal(0)


def recomputed() -> dict[str, tuple[Market, Decimal, Decimal, int, int]]:
    """Per market: the position, hedged and unhedged notional and open hedge counts, from rows alone
    (with the tests' reference book-keeping, not the service's)."""
    mappings = {m.id: m.event_id for m in PolymarketMarketMapping.select()}
    out: dict[str, list] = {m: [Market(), ZERO, ZERO, 0, 0] for m in mappings.values()}
    for order in UserOrder.select().where(UserOrder.status == "accepted"):
        entry = out[order.event_id]
        entry[0].user_order(order.side, order.size, order.price)
        hedged, unhedged = notional(order.size, order.price, order.hedged_size)
        entry[1] += hedged
        entry[2] += unhedged
    for hedge in HedgePosition.select():
        entry = out[mappings[hedge.mapping_id]]
        if hedge.status in ("pending", "unknown"):
            entry[3 if hedge.status == "pending" else 4] += 1
            continue
        entry[0].hedge(
            hedge.leg,
            hedge.side,
            filled=hedge.filled_size,
            cost=hedge.fill_cost,
            fee=hedge.fee,
        )
    return {k: (v[0], v[1], v[2], v[3], v[4]) for k, v in out.items()}


@pytest.mark.parametrize("seed", [1, 2])
def test_get_exposure_agrees_with_the_rows_after_a_random_run(live, sim, pg_db, seed):
    rng = random.Random(seed)
    # The injected failures below are about exposure, not the failure-rate breaker: keep it out of
    # the way so the run's answers do not depend on how many orders happen to be accepted.
    set_config(pg_db, hedgeOrderType=rng.choice(["FOK", "FAK"]), failureRateMinHedges="100000")
    wait_until(lambda: live.runtime.state.current.settings.failure_rate_min_hedges == 100000)
    # Some hedges fail at the venue: their positions stay unhedged.
    sim.exchange.inject_fault("/order", 4, "before", status=400, method="POST")
    plan = [
        (
            rng.choice(MARKETS),
            rng.choice([types_pb2.SIDE_BUY, types_pb2.SIDE_BUY, types_pb2.SIDE_SELL]),
            rng.randint(5, 60),
        )
        for _ in range(30)
    ]
    with ThreadPoolExecutor(6) as pool:
        answers = list(
            pool.map(lambda p: live.stub.PlaceOrder(order_request(p[0], p[1], str(p[2])), timeout=20), plan)
        )
    assert any(a.status == types_pb2.ORDER_STATUS_ACCEPTED for a in answers)
    wait_until(
        lambda: not HedgePosition.select().where(HedgePosition.status.in_(["pending", "unknown"])).exists(),
        timeout=20,
        message="every hedge to settle",
    )

    response = live.stub.GetExposure(pb.GetExposureRequest(), timeout=10)
    expected = recomputed()
    listed = {m.market.event_id: m for m in response.markets}
    assert set(listed) == {k for k, v in expected.items() if v[0] != Market()}
    total = ZERO
    for event_id, (position, hedged, unhedged, pending, unknown) in expected.items():
        total += position.exposure
        if event_id not in listed:
            continue
        m = listed[event_id]
        assert Decimal(m.user_shares) == position.user_shares
        assert Decimal(m.hedge_yes_shares) == position.hedge_yes
        assert Decimal(m.hedge_no_shares) == position.hedge_no
        assert Decimal(m.net_cash) == position.net_cash
        assert Decimal(m.loss_if_yes) == position.loss_if_yes
        assert Decimal(m.loss_if_no) == position.loss_if_no
        assert Decimal(m.worst_case_loss) == position.worst_case_loss
        assert Decimal(m.hedged_notional) == hedged
        assert Decimal(m.unhedged_notional) == unhedged
        assert (m.pending_hedges, m.unknown_hedges) == (pending, unknown)
        limit = Decimal(m.limit)
        assert Decimal(m.utilisation) == (max(position.worst_case_loss, ZERO) / limit).quantize(
            Decimal("0.000001")
        )
    assert Decimal(response.totals.unhedged_exposure) == total == RiskTotals.get_by_id(1).unhedged_exposure
    assert Decimal(response.totals.hedged_notional) == sum((v[1] for v in expected.values()), ZERO)
    assert Decimal(response.totals.unhedged_notional) == sum((v[2] for v in expected.values()), ZERO)
    assert response.totals.limit == "10000"
    assert response.as_of_event_id == HedgeEvent.select().order_by(HedgeEvent.id.desc()).get().id
    assert response.breaker_state == types_pb2.BREAKER_STATE_ACTIVE


def test_get_exposure_filters_markets_and_names_an_unknown_one(live):
    live.stub.PlaceOrder(order_request(MARKETS[0], types_pb2.SIDE_BUY, "10"), timeout=10)
    only = live.stub.GetExposure(
        pb.GetExposureRequest(markets=[types_pb2.MarketRef(event_id=MARKETS[1], outcome="YES")]), timeout=10
    )
    assert [m.market.event_id for m in only.markets] == [MARKETS[1]]
    assert only.markets[0].user_shares == "0"
    with pytest.raises(grpc.RpcError) as caught:
        live.stub.GetExposure(
            pb.GetExposureRequest(markets=[types_pb2.MarketRef(event_id="no-such", outcome="YES")]),
            timeout=10,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
