"""The GraphQL object types and their conversion from the store's rows (one place each)."""

from __future__ import annotations

import collections.abc
import json
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Generic, TypeVar

import strawberry
from strawberry import relay

from gateway import dashboard as figures
from gateway import policy_figures
from gateway.context import Info
from gateway.errors import query_error
from gateway.payouts import Pnl
from server.domain.config_schema import ConfigKey
from server.domain.hedge import Hedge as DomainHedge
from server.domain.hedge_result import shown_fill_price
from server.domain.order import Order as DomainOrder
from server.errors import HedgingError
from server.events.feed import EventRow
from server.risk import exposure as risk
from server.risk.pnl import PnlView
from server.store.models import (
    CircuitBreaker,
    HedgeConfig,
    HedgeConfigHistory,
    PolymarketMarketMapping,
)
from server.store.models import (
    HedgeEvent as HedgeEventRow,
)
from server.store.models import (
    RiskSnapshot as RiskSnapshotRow,
)

T = TypeVar("T")


# --- enums ---------------------------------------------------------------------------------------------


@strawberry.enum(description="A named reporting period ending now.")
class Period(Enum):
    H1 = "1h"
    H24 = "24h"
    D7 = "7d"
    D30 = "30d"


@strawberry.enum(description="Whether the platform took a user's order.")
class OrderStatus(Enum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@strawberry.enum(description="The state of one hedge.")
class HedgeStatus(Enum):
    PENDING = "pending"
    UNKNOWN = "unknown"
    HEDGED = "hedged"
    PARTIAL = "partial"
    FAILED = "failed"
    PAPER = "paper"


# --- pagination ----------------------------------------------------------------------------------------


@strawberry.type(description="An item of a connection with the cursor to continue after it.")
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of items, newest first; pass pageInfo.endCursor as `after`.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: relay.PageInfo


# --- inputs --------------------------------------------------------------------------------------------


@strawberry.input(description="An explicit time range [from, to).")
class TimeRangeInput:
    from_: datetime = strawberry.field(name="from")
    to: datetime | None = None


@strawberry.input(description="One outcome of one of the platform's events.")
class MarketInput:
    event_id: str
    outcome: str = "YES"


@strawberry.input
class OrderFilter:
    status: OrderStatus | None = None
    market: MarketInput | None = None
    account_id: str | None = None
    range: TimeRangeInput | None = None


@strawberry.input(description="Which payouts: of one market, of one account, or both.")
class PayoutFilter:
    market: MarketInput | None = None
    account_id: str | None = None


@strawberry.input
class HedgeFilter:
    status: list[HedgeStatus] | None = None
    market: MarketInput | None = None
    order_id: str | None = None
    range: TimeRangeInput | None = None


# --- rows ----------------------------------------------------------------------------------------------


@strawberry.type(description="A hedge order on Polymarket for (part of) a user order.")
class Hedge:
    id: str
    order_id: str
    mapping_id: int
    parent_hedge_id: str | None
    token_id: str
    leg: str
    side: str
    size: Decimal
    limit_price: Decimal
    quoted_price: Decimal = strawberry.field(description="The reference (VWAP) price the quote used.")
    user_price: Decimal
    order_type: str
    is_paper: bool
    status: HedgeStatus
    venue_order_id: str | None
    filled_size: Decimal
    fill_cost: Decimal = strawberry.field(description="USDC paid (BUY) or received (SELL), exact.")
    fill_price: Decimal | None = strawberry.field(
        description="fillCost / filledSize to 6 decimals, for display; fillCost and filledSize are exact."
    )
    fee: Decimal
    spread_captured: Decimal = strawberry.field(
        description="Earned over the hedge's price on the user's shares only, before fees: shares a BUY "
        "hedge's budget bought beyond the order are hedge inventory at their cost."
    )
    net_profit: Decimal = strawberry.field(
        description="spreadCaptured less the user's shares' part of the fee."
    )
    failure_reason: str | None
    attempt_count: int
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    resolved_at: datetime | None
    rehedge_requested_at: datetime | None = strawberry.field(
        description="When a person asked to re-hedge this hedge's residual (retryHedge); its re-hedge "
        "is the hedge whose parentHedgeId is this one."
    )
    rehedge_requested_by: str | None = strawberry.field(description="The admin who asked (retryHedge).")
    rehedge_request_reason: str | None = strawberry.field(description="Why they asked.")
    settlement: str | None = strawberry.field(
        description="Where the fill's trades stand on chain: 'settling' until each is CONFIRMED or FAILED "
        "(a FAILED one is taken out of the fill), then 'settled'; null when there is nothing to follow."
    )

    @classmethod
    def of(cls, h: DomainHedge) -> Hedge:
        return cls(
            id=h.id,
            order_id=h.order_id,
            mapping_id=h.mapping_id,
            parent_hedge_id=h.parent_hedge_id,
            token_id=h.token_id,
            leg=h.leg.value,
            side=h.side.value,
            size=h.size,
            limit_price=h.limit_price,
            quoted_price=h.quoted_price,
            user_price=h.user_price,
            order_type=h.order_type,
            is_paper=h.is_paper,
            status=HedgeStatus(h.status.value),
            venue_order_id=h.venue_order_id,
            filled_size=h.filled_size,
            fill_cost=h.fill_cost,
            fill_price=shown_fill_price(h.fill_price),
            fee=h.fee,
            spread_captured=h.spread_captured,
            net_profit=h.net_profit,
            failure_reason=h.failure_reason,
            attempt_count=h.attempt_count,
            created_at=h.created_at,
            updated_at=h.updated_at,
            submitted_at=h.submitted_at,
            resolved_at=h.resolved_at,
            rehedge_requested_at=h.rehedge_requested_at,
            rehedge_requested_by=h.rehedge_requested_by,
            rehedge_request_reason=h.rehedge_request_reason,
            settlement=h.settlement.value if h.settlement is not None else None,
        )


@strawberry.type(description="A user's order and the hedges placed for it.")
class Order:
    id: str
    account_id: str
    request_id: str
    event_id: str
    outcome: str
    side: str
    size: Decimal
    limit_price: Decimal | None
    status: OrderStatus
    reject_reason: str | None
    message: str
    price: Decimal | None
    notional: Decimal | None
    reference_price: Decimal | None
    hedge_fee_estimate: Decimal | None
    hedge_status: str
    hedged_size: Decimal
    created_at: datetime
    updated_at: datetime
    hedges: list[Hedge]

    @classmethod
    def of(cls, o: DomainOrder, hedges: list[DomainHedge]) -> Order:
        return cls(
            id=o.id,
            account_id=o.account_id,
            request_id=o.request_id,
            event_id=o.event_id,
            outcome=o.outcome,
            side=o.side.value,
            size=o.size,
            limit_price=o.limit_price,
            status=OrderStatus(o.status),
            reject_reason=o.reject_reason.value if o.reject_reason is not None else None,
            message=o.message,
            price=o.price,
            notional=o.notional,
            reference_price=o.reference_price,
            hedge_fee_estimate=o.hedge_fee_estimate,
            hedge_status=o.hedge_status.value,
            hedged_size=o.hedged_size,
            created_at=o.created_at,
            updated_at=o.updated_at,
            hedges=[Hedge.of(h) for h in hedges],
        )


@strawberry.type(
    description="Which Polymarket market stands for one outcome of one of the platform's events."
)
class Mapping:
    id: int
    event_id: str
    outcome: str
    condition_id: str
    yes_token_id: str
    no_token_id: str
    neg_risk: bool
    tick_size: Decimal
    min_order_size: Decimal
    fee_rate: Decimal
    fee_exponent: Decimal
    exposure_limit: Decimal | None = strawberry.field(
        description="The market's own exposure limit; null means maxMarketExposure."
    )
    question: str
    active: bool
    created_at: datetime
    updated_at: datetime
    hedge_policy: str | None = strawberry.field(
        description="The market's own hedgePolicy; null: the config's."
    )
    hedge_ratio: Decimal | None = strawberry.field(
        description="The market's own hedgeRatio; null: the config's."
    )
    hedge_min_shares: Decimal | None = strawberry.field(
        description="The market's own hedgeMinShares; null: the config's."
    )
    hedge_max_delay_ms: int | None = strawberry.field(
        description="The market's own hedgeMaxDelayMs; null: the config's."
    )
    market_state: str = strawberry.field(
        description="The market at the venue, as last polled: open, not_accepting, closed or resolved "
        "(closed and resolved take no new orders)."
    )
    winning_token_id: str | None = strawberry.field(description="The token that won, once resolved.")
    market_state_at: datetime | None = strawberry.field(description="When the market state last changed.")
    event_group: str | None = strawberry.field(
        description="The neg-risk event group (mutually exclusive outcomes of one question), if any."
    )

    @classmethod
    def of(cls, m: PolymarketMarketMapping) -> Mapping:
        return cls(
            id=m.id,
            event_id=m.event_id,
            outcome=m.outcome,
            condition_id=m.condition_id,
            yes_token_id=m.yes_token_id,
            no_token_id=m.no_token_id,
            neg_risk=m.neg_risk,
            tick_size=m.tick_size,
            min_order_size=m.min_order_size,
            fee_rate=m.fee_rate,
            fee_exponent=m.fee_exponent,
            exposure_limit=m.exposure_limit,
            question=m.question,
            active=m.active,
            created_at=m.created_at,
            updated_at=m.updated_at,
            hedge_policy=m.hedge_policy,
            hedge_ratio=m.hedge_ratio,
            hedge_min_shares=m.hedge_min_shares,
            hedge_max_delay_ms=m.hedge_max_delay_ms,
            market_state=m.market_state,
            winning_token_id=m.winning_token_id,
            market_state_at=m.market_state_at,
            event_group=m.event_group,
        )


@strawberry.type(description="One configuration key: its schema, current value and last change.")
class ConfigEntry:
    key: str
    type: str
    default: str
    description: str
    minimum: Decimal | None
    maximum: Decimal | None
    choices: list[str]
    value: str = strawberry.field(description="The current value (the default when never set).")
    is_default: bool
    version: int = strawberry.field(description="0 when never set.")
    updated_by: str | None
    updated_at: datetime | None

    @classmethod
    def of(cls, spec: ConfigKey, row: HedgeConfig | None) -> ConfigEntry:
        return cls(
            key=spec.name,
            type=spec.value_type,
            default=spec.default,
            description=spec.description,
            minimum=spec.minimum,
            maximum=spec.maximum,
            choices=list(spec.choices),
            value=row.value if row is not None else spec.default,
            is_default=row is None,
            version=row.version if row is not None else 0,
            updated_by=row.updated_by if row is not None else None,
            updated_at=row.updated_at if row is not None else None,
        )


@strawberry.type(description="One recorded change of a configuration value (append-only).")
class ConfigChange:
    id: int
    key: str
    old_value: str | None
    new_value: str
    version: int
    changed_by: str
    reason: str
    changed_at: datetime

    @classmethod
    def of(cls, row: HedgeConfigHistory) -> ConfigChange:
        return cls(
            id=row.id,
            key=row.key,
            old_value=row.old_value,
            new_value=row.new_value,
            version=row.version,
            changed_by=row.changed_by,
            reason=row.reason,
            changed_at=row.changed_at,
        )


@strawberry.type
class Breaker:
    name: str
    state: str
    reason: str
    tripped_at: datetime | None
    updated_by: str
    updated_at: datetime

    @classmethod
    def of(cls, row: CircuitBreaker) -> Breaker:
        return cls(
            name=row.name,
            state=row.state,
            reason=row.reason,
            tripped_at=row.tripped_at,
            updated_by=row.updated_by,
            updated_at=row.updated_at,
        )


@strawberry.type(description="The overall trading state (the strictest breaker) and each breaker.")
class Breakers:
    state: str
    breakers: list[Breaker]

    @classmethod
    def of(cls, rows: list[CircuitBreaker]) -> Breakers:
        states = {r.state for r in rows}
        state = "halted" if "halted" in states else "reducing" if "reducing" in states else "active"
        return cls(state=state, breakers=[Breaker.of(r) for r in rows])


@strawberry.type
class RiskSnapshot:
    id: int
    taken_at: datetime
    reason: str
    unhedged_exposure: Decimal
    exposure_limit: Decimal
    spread_captured: Decimal
    fees: Decimal
    net_profit: Decimal
    pending_hedges: int
    unknown_hedges: int
    breaker_state: str
    per_market: str = strawberry.field(description="Per-market figures as stored (JSON text).")

    @classmethod
    def of(cls, row: RiskSnapshotRow) -> RiskSnapshot:
        return cls(
            id=row.id,
            taken_at=row.taken_at,
            reason=row.reason,
            unhedged_exposure=row.unhedged_exposure,
            exposure_limit=row.exposure_limit,
            spread_captured=row.spread_captured,
            fees=row.fees,
            net_profit=row.net_profit,
            pending_hedges=row.pending_hedges,
            unknown_hedges=row.unknown_hedges,
            breaker_state=row.breaker_state,
            per_market=row.per_market,
        )


@strawberry.type
class EventDatum:
    key: str
    value: str


@strawberry.type(description="One entry of the append-only event log, in id order.")
class HedgeEvent:
    id: strawberry.ID
    type: str
    created_at: datetime
    event_id: str | None
    outcome: str | None
    order_id: str | None
    hedge_id: str | None
    message: str
    data: list[EventDatum]

    @classmethod
    def of(cls, row: HedgeEventRow) -> HedgeEvent:
        try:
            raw = json.loads(row.data)
        except ValueError:
            raw = {}
        return cls._made(row, raw)

    @classmethod
    def of_feed(cls, row: EventRow) -> HedgeEvent:
        """An event as the process's `EventFeed` read it (its data already decoded)."""
        return cls._made(row, row.data)

    @classmethod
    def _made(cls, row: HedgeEventRow | EventRow, raw: collections.abc.Mapping[str, object]) -> HedgeEvent:
        return cls(
            id=strawberry.ID(str(row.id)),
            type=row.event_type,
            created_at=row.created_at,
            event_id=row.event_id,
            outcome=row.outcome,
            order_id=row.order_id,
            hedge_id=row.hedge_id,
            message=row.message,
            data=[EventDatum(key=str(k), value=str(v)) for k, v in sorted(raw.items())],
        )


# --- exposure --------------------------------------------------------------------------------------------


@strawberry.type(description="Risk of one market: its worst-case loss at resolution against its limit.")
class MarketExposure:
    mapping_id: int
    event_id: str
    outcome: str
    condition_id: str
    active: bool
    user_shares: Decimal
    hedge_yes_shares: Decimal
    hedge_no_shares: Decimal
    net_cash: Decimal
    loss_if_yes: Decimal
    loss_if_no: Decimal
    worst_case_loss: Decimal
    limit: Decimal
    utilisation: Decimal | None
    hedged_notional: Decimal
    unhedged_notional: Decimal
    pending_hedges: int
    unknown_hedges: int
    in_flight_loss_if_yes: Decimal = strawberry.field(
        description="The most hedges in flight can still add to lossIfYes (included in it)."
    )
    in_flight_loss_if_no: Decimal = strawberry.field(
        description="The most hedges in flight can still add to lossIfNo (included in it)."
    )
    in_flight_shares: Decimal = strawberry.field(
        description="YES-equivalent shares the hedges in flight add when they fill in full."
    )
    market_state: str = strawberry.field(
        description="The market at the venue: open, not_accepting, closed or resolved (closed and "
        "resolved take no new orders)."
    )

    @classmethod
    def of(cls, m: risk.MarketView) -> MarketExposure:
        p = m.position
        return cls(
            mapping_id=m.mapping_id,
            event_id=m.event_id,
            outcome=m.outcome,
            condition_id=m.condition_id,
            active=m.active,
            user_shares=p.user_shares,
            hedge_yes_shares=p.hedge_yes,
            hedge_no_shares=p.hedge_no,
            net_cash=p.net_cash,
            loss_if_yes=p.loss_if_yes,
            loss_if_no=p.loss_if_no,
            worst_case_loss=p.worst_case_loss,
            limit=m.limit,
            utilisation=m.utilisation,
            hedged_notional=m.hedged_notional,
            unhedged_notional=m.unhedged_notional,
            pending_hedges=m.pending_hedges,
            unknown_hedges=m.unknown_hedges,
            in_flight_loss_if_yes=p.in_flight_loss_if_yes,
            in_flight_loss_if_no=p.in_flight_loss_if_no,
            in_flight_shares=p.in_flight_delta,
            market_state=m.market_state.value,
        )


@strawberry.type
class ExposureTotals:
    unhedged_exposure: Decimal
    limit: Decimal
    utilisation: Decimal | None
    hedged_notional: Decimal
    unhedged_notional: Decimal
    pending_hedges: int
    unknown_hedges: int

    @classmethod
    def of(cls, t: risk.Totals) -> ExposureTotals:
        return cls(
            unhedged_exposure=t.unhedged_exposure,
            limit=t.limit,
            utilisation=t.utilisation,
            hedged_notional=t.hedged_notional,
            unhedged_notional=t.unhedged_notional,
            pending_hedges=t.pending_hedges,
            unknown_hedges=t.unknown_hedges,
        )


@strawberry.type(description="Total unhedged exposure against maxUnhedgedExposure, and open hedges.")
class ExposureHeadline:
    unhedged_exposure: Decimal
    limit: Decimal
    utilisation: Decimal | None
    pending_hedges: int
    unknown_hedges: int

    @classmethod
    def of(cls, h: risk.Headline) -> ExposureHeadline:
        return cls(
            unhedged_exposure=h.unhedged_exposure,
            limit=h.limit,
            utilisation=h.utilisation,
            pending_hedges=h.pending_hedges,
            unknown_hedges=h.unknown_hedges,
        )


@strawberry.type(description="One outcome of one of the platform's events.")
class MarketRef:
    event_id: str
    outcome: str


@strawberry.type(
    description="A neg-risk event group: mutually exclusive outcomes of one question, at most one wins."
)
class GroupExposure:
    event_group: str
    markets: list[MarketRef]
    worst_case_loss: Decimal = strawberry.field(
        description="The worst loss over which single outcome wins, or none."
    )
    worst_outcome: MarketRef | None = strawberry.field(
        description="The outcome whose win costs worstCaseLoss; null when it is no outcome winning."
    )
    loss_if_none: Decimal
    limit: Decimal = strawberry.field(description="maxGroupExposure.")
    utilisation: Decimal | None
    sum_of_market_worst_cases: Decimal = strawberry.field(
        description="The markets' own worst cases summed: what the group's worst case replaces."
    )

    @classmethod
    def of(cls, g: risk.GroupView) -> GroupExposure:
        worst = g.worst_outcome
        return cls(
            event_group=g.event_group,
            markets=[MarketRef(event_id=m.event_id, outcome=m.outcome) for m in g.markets],
            worst_case_loss=g.exposure.worst_case_loss,
            worst_outcome=None
            if worst is None
            else MarketRef(event_id=worst.event_id, outcome=worst.outcome),
            loss_if_none=g.exposure.loss_if_none,
            limit=g.limit,
            utilisation=g.utilisation,
            sum_of_market_worst_cases=g.sum_of_markets,
        )


@strawberry.type(
    description="Risk now, as GetExposure reports it (every market); asOfEventId is the newest event "
    "the figures include."
)
class Exposure:
    totals: ExposureTotals
    markets: list[MarketExposure]
    as_of: datetime
    as_of_event_id: strawberry.ID
    groups: list[GroupExposure]

    @classmethod
    def of(cls, view: risk.ExposureView) -> Exposure:
        return cls(
            totals=ExposureTotals.of(view.totals),
            markets=[MarketExposure.of(m) for m in view.all_markets],
            groups=[GroupExposure.of(g) for g in view.groups],
            as_of=view.as_of,
            as_of_event_id=strawberry.ID(str(view.as_of_event_id)),
        )


# --- dashboard -----------------------------------------------------------------------------------------


@strawberry.type(description="Average and nearest-rank percentiles; null when there are no values.")
class Distribution:
    count: int
    average: Decimal | None
    p50: Decimal | None
    p90: Decimal | None
    p95: Decimal | None
    p99: Decimal | None
    max: Decimal | None


@strawberry.type
class StatusCount:
    status: HedgeStatus
    count: int


@strawberry.type
class HedgeFigures:
    hedges: int
    by_status: list[StatusCount]
    success_rate: Decimal | None = strawberry.field(
        description="(hedged + paper) / (hedged + partial + failed + paper); null when none resolved."
    )
    filled_shares: Decimal
    hedge_volume: Decimal = strawberry.field(description="USDC paid or received for hedge fills.")
    spread_captured: Decimal
    fees: Decimal
    net_profit: Decimal
    latency_ms: Distribution = strawberry.field(description="resolved_at - submitted_at, milliseconds.")
    slippage_bps: Distribution = strawberry.field(
        description="Fill price against the quoted price in bps, positive when adverse."
    )

    @classmethod
    def of(cls, f: figures.HedgeFigures) -> HedgeFigures:
        return cls(
            hedges=f.hedges,
            by_status=[StatusCount(status=HedgeStatus(s), count=c) for s, c in f.by_status.items()],
            success_rate=f.success_rate,
            filled_shares=f.filled_shares,
            hedge_volume=f.hedge_volume,
            spread_captured=f.spread_captured,
            fees=f.fees,
            net_profit=f.net_profit,
            latency_ms=Distribution(**vars(f.latency_ms)),
            slippage_bps=Distribution(**vars(f.slippage_bps)),
        )


@strawberry.type
class OrderFigures:
    orders: int
    accepted: int
    rejected: int
    volume: Decimal = strawberry.field(description="Notional (size x price) of accepted orders, USDC.")
    shares: Decimal


@strawberry.type
class MarketFigures:
    event_id: str
    outcome: str
    orders: OrderFigures
    hedges: HedgeFigures


@strawberry.type
class HedgeFailure:
    hedge_id: str
    order_id: str
    event_id: str
    outcome: str
    status: HedgeStatus
    size: Decimal
    filled_size: Decimal
    failure_reason: str
    created_at: datetime


@strawberry.type(
    description="A policy's unhedged exposure in [from, to): `last` in the span's last risk snapshot, "
    "`peak` the largest of its snapshots; null when none was taken in it."
)
class ExposurePoint:
    from_: datetime = strawberry.field(name="from")
    to: datetime
    snapshots: int
    last: Decimal | None
    peak: Decimal | None


@strawberry.type(description="One hedge policy's share of the period (gateway/policy_figures.py).")
class PolicyFigures:
    policy: str = strawberry.field(description="per_order or netted (the hedgePolicy values).")
    orders: OrderFigures = strawberry.field(description="User orders booked under the policy.")
    venue_orders: int = strawberry.field(
        description="Hedges booked: per-order hedges (per_order) or the rebalancer's book hedges (netted)."
    )
    fees: Decimal = strawberry.field(description="Taker fees of those hedges, USDC.")
    unhedged_exposure: list[ExposurePoint] = strawberry.field(
        description="The period in equal spans, oldest first: the policy's markets' worst-case losses "
        "(floored at zero each) summed, from the risk snapshots."
    )

    @classmethod
    def of(cls, f: policy_figures.PolicyFigures) -> PolicyFigures:
        return cls(
            policy=f.policy,
            orders=OrderFigures(**vars(f.orders)),
            venue_orders=f.venue_orders,
            fees=f.fees,
            unhedged_exposure=[
                ExposurePoint(from_=p.start, to=p.end, snapshots=p.snapshots, last=p.last, peak=p.peak)
                for p in f.exposure
            ],
        )


async def _policies(
    root: Dashboard, info: Info, policy: str | None = None, buckets: int = policy_figures.DEFAULT_BUCKETS
) -> list[PolicyFigures]:
    """`Dashboard.policies`: read only when asked for, over the dashboard's own period."""
    ctx = info.context
    database = ctx.resources.database
    try:
        policy_figures.check(policy, buckets)
        found = await ctx.run(
            lambda: policy_figures.compute(
                database, root.from_, root.to, paper=root.paper, policy=policy, buckets=buckets
            )
        )
    except HedgingError as exc:
        raise query_error(exc) from None
    return [PolicyFigures.of(f) for f in found]


@strawberry.type(description="Hedge performance over [from, to) with risk now.")
class Dashboard:
    from_: datetime = strawberry.field(name="from")
    to: datetime
    paper: bool
    orders: OrderFigures
    hedges: HedgeFigures
    exposure: ExposureHeadline
    recent_failures: list[HedgeFailure]
    markets: list[MarketFigures]
    pnl: Pnl = strawberry.field(
        description="Realised P&L of resolved markets and mark-to-market P&L of the others (not limited "
        "to the period: a market's books close when it resolves)."
    )

    policies: list[PolicyFigures] = strawberry.field(
        resolver=_policies,
        description="Per hedge policy (only `policy` when given: per_order or netted): user orders, "
        f"venue orders, fees and unhedged exposure over the period in `buckets` spans (1 to "
        f"{policy_figures.MAX_BUCKETS}).",
    )

    @classmethod
    def of(cls, f: figures.DashboardFigures, exposure: risk.Headline, pnl: PnlView) -> Dashboard:
        return cls(
            pnl=Pnl.of(pnl),
            from_=f.start,
            to=f.end,
            paper=f.paper,
            orders=OrderFigures(**vars(f.orders)),
            hedges=HedgeFigures.of(f.hedges),
            exposure=ExposureHeadline.of(exposure),
            recent_failures=[
                HedgeFailure(**{**vars(x), "status": HedgeStatus(x.status)}) for x in f.recent_failures
            ],
            markets=[
                MarketFigures(
                    event_id=m.event_id,
                    outcome=m.outcome,
                    orders=OrderFigures(**vars(m.orders)),
                    hedges=HedgeFigures.of(m.hedges),
                )
                for m in f.markets
            ],
        )
