"""The dashboard per hedge policy (issue 18): for `per_order` and `netted`, over a period, the user
orders booked, the venue orders made to hedge them, their taker fees, and the unhedged exposure over
time. Computed exactly in SQL over NUMERIC columns, from rows that already exist:

* a user order counts under the policy it was booked under (`user_order.hedge_policy`, migration
  0017); an order booked before that column holds NULL and counts as `netted` when a book hedge's
  allocation covers it, else `per_order`;
* venue orders and fees: `per_order`'s are the per-order hedges (`hedge_position`, live or paper as
  the dashboard asks), `netted`'s the rebalancer's book hedges (`book_hedge`; live only, as the
  rebalancer never runs in paper mode), each counted when booked, whatever became of it;
* unhedged exposure over time: the period cut into `buckets` equal spans, each reading the risk
  snapshots taken in it (`snapshotIntervalSeconds` apart); a snapshot's exposure of a policy is the
  sum of its markets' worst-case losses floored at zero, as the total's counter sums them. A bucket
  gives the exposure of its last snapshot and the peak over its snapshots, null when it holds none.
  A market's policy is the one its snapshot recorded; older snapshots recorded none and use the
  market's policy now."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise

import peewee

from gateway.dashboard import ZERO, OrderFigures
from server.domain.config_schema import KEYS, HedgeSettings
from server.domain.hedge_policy import effective
from server.errors import InvalidArgument
from server.store.mappings import policy_overrides
from server.store.models import HedgeConfig, PolymarketMarketMapping

POLICIES: tuple[str, ...] = KEYS["hedgePolicy"].choices
DEFAULT_BUCKETS = 12
MAX_BUCKETS = 96


@dataclass(frozen=True)
class ExposurePoint:
    """The unhedged exposure of one policy in [start, end): `last` from the span's last snapshot,
    `peak` the largest of its snapshots; both None when no snapshot was taken in it."""

    start: datetime
    end: datetime
    snapshots: int
    last: Decimal | None
    peak: Decimal | None


@dataclass(frozen=True)
class PolicyFigures:
    policy: str
    orders: OrderFigures
    venue_orders: int
    fees: Decimal
    exposure: list[ExposurePoint]


def check(policy: str | None, buckets: int) -> None:
    """Raises `InvalidArgument` naming `policy` or `buckets` when it is not one the dashboard knows."""
    if policy is not None and policy not in POLICIES:
        raise InvalidArgument("policy", "must be one of " + ", ".join(POLICIES))
    if not 1 <= buckets <= MAX_BUCKETS:
        raise InvalidArgument("buckets", f"must be from 1 to {MAX_BUCKETS}")


def spans(start: datetime, end: datetime, buckets: int) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into `buckets` spans as EXPOSURE_SQL buckets instants: span i starts at the
    first whole microsecond u with floor(u x buckets / width) = i, that is ceil(i x width / buckets)."""
    width = _microseconds(end - start)
    edges = [start + timedelta(microseconds=-(-i * width // buckets)) for i in range(buckets)] + [end]
    return list(pairwise(edges))


# --- SQL ---------------------------------------------------------------------------------------------

ORDERS_SQL = """
SELECT COALESCE(o.hedge_policy, CASE WHEN EXISTS (SELECT 1 FROM hedge_allocation a WHERE a.order_id = o.id)
                                     THEN 'netted' ELSE 'per_order' END) AS policy,
       count(*), count(*) FILTER (WHERE o.status = 'accepted'), count(*) FILTER (WHERE o.status = 'rejected'),
       COALESCE(sum(o.notional) FILTER (WHERE o.status = 'accepted'), 0),
       COALESCE(sum(o.size) FILTER (WHERE o.status = 'accepted'), 0)
FROM user_order o
WHERE o.created_at >= %(start)s AND o.created_at < %(end)s
GROUP BY 1
"""

VENUE_SQL = """
SELECT 'per_order', count(*), COALESCE(sum(fee), 0) FROM hedge_position
WHERE created_at >= %(start)s AND created_at < %(end)s AND is_paper = %(paper)s
UNION ALL
SELECT 'netted', count(*), COALESCE(sum(fee), 0) FROM book_hedge
WHERE created_at >= %(start)s AND created_at < %(end)s AND NOT %(paper)s
"""

# Each snapshot's exposure per policy, then per (policy, bucket): snapshots, peak and the last one's.
# The bucket of an instant t is floor((t - start) x buckets / (end - start)), in whole microseconds.
EXPOSURE_SQL = """
WITH s AS (
    SELECT r.id, r.taken_at, r.per_market::jsonb AS markets,
           (round(EXTRACT(EPOCH FROM r.taken_at - %(start)s) * 1000000)::bigint * %(buckets)s)
               / %(width)s AS bucket
    FROM risk_snapshot r
    WHERE r.taken_at >= %(start)s AND r.taken_at < %(end)s
), p AS (
    SELECT s.id, s.taken_at, s.bucket, policies.policy,
           COALESCE((SELECT sum(GREATEST((m ->> 'worst_case_loss')::numeric, 0))
                     FROM jsonb_array_elements(s.markets) m
                     WHERE COALESCE(m ->> 'hedge_policy',
                                    %(now)s::jsonb ->> ((m ->> 'event_id') || '/' || (m ->> 'outcome')),
                                    'per_order') = policies.policy), 0) AS exposure
    FROM s CROSS JOIN unnest(%(policies)s::text[]) AS policies (policy)
)
SELECT policy, bucket, count(*), max(exposure) AS peak,
       (array_agg(exposure ORDER BY taken_at DESC, id DESC))[1] AS last
FROM p
GROUP BY policy, bucket
"""


def _microseconds(span: timedelta) -> int:
    return span // timedelta(microseconds=1)


def _policies_now() -> dict[str, str]:
    """Each market's policy now ("event_id/outcome" -> policy): for snapshots that recorded none."""
    settings = HedgeSettings.from_values(
        {row.key: row.value for row in HedgeConfig.select(HedgeConfig.key, HedgeConfig.value)}
    )
    return {
        f"{m.event_id}/{m.outcome}": effective(settings, policy_overrides(m)).hedge_policy
        for m in PolymarketMarketMapping.select()
    }


def compute(
    database: peewee.Database,
    start: datetime,
    end: datetime,
    *,
    paper: bool = False,
    policy: str | None = None,
    buckets: int = DEFAULT_BUCKETS,
) -> list[PolicyFigures]:
    """Figures of each policy (only `policy` when given) over [start, end), in `POLICIES` order.
    Bad `policy` or `buckets`: `InvalidArgument` before any read. One transaction (call from a
    database thread)."""
    check(policy, buckets)
    wanted = [p for p in POLICIES if policy in (None, p)]
    params = {
        "start": start,
        "end": end,
        "paper": paper,
        "buckets": buckets,
        "width": max(_microseconds(end - start), 1),
        "policies": wanted,
    }
    with database.atomic():
        params["now"] = json.dumps(_policies_now())
        orders = {
            row[0]: OrderFigures(int(row[1]), int(row[2]), int(row[3]), Decimal(row[4]), Decimal(row[5]))
            for row in database.execute_sql(ORDERS_SQL, params).fetchall()
        }
        venue = {row[0]: (int(row[1]), Decimal(row[2])) for row in database.execute_sql(VENUE_SQL, params)}
        points = {
            (row[0], int(row[1])): (int(row[2]), Decimal(row[4]), Decimal(row[3]))
            for row in database.execute_sql(EXPOSURE_SQL, params).fetchall()
        }
    cut = spans(start, end, buckets)
    return [
        PolicyFigures(
            policy=p,
            orders=orders.get(p, OrderFigures(0, 0, 0, ZERO, ZERO)),
            venue_orders=venue.get(p, (0, ZERO))[0],
            fees=venue.get(p, (0, ZERO))[1],
            exposure=[
                ExposurePoint(a, b, *points.get((p, i), (0, None, None))) for i, (a, b) in enumerate(cut)
            ],
        )
        for p in wanted
    ]
