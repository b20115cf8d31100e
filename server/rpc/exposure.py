"""GetExposure over gRPC: validates the filter, reads one consistent snapshot and converts it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, cast

import peewee

from hedging.v1 import hedging_service_pb2 as pb
from hedging.v1 import types_pb2
from server.domain import inputs
from server.domain.market_state import MarketState
from server.domain.types import BreakerLevel
from server.errors import InvalidArgument
from server.risk.exposure import BreakerView, ExposureView, GroupView, MarketView, read_exposure
from server.rpc.convert import dec, timestamp

MAX_MARKETS = 1000
_LEVELS = {
    BreakerLevel.ACTIVE: types_pb2.BREAKER_STATE_ACTIVE,
    BreakerLevel.REDUCING: types_pb2.BREAKER_STATE_REDUCING,
    BreakerLevel.HALTED: types_pb2.BREAKER_STATE_HALTED,
}

_STATES = {
    s: cast(types_pb2.MarketState, types_pb2.MarketState.Value("MARKET_STATE_" + s.name)) for s in MarketState
}


def _ratio(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def market_out(v: MarketView) -> pb.MarketExposure:
    p = v.position
    return pb.MarketExposure(
        market=types_pb2.MarketRef(event_id=v.event_id, outcome=v.outcome),
        condition_id=v.condition_id,
        user_shares=dec(p.user_shares),
        hedge_yes_shares=dec(p.hedge_yes),
        hedge_no_shares=dec(p.hedge_no),
        net_cash=dec(p.net_cash),
        loss_if_yes=dec(p.loss_if_yes),
        loss_if_no=dec(p.loss_if_no),
        worst_case_loss=dec(p.worst_case_loss),
        limit=dec(v.limit),
        utilisation=_ratio(v.utilisation),
        hedged_notional=dec(v.hedged_notional),
        unhedged_notional=dec(v.unhedged_notional),
        pending_hedges=v.pending_hedges,
        unknown_hedges=v.unknown_hedges,
        in_flight_loss_if_yes=dec(p.in_flight_loss_if_yes),
        in_flight_loss_if_no=dec(p.in_flight_loss_if_no),
        in_flight_shares=dec(p.in_flight_delta),
        market_state=_STATES[v.market_state],
    )


def group_out(g: GroupView) -> pb.GroupExposure:
    worst = g.worst_outcome
    return pb.GroupExposure(
        event_group=g.event_group,
        markets=[types_pb2.MarketRef(event_id=m.event_id, outcome=m.outcome) for m in g.markets],
        worst_case_loss=dec(g.exposure.worst_case_loss),
        worst_outcome=None
        if worst is None
        else types_pb2.MarketRef(event_id=worst.event_id, outcome=worst.outcome),
        loss_if_none=dec(g.exposure.loss_if_none),
        limit=dec(g.limit),
        utilisation=_ratio(g.utilisation),
        sum_of_market_worst_cases=dec(g.sum_of_markets),
    )


def breaker_out(b: BreakerView) -> types_pb2.Breaker:
    tripped = b.state is not BreakerLevel.ACTIVE
    return types_pb2.Breaker(
        name=b.name,
        state=_LEVELS[b.state],
        reason=b.reason,
        tripped_at=timestamp(b.tripped_at) if tripped else None,
        auto_reset=b.auto_reset,
    )


def exposure_out(view: ExposureView, cash: Decimal | None = None) -> pb.GetExposureResponse:
    t = view.totals
    return pb.GetExposureResponse(
        totals=pb.ExposureTotals(
            unhedged_exposure=dec(t.unhedged_exposure),
            limit=dec(t.limit),
            utilisation=_ratio(t.utilisation),
            hedged_notional=dec(t.hedged_notional),
            unhedged_notional=dec(t.unhedged_notional),
            pending_hedges=t.pending_hedges,
            unknown_hedges=t.unknown_hedges,
            wallet_usdc_available="" if cash is None else dec(cash),
        ),
        markets=[market_out(m) for m in view.markets],
        breaker_state=_LEVELS[view.level],
        breakers=[breaker_out(b) for b in view.breakers],
        as_of=timestamp(view.as_of),
        as_of_event_id=view.as_of_event_id,
        groups=[group_out(g) for g in view.groups],
    )


class ExposureReader:
    """The `exposure` callable of `HedgingServicer`."""

    def __init__(
        self,
        database: peewee.Database,
        run_in_db: Callable[[Callable[[], Any]], Awaitable[Any]],
        cash: Callable[[], Decimal | None] = lambda: None,
    ) -> None:
        self._database = database
        self._run = run_in_db
        self._cash = cash

    async def __call__(self, request: pb.GetExposureRequest) -> pb.GetExposureResponse:
        if len(request.markets) > MAX_MARKETS:
            raise InvalidArgument("markets", f"at most {MAX_MARKETS} markets")
        markets = frozenset(
            (
                inputs.identifier("markets.event_id", m.event_id),
                inputs.identifier("markets.outcome", m.outcome),
            )
            for m in request.markets
        )
        view = await self._run(lambda: read_exposure(self._database, markets))
        return exposure_out(view, self._cash())
