"""Market mappings: which Polymarket binary market (and its YES token) stands for each of the
platform's event outcomes. Creating one also creates the market's exposure row."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import peewee

from server.domain import inputs
from server.domain.hedge_policy import PolicyOverrides, parse_overrides
from server.errors import AlreadyExists, InvalidArgument, NotFound
from server.store import events, groups, positions, sql
from server.store.db import write_transaction
from server.store.events import NewEvent
from server.store.fields import utcnow
from server.store.models import MarketExposure, PolymarketMarketMapping

ZERO = Decimal(0)


@dataclass(frozen=True)
class MappingSpec:
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
    question: str
    exposure_limit: Decimal | None = None


def create(database: peewee.Database, spec: MappingSpec, *, author: str) -> PolymarketMarketMapping:
    now = utcnow()
    with write_transaction(database):
        exists = PolymarketMarketMapping.get_or_none(
            (PolymarketMarketMapping.event_id == spec.event_id)
            & (PolymarketMarketMapping.outcome == spec.outcome)
        )
        if exists is not None:
            raise AlreadyExists(f"{spec.event_id}/{spec.outcome} is already mapped (mapping {exists.id})")
        _refuse_shared_token(spec.yes_token_id, None)
        mapping = PolymarketMarketMapping.create(**vars(spec), active=True, created_at=now, updated_at=now)
        MarketExposure.create(
            mapping=mapping.id,
            user_shares=ZERO,
            hedge_yes=ZERO,
            hedge_no=ZERO,
            yes_reserved_for_sale=ZERO,
            no_reserved_for_sale=ZERO,
            net_cash=ZERO,
            worst_case_loss=ZERO,
            updated_at=now,
        )
        events.append(database, [_event(mapping, f"mapping created by {author}", author)])
    return mapping


def update(
    database: peewee.Database,
    mapping_id: int,
    *,
    author: str,
    active: bool | None = None,
    exposure_limit: Decimal | None = None,
    clear_limit: bool = False,
    hedge_overrides: Mapping[str, str | None] | None = None,
    event_group: str | None = None,
    clear_group: bool = False,
    **venue_fields: object,
) -> PolymarketMarketMapping:
    """Changes a mapping's activity, limit, hedge policy overrides (config key name -> value text, None
    to fall back to the key), neg-risk event group (`event_group`; `clear_group` leaves it) or venue
    parameters (as re-read from the venue). Invalid input raises `InvalidArgument` before anything is
    written."""
    if event_group is not None:
        if clear_group:
            raise InvalidArgument("eventGroup", "give a group or clearEventGroup, not both")
        inputs.identifier("eventGroup", event_group)
    allowed = {"tick_size", "min_order_size", "neg_risk", "fee_rate", "fee_exponent", "question"}
    unknown = set(venue_fields) - allowed
    if unknown:
        raise InvalidArgument(sorted(unknown)[0], "cannot be changed on a mapping")
    policy_columns = parse_overrides(hedge_overrides or {})
    with write_transaction(database):
        mapping = PolymarketMarketMapping.get_or_none(PolymarketMarketMapping.id == mapping_id)
        if mapping is None:
            raise NotFound(f"no mapping {mapping_id}")
        changes: dict[str, object] = dict(venue_fields)
        changes.update(
            (column, value) for column, value in policy_columns.items() if getattr(mapping, column) != value
        )
        if active is not None:
            if active and not mapping.active:
                _refuse_shared_token(mapping.yes_token_id, mapping.id)
            changes["active"] = active
        if exposure_limit is not None:
            if not exposure_limit.is_finite() or exposure_limit < 0:
                raise InvalidArgument("exposure_limit", "must be a non-negative decimal")
            changes["exposure_limit"] = exposure_limit
        elif clear_limit:
            changes["exposure_limit"] = None
        if event_group is not None and event_group != mapping.event_group:
            if not venue_fields.get("neg_risk", mapping.neg_risk):
                # Only a neg-risk event's outcomes exclude each other: grouping any other markets
                # would understate their risk.
                raise InvalidArgument("eventGroup", "only a neg-risk market can belong to an event group")
            changes["event_group"] = event_group
        elif clear_group and mapping.event_group is not None:
            changes["event_group"] = None
        if not changes:
            return mapping
        changes["updated_at"] = now = utcnow()
        if "event_group" in changes:  # the total counts a group once, at its worst case: recount both
            moved = groups.regrouped(mapping_id, mapping.event_group, changes["event_group"])  # type: ignore[arg-type]
            if moved:
                sql.run(database, [positions.add_to_total(moved, now)])
        PolymarketMarketMapping.update(**changes).where(PolymarketMarketMapping.id == mapping_id).execute()
        mapping = PolymarketMarketMapping.get_by_id(mapping_id)
        what = ", ".join(f"{k}={v}" for k, v in changes.items() if k != "updated_at")
        events.append(database, [_event(mapping, f"mapping changed by {author}: {what}", author)])
    return mapping


def policy_overrides(mapping: PolymarketMarketMapping) -> PolicyOverrides:
    """The hedge policy keys the mapping sets of its own."""
    return PolicyOverrides(
        mapping.hedge_policy, mapping.hedge_ratio, mapping.hedge_min_shares, mapping.hedge_max_delay_ms
    )


def follow_venue_tick(database: peewee.Database, mapping_id: int, tick: Decimal) -> PolymarketMarketMapping:
    """Stores the tick the venue now quotes the market on (it refines near 0 and 1 and back), with an
    audit event; a mapping already on that tick is returned as it is."""
    current = PolymarketMarketMapping.get_or_none(PolymarketMarketMapping.id == mapping_id)
    if current is None:
        raise NotFound(f"no mapping {mapping_id}")
    if current.tick_size == tick:
        return current
    return update(database, mapping_id, author="venue", tick_size=tick)


def _refuse_shared_token(token_id: str, mapping_id: int | None) -> None:
    """One venue token stands for at most one active market (migration 0003 enforces it as well):
    otherwise each mapping would get its own exposure limit on one venue position."""
    query = PolymarketMarketMapping.select().where(
        (PolymarketMarketMapping.yes_token_id == token_id) & (PolymarketMarketMapping.active == True)  # noqa: E712
    )
    if mapping_id is not None:
        query = query.where(PolymarketMarketMapping.id != mapping_id)
    other = query.first()
    if other is not None:
        raise AlreadyExists(
            f"the venue token is already the active market {other.event_id}/{other.outcome} "
            f"(mapping {other.id}); deactivate that mapping first"
        )


def _event(mapping: PolymarketMarketMapping, message: str, author: str) -> NewEvent:
    return NewEvent(
        "mapping_changed",
        message,
        event_id=mapping.event_id,
        outcome=mapping.outcome,
        data={
            "mapping_id": mapping.id,
            "condition_id": mapping.condition_id,
            "active": mapping.active,
            "author": author,
        },
    )
