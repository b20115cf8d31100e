"""The admin API: queries for viewers, mutations for admins, and the hedgeEvents subscription.

Every resolver reads through `Context.run` (Peewee on a database thread) and reuses the store and
domain functions; every mutation validates, changes nothing on a bad input, and answers with a union
of its success type and typed errors."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncGenerator, Callable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import peewee
import strawberry
from strawberry import relay
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig

from gateway import dashboard as figures
from gateway import markets, pages
from gateway.arguments import check_strings
from gateway.auth import IsAdmin, IsViewer
from gateway.context import Info
from gateway.doctor import DoctorReport, require_fit_for_live
from gateway.errors import (
    AlreadyExistsError,
    AnyError,
    FailedPreconditionError,
    InvalidInputError,
    NotFoundError,
    TypedErrors,
    UnavailableError,
    UserError,
    as_error,
    query_error,
)
from gateway.payouts import Payout
from gateway.scalars import DECIMAL_SCALAR
from gateway.suggestions import HideSuggestions
from gateway.types import (
    Breakers,
    ConfigChange,
    ConfigEntry,
    Connection,
    Dashboard,
    Edge,
    Exposure,
    Hedge,
    HedgeEvent,
    HedgeFilter,
    Mapping,
    MarketInput,
    Order,
    OrderFilter,
    PayoutFilter,
    Period,
    RiskSnapshot,
    TimeRangeInput,
)
from server.domain import event_types
from server.domain.config_schema import KEYS, key
from server.domain.hedge import Hedge as DomainHedge
from server.domain.order import Order as DomainOrder
from server.errors import HedgingError, InvalidArgument, NotFound
from server.events.feed import Heartbeat
from server.risk import manual
from server.risk.exposure import read_exposure, read_headline
from server.risk.pnl import read_pnl
from server.store import config as config_store
from server.store import mappings as mapping_store
from server.store.fields import utcnow
from server.store.models import (
    CircuitBreaker,
    PolymarketMarketMapping,
)
from server.store.models import (
    RiskSnapshot as RiskSnapshotRow,
)
from server.store.rehedges import Rehedges

MAX_DEPTH = 5  # counted from 0: the deepest useful query (orders > edges > node > hedges > id) is 4
MAX_ALIASES = 15
MAX_TOKENS = 2000
MAX_SNAPSHOTS = 1000
MAX_HISTORY = 500
MAX_FILTER_ITEMS = 50
# Not str.isdigit(): it is true of "²", which int() refuses, and of other scripts' digits.
_EVENT_ID = re.compile(r"[0-9]{1,18}")


def _market(m: MarketInput | None) -> tuple[str, str] | None:
    return (m.event_id, m.outcome) if m is not None else None


def _range(r: TimeRangeInput | None) -> tuple[datetime | None, datetime | None]:
    if r is None:
        return None, None
    return pages.time_range(r.from_, r.to, utcnow())


# --- queries -------------------------------------------------------------------------------------------


@strawberry.type
class Query:
    @strawberry.field(
        permission_classes=[IsViewer],
        description="Hedge performance over a named period (default 24h) or an explicit range, with "
        "risk now. `paper` reports paper-mode hedges instead of live ones.",
    )
    async def dashboard(
        self,
        info: Info,
        period: Period | None = None,
        range: TimeRangeInput | None = None,
        paper: bool = False,
    ) -> Dashboard:
        ctx = info.context
        try:
            if period is not None and range is not None:
                raise InvalidArgument("period", "give a period or a range, not both")
            now = utcnow()
            if range is not None:
                start, end = pages.time_range(range.from_, range.to, now)
            else:
                start, end = pages.period_range((period or Period.H24).value, now)
            database = ctx.resources.database
            # Two independent reads on two database threads, at once.
            result, exposure, pnl = await asyncio.gather(
                ctx.run(lambda: figures.compute(database, start, end, paper=paper)),
                ctx.run(lambda: read_headline(database)),
                ctx.run(lambda: read_pnl(database)),
            )
        except HedgingError as exc:
            raise query_error(exc) from None
        return Dashboard.of(result, exposure, pnl)

    @strawberry.field(permission_classes=[IsViewer], description="User orders, newest first.")
    async def orders(
        self,
        info: Info,
        filter: OrderFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Order]:
        f = filter or OrderFilter()
        try:
            start, end = _range(f.range)
            which = pages.OrderQuery(
                status=f.status.value if f.status else None,
                market=_market(f.market),
                account_id=f.account_id,
                start=start,
                end=end,
            )

            def read() -> tuple[pages.Page[DomainOrder], dict[str, list[DomainHedge]]]:
                page = pages.orders_page(which, first, after)
                return page, pages.hedges_of([row.id for _, row in page.items])

            page, hedges = await info.context.run(read)
        except HedgingError as exc:
            raise query_error(exc) from None
        edges = [Edge(cursor=c, node=Order.of(row, hedges[row.id])) for c, row in page.items]
        return Connection(edges=edges, page_info=_page_info(page))

    @strawberry.field(
        permission_classes=[IsViewer],
        description="What the platform owes each account for each resolved market, newest first.",
    )
    async def payouts(
        self,
        info: Info,
        filter: PayoutFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Payout]:
        f = filter or PayoutFilter()
        try:
            which = pages.PayoutQuery(market=_market(f.market), account_id=f.account_id)
            page = await info.context.run(lambda: pages.payouts_page(which, first, after))
        except HedgingError as exc:
            raise query_error(exc) from None
        edges = [Edge(cursor=c, node=Payout.of(row)) for c, row in page.items]
        return Connection(edges=edges, page_info=_page_info(page))

    @strawberry.field(permission_classes=[IsViewer], description="Hedges, newest first.")
    async def hedges(
        self,
        info: Info,
        filter: HedgeFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Hedge]:
        f = filter or HedgeFilter()
        try:
            if f.status is not None and len(f.status) > MAX_FILTER_ITEMS:
                raise InvalidArgument("status", "too many values")
            start, end = _range(f.range)
            which = pages.HedgeQuery(
                statuses=tuple(s.value for s in f.status or ()),
                market=_market(f.market),
                order_id=f.order_id,
                start=start,
                end=end,
            )
            page = await info.context.run(lambda: pages.hedges_page(which, first, after))
        except HedgingError as exc:
            raise query_error(exc) from None
        edges = [Edge(cursor=c, node=Hedge.of(row)) for c, row in page.items]
        return Connection(edges=edges, page_info=_page_info(page))

    @strawberry.field(permission_classes=[IsViewer], description="Risk snapshots in a range, newest first.")
    async def risk_snapshots(
        self, info: Info, range: TimeRangeInput | None = None, first: int = 100
    ) -> list[RiskSnapshot]:
        try:
            if not 1 <= first <= MAX_SNAPSHOTS:
                raise InvalidArgument("first", f"must be from 1 to {MAX_SNAPSHOTS}")
            start, end = _range(range)

            def read() -> list[RiskSnapshotRow]:
                query = RiskSnapshotRow.select()
                if start is not None and end is not None:
                    query = query.where(
                        (RiskSnapshotRow.taken_at >= start) & (RiskSnapshotRow.taken_at < end)
                    )
                return list(
                    query.order_by(RiskSnapshotRow.taken_at.desc(), RiskSnapshotRow.id.desc()).limit(first)
                )

            rows = await info.context.run(read)
        except HedgingError as exc:
            raise query_error(exc) from None
        return [RiskSnapshot.of(r) for r in rows]

    @strawberry.field(permission_classes=[IsViewer], description="Exposure now, as GetExposure reports it.")
    async def exposure(self, info: Info) -> Exposure:
        database = info.context.resources.database
        return Exposure.of(await info.context.run(lambda: read_exposure(database)))

    @strawberry.field(permission_classes=[IsViewer], description="Circuit breakers and the trading state.")
    async def breakers(self, info: Info) -> Breakers:
        rows = await info.context.run(lambda: list(CircuitBreaker.select().order_by(CircuitBreaker.name)))
        return Breakers.of(rows)

    @strawberry.field(permission_classes=[IsViewer], description="Every configuration key with its value.")
    async def config(self, info: Info) -> list[ConfigEntry]:
        database = info.context.resources.database
        current = await info.context.run(lambda: config_store.current_values(database))
        return [ConfigEntry.of(spec, current.get(name)) for name, spec in KEYS.items()]

    @strawberry.field(
        permission_classes=[IsViewer],
        description="Runs the checks of `hedging doctor` now (venue, clock, wallet, credentials, funds, "
        "geoblock, mappings, schema), with the gateway's settings.",
    )
    async def doctor(self, info: Info) -> DoctorReport:
        from server.doctor.run import examine

        return DoctorReport.of(await examine(info.context.resources.settings))

    @strawberry.field(permission_classes=[IsViewer], description="Configuration changes, newest first.")
    async def config_history(
        self, info: Info, key: str | None = None, first: int = 100
    ) -> list[ConfigChange]:
        database = info.context.resources.database
        try:
            if not 1 <= first <= MAX_HISTORY:
                raise InvalidArgument("first", f"must be from 1 to {MAX_HISTORY}")
            rows = await info.context.run(lambda: config_store.history(database, key, first))
        except HedgingError as exc:
            raise query_error(exc) from None
        return [ConfigChange.of(r) for r in rows]

    @strawberry.field(permission_classes=[IsViewer], description="Market mappings.")
    async def mappings(self, info: Info, active: bool | None = None) -> list[Mapping]:
        def read() -> list[PolymarketMarketMapping]:
            query = PolymarketMarketMapping.select()
            if active is not None:
                query = query.where(PolymarketMarketMapping.active == active)
            return list(query.order_by(PolymarketMarketMapping.id))

        return [Mapping.of(m) for m in await info.context.run(read)]


def _page_info(page: pages.Page[Any]) -> relay.PageInfo:
    return relay.PageInfo(
        has_next_page=page.has_next,
        has_previous_page=page.has_previous,
        start_cursor=page.items[0][0] if page.items else None,
        end_cursor=page.items[-1][0] if page.items else None,
    )


# --- mutations -----------------------------------------------------------------------------------------


@strawberry.input
class SetConfigInput:
    key: str
    value: str = strawberry.field(description='The new value as text, as "300", "live" or "true".')
    reason: str


@strawberry.type
class SetConfigSuccess:
    entry: ConfigEntry
    changed: bool = strawberry.field(description="False when the key already had this value.")


@strawberry.input
class ReasonInput:
    reason: str


@strawberry.type
class BreakersSuccess:
    breakers: Breakers


@strawberry.input
class CreateMappingInput:
    event_id: str
    outcome: str = "YES"
    condition_id: str
    token_id: str = strawberry.field(
        description="The venue token standing for this outcome (its complement is read from the venue)."
    )
    exposure_limit: Decimal | None = None
    question: str | None = strawberry.field(default=None, description="Defaults to the venue's question.")


@strawberry.input
class UpdateMappingInput:
    id: int
    active: bool | None = None
    exposure_limit: Decimal | None = None
    clear_exposure_limit: bool = False
    hedge_policy: str | None = strawberry.field(default=None, description="The market's own hedgePolicy.")
    hedge_ratio: str | None = strawberry.field(default=None, description="The market's own hedgeRatio.")
    hedge_min_shares: str | None = strawberry.field(
        default=None, description="The market's own hedgeMinShares."
    )
    hedge_max_delay_ms: str | None = strawberry.field(
        default=None, description="The market's own hedgeMaxDelayMs."
    )
    clear_hedge_overrides: list[str] = strawberry.field(
        default_factory=list,
        description="Hedge policy keys (hedgePolicy, hedgeRatio, ...) to take from the config again.",
    )
    refresh_from_venue: bool = strawberry.field(
        default=False, description="Re-read tick size, minimum size, neg-risk and fees from the venue."
    )
    event_group: str | None = strawberry.field(
        default=None,
        description="The neg-risk event the market belongs to: markets of one group are mutually "
        "exclusive outcomes of one question (only neg-risk markets can join one).",
    )
    clear_event_group: bool = strawberry.field(
        default=False, description="Takes the market out of its group."
    )


@strawberry.input
class DeactivateMappingInput:
    id: int


@strawberry.type
class MappingSuccess:
    mapping: Mapping


@strawberry.input
class RetryHedgeInput:
    id: str
    reason: str


@strawberry.type
class RetryHedgeSuccess:
    hedge: Hedge


SetConfigResult = Annotated[SetConfigSuccess | AnyError, strawberry.union("SetConfigResult")]
BreakersResult = Annotated[BreakersSuccess | AnyError, strawberry.union("BreakersResult")]
MappingResult = Annotated[MappingSuccess | AnyError, strawberry.union("MappingResult")]
RetryHedgeResult = Annotated[RetryHedgeSuccess | AnyError, strawberry.union("RetryHedgeResult")]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Validates and stores one config value (type and range per key, and cross-field "
        "rules); records old and new value, author and reason. Running servers apply it within 1 s. "
        "Switching `mode` to live runs the doctor's checks first and is refused while one fails.",
    )
    async def set_config(self, info: Info, input: SetConfigInput) -> SetConfigResult:
        ctx = info.context
        database = ctx.resources.database
        try:
            spec = key(input.key)
            before = await ctx.run(lambda: config_store.current_values(database).get(spec.name))
            going_live = spec.name == "mode" and spec.canonical(input.value) == "live"
            if going_live and (before is None or before.value != "live"):
                await require_fit_for_live(ctx.resources.settings)
            row = await ctx.run(
                lambda: config_store.set_value(
                    database, spec.name, input.value, author=ctx.author, reason=input.reason
                )
            )
        except HedgingError as exc:
            return as_error(exc)
        changed = before is None or before.version != row.version
        return SetConfigSuccess(entry=ConfigEntry.of(spec, row), changed=changed)

    @strawberry.mutation(permission_classes=[IsAdmin], description="Stops new orders on every server.")
    async def halt(self, info: Info, input: ReasonInput) -> BreakersResult:
        return await _breakers_change(info, manual.halt, input.reason)

    @strawberry.mutation(permission_classes=[IsAdmin], description="Lifts a manual halt.")
    async def resume(self, info: Info, input: ReasonInput) -> BreakersResult:
        return await _breakers_change(info, manual.resume, input.reason)

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Maps an event outcome to a venue market, checked against the venue; tick size, "
        "minimum size, neg-risk and fees are read from it.",
    )
    async def create_mapping(self, info: Info, input: CreateMappingInput) -> MappingResult:
        ctx = info.context
        database = ctx.resources.database
        try:
            new = markets.NewMapping(
                input.event_id,
                input.outcome,
                input.condition_id,
                input.token_id,
                input.exposure_limit,
                input.question,
            )
            spec = await markets.mapping_spec(ctx.resources.venue, new)
            row = await ctx.run(lambda: mapping_store.create(database, spec, author=ctx.author))
        except HedgingError as exc:
            return as_error(exc)
        return MappingSuccess(mapping=Mapping.of(row))

    @strawberry.mutation(permission_classes=[IsAdmin], description="Changes a mapping's activity or limit.")
    async def update_mapping(self, info: Info, input: UpdateMappingInput) -> MappingResult:
        ctx = info.context
        database = ctx.resources.database
        try:
            if input.exposure_limit is not None and input.clear_exposure_limit:
                raise InvalidArgument("exposureLimit", "give a limit or clearExposureLimit, not both")
            overrides = _hedge_overrides(input)
            venue_fields: dict[str, Any] = {}
            if input.refresh_from_venue:
                current = await ctx.run(
                    lambda: PolymarketMarketMapping.get_or_none(PolymarketMarketMapping.id == input.id)
                )
                if current is None:
                    raise NotFound(f"no mapping {input.id}")
                market = await markets.venue_market(
                    ctx.resources.venue, current.condition_id, current.yes_token_id
                )
                venue_fields = {
                    "tick_size": market.tick_size,
                    "min_order_size": market.min_order_size,
                    "neg_risk": market.neg_risk,
                    "fee_rate": market.fee_rate,
                    "fee_exponent": market.fee_exponent,
                }
            row = await ctx.run(
                lambda: mapping_store.update(
                    database,
                    input.id,
                    author=ctx.author,
                    active=input.active,
                    exposure_limit=input.exposure_limit,
                    clear_limit=input.clear_exposure_limit,
                    hedge_overrides=overrides,
                    event_group=input.event_group,
                    clear_group=input.clear_event_group,
                    **venue_fields,
                )
            )
        except HedgingError as exc:
            return as_error(exc)
        return MappingSuccess(mapping=Mapping.of(row))

    @strawberry.mutation(permission_classes=[IsAdmin], description="Stops new orders on a mapping's market.")
    async def deactivate_mapping(self, info: Info, input: DeactivateMappingInput) -> MappingResult:
        ctx = info.context
        database = ctx.resources.database
        try:
            row = await ctx.run(
                lambda: mapping_store.update(database, input.id, author=ctx.author, active=False)
            )
        except HedgingError as exc:
            return as_error(exc)
        return MappingSuccess(mapping=Mapping.of(row))

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Asks for the unhedged residual of a failed or partial live hedge to be re-hedged; "
        "records who asked and why. A server's re-hedger signs and posts it as a new hedge (parentHedgeId "
        "= this hedge) once trading is live and not halted and the book can fill it within the hedge's "
        "limit price, even when rehedgeEnabled is off or its attempts are used up. Asking again while "
        "the request is pending keeps the first request.",
    )
    async def retry_hedge(self, info: Info, input: RetryHedgeInput) -> RetryHedgeResult:
        ctx = info.context
        database = ctx.resources.database
        author = ctx.author
        try:
            hedge_id = input.id.strip()
            if not hedge_id:
                raise InvalidArgument("id", "is required")
            # The gateway holds no signing key: it records the request; a server signs and posts.
            hedge = await ctx.run(lambda: Rehedges(database).request(hedge_id, author, input.reason))
        except HedgingError as exc:
            return as_error(exc)
        return RetryHedgeSuccess(hedge=Hedge.of(hedge))


async def _breakers_change(
    info: Info, change: Callable[[peewee.Database, str, str], object], reason: str
) -> BreakersResult:
    ctx = info.context
    database = ctx.resources.database
    try:
        await ctx.run(lambda: change(database, reason, ctx.author))
        rows = await ctx.run(lambda: list(CircuitBreaker.select().order_by(CircuitBreaker.name)))
    except HedgingError as exc:
        return as_error(exc)
    return BreakersSuccess(breakers=Breakers.of(rows))


# --- subscription --------------------------------------------------------------------------------------


@strawberry.input
class HedgeEventFilter:
    after: strawberry.ID | None = strawberry.field(
        default=None, description="Replay events after this id, then follow live ones."
    )
    from_now: bool = strawberry.field(default=False, description="Only events written from now on.")
    markets: list[MarketInput] | None = None
    types: list[str] | None = None


@strawberry.type
class Subscription:
    @strawberry.subscription(
        permission_classes=[IsViewer],
        description="The event log in id order: stored events after a cursor (default: from the start), "
        "then live ones, with no gap and no duplicate. Global events pass any market filter.",
    )
    async def hedge_events(
        self, info: Info, filter: HedgeEventFilter | None = None
    ) -> AsyncGenerator[HedgeEvent, None]:
        f = filter or HedgeEventFilter()
        try:
            if f.after is not None and f.from_now:
                raise InvalidArgument("after", "give after or fromNow, not both")
            if len(f.markets or ()) > MAX_FILTER_ITEMS or len(f.types or ()) > MAX_FILTER_ITEMS:
                raise InvalidArgument("filter", "too many values")
            types = tuple(event_types.event_type("filter.types", t) for t in f.types or ())
            after: int | None = 0
            if f.after is not None:
                if not _EVENT_ID.fullmatch(str(f.after)):
                    raise InvalidArgument("after", "must be an event id")
                after = int(f.after)
            elif f.from_now:
                after = None
        except HedgingError as exc:
            raise query_error(exc) from None
        events = info.context.resources.events
        start = after if after is not None else await events.latest_id()
        wanted = frozenset((m.event_id, m.outcome) for m in f.markets or ())
        # The process's shared feed: one reader of the log, woken by NOTIFY, for every subscriber.
        # Closed with the subscription, so the feed stops counting it as a follower at once.
        async with contextlib.aclosing(events.follow(start, wanted, frozenset(types))) as rows:
            async for row in rows:
                if not isinstance(row, Heartbeat):
                    yield HedgeEvent.of_feed(row)


def build_schema(*, dev_mode: bool) -> strawberry.Schema:
    """The schema with its limits; introspection and "did you mean" suggestions only in development
    mode; every string argument checked (`gateway.arguments`)."""
    from strawberry.extensions import DisableIntrospection

    # Factories, so each request gets fresh extension instances.
    extensions: list[object] = [
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: TypedErrors(should_mask_error=_unexpected),
    ]
    if not dev_mode:
        # Without introspection, "Did you mean ...?" in an error would still reveal the schema's names.
        extensions += [DisableIntrospection, HideSuggestions]
    check_strings(Query, Mutation, Subscription)
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[
            InvalidInputError,
            NotFoundError,
            AlreadyExistsError,
            FailedPreconditionError,
            UnavailableError,
        ],
        extensions=extensions,  # type: ignore[arg-type]  # factories work; the annotation omits them
        config=StrawberryConfig(scalar_map={Decimal: DECIMAL_SCALAR}),
    )


def _unexpected(error: object) -> bool:
    """Masks errors raised by bugs (their text could reveal internals); keeps the deliberate ones."""
    from graphql import GraphQLError

    if not isinstance(error, GraphQLError):
        return True
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    from strawberry.exceptions import StrawberryGraphQLError

    return not isinstance(original, (StrawberryGraphQLError, PermissionError))


__all__ = ["UserError", "build_schema"]


def _hedge_overrides(input: UpdateMappingInput) -> dict[str, str | None]:
    """The hedge policy overrides an update sets (key -> value text) or clears (key -> None)."""
    given = {
        "hedgePolicy": input.hedge_policy,
        "hedgeRatio": input.hedge_ratio,
        "hedgeMinShares": input.hedge_min_shares,
        "hedgeMaxDelayMs": input.hedge_max_delay_ms,
    }
    overrides: dict[str, str | None] = {name: text for name, text in given.items() if text is not None}
    for name in input.clear_hedge_overrides:
        if name in overrides:
            raise InvalidArgument(name[:64], "give a value or clear it, not both")
        overrides[name] = None
    return overrides
