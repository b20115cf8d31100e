"""orders and hedges as relay connections: filtered, newest first, bounded pages, stable cursors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.store.models import HedgePosition, UserOrder
from tests.gateway import synthetic

ORDERS = """
query Orders($filter: OrderFilter, $first: Int, $after: String) {
  orders(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id status eventId createdAt hedges { id status } } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""
HEDGES = """
query Hedges($filter: HedgeFilter, $first: Int, $after: String) {
  hedges(filter: $filter, first: $first, after: $after) {
    edges { node { id status createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def _walk(client, query: str, name: str, **variables) -> list[dict]:
    seen, after = [], None
    while True:
        page = client(query, after=after, **variables)[name]
        seen.extend(e["node"] for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


def test_pages_cover_every_row_once_newest_first_with_filters(pg_db, gateway, viewer):
    now = datetime.now(UTC)
    maps = synthetic.create_mappings(pg_db, 3)
    synthetic.insert(pg_db, synthetic.rows(maps, 450, now, timedelta(hours=5)))

    orders = _walk(viewer, ORDERS, "orders", first=200)
    assert len(orders) == UserOrder.select().count() == 450
    assert len({o["id"] for o in orders}) == 450
    assert [o["createdAt"] for o in orders] == sorted((o["createdAt"] for o in orders), reverse=True)
    with_hedges = [o for o in orders if o["hedges"]]
    assert len(with_hedges) == HedgePosition.select().count()

    rejected = _walk(
        viewer, ORDERS, "orders", first=50, filter={"status": "REJECTED", "market": {"eventId": "event-1"}}
    )
    expected = (
        UserOrder.select().where((UserOrder.status == "rejected") & (UserOrder.event_id == "event-1")).count()
    )
    assert len(rejected) == expected > 0
    assert {(o["status"], o["eventId"]) for o in rejected} == {("REJECTED", "event-1")}

    since = (now - timedelta(hours=1)).isoformat()
    failed = _walk(
        viewer, HEDGES, "hedges", first=7, filter={"status": ["FAILED", "PARTIAL"], "range": {"from": since}}
    )
    cut = now - timedelta(hours=1)
    expected_ids = {
        h.id
        for h in HedgePosition.select().where(
            HedgePosition.status.in_(["failed", "partial"]) & (HedgePosition.created_at >= cut)
        )
    }
    assert {h["id"] for h in failed} == expected_ids and expected_ids


def test_page_size_and_cursor_are_validated(gateway, viewer):
    body = viewer.post(ORDERS, {"first": 201}).json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "INVALID_ARGUMENT", "field": "first"}
    body = viewer.post(ORDERS, {"after": "not-a-cursor"}).json()
    assert body["errors"][0]["extensions"]["field"] == "after"
    body = viewer.post(
        ORDERS,
        {"filter": {"range": {"from": "2026-01-02T00:00:00+00:00", "to": "2026-01-01T00:00:00+00:00"}}},
    ).json()
    assert body["errors"][0]["extensions"]["field"] == "range"
