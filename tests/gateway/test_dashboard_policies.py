"""The dashboard per hedge policy over real HTTP: a flow through a per_order market and a netted one,
every figure recomputed here from what was sent, what the service answered and the simulator's
ledger; the exposure series against risk snapshots written by hand at chosen instants; bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from gateway.policy_figures import spans
from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.risk import snapshots
from server.store import mappings as mapping_store
from server.store.models import BookHedge, RiskSnapshot, UserOrder
from tests.harness import make_netted, order_request, wait_until

PER_ORDER = "btc-above-150k-dec-31-2026"  # fee 0.07, asks 0.35 x 2400
NETTED = "gpt-release-q1-2027"  # fee 0.04, asks 0.73 x 650
OTHER = "fed-cut-december-2026"

POLICIES = """
query($period: Period, $range: TimeRangeInput, $policy: String, $buckets: Int!) {
  dashboard(period: $period, range: $range) {
    policies(policy: $policy, buckets: $buckets) {
      policy venueOrders fees
      orders { orders accepted rejected volume shares }
      unhedgedExposure { from to snapshots last peak }
    }
  }
}
"""


def _venue_fee(sim: Any, venue_order_id: str) -> Decimal:
    return sum(
        (Decimal(str(t["fee"])) for t in sim.exchange.trades() if t["taker_order_id"] == venue_order_id),
        Decimal(0),
    )


def test_each_policy_shows_its_orders_venue_orders_fees_and_exposure(pg_db, mappings, sim, live, viewer):
    make_netted(pg_db, live, mappings[NETTED], hedgeMinShares="20", hedgeMaxDelayMs="100")
    rebalancer = live.runtime.rebalancer
    live.call(rebalancer._periodic.stop())  # its passes run by hand below, between orders

    def place(slug: str, side: int, size: str) -> Any:
        return live.stub.PlaceOrder(order_request(slug, side, size), timeout=10)

    per_order = place(PER_ORDER, types_pb2.SIDE_BUY, "100")
    # The book thins after the service read it: this order's FOK hedge fails and leaves exposure.
    market = next(m for m in sim.exchange.markets if m.slug == PER_ORDER)
    sim.exchange.set_book(market.yes_token_id, bids=[("0.33", "600")], asks=[("0.35", "40")])
    unhedged = place(PER_ORDER, types_pb2.SIDE_BUY, "100")
    too_big = place(PER_ORDER, types_pb2.SIDE_BUY, "5000")  # beyond maxPositionSize (1000)
    buy = place(NETTED, types_pb2.SIDE_BUY, "8")
    sell = place(NETTED, types_pb2.SIDE_SELL, "8")  # nets the buy: no venue order
    alone = place(NETTED, types_pb2.SIDE_BUY, "8")
    too_small = place(NETTED, types_pb2.SIDE_BUY, "0.5")  # below platformMinShares (1)
    assert per_order.hedge_status == types_pb2.HEDGE_STATUS_HEDGED, per_order.message
    assert too_big.status == too_small.status == types_pb2.ORDER_STATUS_REJECTED
    assert buy.status == sell.status == alone.status == types_pb2.ORDER_STATUS_ACCEPTED
    # 8 shares, below hedgeMinShares: hedged once they have waited hedgeMaxDelayMs.
    wait_until(lambda: live.call(rebalancer.run_once(now_slow=True)) == 1, message="the residual hedged")
    (book,) = BookHedge.select()
    assert (book.side, book.size, book.status) == ("BUY", Decimal(8), "hedged")
    # Below hedgeMinShares and no pass after it: it waits, exposed.
    waiting = place(NETTED, types_pb2.SIDE_BUY, "15")
    assert unhedged.hedge_status == types_pb2.HEDGE_STATUS_UNHEDGED, unhedged.message
    assert waiting.status == types_pb2.ORDER_STATUS_ACCEPTED
    with pg_db.atomic():
        snapshots.write(pg_db, "test")

    (hedge,) = live.stub.GetOrder(pb.GetOrderRequest(order_id=per_order.order_id), timeout=5).hedges
    (failed,) = live.stub.GetOrder(pb.GetOrderRequest(order_id=unhedged.order_id), timeout=5).hedges
    assert _venue_fee(sim, failed.venue_order_id) == 0
    for venue_order_id in (hedge.venue_order_id, failed.venue_order_id, book.venue_order_id):
        assert sim.exchange.post_count(venue_order_id) == 1  # three venue orders, each posted once
    per_order_fee, netted_fee = _venue_fee(sim, hedge.venue_order_id), _venue_fee(sim, book.venue_order_id)
    assert per_order_fee > 0 and netted_fee > 0
    worst = {
        m.market.event_id: max(Decimal(m.worst_case_loss), Decimal(0))
        for m in live.stub.GetExposure(pb.GetExposureRequest(), timeout=5).markets
    }

    data = viewer(POLICIES, period="H1", buckets=1)["dashboard"]["policies"]
    assert [p["policy"] for p in data] == ["per_order", "netted"]
    mine, theirs = data
    price, price_unhedged = Decimal(per_order.executed_price), Decimal(unhedged.executed_price)
    assert {k: Decimal(v) for k, v in mine["orders"].items()} == {
        "orders": 3,
        "accepted": 2,
        "rejected": 1,
        "volume": (price + price_unhedged) * 100,
        "shares": 200,
    }
    assert (mine["venueOrders"], Decimal(mine["fees"])) == (2, per_order_fee)
    volume = sum((Decimal(r.executed_price) * 8 for r in (buy, sell, alone)), Decimal(0))
    assert {k: Decimal(v) for k, v in theirs["orders"].items()} == {
        "orders": 5,
        "accepted": 4,
        "rejected": 1,
        "volume": volume + Decimal(waiting.executed_price) * 15,
        "shares": 39,
    }
    assert (theirs["venueOrders"], Decimal(theirs["fees"])) == (1, netted_fee)
    # One span, the hour: its last snapshot is the one written above (the service's own, taken when
    # it started, saw no position, so the peak is that one too).
    for figures, slug in ((mine, PER_ORDER), (theirs, NETTED)):
        (point,) = figures["unhedgedExposure"]
        assert point["snapshots"] >= 1
        assert Decimal(point["last"]) == Decimal(point["peak"]) == worst[slug] > 0, (slug, point, worst)

    # `policy` picks one; the stored orders say which policy each was booked under.
    (only,) = viewer(POLICIES, period="H1", policy="netted", buckets=1)["dashboard"]["policies"]
    # (Each query's hour ends at its own now: the spans' instants differ.)
    without_instants = [{"last": p["last"], "peak": p["peak"]} for p in theirs["unhedgedExposure"]]
    assert only == {**theirs, "unhedgedExposure": only["unhedgedExposure"]}
    assert [{"last": p["last"], "peak": p["peak"]} for p in only["unhedgedExposure"]] == without_instants
    policy_of = {o.id: o.hedge_policy for o in UserOrder.select()}
    assert policy_of[too_small.order_id] == policy_of[alone.order_id] == "netted"
    assert policy_of[too_big.order_id] == policy_of[per_order.order_id] == "per_order"


def _snapshot(at: datetime, markets: list[tuple[str, str, str | None]]) -> None:
    """A risk snapshot at `at` of (event id, worst-case loss, policy or None: recorded none) markets."""
    rows = [
        {"event_id": e, "outcome": "YES", "worst_case_loss": loss, **({"hedge_policy": p} if p else {})}
        for e, loss, p in markets
    ]
    RiskSnapshot.create(
        taken_at=at,
        reason="test",
        unhedged_exposure=Decimal(0),
        exposure_limit=Decimal(0),
        spread_captured=Decimal(0),
        fees=Decimal(0),
        net_profit=Decimal(0),
        pending_hedges=0,
        unknown_hedges=0,
        breaker_state="active",
        per_market=json.dumps(rows),
    )


def test_the_exposure_series_buckets_snapshots_by_their_instant(pg_db, mappings, gateway, viewer):
    # OTHER is netted now; a snapshot that recorded no policy counts it under its policy now.
    mapping_store.update(pg_db, mappings[OTHER].id, author="test", hedge_overrides={"hedgePolicy": "netted"})
    t0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    minute = timedelta(minutes=1)
    _snapshot(t0 - timedelta(microseconds=1), [("a", "1000", "per_order")])  # before the range
    _snapshot(t0, [("a", "2", "per_order")])  # the range's first instant
    _snapshot(t0 + minute, [("a", "10", "per_order"), ("b", "4", "netted")])
    _snapshot(t0 + 15 * minute - timedelta(microseconds=1), [("a", "-3", "per_order"), ("b", "6", "netted")])
    _snapshot(t0 + 15 * minute, [("a", "1.25", "per_order")])  # the second span's first instant
    _snapshot(t0 + 50 * minute, [("a", "7", "per_order"), (OTHER, "2.5", None), (PER_ORDER, "0.5", None)])
    _snapshot(t0 + 60 * minute, [("a", "1000", "per_order")])  # the range's end: excluded

    window = {"from": t0.isoformat(), "to": (t0 + 60 * minute).isoformat()}
    per_order, netted = viewer(POLICIES, range=window, buckets=4)["dashboard"]["policies"]

    def span(i: int, count: int, last: str | None, peak: str | None) -> dict[str, Any]:
        return {
            "from": (t0 + 15 * i * minute).isoformat(),
            "to": (t0 + 15 * (i + 1) * minute).isoformat(),
            "snapshots": count,
            "last": last,
            "peak": peak,
        }

    # Per span: the last snapshot's sum (a negative loss counts as 0) and the largest sum.
    assert per_order["unhedgedExposure"] == [
        span(0, 3, "0", "10"),
        span(1, 1, "1.25", "1.25"),
        span(2, 0, None, None),
        span(3, 1, "7.5", "7.5"),  # 7 + 0.5 of PER_ORDER, which recorded no policy and is per_order now
    ]
    # A snapshot with none of the policy's markets counts as 0 for it.
    assert netted["unhedgedExposure"] == [
        span(0, 3, "6", "6"),
        span(1, 1, "0", "0"),
        span(2, 0, None, None),
        span(3, 1, "2.5", "2.5"),
    ]


def test_spans_start_where_the_sql_puts_their_first_instant():
    t = datetime(2026, 1, 1, tzinfo=UTC)
    us = timedelta(microseconds=1)
    # 10 us in 3: floor(u x 3 / 10) is 0 for u = 0..3, 1 for 4..6, 2 for 7..9.
    assert spans(t, t + 10 * us, 3) == [(t, t + 4 * us), (t + 4 * us, t + 7 * us), (t + 7 * us, t + 10 * us)]
    assert spans(t, t + 10 * us, 1) == [(t, t + 10 * us)]


def _refused(response: Any, field: str) -> str:
    body = response.json()
    assert body["data"] is None, body
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "INVALID_ARGUMENT", "field": field}, error
    return error["message"]


def test_an_unknown_policy_or_bucket_count_or_period_is_a_clear_error(viewer):
    message = _refused(viewer.post(POLICIES, {"period": "H1", "policy": "hedged", "buckets": 1}), "policy")
    assert "per_order, netted" in message
    for buckets in (0, 97):
        _refused(viewer.post(POLICIES, {"period": "H1", "buckets": buckets}), "buckets")
    body = viewer.post(POLICIES, {"period": "H2", "buckets": 1}).json()
    assert body.get("data") is None
    (error,) = body["errors"]
    assert "H2" in error["message"] and "Period" in error["message"], error
