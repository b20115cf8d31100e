"""User orders and their hedges: the transactions that make hedging exactly-once.

`place` is one transaction that records the user order, reserves its exposure against every limit and
records the signed hedge intent (its order hash and the exact bytes to post) before anything goes to
the venue. `record_result` applies a hedge's outcome exactly once, however many times it is reported.
No network call happens inside these transactions. Lock order, everywhere: this process's lock of the
market (`PositionHints.lock`, by the order and hedge-result writers only), then the market's exposure
row, then the hedge row, then the totals row, then the event lock."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import peewee

from server.domain.decision import LIMIT_REASONS, Accepted, Decision, OrderRequest, Rejected
from server.domain.exposure import Position, total_after
from server.domain.hedge_result import HedgeResult, order_hedge_status, profit, status_for_fill
from server.domain.hedge_size import cover_needed
from server.domain.in_flight import InFlight, in_flight
from server.domain.limits import Limits, check_exposure, check_venue_minimum
from server.domain.pricing import Quote
from server.domain.types import HedgeStatus, Leg, Mode, OrderHedgeStatus, RejectReason, Side
from server.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from server.risk.market_totals import MarketTotals, of_hedge, of_order
from server.store import events, market_totals, outcome_seconds, sql
from server.store.db import is_sqlite, write_transaction
from server.store.events import NewEvent
from server.store.fields import utcnow
from server.store.group_commit import GroupCommit, GroupCounts, Planned, Queued, Work
from server.store.hints import PositionHints
from server.store.models import (
    BaseModel,
    HedgePosition,
    MarketExposure,
    PolymarketMarketMapping,
    UserOrder,
)


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


def position_of(row: MarketExposure) -> Position:
    return Position(
        user_shares=row.user_shares,
        hedge_yes=row.hedge_yes,
        hedge_no=row.hedge_no,
        yes_reserved_for_sale=row.yes_reserved_for_sale,
        net_cash=row.net_cash,
        in_flight_delta=row.in_flight_delta,
        in_flight_loss_if_yes=row.in_flight_loss_if_yes,
        in_flight_loss_if_no=row.in_flight_loss_if_no,
    )


def in_flight_of(hedge: HedgePosition) -> InFlight:
    """The hedge as its market counts it while it is open (`Position.with_hedge_sent`)."""
    return InFlight(
        Leg(hedge.leg), Side(hedge.side), hedge.size, hedge.worst_loss_if_yes, hedge.worst_loss_if_no
    )


class OrderStore:
    def __init__(self, database: peewee.Database, announce: Callable[[], None] | None = None) -> None:
        """`announce`, when given, is called after each order or hedge-result transaction commits
        (its events are then written without a NOTIFY of their own; see `server.store.events`)."""
        self.db = database
        self._sqlite = is_sqlite(database)
        self._announce = announce
        self._hints = PositionHints()
        self._group: GroupCommit[_Writes] = GroupCommit(self._hints, self._commit_group)

    @property
    def group(self) -> GroupCommit[_Writes]:
        """The group commit of this process's order and hedge-result writes (`place_queued`,
        `record_queued`)."""
        return self._group

    def group_counts(self) -> GroupCounts:
        """What this process's order and hedge-result writes on PostgreSQL did so far (`GroupCommit`)."""
        return self._group.counts()

    # --- reads ---------------------------------------------------------------------------------------
    def get(self, order_id: str) -> OrderWithHedges:
        found = self._read_order("o.id = %s", (order_id,))
        if found is None:
            raise NotFound(f"no order {order_id[:64]!r}")
        return found

    def find_by_request(self, account_id: str, request_id: str) -> OrderWithHedges | None:
        return self._read_order("o.account_id = %s AND o.request_id = %s", (account_id, request_id))

    def replay_of(self, request: OrderRequest, request_hash: str) -> OrderWithHedges | None:
        """The order already booked under this request id, if any; `AlreadyExists` when it was
        booked for a different body."""
        found = self.find_by_request(request.account_id, request.request_id)
        return self._replay(found, request_hash) if found is not None else None

    def _read_order(self, where: str, params: tuple[Any, ...]) -> OrderWithHedges | None:
        """One order and its hedges (oldest first) in one query."""
        order_columns = sql.columns(UserOrder, "o")
        hedge_columns = sql.columns(HedgePosition, "h")
        rows = sql.fetch_all(
            self.db,
            f"SELECT {', '.join(order_columns + hedge_columns)} FROM user_order o "
            f"LEFT JOIN hedge_position h ON h.order_id = o.id WHERE {where} ORDER BY h.created_at",
            params,
        )
        if not rows:
            return None
        split = len(order_columns)
        hedges = [sql.from_row(HedgePosition, r[split:]) for r in rows if r[split] is not None]
        return OrderWithHedges(sql.from_row(UserOrder, rows[0][:split]), hedges)

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
        same request id raises `AlreadyExists`.

        On PostgreSQL, when this process knows the market's position (`PositionHints`), an accepted
        order is booked in ONE round trip: every write and COMMIT as one batch, the position's update
        guarded by equality with the known position and the total's reservation by the limit; a
        guard that fails rolls it all back and the order is decided again the locked way (a
        rejection decided on a hint is always decided again that way). Orders and hedge results of
        the market waiting meanwhile share that batch (`GroupCommit`). The locked way takes two:
        BEGIN with the lock of the market's exposure row (reading the total and any earlier order
        under this request id with it); then every write and COMMIT as one batch, the total's
        reservation guarded."""
        queued = self.place_queued(request, request_hash, mapping, decide, sign)
        if queued is not None:
            placed: tuple[OrderWithHedges, bool] = self._group.run(queued.mapping_id, queued.work)
            return placed
        booking = _Booking(request, request_hash, mapping, decide, sign)
        if mapping is None or not mapping.active:
            return self._place_locked(booking)
        with self._hints.lock(mapping.id):
            return self._place_locked(booking)

    def place_queued(
        self,
        request: OrderRequest,
        request_hash: str,
        mapping: PolymarketMarketMapping | None,
        decide: Callable[[Position, Decimal], Decision],
        sign: Callable[[Quote], SignedIntent],
    ) -> Queued[_Writes] | None:
        """`place` as a write for its market's group commit (`group`), whose answer is `place`'s;
        None where `place` books without one (SQLite, a market without an active mapping)."""
        if mapping is None or not mapping.active or self._sqlite:
            return None
        booking = _Booking(request, request_hash, mapping, decide, sign)
        work: Work[_Writes] = Work(
            lambda position, total: self._plan_place(booking, mapping, position, total),
            lambda: self._place_locked(booking),
        )
        return Queued(mapping.id, work)

    def _plan_place(
        self,
        b: _Booking,
        mapping: PolymarketMarketMapping,
        position: Position | None,
        total: Decimal | None,
    ) -> Planned[_Writes] | None:
        """The order booked on the hinted position, to commit with its group; None to book it locked."""
        if position is None or total is None:
            return None
        decision = b.decide(position, total)
        if not isinstance(decision, Accepted):
            return None
        view, writes = self._accepted(b.request, b.request_hash, mapping, decision, b.sign, expected=position)
        moved = total + decision.total_after - decision.total_before
        return Planned(writes, decision.after, moved, (view, True))

    def _place_locked(self, b: _Booking) -> tuple[OrderWithHedges, bool]:
        request, mapping = b.request, b.mapping
        try:
            with self._replays_answered(request, b.request_hash) as replay:
                with sql.Transaction(self.db) as tx:
                    known: tuple[int, Position, Decimal] | None = None  # the market as committed
                    if mapping is None or not mapping.active:
                        found = tx.fetch_one(_ORDER_FOR_REQUEST, (request.account_id, request.request_id))
                        if found is not None:
                            raise _Replay(str(found[0]))
                        view, writes = self._rejected(request, b.request_hash, mapping, _inactive())
                    else:
                        position, total, order_id = self._lock_position_for(tx, mapping.id, request)
                        if order_id is not None:
                            raise _Replay(order_id)
                        decision = b.decide(position, total)
                        if isinstance(decision, Rejected):
                            view, writes = self._rejected(request, b.request_hash, mapping, decision)
                            known = (mapping.id, position, total)
                        else:
                            view, writes = self._accepted(request, b.request_hash, mapping, decision, b.sign)
                            known = (mapping.id, decision.after, decision.total_after)
                    self._commit(tx, writes)
                    if known is not None:
                        self._hints.remember(*known)
        except sql.GuardFailed:
            # Another process took the last headroom between our read and our reservation.
            rejected = Rejected(
                RejectReason.TOTAL_EXPOSURE_LIMIT, "unhedged exposure would exceed maxUnhedgedExposure"
            )
            with sql.Transaction(self.db) as tx:
                view, writes = self._rejected(request, b.request_hash, mapping, rejected)
                self._commit(tx, writes)
            return view, True
        if replay:
            return replay[0], False
        return view, True

    @contextlib.contextmanager
    def _replays_answered(self, request: OrderRequest, request_hash: str) -> Iterator[list[OrderWithHedges]]:
        """Turns a replay found inside the block (`_Replay`, or the unique request id violated by a
        concurrent duplicate that committed first) into the stored order, put in the yielded list;
        a different body under the same request id raises `AlreadyExists`."""
        found: list[OrderWithHedges] = []
        try:
            yield found
        except _Replay as replay:
            found.append(self._replay(self.get(replay.order_id), request_hash))
        except peewee.IntegrityError:
            again = self.replay_of(request, request_hash)
            if again is None:
                raise
            found.append(again)

    def _commit(self, tx: sql.Transaction, *writes: _Writes) -> None:
        """Commits the writes of orders and hedge results as one transaction, then announces their
        events. Their statements go in the lock order: the market's position, then the orders' and
        hedges' rows (and the market's totals), then the total, then the counts of ended hedges (the
        total's lock orders their writers), then the events (under the event lock)."""
        statements: list[sql.Statement] = [w.position for w in writes if w.position is not None]
        statements += [row for w in writes for row in w.rows]
        statements += [w.total for w in writes if w.total is not None]
        statements += [outcome for w in writes for outcome in w.outcomes]
        new = [event for w in writes for event in w.events]
        statements += events.statements(self.db, new, notify=self._announce is None)
        tx.commit(statements)
        if self._announce is not None:
            self._announce()

    def _commit_group(self, writes: list[_Writes]) -> None:
        with sql.Transaction(self.db) as tx:
            self._commit(tx, *writes)

    def _replay(self, existing: OrderWithHedges, request_hash: str) -> OrderWithHedges:
        if existing.order.request_hash != request_hash:
            raise AlreadyExists("request_id was already used for a different order")
        return existing

    def _lock_position_for(
        self, tx: sql.Transaction, mapping_id: int, request: OrderRequest
    ) -> tuple[Position, Decimal, str | None]:
        row = tx.fetch_one(
            f"SELECT {_POSITION}, "
            "t.unhedged_exposure, "
            "(SELECT o.id FROM user_order o WHERE o.account_id = %s AND o.request_id = %s) "
            "FROM market_exposure e, risk_totals t WHERE e.mapping_id = %s AND t.id = 1"
            + self._for_update(" OF e"),
            (request.account_id, request.request_id, mapping_id),
        )
        if row is None:
            raise FailedPrecondition(f"market mapping {mapping_id} has no exposure row")
        position = _position(row[:_POSITION_COLUMNS])
        order_id = row[_POSITION_COLUMNS + 1]
        return position, _money(row[_POSITION_COLUMNS]), (str(order_id) if order_id is not None else None)

    def _lock_position(self, mapping_id: int) -> tuple[Position, Decimal]:
        row = sql.fetch_one(
            self.db,
            f"SELECT {_POSITION}, "
            "t.unhedged_exposure FROM market_exposure e, risk_totals t WHERE e.mapping_id = %s AND t.id = 1"
            + self._for_update(" OF e"),
            (mapping_id,),
        )
        if row is None:
            raise FailedPrecondition(f"market mapping {mapping_id} has no exposure row")
        return _position(row[:_POSITION_COLUMNS]), _money(row[_POSITION_COLUMNS])

    def _for_update(self, of: str = "") -> str:
        return "" if self._sqlite else " FOR UPDATE" + of

    def _rejected(
        self,
        request: OrderRequest,
        request_hash: str,
        mapping: PolymarketMarketMapping | None,
        decision: Rejected,
    ) -> tuple[OrderWithHedges, _Writes]:
        """The rejected order as it will be stored, and the writes that store it."""
        now = utcnow()
        order = _order_values(request, request_hash, mapping, now) | {
            "status": "rejected",
            "reject_reason": decision.reason.value,
            "message": decision.message,
            "price": None,
            "notional": None,
            "reference_price": decision.quote.reference_price if decision.quote else None,
            "hedge_fee_estimate": decision.quote.hedge_fee if decision.quote else None,
            "hedge_status": OrderHedgeStatus.NOT_ATTEMPTED.value,
            "hedged_size": Decimal(0),
        }
        new = [_event_for(order, "order_rejected", decision.message, {"reason": decision.reason.value})]
        if decision.reason in LIMIT_REASONS:
            new.append(
                _event_for(order, "limit_reached", decision.message, {"reason": decision.reason.value})
            )
        return OrderWithHedges(_model(UserOrder, order), []), _Writes([sql.insert("user_order", order)], new)

    def _accepted(
        self,
        request: OrderRequest,
        request_hash: str,
        mapping: PolymarketMarketMapping,
        decision: Accepted,
        sign: Callable[[Quote], SignedIntent],
        expected: Position | None = None,
    ) -> tuple[OrderWithHedges, _Writes]:
        """The accepted order and its hedge as they will be stored, and the writes that store them
        and reserve their exposure (the total's reservation guarded by the limit; with `expected`, the
        position's update guarded by equality with it)."""
        now = utcnow()
        q = decision.quote
        paper = decision.paper_fill
        if decision.hedge is None:
            hedge_status = OrderHedgeStatus.NOT_ATTEMPTED
        elif paper is not None:
            hedge_status = OrderHedgeStatus.PAPER
        else:
            hedge_status = OrderHedgeStatus.PENDING
        order = _order_values(request, request_hash, mapping, now) | {
            "status": "accepted",
            "reject_reason": None,
            "message": _accepted_message(decision),
            "price": q.price,
            "notional": q.notional,
            "reference_price": q.reference_price,
            "hedge_fee_estimate": q.hedge_fee,
            "hedge_status": hedge_status.value,
            "hedged_size": paper.filled if paper is not None else Decimal(0),
        }
        rows = [sql.insert("user_order", order)]
        new = [_event_for(order, "order_accepted", order["message"], {"price": q.price, "size": q.size})]
        hedges = []
        change = of_order(order["size"], order["price"], order["hedged_size"])
        outcomes = []
        if decision.hedge is not None:
            hedge = _hedge_values(order["id"], mapping.id, decision, decision.hedge, sign, now)
            rows.append(sql.insert("hedge_position", hedge))
            hedges.append(hedge)
            change += of_hedge(hedge["status"], hedge["spread_captured"], hedge["fee"], hedge["net_profit"])
            outcomes = _listed(outcome_seconds.add(now, "", hedge["status"]))
            if paper is not None:
                new.append(
                    _event_for(
                        order, "hedge_paper_filled", "paper hedge filled in simulation", {}, hedge["id"]
                    )
                )
            else:
                new.append(
                    _event_for(
                        order, "hedge_submitted", "hedge signed and sent to Polymarket", {}, hedge["id"]
                    )
                )
        rows += _listed(market_totals.add(self.db, mapping.id, change))
        delta = decision.total_after - decision.total_before
        writes = _Writes(
            rows,
            new,
            self._position_statement(mapping.id, decision.after, now, expected),
            self._total_statement(delta, decision.total_limit if delta > 0 else None, now),
            outcomes,
        )
        return OrderWithHedges(_model(UserOrder, order), [_model(HedgePosition, h) for h in hedges]), writes

    def _position_statement(
        self, mapping_id: int, position: Position, now: datetime, expected: Position | None = None
    ) -> sql.Statement:
        """Writes the market's position; with `expected`, only over exactly that position (guarded:
        over any other, its transaction fails with `sql.GuardFailed`)."""
        statement: sql.Statement = (
            "UPDATE market_exposure SET user_shares = %s, hedge_yes = %s, hedge_no = %s, "
            "yes_reserved_for_sale = %s, net_cash = %s, in_flight_delta = %s, in_flight_loss_if_yes = %s, "
            "in_flight_loss_if_no = %s, worst_case_loss = %s, updated_at = %s WHERE mapping_id = %s",
            (*_position_values(position), position.worst_case_loss, now, mapping_id),
        )
        if expected is None:
            return statement
        return sql.guard(
            (
                statement[0] + " AND user_shares = %s AND hedge_yes = %s AND hedge_no = %s "
                "AND yes_reserved_for_sale = %s AND net_cash = %s AND in_flight_delta = %s "
                "AND in_flight_loss_if_yes = %s AND in_flight_loss_if_no = %s",
                (*statement[1], *_position_values(expected)),
            )
        )

    def _total_statement(self, delta: Decimal, limit: Decimal | None, now: datetime) -> sql.Statement:
        """Adds `delta` to total exposure; with a `limit`, only while the total stays within it (the
        statement is guarded: beyond the limit its transaction fails with `sql.GuardFailed`). On
        SQLite the arithmetic happens here, exactly, under the write lock SQLite already holds: its
        TEXT column must not be added in SQL."""
        if self._sqlite:
            row = sql.fetch_one(self.db, "SELECT unhedged_exposure FROM risk_totals WHERE id = 1", ())
            assert row is not None, "risk_totals has its one row from the first migration"
            current = _money(row[0])
            new_total = max(current + delta, Decimal(0))
            if limit is not None and current + delta > limit:
                return sql.guard(("UPDATE risk_totals SET updated_at = %s WHERE 1 = 0", (now,)))
            return (
                "UPDATE risk_totals SET unhedged_exposure = %s, updated_at = %s WHERE id = 1",
                (new_total, now),
            )
        if limit is None:
            return (
                "UPDATE risk_totals SET unhedged_exposure = GREATEST(unhedged_exposure + %s, 0), updated_at = %s "
                "WHERE id = 1",
                (delta, now),
            )
        return sql.guard(
            (
                "UPDATE risk_totals SET unhedged_exposure = unhedged_exposure + %s, updated_at = %s "
                "WHERE id = 1 AND unhedged_exposure + %s <= %s",
                (delta, now, delta, limit),
            )
        )

    # --- hedge outcomes -------------------------------------------------------------------------------
    def record_result(
        self,
        hedge: HedgePosition,
        result: HedgeResult,
        *,
        resolved: bool = False,
        placed: OrderWithHedges | None = None,
    ) -> OrderWithHedges:
        """Applies a live hedge's final outcome once; a hedge already final is left as it is.

        `placed`, the order as `place` booked it with `hedge` its only hedge, lets it be written on
        the hinted position in one round trip on PostgreSQL, grouped with the market's other waiting
        writes (guarded as in `place`: by the hedge still being open and the position being the
        hinted one). Otherwise, or when a guard fails, two round trips: BEGIN with the locks of the
        market's exposure row and then of the order's hedges (reading the order and the position
        with them); then every write and COMMIT as one batch."""
        queued = self.record_queued(hedge, result, resolved=resolved, placed=placed)
        if queued is not None:
            recorded: OrderWithHedges = self._group.run(queued.mapping_id, queued.work)
            return recorded
        with self._hints.lock(hedge.mapping_id):
            return self._record_locked(hedge.id, result, resolved)

    def record_queued(
        self,
        hedge: HedgePosition,
        result: HedgeResult,
        *,
        resolved: bool = False,
        placed: OrderWithHedges | None = None,
    ) -> Queued[_Writes] | None:
        """`record_result` as a write for its market's group commit (`group`), whose answer is
        `record_result`'s; None where `record_result` writes without one (SQLite, no `placed`)."""
        if placed is None or self._sqlite:
            return None
        work: Work[_Writes] = Work(
            lambda position, total: self._plan_record(placed, hedge.id, result, resolved, position, total),
            lambda: self._record_locked(hedge.id, result, resolved),
        )
        return Queued(hedge.mapping_id, work)

    def _plan_record(
        self,
        placed: OrderWithHedges,
        hedge_id: str,
        result: HedgeResult,
        resolved: bool,
        position: Position | None,
        total: Decimal | None,
    ) -> Planned[_Writes] | None:
        """The result written on the hinted position, to commit with its group; None to write it
        locked."""
        if position is None or [h.id for h in placed.hedges] != [hedge_id]:
            return None
        mapping_id = placed.hedges[0].mapping_id
        # Copies: a group that fails must leave the caller's objects as they were.
        order = UserOrder(**placed.order.__data__)
        hedge = HedgePosition(**placed.hedges[0].__data__)
        view, writes, after = self._result_writes(
            order, [hedge], hedge, position, mapping_id, result, resolved, expected=position
        )
        moved = total + after.exposure - position.exposure if total is not None else None
        return Planned(writes, after, moved, view)

    def _record_locked(self, hedge_id: str, result: HedgeResult, resolved: bool) -> OrderWithHedges:
        with sql.Transaction(self.db) as tx:
            order, siblings, position, mapping_id = self._lock_hedges(tx, hedge_id)
            hedge = next(h for h in siblings if h.id == hedge_id)
            if not HedgeStatus(hedge.status).is_open:
                self._hints.remember(mapping_id, position, None)
                return OrderWithHedges(order, siblings)
            view, writes, after = self._result_writes(
                order, siblings, hedge, position, mapping_id, result, resolved
            )
            self._commit(tx, writes)
            self._hints.remember(mapping_id, after, None)
            return view

    def _result_writes(
        self,
        order: UserOrder,
        siblings: list[HedgePosition],
        hedge: HedgePosition,
        position: Position,
        mapping_id: int,
        result: HedgeResult,
        resolved: bool,
        expected: Position | None = None,
    ) -> tuple[OrderWithHedges, _Writes, Position]:
        """The order and hedges as they will be once `result` is applied to the open `hedge`, the
        writes that store that, and the market's position after it. With `expected`, the writes
        are guarded: the position by equality with it, the hedge by still being open."""
        now = utcnow()
        leg, side = Leg(hedge.leg), Side(hedge.side)
        after = position.with_hedge_result(
            in_flight_of(hedge), filled=result.filled, cost=result.cost, fee=result.fee
        )
        earned = profit(leg, side, hedge.user_price, hedge.size, result.filled, result.cost, result.fee)
        status = result.status if result.filled == 0 else status_for_fill(hedge.size, result.filled)
        before = of_hedge(hedge.status, hedge.spread_captured, hedge.fee, hedge.net_profit) + of_order(
            order.size, order.price, order.hedged_size
        )
        outcome = outcome_seconds.add(hedge.created_at, hedge.status, status.value)
        changes = {
            "status": status.value,
            "filled_size": result.filled,
            "fill_cost": result.cost,
            "fill_price": result.fill_price,
            "fee": result.fee,
            "spread_captured": earned.spread_captured,
            "net_profit": earned.net_profit,
            "failure_reason": result.failure_reason,
            "resolved_at": now,
            "updated_at": now,
            "next_check_at": None,
        }
        for name, value in changes.items():
            setattr(hedge, name, value)
        statuses = [HedgeStatus(h.status) for h in siblings]
        filled_total = sum((h.filled_size for h in siblings), Decimal(0))
        order.hedge_status = order_hedge_status(statuses).value
        order.hedged_size = filled_total
        order.updated_at = now
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
        assignments = ", ".join(f"{name} = %s" for name in changes)
        hedge_update: sql.Statement = (
            f"UPDATE hedge_position SET {assignments} WHERE id = %s",
            (*changes.values(), hedge.id),
        )
        if expected is not None:
            hedge_update = sql.guard(
                (
                    hedge_update[0] + " AND status IN (%s, %s)",
                    (*hedge_update[1], HedgeStatus.PENDING.value, HedgeStatus.UNKNOWN.value),
                )
            )
        order_update: sql.Statement = (
            "UPDATE user_order SET hedge_status = %s, hedged_size = %s, updated_at = %s WHERE id = %s",
            (order.hedge_status, filled_total, now, order.id),
        )
        change = (
            of_hedge(hedge.status, hedge.spread_captured, hedge.fee, hedge.net_profit)
            + of_order(order.size, order.price, order.hedged_size)
            - before
        )
        writes = _Writes(
            [hedge_update, order_update, *_listed(market_totals.add(self.db, mapping_id, change))],
            new,
            self._position_statement(mapping_id, after, now, expected),
            self._total_statement(after.exposure - position.exposure, None, now),
            _listed(outcome),
        )
        return OrderWithHedges(order, siblings), writes, after

    def _lock_hedges(
        self, tx: sql.Transaction, hedge_id: str
    ) -> tuple[UserOrder, list[HedgePosition], Position, int]:
        """Locks the market's exposure row of `hedge_id`, then all hedges of its order, in one round
        trip; returns the order, its hedges (oldest first), the market's position and its mapping id."""
        hedge_columns = sql.columns(HedgePosition, "h")
        order_columns = sql.columns(UserOrder, "o")
        select = (
            f"SELECT {', '.join(hedge_columns + order_columns)}, {_POSITION} FROM hedge_position h "
            "JOIN user_order o ON o.id = h.order_id JOIN market_exposure e ON e.mapping_id = h.mapping_id "
            "WHERE h.order_id = (SELECT order_id FROM hedge_position WHERE id = %s) ORDER BY h.created_at"
        )
        if self._sqlite:  # the write lock is already held
            rows = tx.fetch_all(select, (hedge_id,))
        else:
            # The exposure row first (the lock order everywhere), then the hedges; the second
            # statement reads the position its lock already protects.
            rows = tx.fetch_all(
                "SELECT 1 FROM market_exposure WHERE mapping_id = "
                "(SELECT mapping_id FROM hedge_position WHERE id = %s) FOR UPDATE;\n"
                + select
                + " FOR UPDATE OF h",
                (hedge_id, hedge_id),
            )
        if not rows:
            raise NotFound(f"no hedge {hedge_id!r}")
        split, end = len(hedge_columns), len(hedge_columns) + len(order_columns)
        hedges = [sql.from_row(HedgePosition, r[:split]) for r in rows]
        position = _position(rows[0][end:])
        return sql.from_row(UserOrder, rows[0][split:end]), hedges, position, hedges[0].mapping_id

    def mark_unknown(self, hedge_id: str, message: str, retry_in: timedelta) -> None:
        """The venue's answer was lost: keep the exposure reserved and look the order up later."""
        now = utcnow()
        mapping_id = HedgePosition.select(HedgePosition.mapping).where(HedgePosition.id == hedge_id).scalar()
        if mapping_id is None:
            raise NotFound(f"no hedge {hedge_id!r}")
        with self._transaction():
            # The market's exposure row first (the lock order), then the hedge as it is now: every
            # writer of a hedge's status holds that row, so the status read here stays true to commit
            # and the market's hedge counts move once.
            self._lock_position(mapping_id)
            query = HedgePosition.select().where(HedgePosition.id == hedge_id)
            hedge = (query if self._sqlite else query.for_update()).get()
            if hedge.status not in (HedgeStatus.PENDING, HedgeStatus.UNKNOWN):
                return
            first = hedge.status == HedgeStatus.PENDING
            changed = (
                HedgePosition.update(
                    status=HedgeStatus.UNKNOWN.value,
                    failure_reason=message,
                    next_check_at=now + retry_in,
                    updated_at=now,
                )
                # Never over an outcome (the locks above already keep one from landing meanwhile).
                .where(
                    (HedgePosition.id == hedge_id)
                    & HedgePosition.status.in_([HedgeStatus.PENDING.value, HedgeStatus.UNKNOWN.value])
                )
                .execute()
            )
            if first and changed:
                moved = MarketTotals(pending_hedges=-1, unknown_hedges=1)
                sql.run(self.db, _listed(market_totals.add(self.db, mapping_id, moved)))
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
    def rehedge_candidates(
        self, *, since: datetime, limit: int = 50, automatic: bool = True
    ) -> list[HedgePosition]:
        """Live hedges that ended FAILED or PARTIAL and have no re-hedge yet: first those a person asked
        to re-hedge (`request_rehedge`), whatever their age, oldest request first; then, when
        `automatic`, those created after `since`, oldest outcome first. At most `limit` of each kind, so
        requests the book cannot fill yet never crowd out the rest. The caller decides on attempts,
        back-off and the book."""
        child = HedgePosition.alias("child")
        has_child = child.select(child.id).where(child.parent_hedge == HedgePosition.id)
        open_residual = (
            (HedgePosition.is_paper == False)  # noqa: E712 - peewee expression
            & (HedgePosition.status.in_([HedgeStatus.FAILED.value, HedgeStatus.PARTIAL.value]))
            & ~peewee.fn.EXISTS(has_child)
        )
        requested = list(
            HedgePosition.select()
            .where(open_residual & HedgePosition.rehedge_requested_at.is_null(False))
            .order_by(HedgePosition.rehedge_requested_at)
            .limit(limit)
        )
        if not automatic:
            return requested
        found = {h.id for h in requested}
        recent = (
            HedgePosition.select()
            .where(open_residual & (HedgePosition.created_at >= since))
            .order_by(HedgePosition.resolved_at)
            .limit(limit)
        )
        return requested + [h for h in recent if h.id not in found]

    def request_rehedge(self, hedge_id: str, author: str, reason: str) -> HedgePosition:
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
        with self._transaction():
            query = HedgePosition.select().where(HedgePosition.id == hedge_id)
            hedge = (query if self._sqlite else query.for_update()).get_or_none()
            if hedge is None:
                raise NotFound(f"no hedge {hedge_id[:64]!r}")
            if hedge.is_paper:
                raise FailedPrecondition("hedge is a paper hedge: only a live hedge is re-hedged")
            if hedge.status not in (HedgeStatus.FAILED.value, HedgeStatus.PARTIAL.value):
                raise FailedPrecondition(
                    f"hedge is {hedge.status}: only a failed or partial live hedge is re-hedged"
                )
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
            if hedge.size - hedge.filled_size <= 0:
                raise FailedPrecondition("hedge has no unhedged residual left")
            if hedge.rehedge_requested_at is not None:
                return hedge
            now = utcnow()
            changes = {
                "rehedge_requested_at": now,
                "rehedge_requested_by": author,
                "rehedge_request_reason": reason,
                "updated_at": now,
            }
            HedgePosition.update(**changes).where(HedgePosition.id == hedge.id).execute()
            for name, value in changes.items():
                setattr(hedge, name, value)
            return hedge

    def attempt_of(self, hedge: HedgePosition) -> int:
        """1 for an order's first hedge, 2 for its first re-hedge, and so on."""
        attempt, parent = 1, hedge.parent_hedge_id
        while parent is not None:
            attempt += 1
            parent = (
                HedgePosition.select(HedgePosition.parent_hedge).where(HedgePosition.id == parent).scalar()
            )
        return attempt

    def create_rehedge(
        self, parent_id: str, sign: Callable[[Decimal], SignedIntent], limits: Limits
    ) -> HedgePosition | None:
        """Records a signed re-hedge of a FAILED or PARTIAL hedge's residual, exactly like the order
        path records a hedge: one transaction, signed once, before anything is posted, counted at its
        worst in its market (`with_hedge_sent`). Only the part of the residual the market still
        needs is re-hedged: orders since may have brought it back towards flat (`hedge_size`). Returns
        None when there is nothing (left) to re-hedge: the parent is not final-unhedged, another
        process re-hedged it first, the market no longer needs it or needs less than the venue's
        minimum, a SELL of YES would sell inventory that is no longer there, or counting it at its
        worst would take the market or the total over `limits`. Lock order as everywhere: the
        market's exposure row, then the hedge row, then the totals row, then the event lock."""
        mapping_id = HedgePosition.select(HedgePosition.mapping).where(HedgePosition.id == parent_id).scalar()
        if mapping_id is None:
            raise NotFound(f"no hedge {parent_id!r}")
        try:
            return self._create_rehedge(parent_id, mapping_id, sign, limits)
        except sql.GuardFailed:  # another process took the total's last headroom
            return None

    def _create_rehedge(
        self, parent_id: str, mapping_id: int, sign: Callable[[Decimal], SignedIntent], limits: Limits
    ) -> HedgePosition | None:
        with self._transaction():
            position, total = self._lock_position(mapping_id)
            query = HedgePosition.select().where(HedgePosition.id == parent_id)
            parent = (query if self._sqlite else query.for_update()).get()
            if parent.is_paper or parent.status not in (HedgeStatus.FAILED.value, HedgeStatus.PARTIAL.value):
                return None
            if HedgePosition.select().where(HedgePosition.parent_hedge == parent_id).exists():
                return None
            leg, side = Leg(parent.leg), Side(parent.side)
            mapping = PolymarketMarketMapping.get_by_id(mapping_id)
            residual = cover_needed(
                leg is Leg.YES and side is Side.BUY,
                parent.size - parent.filled_size,
                position.unhedged_shares,
            )
            if (
                residual <= 0
                or residual < mapping.min_order_size
                or check_venue_minimum(side is Side.BUY, residual, parent.limit_price)
            ):
                return None
            if leg is Leg.YES and side is Side.SELL and position.yes_available < residual:
                return None
            flight = in_flight(
                leg,
                side,
                residual,
                parent.limit_price,
                tick=mapping.tick_size,
                fee_rate=mapping.fee_rate,
                fee_exponent=mapping.fee_exponent,
            )
            after = position.with_hedge_sent(flight)
            moved = total_after(total, position, after)
            if check_exposure(position, after, total, moved, limits):
                return None
            now = utcnow()
            delta = moved - total
            sql.run(
                self.db,
                [
                    self._position_statement(mapping_id, after, now),
                    *_listed(market_totals.add(self.db, mapping_id, MarketTotals(pending_hedges=1))),
                    self._total_statement(delta, limits.total_limit if delta > 0 else None, now),
                ],
            )
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
                worst_loss_if_yes=flight.loss_if_yes,
                worst_loss_if_no=flight.loss_if_no,
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
            data: dict[str, object] = {"parent_hedge_id": parent.id, "size": residual}
            requested = ""
            if parent.rehedge_requested_at is not None:
                requested = f" (requested by {parent.rehedge_requested_by})"
                data["requested_by"] = parent.rehedge_requested_by or ""
            events.append(
                self.db,
                [
                    _hedge_event(
                        "hedge_submitted",
                        order,
                        child,
                        f"re-hedge of {residual} unhedged shares{requested} signed and sent to Polymarket",
                        data,
                    )
                ],
            )
            return child

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        with write_transaction(self.db):
            yield


# A market's position, as `Position` takes it, from `market_exposure e`.
_POSITION = (
    "e.user_shares, e.hedge_yes, e.hedge_no, e.yes_reserved_for_sale, e.net_cash, e.in_flight_delta, "
    "e.in_flight_loss_if_yes, e.in_flight_loss_if_no"
)
_POSITION_COLUMNS = 8


def _position(values: tuple[Any, ...]) -> Position:
    return Position(*(_money(v) for v in values))


def _position_values(p: Position) -> tuple[Decimal, ...]:
    """`Position`'s fields in `_POSITION`'s order."""
    return (
        p.user_shares,
        p.hedge_yes,
        p.hedge_no,
        p.yes_reserved_for_sale,
        p.net_cash,
        p.in_flight_delta,
        p.in_flight_loss_if_yes,
        p.in_flight_loss_if_no,
    )


_ORDER_FOR_REQUEST = "SELECT id FROM user_order WHERE account_id = %s AND request_id = %s"


@dataclass(frozen=True)
class _Writes:
    """What one order or hedge result writes: its rows and events, and its updates of the market's
    position and of the total (see `OrderStore._commit` for the order they are sent in)."""

    rows: list[sql.Statement]
    events: list[NewEvent]
    position: sql.Statement | None = None
    total: sql.Statement | None = None
    outcomes: list[sql.Statement] = field(default_factory=list)  # `outcome_seconds.add`


@dataclass(frozen=True)
class _Booking:
    """One call of `OrderStore.place`: the request, its body's hash, its market, and how to decide
    and sign."""

    request: OrderRequest
    request_hash: str
    mapping: PolymarketMarketMapping | None
    decide: Callable[[Position, Decimal], Decision]
    sign: Callable[[Quote], SignedIntent]


class _Replay(Exception):
    def __init__(self, order_id: str) -> None:
        self.order_id = order_id


def _listed(statement: sql.Statement | None) -> list[sql.Statement]:
    return [statement] if statement is not None else []


def _money(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _model(cls: type[BaseModel], columns: dict[str, Any]) -> Any:
    """A model instance holding the values just written (no read back)."""
    by_column = cls._meta.columns
    return cls(**{by_column[name].name: value for name, value in columns.items()})


def _order_values(
    request: OrderRequest, request_hash: str, mapping: PolymarketMarketMapping | None, now: datetime
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "account_id": request.account_id,
        "request_id": request.request_id,
        "request_hash": request_hash,
        "mapping_id": mapping.id if mapping is not None else None,
        "event_id": request.event_id,
        "outcome": request.outcome,
        "side": request.side.value,
        "size": request.size,
        "limit_price": request.limit_price,
        "created_at": now,
        "updated_at": now,
    }


def _hedge_values(
    order_id: str,
    mapping_id: int,
    decision: Accepted,
    flight: InFlight,
    sign: Callable[[Quote], SignedIntent],
    now: datetime,
) -> dict[str, Any]:
    q = decision.quote
    paper = decision.paper_fill
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "order_id": order_id,
        "mapping_id": mapping_id,
        "parent_hedge_id": None,
        "token_id": q.hedge.token_id,
        "leg": q.hedge.leg.value,
        "side": q.hedge.side.value,
        "size": flight.size,
        "limit_price": q.hedge_limit_price,
        "quoted_price": q.reference_price,
        "user_price": q.price,
        "order_type": decision.order_type,
        "is_paper": paper is not None,
        "worst_loss_if_yes": flight.loss_if_yes,
        "worst_loss_if_no": flight.loss_if_no,
        "next_check_at": None,
        "created_at": now,
        "updated_at": now,
    }
    if paper is not None:
        earned = profit(q.hedge.leg, q.hedge.side, q.price, flight.size, paper.filled, paper.cost, paper.fee)
        return values | {
            "status": (HedgeStatus.PAPER if paper.filled > 0 else HedgeStatus.FAILED).value,
            "venue_order_id": None,
            "signed_order": None,
            "filled_size": paper.filled,
            "fill_cost": paper.cost,
            "fill_price": paper.cost / paper.filled if paper.filled else None,
            "fee": paper.fee,
            "spread_captured": earned.spread_captured,
            "net_profit": earned.net_profit,
            "failure_reason": None if paper.filled else "no paper fill within the hedge's limit",
            "attempt_count": 0,
            "submitted_at": None,
            "resolved_at": now,
        }
    signed = sign(q)
    return values | {
        "status": HedgeStatus.PENDING.value,
        "venue_order_id": signed.venue_order_id,
        "signed_order": signed.body,
        "filled_size": Decimal(0),
        "fill_cost": Decimal(0),
        "fill_price": None,
        "fee": Decimal(0),
        "spread_captured": Decimal(0),
        "net_profit": Decimal(0),
        "failure_reason": None,
        "attempt_count": 1,
        "submitted_at": now,
        "resolved_at": None,
    }


def _event_for(
    order: dict[str, Any], kind: str, message: str, data: dict[str, object], hedge_id: str | None = None
) -> NewEvent:
    return NewEvent(kind, message, order["event_id"], order["outcome"], order["id"], hedge_id, dict(data))


def _inactive() -> Rejected:
    return Rejected(RejectReason.MARKET_INACTIVE, "the market has no active Polymarket mapping")


def _accepted_message(decision: Accepted) -> str:
    if decision.mode is Mode.OFF:
        return "accepted unhedged: hedging is off"
    if decision.hedge is None:
        return "accepted; no hedge needed: the order brings the market's unhedged position towards flat"
    if decision.paper_fill is not None:
        return "accepted; paper hedge filled in simulation"
    return "accepted; hedge sent to Polymarket"


def _hedge_event(
    kind: str, order: UserOrder, hedge: HedgePosition, message: str, data: dict[str, object] | None = None
) -> NewEvent:
    return NewEvent(kind, message, order.event_id, order.outcome, order.id, hedge.id, dict(data or {}))
