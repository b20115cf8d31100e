"""Settling a resolved market (migration 0014): the users' positions become one payout per account,
written with the market's `market_settlement` row and one `market_payout` event per account, in one
transaction. That transaction is the only place payouts are written, and it writes them once: it
holds the market's rows locked, returns without writing when the settlement row exists, and the
settlement row's primary key (and the payouts' unique (market, account)) refuse a second one from
any other process.

Lock order, as a booking's (`server.store.groups`): the market's exposure row with its mapping row,
then the event lock. A booking that waited for those locks sees the market resolved and refuses the
order (MARKET_CLOSED), so no order is booked into a settled market."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import peewee

from server.domain.market_state import MarketState
from server.domain.payouts import Payout, UserTrade, payouts, winning_leg
from server.domain.types import Leg, Side
from server.store import events, groups, sql
from server.store.db import write_transaction
from server.store.events import NewEvent
from server.store.fields import utcnow
from server.store.models import MarketSettlement, PolymarketMarketMapping, UserOrder

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settled:
    """A market this call settled: its winner and the payouts it wrote."""

    mapping_id: int
    winner: Leg
    payouts: tuple[Payout, ...]


def settle(database: peewee.Database, mapping_id: int) -> Settled | None:
    """Settles the market of `mapping_id` if it is resolved and not settled yet, in one transaction;
    None when there was nothing to do (not resolved, already settled, or a winner that is neither
    of its tokens, which is logged and left alone)."""
    with write_transaction(database):
        groups.lock_with_groups([mapping_id])
        mapping = (
            PolymarketMarketMapping.select()
            .where(PolymarketMarketMapping.id == mapping_id)
            .for_update()
            .get_or_none()
        )
        if mapping is None:
            return None
        written, new = statements(database, mapping, utcnow())
        events.append(database, new)
    return written


def statements(
    database: peewee.Database, mapping: PolymarketMarketMapping, now: datetime
) -> tuple[Settled | None, list[NewEvent]]:
    """Settles `mapping`'s market inside the caller's transaction, which holds its rows locked
    (`settle`, or the market state's writer as it records the resolution): writes the settlement and
    payout rows and returns them with their events, for the caller to append last; (None, []) when
    there is nothing to settle."""
    winner = _winner(mapping)
    if winner is None or MarketSettlement.get_or_none(MarketSettlement.mapping == mapping.id) is not None:
        return None, []
    trades = [
        UserTrade(o.account_id, Side(o.side), o.size)
        for o in UserOrder.select(UserOrder.account_id, UserOrder.side, UserOrder.size).where(
            (UserOrder.mapping == mapping.id) & (UserOrder.status == "accepted")
        )
    ]
    owed = payouts(trades, winner)
    total = sum((p.payout for p in owed), Decimal(0))
    settlement = {
        "mapping_id": mapping.id,
        "winning_token_id": mapping.winning_token_id,
        "winning_leg": winner.value.lower(),
        "accounts": len(owed),
        "payout": total,
        "settled_at": now,
    }
    rows = [
        {
            "id": str(uuid.uuid4()),
            "mapping_id": mapping.id,
            "account_id": p.account_id,
            "shares": p.shares,
            "payout": p.payout,
            "created_at": now,
        }
        for p in owed
    ]
    sql.run(
        database,
        [*sql.insert_many("market_settlement", [settlement]), *sql.insert_many("market_payout", rows)],
    )
    new = [_event(mapping, winner, p) for p in owed]
    return Settled(mapping.id, winner, tuple(owed)), new


def unsettled(database: peewee.Database) -> list[int]:
    """The resolved markets not settled yet, in mapping id order (a process that stopped between the
    resolution and its settlement, or markets resolved before settlement existed)."""
    query = (
        PolymarketMarketMapping.select(PolymarketMarketMapping.id)
        .join(
            MarketSettlement,
            peewee.JOIN.LEFT_OUTER,
            on=MarketSettlement.mapping == PolymarketMarketMapping.id,
        )
        .where(
            (PolymarketMarketMapping.market_state == MarketState.RESOLVED.value)
            & MarketSettlement.mapping.is_null()
        )
        .order_by(PolymarketMarketMapping.id)
    )
    return [m.id for m in query]


def _winner(mapping: PolymarketMarketMapping) -> Leg | None:
    if mapping.market_state != MarketState.RESOLVED.value or mapping.winning_token_id is None:
        return None
    try:
        return winning_leg(mapping.winning_token_id, mapping.yes_token_id, mapping.no_token_id)
    except ValueError as exc:
        log.error("market %s/%s not settled: %s", mapping.event_id, mapping.outcome, exc)
        return None


def _event(mapping: PolymarketMarketMapping, winner: Leg, p: Payout) -> NewEvent:
    message = f"{winner.value} won: account {p.account_id} is owed {p.payout} USDC for {p.shares} shares"
    data = {
        "mapping_id": mapping.id,
        "condition_id": mapping.condition_id,
        "account_id": p.account_id,
        "shares": p.shares,
        "payout": p.payout,
        "winning_leg": winner.value,
    }
    return NewEvent("market_payout", message, mapping.event_id, mapping.outcome, data=data)
