"""The dashboard against orders placed over gRPC: every figure is recomputed here from what was sent,
what the service answered and the simulator's ledger (fills, prices, fees)."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.store.models import HedgePosition

FEE_MARKET = "btc-above-150k-dec-31-2026"  # fee 0.07, asks 0.35 x 2400
NO_FEE = "fed-cut-december-2026"  # no fee, asks 0.63 x 1700
THIN = "gpt-release-q1-2027"  # fee 0.04, asks 0.73 x 650

DASHBOARD = """
query Dashboard($period: Period, $range: TimeRangeInput) {
  dashboard(period: $period, range: $range) {
    from to paper
    orders { orders accepted rejected volume shares }
    hedges { ...figures }
    exposure { unhedgedExposure limit utilisation pendingHedges unknownHedges }
    recentFailures { hedgeId orderId eventId outcome status size filledSize failureReason }
    markets { eventId outcome orders { orders accepted rejected volume shares } hedges { ...figures } }
  }
}
fragment figures on HedgeFigures {
  hedges successRate filledShares hedgeVolume spreadCaptured fees netProfit
  byStatus { status count }
  latencyMs { count average p50 p90 p95 p99 max }
  slippageBps { count average p50 p90 p95 p99 max }
}
"""


def _place(stub, event_id: str, size: str) -> pb.PlaceOrderResponse:
    return stub.PlaceOrder(
        pb.PlaceOrderRequest(
            request_id=uuid.uuid4().hex,
            account_id="user-1",
            market=types_pb2.MarketRef(event_id=event_id, outcome="YES"),
            side=types_pb2.SIDE_BUY,
            size=size,
        ),
        timeout=10,
    )


def _quote(stub, event_id: str, size: str) -> None:
    stub.GetQuote(
        pb.GetQuoteRequest(
            account_id="user-1",
            market=types_pb2.MarketRef(event_id=event_id, outcome="YES"),
            side=types_pb2.SIDE_BUY,
            size=size,
        ),
        timeout=5,
    )


def _rank(values: list[Decimal], fraction: float) -> Decimal:
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)), 1) - 1]


def _dist(values: list[Decimal], places: str) -> dict[str, Decimal | int | None]:
    if not values:
        return {"count": 0, "average": None, "p50": None, "p90": None, "p95": None, "p99": None, "max": None}
    average = (sum(values, Decimal(0)) / len(values)).quantize(Decimal(places), rounding=ROUND_HALF_UP)
    return {
        "count": len(values),
        "average": average,
        "p50": _rank(values, 0.5),
        "p90": _rank(values, 0.9),
        "p95": _rank(values, 0.95),
        "p99": _rank(values, 0.99),
        "max": max(values),
    }


def _decimals(d: dict) -> dict:
    return {k: (Decimal(v) if isinstance(v, str) else v) for k, v in d.items()}


def test_each_dashboard_figure_equals_what_the_orders_produced(live, sim, gateway, viewer):
    fee_market = next(m for m in sim.exchange.markets if m.slug == FEE_MARKET)
    thin = next(m for m in sim.exchange.markets if m.slug == THIN)
    first = _place(live.stub, FEE_MARKET, "100")
    second = _place(live.stub, NO_FEE, "50")
    # The book thins after the service read it: the FOK hedge cannot fill and fails.
    _quote(live.stub, THIN, "100")
    sim.exchange.set_book(thin.yes_token_id, bids=[("0.71", "600")], asks=[("0.73", "40")])
    third = _place(live.stub, THIN, "100")
    rejected = _place(live.stub, FEE_MARKET, "5000")  # beyond maxPositionSize (1000)

    assert first.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, first.message
    assert second.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, second.message
    assert third.status == types_pb2.ORDER_STATUS_ACCEPTED
    assert third.hedge_status == types_pb2.HEDGE_STATUS_UNHEDGED, third.message
    assert rejected.status == types_pb2.ORDER_STATUS_REJECTED
    accepted = {FEE_MARKET: (first, "100"), NO_FEE: (second, "50"), THIN: (third, "100")}

    # Ground truth per hedge from the simulator: shares bought, USDC paid and fees of its trades.
    venue: dict[str, tuple[Decimal, Decimal, Decimal]] = {}
    for slug, (placed, _) in accepted.items():
        (hedge,) = live.stub.GetOrder(pb.GetOrderRequest(order_id=placed.order_id), timeout=5).hedges
        trades = [t for t in sim.exchange.trades() if t["taker_order_id"] == hedge.venue_order_id]
        shares = sum((Decimal(str(t["size"])) for t in trades), Decimal(0))
        # A FOK BUY spends a USDC budget: what it paid is the order's `spent`, not size x price.
        truth = sim.exchange.order(hedge.venue_order_id)
        cost = Decimal(str(truth["spent"])) if truth and shares else Decimal(0)
        fee = sum((Decimal(str(t["fee"])) for t in trades), Decimal(0))
        venue[slug] = (shares, cost, fee)
    assert venue[THIN][0] == 0 and venue[FEE_MARKET][0] >= 100 and venue[NO_FEE][0] >= 50

    def price(slug: str) -> Decimal:
        return Decimal(accepted[slug][0].executed_price)

    # Profit counts the user's shares only: the extra shares a BUY budget bought are inventory and
    # take their part of the cost and fee with them.
    def users(slug: str) -> Decimal:
        return min(venue[slug][0], Decimal(accepted[slug][1]))

    def spread(slug: str) -> Decimal:
        shares, cost, _ = venue[slug]
        return price(slug) * users(slug) - cost * users(slug) / shares if shares else Decimal(0)

    def net(slug: str) -> Decimal:
        shares, _, fee = venue[slug]
        return spread(slug) - fee * users(slug) / shares if shares else Decimal(0)

    def slippage(slug: str) -> Decimal:
        shares, cost, _ = venue[slug]
        reference = Decimal(accepted[slug][0].quote.reference_price)
        return ((cost / shares - reference) / reference * 10_000).quantize(Decimal("0.000001"), ROUND_HALF_UP)

    # Latency is the service's own record: resolved_at - submitted_at of each hedge row.
    latencies = [
        Decimal((h.resolved_at - h.submitted_at) // timedelta(microseconds=1)) / 1000
        for h in HedgePosition.select()
    ]

    data = viewer(DASHBOARD, period="H1")["dashboard"]
    assert data["paper"] is False

    volume = sum((price(s) * Decimal(size) for s, (_, size) in accepted.items()), Decimal(0))
    assert _decimals(data["orders"]) == {
        "orders": 4,
        "accepted": 3,
        "rejected": 1,
        "volume": volume,
        "shares": Decimal(250),
    }

    h = data["hedges"]
    counts = {row["status"]: row["count"] for row in h["byStatus"]}
    assert counts == {"PENDING": 0, "UNKNOWN": 0, "HEDGED": 2, "PARTIAL": 0, "FAILED": 1, "PAPER": 0}
    assert h["hedges"] == 3
    assert Decimal(h["successRate"]) == Decimal("0.6667")
    assert Decimal(h["filledShares"]) == sum(v[0] for v in venue.values())
    assert Decimal(h["hedgeVolume"]) == sum(v[1] for v in venue.values())
    assert Decimal(h["fees"]) == sum(v[2] for v in venue.values())
    assert Decimal(h["spreadCaptured"]) == sum(spread(s) for s in accepted)
    assert Decimal(h["netProfit"]) == sum(net(s) for s in accepted)
    assert _decimals(h["latencyMs"]) == _dist(latencies, "0.001")
    assert _decimals(h["slippageBps"]) == _dist([slippage(FEE_MARKET), slippage(NO_FEE)], "0.0001")

    # Exposure now: each market's worst-case loss at resolution, floored at zero, summed.
    def worst(slug: str) -> Decimal:
        shares, cost, fee = venue[slug]
        size = Decimal(accepted[slug][1])
        cash = size * price(slug) - cost - fee
        return max(size - shares - cash, -cash, Decimal(0))

    assert Decimal(data["exposure"]["unhedgedExposure"]) == sum(worst(s) for s in accepted)
    assert Decimal(data["exposure"]["unhedgedExposure"]) == Decimal(100) - 100 * price(THIN)
    assert Decimal(data["exposure"]["limit"]) == Decimal(10000)

    (failure,) = data["recentFailures"]
    failed_hedge = live.stub.GetOrder(pb.GetOrderRequest(order_id=third.order_id), timeout=5).hedges[0]
    assert failure["hedgeId"] == failed_hedge.hedge_id
    assert (failure["eventId"], failure["status"], Decimal(failure["filledSize"])) == (THIN, "FAILED", 0)
    assert "FOK" in failure["failureReason"]

    by_market = {m["eventId"]: m for m in data["markets"]}
    assert set(by_market) == {FEE_MARKET, NO_FEE, THIN}
    fee_row = by_market[FEE_MARKET]
    assert _decimals(fee_row["orders"]) == {
        "orders": 2,
        "accepted": 1,
        "rejected": 1,
        "volume": price(FEE_MARKET) * 100,
        "shares": Decimal(100),
    }
    assert Decimal(fee_row["hedges"]["spreadCaptured"]) == spread(FEE_MARKET)
    assert Decimal(fee_row["hedges"]["fees"]) == venue[FEE_MARKET][2] > 0
    assert fee_market.fee_rate > 0
    assert by_market[THIN]["hedges"]["successRate"] == "0.0000"
    assert by_market[NO_FEE]["hedges"]["successRate"] == "1.0000"

    # An explicit range that ends before the orders sees none of them.
    before = datetime.now(UTC) - timedelta(days=2)
    empty = viewer(
        DASHBOARD, range={"from": before.isoformat(), "to": (before + timedelta(days=1)).isoformat()}
    )
    assert empty["dashboard"]["orders"]["orders"] == 0
    assert empty["dashboard"]["hedges"]["hedges"] == 0
    assert empty["dashboard"]["hedges"]["successRate"] is None


def test_graphql_exposure_is_what_get_exposure_reports(live, sim, gateway, viewer):
    _place(live.stub, FEE_MARKET, "100")
    _place(live.stub, NO_FEE, "50")
    answer = viewer(
        "{ exposure { asOfEventId totals { unhedgedExposure limit utilisation hedgedNotional unhedgedNotional"
        " pendingHedges unknownHedges } markets { eventId outcome worstCaseLoss limit utilisation"
        " hedgedNotional unhedgedNotional userShares hedgeYesShares } } }"
    )["exposure"]
    headline = viewer(
        "{ dashboard { exposure { unhedgedExposure limit utilisation pendingHedges unknownHedges } } }"
    )["dashboard"]["exposure"]
    grpc = live.stub.GetExposure(pb.GetExposureRequest(), timeout=10)
    t = answer["totals"]
    assert headline == {k: t[k] for k in headline}
    assert (t["unhedgedExposure"], t["limit"], t["utilisation"]) == (
        grpc.totals.unhedged_exposure,
        grpc.totals.limit,
        grpc.totals.utilisation,
    )
    assert (t["hedgedNotional"], t["unhedgedNotional"]) == (
        grpc.totals.hedged_notional,
        grpc.totals.unhedged_notional,
    )
    listed = {(m["eventId"], m["outcome"]): m for m in answer["markets"]}
    assert {(FEE_MARKET, "YES"), (NO_FEE, "YES")} <= set(listed)
    for m in grpc.markets:
        mine = listed[(m.market.event_id, m.market.outcome)]
        assert Decimal(mine["worstCaseLoss"]) == Decimal(m.worst_case_loss)
        assert Decimal(mine["utilisation"]) == Decimal(m.utilisation)
        assert Decimal(mine["userShares"]) == Decimal(m.user_shares) != 0
        assert Decimal(mine["hedgeYesShares"]) == Decimal(m.hedge_yes_shares)
        assert Decimal(mine["hedgedNotional"]) == Decimal(m.hedged_notional)
        assert (mine["limit"], mine["unhedgedNotional"]) == (m.limit, m.unhedged_notional)
