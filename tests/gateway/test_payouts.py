"""payouts as a relay connection (by market and account, every row once) and the dashboard's realised
against mark-to-market P&L."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from server.domain.market_state import MarketState
from server.store import market_states
from server.store.models import MarketPayout, UserOrder
from tests.gateway import synthetic

PAYOUTS = """
query Payouts($filter: PayoutFilter, $first: Int, $after: String) {
  payouts(filter: $filter, first: $first, after: $after) {
    edges { node { id eventId outcome accountId shares payout settledAt } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
PNL = "{ dashboard { pnl { realised markToMarket markets { eventId winningLeg realised spread fees "
PNL += "slippage unhedged redemption } } } }"


def _walk(client, **variables) -> list[dict]:
    seen, after = [], None
    while True:
        page = client(PAYOUTS, after=after, **variables)["payouts"]
        seen.extend(e["node"] for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


def _owed(mapping) -> dict[str, Decimal]:
    """Each account's net shares over its accepted orders in `mapping`, recounted from the rows."""
    held: dict[str, Decimal] = {}
    for o in UserOrder.select().where((UserOrder.mapping == mapping.id) & (UserOrder.status == "accepted")):
        held[o.account_id] = held.get(o.account_id, Decimal(0)) + (o.size if o.side == "BUY" else -o.size)
    return held


def test_payouts_page_by_market_and_account_and_the_dashboard_splits_pnl(pg_db, gateway, viewer):
    maps = synthetic.create_mappings(pg_db, 3)
    synthetic.insert(pg_db, synthetic.rows(maps, 300, datetime.now(UTC), timedelta(hours=2)))
    yes_won, no_won, still_open = maps
    market_states.record(pg_db, yes_won.id, MarketState.RESOLVED, yes_won.yes_token_id)
    market_states.record(pg_db, no_won.id, MarketState.RESOLVED, no_won.no_token_id)

    every = _walk(viewer, first=7)
    assert len(every) == MarketPayout.select().count() == len(_owed(yes_won)) + len(_owed(no_won))
    assert len({p["id"] for p in every}) == len(every)
    by_market = _walk(viewer, first=5, filter={"market": {"eventId": yes_won.event_id}})
    assert {p["accountId"]: Decimal(p["payout"]) for p in by_market} == _owed(yes_won)
    lost = _walk(viewer, filter={"market": {"eventId": no_won.event_id}})
    assert {p["accountId"]: (Decimal(p["shares"]), Decimal(p["payout"])) for p in lost} == {
        a: (n, Decimal(0)) for a, n in _owed(no_won).items()
    }
    account = by_market[0]["accountId"]
    mine = _walk(viewer, filter={"accountId": account})
    assert {p["eventId"] for p in mine} <= {yes_won.event_id, no_won.event_id}
    assert all(p["accountId"] == account for p in mine)
    assert not _walk(viewer, filter={"market": {"eventId": still_open.event_id}})

    pnl = viewer(PNL)["dashboard"]["pnl"]
    assert [(m["eventId"], m["winningLeg"]) for m in pnl["markets"]] == [
        (yes_won.event_id, "YES"),
        (no_won.event_id, "NO"),
    ]
    for m in pnl["markets"]:
        parts = Decimal(m["spread"]) - Decimal(m["fees"]) - Decimal(m["slippage"])
        assert parts + Decimal(m["unhedged"]) + Decimal(m["redemption"]) == Decimal(m["realised"])
    assert Decimal(pnl["realised"]) == sum(Decimal(m["realised"]) for m in pnl["markets"])


def test_bad_payout_arguments_are_typed_errors(pg_db, gateway, viewer):
    for variables, field in (({"first": 0}, "first"), ({"after": "not-a-cursor"}, "after")):
        body = viewer.post(PAYOUTS, variables).json()
        (error,) = body["errors"]
        assert error["extensions"] == {"code": "INVALID_ARGUMENT", "field": field}, error
