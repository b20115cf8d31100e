"""User orders and their hedges: the transactions that make hedging exactly-once.

`place` is one transaction that records the user order, reserves its exposure against every limit and
records the signed hedge intent (its order hash and the exact bytes to post) before anything goes to
the venue. `record_result` applies a hedge's outcome exactly once, however many times it is reported.
No network call happens inside these transactions. Lock order, everywhere: the market's exposure row,
then the hedge row, then the totals row, then the event lock."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import peewee

from server.domain.decision import LIMIT_REASONS, Accepted, Decision, OrderRequest, Rejected
from server.domain.exposure import Position
from server.domain.hedge_result import HedgeResult, order_hedge_status, spread_captured, status_for_fill
from server.domain.pricing import Quote
from server.domain.types import HedgeStatus, Leg, Mode, OrderHedgeStatus, RejectReason, Side
from server.errors import AlreadyExists, FailedPrecondition, NotFound
from server.store import events
from server.store.db import is_sqlite
from server.store.events import NewEvent
from server.store.fields import utcnow
from server.store.models import HedgePosition, MarketExposure, PolymarketMarketMapping, RiskTotals, UserOrder


@dataclass(frozen=True)
class SignedIntent:
    """A hedge order signed once: its venue id (the EIP-712 hash) and the exact body to post."""

    venue_order_id: str
    body: str


@dataclass(frozen=True)
class OrderWithHedges:
    order: UserOrder
    hedges: list[HedgePosition]

    @property
    def pending_hedge(self) -> HedgePosition | None:
        """The live hedge still waiting for its first answer, if any."""
        return next((h for h in self.hedges if h.status == HedgeStatus.PENDING and not h.is_paper), None)


class _TotalLimitReached(Exception):
    pass


def position_of(row: MarketExposure) -> Position:
    return Position(
        user_shares=row.user_shares,
        hedge_yes=row.hedge_yes,
        hedge_no=row.hedge_no,
        yes_reserved_for_sale=row.yes_reserved_for_sale,
        net_cash=row.net_cash,
    )


class OrderStore:
    def __init__(self, database: peewee.Database) -> None:
        self.db = database
        self._sqlite = is_sqlite(database)

    # --- reads ---------------------------------------------------------------------------------------
    def get(self, order_id: str) -> OrderWithHedges:
        order = UserOrder.get_or_none(UserOrder.id == order_id)
        if order is None:
            raise NotFound(f"no order {order_id[:64]!r}")
        return self._with_hedges(order)

    def find_by_request(self, account_id: str, request_id: str) -> OrderWithHedges | None:
        order = UserOrder.get_or_none(
            (UserOrder.account_id == account_id) & (UserOrder.request_id == request_id)
        )
        return self._with_hedges(order) if order is not None else None

    def hedge(self, hedge_id: str) -> HedgePosition:
        return HedgePosition.get_by_id(hedge_id)

    def open_hedges(self, *, submitted_before: datetime, limit: int = 100) -> list[HedgePosition]:
        """Live hedges whose outcome is not known: UNKNOWN ones due for a check, and PENDING ones older
        than `submitted_before` (their poster may have crashed)."""
        now = utcnow()
        query = (
            HedgePosition.select()
            .where(
                (HedgePosition.is_paper == False)  # noqa: E712 - peewee expression
                & (
                    (
                        (HedgePosition.status == HedgeStatus.UNKNOWN)
                        & ((HedgePosition.next_check_at.is_null()) | (HedgePosition.next_check_at <= now))
                    )
                    | (
                        (HedgePosition.status == HedgeStatus.PENDING)
                        & (HedgePosition.created_at < submitted_before)
                    )
                )
            )
            .order_by(HedgePosition.created_at)
            .limit(limit)
        )
        return list(query)

    def _with_hedges(self, order: UserOrder) -> OrderWithHedges:
        hedges = list(
            HedgePosition.select().where(HedgePosition.order == order.id).order_by(HedgePosition.created_at)
        )
        return OrderWithHedges(order, hedges)

    # --- the order transaction -------------------------------------------------------------------------
    def place(
        self,
        request: OrderRequest,
        request_hash: str,
        mapping: PolymarketMarketMapping | None,
        decide: Callable[[Position, Decimal], Decision],
        sign: Callable[[Quote], SignedIntent],
    ) -> tuple[OrderWithHedges, bool]:
        """Books the order (or its rejection) once. Returns the stored order and whether this call
        created it; a replay of the same request returns the stored order, a different body under the
        same request id raises `AlreadyExists`."""
        existing = self.find_by_request(request.account_id, request.request_id)
        if existing is not None:
            return self._replay(existing, request_hash), False
        try:
            with self._transaction():
                if mapping is None or not mapping.active:
                    order = self._insert_rejected(request, request_hash, mapping, _inactive())
                else:
                    position, total = self._lock_position(mapping.id)
                    decision = decide(position, total)
                    if isinstance(decision, Rejected):
                        order = self._insert_rejected(request, request_hash, mapping, decision)
                    else:
                        order = self._insert_accepted(request, request_hash, mapping, decision, sign)
            return self._with_hedges(order), True
        except _TotalLimitReached:
            # Another process took the last headroom between our read and our reservation.
            rejected = Rejected(
                RejectReason.TOTAL_EXPOSURE_LIMIT, "unhedged exposure would exceed maxUnhedgedExposure"
            )
            with self._transaction():
                order = self._insert_rejected(request, request_hash, mapping, rejected)
            return self._with_hedges(order), True
        except peewee.IntegrityError:
            # A concurrent duplicate committed first: answer as a replay.
            again = self.find_by_request(request.account_id, request.request_id)
            if again is None:
                raise
            return self._replay(again, request_hash), False

    def _replay(self, existing: OrderWithHedges, request_hash: str) -> OrderWithHedges:
        if existing.order.request_hash != request_hash:
            raise AlreadyExists("request_id was already used for a different order")
        return existing

    def _lock_position(self, mapping_id: int) -> tuple[Position, Decimal]:
        query = MarketExposure.select().where(MarketExposure.mapping == mapping_id)
        row = (query if self._sqlite else query.for_update()).get_or_none()
        if row is None:
            raise FailedPrecondition(f"market mapping {mapping_id} has no exposure row")
        total = RiskTotals.get_by_id(1).unhedged_exposure
        return position_of(row), total

    def _insert_rejected(
        self,
        request: OrderRequest,
        request_hash: str,
        mapping: PolymarketMarketMapping | None,
        decision: Rejected,
    ) -> UserOrder:
        now = utcnow()
        order = UserOrder.create(
            id=str(uuid.uuid4()),
            account_id=request.account_id,
            request_id=request.request_id,
            request_hash=request_hash,
            mapping=mapping.id if mapping is not None else None,
            event_id=request.event_id,
            outcome=request.outcome,
            side=request.side.value,
            size=request.size,
            limit_price=request.limit_price,
            status="rejected",
            reject_reason=decision.reason.value,
            message=decision.message,
            price=None,
            notional=None,
            reference_price=decision.quote.reference_price if decision.quote else None,
            hedge_fee_estimate=decision.quote.hedge_fee if decision.quote else None,
            hedge_status=OrderHedgeStatus.NOT_ATTEMPTED.value,
            hedged_size=Decimal(0),
            created_at=now,
            updated_at=now,
        )
        new = [_order_event("order_rejected", order, decision.message, {"reason": decision.reason.value})]
        if decision.reason in LIMIT_REASONS:
            new.append(
                _order_event("limit_reached", order, decision.message, {"reason": decision.reason.value})
            )
        events.append(self.db, new)
        return order

    def _insert_accepted(
        self,
        request: OrderRequest,
        request_hash: str,
        mapping: PolymarketMarketMapping,
        decision: Accepted,
        sign: Callable[[Quote], SignedIntent],
    ) -> UserOrder:
        now = utcnow()
        q = decision.quote
        paper = decision.paper_fill
        if decision.mode is Mode.OFF:
            hedge_status = OrderHedgeStatus.NOT_ATTEMPTED
        elif paper is not None:
            hedge_status = OrderHedgeStatus.PAPER
        else:
            hedge_status = OrderHedgeStatus.PENDING
        order = UserOrder.create(
            id=str(uuid.uuid4()),
            account_id=request.account_id,
            request_id=request.request_id,
            request_hash=request_hash,
            mapping=mapping.id,
            event_id=request.event_id,
            outcome=request.outcome,
            side=request.side.value,
            size=request.size,
            limit_price=request.limit_price,
            status="accepted",
            reject_reason=None,
            message=_accepted_message(decision),
            price=q.price,
            notional=q.notional,
            reference_price=q.reference_price,
            hedge_fee_estimate=q.hedge_fee,
            hedge_status=hedge_status.value,
            hedged_size=paper.filled if paper is not None else Decimal(0),
            created_at=now,
            updated_at=now,
        )
        new = [_order_event("order_accepted", order, order.message, {"price": q.price, "size": q.size})]
        if decision.mode is not Mode.OFF:
            hedge = self._insert_hedge(order, mapping, decision, sign, now)
            if paper is not None:
                new.append(
                    _hedge_event("hedge_paper_filled", order, hedge, "paper hedge filled in simulation")
                )
            else:
                new.append(
                    _hedge_event("hedge_submitted", order, hedge, "hedge signed and sent to Polymarket")
                )
        self._write_position(mapping.id, decision.after, now)
        delta = decision.total_after - decision.total_before
        self._reserve_total(delta, decision.total_limit if delta > 0 else None)
        events.append(self.db, new)
        return order

    def _insert_hedge(
        self,
        order: UserOrder,
        mapping: PolymarketMarketMapping,
        decision: Accepted,
        sign: Callable[[Quote], SignedIntent],
        now: datetime,
    ) -> HedgePosition:
        q = decision.quote
        paper = decision.paper_fill
        signed = sign(q) if paper is None else None
        if paper is not None:
            status = HedgeStatus.PAPER if paper.filled > 0 else HedgeStatus.FAILED
            captured = spread_captured(q.hedge.leg, q.hedge.side, q.price, paper.filled, paper.cost)
            fill_values = {
                "filled_size": paper.filled,
                "fill_cost": paper.cost,
                "fill_price": paper.cost / paper.filled if paper.filled else None,
                "fee": paper.fee,
                "spread_captured": captured,
                "net_profit": captured - paper.fee,
                "failure_reason": None if paper.filled else "no paper fill within the hedge's limit",
                "resolved_at": now,
            }
        else:
            status = HedgeStatus.PENDING
            fill_values = {
                "filled_size": Decimal(0),
                "fill_cost": Decimal(0),
                "fill_price": None,
                "fee": Decimal(0),
                "spread_captured": Decimal(0),
                "net_profit": Decimal(0),
                "failure_reason": None,
                "resolved_at": None,
            }
        return HedgePosition.create(
            id=str(uuid.uuid4()),
            order=order.id,
            mapping=mapping.id,
            parent_hedge=None,
            token_id=q.hedge.token_id,
            leg=q.hedge.leg.value,
            side=q.hedge.side.value,
            size=q.size,
            limit_price=q.hedge_limit_price,
            quoted_price=q.reference_price,
            user_price=q.price,
            order_type=decision.order_type,
            is_paper=paper is not None,
            status=status.value,
            venue_order_id=signed.venue_order_id if signed else None,
            signed_order=signed.body if signed else None,
            attempt_count=1 if signed else 0,
            next_check_at=None,
            created_at=now,
            updated_at=now,
            submitted_at=now if signed else None,
            **fill_values,
        )

    def _write_position(self, mapping_id: int, position: Position, now: datetime) -> None:
        MarketExposure.update(
            user_shares=position.user_shares,
            hedge_yes=position.hedge_yes,
            hedge_no=position.hedge_no,
            yes_reserved_for_sale=position.yes_reserved_for_sale,
            net_cash=position.net_cash,
            worst_case_loss=position.worst_case_loss,
            updated_at=now,
        ).where(MarketExposure.mapping == mapping_id).execute()

    def _reserve_total(self, delta: Decimal, limit: Decimal | None) -> None:
        """Adds `delta` to total exposure. With a `limit`, the change is applied only while the total
        stays within it, atomically (a conditional UPDATE on PostgreSQL; SQLite already holds the write
        lock), else `_TotalLimitReached` rolls the order back."""
        now = utcnow()
        if self._sqlite:
            current = RiskTotals.get_by_id(1).unhedged_exposure
            if limit is not None and current + delta > limit:
                raise _TotalLimitReached
            RiskTotals.update(unhedged_exposure=current + delta, updated_at=now).where(
                RiskTotals.id == 1
            ).execute()
            return
        if limit is None:
            self.db.execute_sql(
                "UPDATE risk_totals SET unhedged_exposure = GREATEST(unhedged_exposure + %s, 0), updated_at = %s "
                "WHERE id = 1",
                (delta, now),
            )
            return
        cursor = self.db.execute_sql(
            "UPDATE risk_totals SET unhedged_exposure = unhedged_exposure + %s, updated_at = %s "
            "WHERE id = 1 AND unhedged_exposure + %s <= %s",
            (delta, now, delta, limit),
        )
        if cursor.rowcount != 1:
            raise _TotalLimitReached

    # --- hedge outcomes -------------------------------------------------------------------------------
    def record_result(self, hedge_id: str, result: HedgeResult, *, resolved: bool = False) -> OrderWithHedges:
        """Applies a live hedge's final outcome once; a hedge already final is left as it is."""
        mapping_id = HedgePosition.select(HedgePosition.mapping).where(HedgePosition.id == hedge_id).scalar()
        if mapping_id is None:
            raise NotFound(f"no hedge {hedge_id!r}")
        with self._transaction():
            position, _ = self._lock_position(mapping_id)
            query = HedgePosition.select().where(HedgePosition.id == hedge_id)
            hedge = (query if self._sqlite else query.for_update()).get()
            if not HedgeStatus(hedge.status).is_open:
                order = UserOrder.get_by_id(hedge.order_id)
                return self._with_hedges(order)
            now = utcnow()
            leg, side = Leg(hedge.leg), Side(hedge.side)
            after = position.with_hedge_result(
                leg, side, planned=hedge.size, filled=result.filled, cost=result.cost, fee=result.fee
            )
            captured = spread_captured(leg, side, hedge.user_price, result.filled, result.cost)
            status = result.status if result.filled == 0 else status_for_fill(hedge.size, result.filled)
            HedgePosition.update(
                status=status.value,
                filled_size=result.filled,
                fill_cost=result.cost,
                fill_price=result.fill_price,
                fee=result.fee,
                spread_captured=captured,
                net_profit=captured - result.fee,
                failure_reason=result.failure_reason,
                resolved_at=now,
                updated_at=now,
                next_check_at=None,
            ).where(HedgePosition.id == hedge_id).execute()
            self._write_position(mapping_id, after, now)
            order = UserOrder.get_by_id(hedge.order_id)
            siblings = self._with_hedges(order).hedges
            statuses = [HedgeStatus(h.status) for h in siblings]
            filled_total = sum((h.filled_size for h in siblings), Decimal(0))
            UserOrder.update(
                hedge_status=order_hedge_status(statuses).value, hedged_size=filled_total, updated_at=now
            ).where(UserOrder.id == order.id).execute()
            self._reserve_total(after.exposure - position.exposure, None)
            kind = {
                HedgeStatus.HEDGED: "hedge_filled",
                HedgeStatus.PARTIAL: "hedge_partially_filled",
                HedgeStatus.FAILED: "hedge_failed",
            }[status]
            message = result.failure_reason or f"{result.filled} of {hedge.size} shares filled"
            data = {
                "filled_size": result.filled,
                "fee": result.fee,
                "venue_order_id": hedge.venue_order_id or "",
            }
            new = [_hedge_event(kind, order, hedge, message, data)]
            if resolved:
                new.append(
                    _hedge_event("hedge_resolved", order, hedge, "unknown hedge resolved at the venue", data)
                )
            events.append(self.db, new)
            return self._with_hedges(UserOrder.get_by_id(order.id))

    def mark_unknown(self, hedge_id: str, message: str, retry_in: timedelta) -> None:
        """The venue's answer was lost: keep the exposure reserved and look the order up later."""
        now = utcnow()
        with self._transaction():
            hedge = HedgePosition.get_by_id(hedge_id)
            if hedge.status not in (HedgeStatus.PENDING, HedgeStatus.UNKNOWN):
                return
            first = hedge.status == HedgeStatus.PENDING
            HedgePosition.update(
                status=HedgeStatus.UNKNOWN.value,
                failure_reason=message,
                next_check_at=now + retry_in,
                updated_at=now,
            ).where(HedgePosition.id == hedge_id).execute()
            if first:
                order = UserOrder.get_by_id(hedge.order_id)
                UserOrder.update(hedge_status=OrderHedgeStatus.UNKNOWN.value, updated_at=now).where(
                    UserOrder.id == order.id
                ).execute()
                events.append(self.db, [_hedge_event("hedge_unknown", order, hedge, message)])

    def note_attempt(self, hedge_id: str) -> None:
        HedgePosition.update(
            attempt_count=HedgePosition.attempt_count + 1, submitted_at=utcnow(), updated_at=utcnow()
        ).where(HedgePosition.id == hedge_id).execute()

    # --- re-hedges of unhedged residuals ---------------------------------------------------------------
    def rehedge_candidates(self, *, since: datetime, limit: int = 50) -> list[HedgePosition]:
        """Live hedges created after `since` that ended FAILED or PARTIAL and have no re-hedge yet,
        oldest outcome first. The caller decides on attempts, back-off and the book."""
        child = HedgePosition.alias("child")
        has_child = child.select(child.id).where(child.parent_hedge == HedgePosition.id)
        query = (
            HedgePosition.select()
            .where(
                (HedgePosition.is_paper == False)  # noqa: E712 - peewee expression
                & (HedgePosition.status.in_([HedgeStatus.FAILED.value, HedgeStatus.PARTIAL.value]))
                & (HedgePosition.created_at >= since)
                & ~peewee.fn.EXISTS(has_child)
            )
            .order_by(HedgePosition.resolved_at)
            .limit(limit)
        )
        return list(query)

    def attempt_of(self, hedge: HedgePosition) -> int:
        """1 for an order's first hedge, 2 for its first re-hedge, and so on."""
        attempt, parent = 1, hedge.parent_hedge_id
        while parent is not None:
            attempt += 1
            parent = (
                HedgePosition.select(HedgePosition.parent_hedge).where(HedgePosition.id == parent).scalar()
            )
        return attempt

    def create_rehedge(self, parent_id: str, sign: Callable[[Decimal], SignedIntent]) -> HedgePosition | None:
        """Records a signed re-hedge of a FAILED or PARTIAL hedge's residual, exactly like the order
        path records a hedge: one transaction, signed once, before anything is posted. Returns None
        when there is nothing (left) to re-hedge: the parent is not final-unhedged, another process
        re-hedged it first, or a SELL of YES would sell inventory that is no longer there. Lock order
        as everywhere: the market's exposure row, then the hedge row, then the event lock."""
        mapping_id = HedgePosition.select(HedgePosition.mapping).where(HedgePosition.id == parent_id).scalar()
        if mapping_id is None:
            raise NotFound(f"no hedge {parent_id!r}")
        with self._transaction():
            position, _ = self._lock_position(mapping_id)
            query = HedgePosition.select().where(HedgePosition.id == parent_id)
            parent = (query if self._sqlite else query.for_update()).get()
            if parent.is_paper or parent.status not in (HedgeStatus.FAILED.value, HedgeStatus.PARTIAL.value):
                return None
            if HedgePosition.select().where(HedgePosition.parent_hedge == parent_id).exists():
                return None
            residual = parent.size - parent.filled_size
            if residual <= 0:
                return None
            now = utcnow()
            if Leg(parent.leg) is Leg.YES and Side(parent.side) is Side.SELL:
                if position.yes_available < residual:
                    return None
                self._write_position(mapping_id, position.with_sale_reserved(residual), now)
            signed = sign(residual)
            child = HedgePosition.create(
                id=str(uuid.uuid4()),
                order=parent.order_id,
                mapping=mapping_id,
                parent_hedge=parent.id,
                token_id=parent.token_id,
                leg=parent.leg,
                side=parent.side,
                size=residual,
                limit_price=parent.limit_price,
                quoted_price=parent.quoted_price,
                user_price=parent.user_price,
                order_type=parent.order_type,
                is_paper=False,
                status=HedgeStatus.PENDING.value,
                venue_order_id=signed.venue_order_id,
                signed_order=signed.body,
                filled_size=Decimal(0),
                fill_cost=Decimal(0),
                fill_price=None,
                fee=Decimal(0),
                spread_captured=Decimal(0),
                net_profit=Decimal(0),
                failure_reason=None,
                attempt_count=1,
                next_check_at=None,
                created_at=now,
                updated_at=now,
                submitted_at=now,
                resolved_at=None,
            )
            order = UserOrder.get_by_id(parent.order_id)
            UserOrder.update(hedge_status=OrderHedgeStatus.PENDING.value, updated_at=now).where(
                UserOrder.id == order.id
            ).execute()
            events.append(
                self.db,
                [
                    _hedge_event(
                        "hedge_submitted",
                        order,
                        child,
                        f"re-hedge of {residual} unhedged shares signed and sent to Polymarket",
                        {"parent_hedge_id": parent.id, "size": residual},
                    )
                ],
            )
            return child

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        if self._sqlite:
            with self.db.atomic("IMMEDIATE"):
                yield
        else:
            with self.db.atomic():
                yield


def _inactive() -> Rejected:
    return Rejected(RejectReason.MARKET_INACTIVE, "the market has no active Polymarket mapping")


def _accepted_message(decision: Accepted) -> str:
    if decision.mode is Mode.OFF:
        return "accepted unhedged: hedging is off"
    if decision.paper_fill is not None:
        return "accepted; paper hedge filled in simulation"
    return "accepted; hedge sent to Polymarket"


def _order_event(kind: str, order: UserOrder, message: str, data: dict[str, object]) -> NewEvent:
    return NewEvent(kind, message, order.event_id, order.outcome, order.id, None, dict(data))


def _hedge_event(
    kind: str, order: UserOrder, hedge: HedgePosition, message: str, data: dict[str, object] | None = None
) -> NewEvent:
    return NewEvent(kind, message, order.event_id, order.outcome, order.id, hedge.id, dict(data or {}))
