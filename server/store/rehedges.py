"""Re-hedges of what failed or partial live hedges left unhedged: the candidates, a person's request,
and the transaction that records a signed re-hedge before it is posted (as `place` records a hedge).
Lock order as in every writer (`server.store.positions`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

import peewee

from server.domain.decision import in_flight_on
from server.domain.exposure import total_after
from server.domain.group_exposure import GroupLimit
from server.domain.hedge import RESIDUAL, Hedge, SignedIntent
from server.domain.hedge_size import cover_needed
from server.domain.limits import Limits, check_limits, check_venue_minimum
from server.domain.types import Leg, OrderHedgeStatus, Side
from server.errors import FailedPrecondition, InvalidArgument, NotFound
from server.risk.market_totals import MarketTotals
from server.store import events, groups, positions, sql
from server.store.db import write_transaction
from server.store.events import NewEvent
from server.store.fields import utcnow
from server.store.models import HedgePosition, PolymarketMarketMapping, UserOrder
from server.store.rows import hedge_changes, hedge_columns, hedge_of, terms_of

_RESIDUAL = [s.value for s in RESIDUAL]


class Rehedges:
    def __init__(self, database: peewee.Database) -> None:
        self.db = database

    def candidates(self, *, since: datetime, limit: int = 50, automatic: bool = True) -> list[Hedge]:
        """Live hedges that ended FAILED or PARTIAL and have no re-hedge yet: first those a person asked
        to re-hedge (`request`), whatever their age, oldest request first; then, when `automatic`,
        those created after `since`, oldest outcome first. At most `limit` of each kind, so requests
        the book cannot fill yet never crowd out the rest. The caller decides on attempts, back-off
        and the book."""
        child = HedgePosition.alias("child")
        has_child = child.select(child.id).where(child.parent_hedge == HedgePosition.id)
        open_residual = (
            (HedgePosition.is_paper == False)  # noqa: E712 - peewee expression
            & HedgePosition.status.in_(_RESIDUAL)
            & ~peewee.fn.EXISTS(has_child)
        )
        requested = [
            hedge_of(h)
            for h in HedgePosition.select()
            .where(open_residual & HedgePosition.rehedge_requested_at.is_null(False))
            .order_by(HedgePosition.rehedge_requested_at)
            .limit(limit)
        ]
        if not automatic:
            return requested
        found = {h.id for h in requested}
        recent = (
            HedgePosition.select()
            .where(open_residual & (HedgePosition.created_at >= since))
            .order_by(HedgePosition.resolved_at)
            .limit(limit)
        )
        return requested + [hedge_of(h) for h in recent if h.id not in found]

    def request(self, hedge_id: str, author: str, reason: str) -> Hedge:
        """Records a person's request to re-hedge the residual of a FAILED or PARTIAL live hedge that
        has no re-hedge yet; the re-hedger of a server process posts it (this signs and sends
        nothing). Raises `NotFound`, or `FailedPrecondition` for a paper hedge, any other status, or a
        hedge already re-hedged (retry its re-hedge instead). Asking again while a request is pending
        changes nothing and returns the hedge with the first request (its time, author and reason):
        the first person's decision is the one on record. Returns the hedge as stored."""
        reason, longest = (reason or "").strip(), 500  # as for config changes and halts
        if not reason:
            raise InvalidArgument("reason", "is required: say why")
        if len(reason) > longest:
            raise InvalidArgument("reason", f"must be at most {longest} characters")
        if not author or len(author) > 128:
            raise InvalidArgument("author", "is required (at most 128 characters)")
        with write_transaction(self.db):
            row = positions.locked(HedgePosition.select().where(HedgePosition.id == hedge_id)).get_or_none()
            if row is None:
                raise NotFound(f"no hedge {hedge_id[:64]!r}")
            hedge = hedge_of(row)
            if not hedge.is_paper and hedge.status in RESIDUAL:
                child_id = (
                    HedgePosition.select(HedgePosition.id)
                    .where(HedgePosition.parent_hedge == hedge.id)
                    .order_by(HedgePosition.created_at)
                    .scalar()
                )
                if child_id is not None:
                    raise FailedPrecondition(
                        f"hedge was already re-hedged as hedge {child_id}; retry that one if it did not fill"
                    )
            requested = hedge.rehedge_requested(author, reason, utcnow())
            if requested is not hedge:
                HedgePosition.update(**hedge_changes(hedge, requested)).where(
                    HedgePosition.id == hedge.id
                ).execute()
            return requested

    def attempt_of(self, hedge: Hedge) -> int:
        """1 for an order's first hedge, 2 for its first re-hedge, and so on."""
        attempt, parent = 1, hedge.parent_hedge_id
        while parent is not None:
            attempt += 1
            parent = (
                HedgePosition.select(HedgePosition.parent_hedge).where(HedgePosition.id == parent).scalar()
            )
        return attempt

    def create(self, parent_id: str, sign: Callable[[Decimal], SignedIntent], limits: Limits) -> Hedge | None:
        """Records a signed re-hedge of a FAILED or PARTIAL hedge's residual, exactly like the order
        path records a hedge: one transaction, signed once, before anything is posted, counted at its
        worst in its market (`with_hedge_sent`). Only the part of the residual the market still
        needs is re-hedged: orders since may have brought it back towards flat (`hedge_size`). Returns
        None when there is nothing (left) to re-hedge: the parent is not final-unhedged, another
        process re-hedged it first, the market no longer needs it or needs less than the venue's
        minimum, a SELL of YES would sell inventory that is no longer there, or counting it at its
        worst would take the market or the total over `limits` (the total's reservation is a
        check at the end of its batch, `positions.within`, as for orders)."""
        mapping_id = HedgePosition.select(HedgePosition.mapping).where(HedgePosition.id == parent_id).scalar()
        if mapping_id is None:
            raise NotFound(f"no hedge {parent_id!r}")
        try:
            return self._create(parent_id, mapping_id, sign, limits)
        except _NoRoom:  # another process took the total's last headroom
            return None

    def _create(
        self, parent_id: str, mapping_id: int, sign: Callable[[Decimal], SignedIntent], limits: Limits
    ) -> Hedge | None:
        with write_transaction(self.db):
            held = groups.lock_market(mapping_id)
            position, total = held.positions[mapping_id], positions.committed_total()
            query = HedgePosition.select().where(HedgePosition.id == parent_id)
            parent = hedge_of(positions.locked(query).get())
            if parent.is_paper or parent.status not in RESIDUAL:
                return None
            if HedgePosition.select().where(HedgePosition.parent_hedge == parent_id).exists():
                return None
            mapping = PolymarketMarketMapping.get_by_id(mapping_id)
            buys_yes = parent.leg is Leg.YES and parent.side is Side.BUY
            residual = cover_needed(buys_yes, parent.residual, position.unhedged_shares)
            if (
                residual <= 0
                or residual < mapping.min_order_size
                or check_venue_minimum(parent.side is Side.BUY, residual, parent.limit_price)
            ):
                return None
            if parent.leg is Leg.YES and parent.side is Side.SELL and position.yes_available < residual:
                return None
            flight = in_flight_on(terms_of(mapping), parent.leg, parent.side, residual, parent.limit_price)
            after = position.with_hedge_sent(flight)
            siblings = held.siblings(mapping_id)
            moved = total_after(total, position, after, siblings)
            group = None
            if siblings is not None and limits.group_limit is not None:
                group = GroupLimit(siblings, limits.group_limit)
            if check_limits(position, after, moved, limits, group):
                return None
            now = utcnow()
            delta = moved - total
            reserved = [
                *positions.writes(self.db, mapping_id, after, MarketTotals(pending_hedges=1), now),
                positions.add_to_total(delta, now),
                positions.within(limits.total_limit if delta > 0 else None),
            ]
            if sql.run(self.db, reserved) == 0:
                raise _NoRoom
            child = Hedge.pending(
                id=str(uuid.uuid4()),
                order_id=parent.order_id,
                mapping_id=mapping_id,
                parent_hedge_id=parent.id,
                token_id=parent.token_id,
                leg=parent.leg,
                side=parent.side,
                user_price=parent.user_price,
                quoted_price=parent.quoted_price,
                limit_price=parent.limit_price,
                order_type=parent.order_type,
                flight=flight,
                signed=sign(residual),
                now=now,
            )
            HedgePosition.insert(**hedge_columns(child)).execute()
            order = UserOrder.get_by_id(parent.order_id)
            UserOrder.update(hedge_status=OrderHedgeStatus.PENDING.value, updated_at=now).where(
                UserOrder.id == order.id
            ).execute()
            data: dict[str, object] = {"parent_hedge_id": parent.id, "size": residual}
            requested = ""
            if parent.rehedge_requested_at is not None:
                requested = f" (requested by {parent.rehedge_requested_by})"
                data["requested_by"] = parent.rehedge_requested_by or ""
            message = f"re-hedge of {residual} unhedged shares{requested} signed and sent to Polymarket"
            events.append(
                self.db,
                [
                    NewEvent(
                        "hedge_submitted", message, order.event_id, order.outcome, order.id, child.id, data
                    )
                ],
            )
            return child


class _NoRoom(Exception):
    """The total's reservation did not fit."""
