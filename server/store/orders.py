"""The orders of users: booking them (`book`, whose transaction is `server.store.booking`'s) and
reading them back."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import peewee

from server.domain.decision import Decision, OrderRequest
from server.domain.exposure import Position
from server.domain.hedge import Hedge, SignedIntent
from server.domain.order import OrderWithHedges
from server.domain.pricing import Quote
from server.errors import AlreadyExists, NotFound
from server.store import booking
from server.store.booking import Booking, Group
from server.store.hedge_outcomes import HedgeOutcomes
from server.store.hedge_trades import HedgeTrades
from server.store.models import HedgePosition, PolymarketMarketMapping, UserOrder
from server.store.rehedges import Rehedges
from server.store.rows import hedge_of, order_of

__all__ = ["Group", "OrderStore", "OrderWithHedges", "SignedIntent"]


class OrderStore:
    def __init__(self, database: peewee.Database, announce: Callable[[], None] | None = None) -> None:
        """`announce`, when given, is called after each order or hedge-result transaction commits
        (its events are then written without a NOTIFY of their own; see `server.store.events`)."""
        self.db = database
        self._announce = announce
        self.outcomes = HedgeOutcomes(database, announce)
        self.trades = HedgeTrades(database, announce)
        self.rehedges = Rehedges(database)

    # --- reads ---------------------------------------------------------------------------------------
    def get(self, order_id: str) -> OrderWithHedges:
        found = self._read(UserOrder.id == order_id)
        if found is None:
            raise NotFound(f"no order {order_id[:64]!r}")
        return found

    def find_by_request(self, account_id: str, request_id: str) -> OrderWithHedges | None:
        return self._read((UserOrder.account_id == account_id) & (UserOrder.request_id == request_id))

    def replay_of(self, request: OrderRequest, request_hash: str) -> OrderWithHedges | None:
        """The order already booked under this request id, if any; `AlreadyExists` when it was
        booked for a different body."""
        found = self.find_by_request(request.account_id, request.request_id)
        return _same_body(found, request_hash) if found is not None else None

    def hedge(self, hedge_id: str) -> Hedge:
        row = HedgePosition.get_or_none(HedgePosition.id == hedge_id)
        if row is None:
            raise NotFound(f"no hedge {hedge_id[:64]!r}")
        return hedge_of(row)

    def _read(self, where: peewee.Expression) -> OrderWithHedges | None:
        row = UserOrder.get_or_none(where)
        if row is None:
            return None
        hedges = (
            HedgePosition.select().where(HedgePosition.order == row.id).order_by(HedgePosition.created_at)
        )
        return OrderWithHedges(order_of(row), [hedge_of(h) for h in hedges])

    # --- booking -----------------------------------------------------------------------------------
    def place(
        self,
        request: OrderRequest,
        request_hash: str,
        mapping: PolymarketMarketMapping | None,
        decide: Callable[[Position, Decimal, Group], Decision],
        sign: Callable[[Quote], SignedIntent],
    ) -> tuple[OrderWithHedges, bool]:
        """Books one order: `book` with a batch of one."""
        (outcome,) = self.book([Booking(request, request_hash, mapping, decide, sign)])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def book(self, bookings: list[Booking]) -> list[tuple[OrderWithHedges, bool] | Exception]:
        """Books each order once, all in one transaction (`server.store.booking.write`), and returns,
        in their order, each stored order and whether this call created it, or the error that is
        that booking's answer. A replay of a request id (booked before, or earlier in the batch) with
        the same body returns the stored order; with a different body its answer is `AlreadyExists`.
        An error of the database raises: nothing was written."""
        try:
            outcomes = booking.write(self.db, bookings, notify=self._announce is None)
        except peewee.IntegrityError:
            # A concurrent duplicate of a request committed first (the unique request id): this
            # transaction rolled back, and the same one again finds it booked.
            outcomes = booking.write(self.db, bookings, notify=self._announce is None)
        if self._announce is not None and any(isinstance(o, booking.Written) for o in outcomes):
            self._announce()
        return [self._answer(outcomes, i, b.request_hash) for i, b in enumerate(bookings)]

    def _answer(
        self, outcomes: list[booking.Outcome], index: int, request_hash: str
    ) -> tuple[OrderWithHedges, bool] | Exception:
        outcome = outcomes[index]
        try:
            if isinstance(outcome, booking.Written):
                return outcome.order, True
            if isinstance(outcome, booking.Replay):
                return _same_body(self.get(outcome.order_id), request_hash), False
            if isinstance(outcome, booking.Duplicate):
                first = outcomes[outcome.first]
                if isinstance(first, Exception):
                    return first
                assert isinstance(first, booking.Written)  # the first booking of a request id
                return _same_body(first.order, request_hash), False
            return outcome
        except Exception as error:  # this booking's answer, not the batch's
            return error


def _same_body(existing: OrderWithHedges, request_hash: str) -> OrderWithHedges:
    if existing.order.request_hash != request_hash:
        raise AlreadyExists("request_id was already used for a different order")
    return existing
