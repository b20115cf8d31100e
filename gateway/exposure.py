"""Risk now, as GetExposure describes it: each market's position and worst-case loss against its limit,
and the totals against maxUnhedgedExposure. Read in one transaction from a database thread.

Stands in until the shared GetExposure use case (`server/rpc/exposure.py`) lands; it reuses the
domain's exposure maths (`server.domain.exposure.Position`) rather than restating it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import peewee

from server.domain.config_schema import HedgeSettings
from server.domain.types import HedgeStatus
from server.store.events import latest_id
from server.store.fields import utcnow
from server.store.models import (
    HedgeConfig,
    HedgePosition,
    MarketExposure,
    PolymarketMarketMapping,
    RiskTotals,
)
from server.store.orders import position_of

RATIO = Decimal("0.0001")
ZERO = Decimal(0)


@dataclass(frozen=True)
class MarketRisk:
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
    pending_hedges: int
    unknown_hedges: int


@dataclass(frozen=True)
class RiskTotalsView:
    unhedged_exposure: Decimal
    limit: Decimal
    utilisation: Decimal | None
    pending_hedges: int
    unknown_hedges: int


@dataclass(frozen=True)
class ExposureView:
    totals: RiskTotalsView
    markets: list[MarketRisk]
    as_of: datetime
    as_of_event_id: int


def ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    """part / whole to four places (None when whole is zero)."""
    if whole <= 0:
        return None
    return (part / whole).quantize(RATIO, rounding=ROUND_HALF_UP)


def read_exposure(database: peewee.Database) -> ExposureView:
    """Reads exposure in one transaction (call from a database thread)."""
    with database.atomic():
        values = {row.key: row.value for row in HedgeConfig.select(HedgeConfig.key, HedgeConfig.value)}
        settings = HedgeSettings.from_values(values)
        event_id = latest_id(database)
        counts: dict[tuple[int, str], int] = {}
        open_query = (
            HedgePosition.select(
                HedgePosition.mapping, HedgePosition.status, peewee.fn.COUNT(HedgePosition.id)
            )
            .where(HedgePosition.status.in_([HedgeStatus.PENDING.value, HedgeStatus.UNKNOWN.value]))
            .group_by(HedgePosition.mapping, HedgePosition.status)
            .tuples()
        )
        rows_open: list[tuple[Any, Any, Any]] = list(open_query)  # type: ignore[arg-type]
        for mapping_id, status, count in rows_open:
            counts[(int(mapping_id), str(status))] = int(count)
        markets = []
        rows = (
            MarketExposure.select(MarketExposure, PolymarketMarketMapping)
            .join(PolymarketMarketMapping)
            .order_by(PolymarketMarketMapping.event_id, PolymarketMarketMapping.outcome)
        )
        for row in rows:
            mapping = row.mapping
            position = position_of(row)
            limit = (
                mapping.exposure_limit if mapping.exposure_limit is not None else settings.max_market_exposure
            )
            markets.append(
                MarketRisk(
                    mapping_id=mapping.id,
                    event_id=mapping.event_id,
                    outcome=mapping.outcome,
                    condition_id=mapping.condition_id,
                    active=mapping.active,
                    user_shares=position.user_shares,
                    hedge_yes_shares=position.hedge_yes,
                    hedge_no_shares=position.hedge_no,
                    net_cash=position.net_cash,
                    loss_if_yes=position.loss_if_yes,
                    loss_if_no=position.loss_if_no,
                    worst_case_loss=position.worst_case_loss,
                    limit=limit,
                    utilisation=ratio(position.exposure, limit),
                    pending_hedges=counts.get((mapping.id, HedgeStatus.PENDING.value), 0),
                    unknown_hedges=counts.get((mapping.id, HedgeStatus.UNKNOWN.value), 0),
                )
            )
        total = RiskTotals.get_by_id(1).unhedged_exposure
        limit = settings.max_unhedged_exposure
        totals = RiskTotalsView(
            unhedged_exposure=total,
            limit=limit,
            utilisation=ratio(total, limit),
            pending_hedges=sum(m.pending_hedges for m in markets),
            unknown_hedges=sum(m.unknown_hedges for m in markets),
        )
    return ExposureView(totals, markets, utcnow(), event_id)
