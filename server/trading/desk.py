"""The order desk: GetQuote, PlaceOrder and GetOrder as use cases, free of any transport."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from server.domain import inputs
from server.domain.book import Book
from server.domain.book_hedge import OrderAllocation
from server.domain.config_schema import HedgeSettings
from server.domain.decision import NETTED, Accepted, Decision, OrderRequest, Rejected, decide
from server.domain.exposure import Position
from server.domain.group_exposure import GroupLimit
from server.domain.hedge import SignedIntent
from server.domain.hedge_cash import cash_needed
from server.domain.hedge_policy import effective
from server.domain.market_state import market_closed
from server.domain.order import OrderWithHedges
from server.domain.pricing import Quote, Unpriceable, quote
from server.domain.types import BreakerLevel, Mode, RejectReason
from server.errors import InvalidArgument
from server.store import book_hedges, market_states
from server.store import mappings as mapping_store
from server.store.booking import Booking
from server.store.fields import utcnow
from server.store.mappings import policy_overrides
from server.store.models import MarketExposure, PolymarketMarketMapping
from server.store.orders import Group, OrderStore
from server.store.rows import position_of, terms_of
from server.trading.batch_writer import BatchWriter
from server.trading.books import BookCache
from server.trading.cash import CashWatch
from server.trading.hedge_signing import sign_hedge
from server.trading.hedger import Hedger, RunInDb
from server.trading.state import StateCache
from server.venue.order_signing import OrderSigner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuoteRequest:
    account_id: str
    event_id: str
    outcome: str
    side: Any  # domain Side
    size: Decimal


Stored = tuple[OrderWithHedges, bool]  # a booked order and whether this booking created it


@dataclass(frozen=True)
class Placed:
    order: OrderWithHedges
    quote: Quote | None
    created: bool


def request_hash(request: OrderRequest) -> str:
    """Identifies a request body: the same id with another body is refused."""
    parts = (
        request.event_id,
        request.outcome,
        request.side.value,
        format(request.size.normalize(), "f"),
        format(request.limit_price.normalize(), "f") if request.limit_price is not None else "",
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


class OrderDesk:
    def __init__(
        self,
        *,
        store: OrderStore,
        state: StateCache,
        books: BookCache,
        hedger: Hedger | None,
        signer: OrderSigner | None,
        api_key: str,
        run_in_db: RunInDb,
        cash: CashWatch | None = None,
    ) -> None:
        self._store = store
        self._cash = cash
        self._state = state
        self._books = books
        self._hedger = hedger
        self._signer = signer
        self._api_key = api_key
        self._run = run_in_db
        # The process's one writer of bookings (tests watch it).
        self.writer: BatchWriter[Booking, Stored] = BatchWriter(
            run_in_db, lambda b: store.book(b), "booking-writer"
        )

    async def mapping(self, event_id: str, outcome: str) -> PolymarketMarketMapping:
        """The market's mapping, or `InvalidArgument` when the platform has no such market."""
        found = self._state.current.mappings.get((event_id, outcome))
        if found is None:
            found = await self._run(
                lambda: PolymarketMarketMapping.get_or_none(
                    (PolymarketMarketMapping.event_id == event_id)
                    & (PolymarketMarketMapping.outcome == outcome)
                )
            )
        if found is None:
            raise InvalidArgument("market", f"unknown market {event_id[:64]!r} outcome {outcome[:64]!r}")
        return found

    async def quote(self, request: QuoteRequest) -> Quote | Rejected:
        mapping = await self.mapping(request.event_id, request.outcome)
        snapshot = self._state.current
        if not mapping.active:
            return Rejected(RejectReason.MARKET_INACTIVE, "the market has no active Polymarket mapping")
        closed = market_closed(market_states.state_of(mapping))
        if closed is not None:
            return closed
        if snapshot.breaker is BreakerLevel.HALTED:
            return Rejected(RejectReason.HALTED, "trading is halted by a circuit breaker")
        book = await self._books.get(mapping.yes_token_id, snapshot.settings.max_book_age_ms)
        if book is None or _stale(book, snapshot.settings.max_book_age_ms):
            return Rejected(
                RejectReason.BOOK_STALE, "the Polymarket book is missing or older than maxBookAgeMs"
            )
        mapping = await self._follow_tick(mapping, book)
        row = await self._run(lambda: MarketExposure.get_or_none(MarketExposure.mapping == mapping.id))
        position = position_of(row) if row is not None else Position()
        priced = quote(
            request.side,
            request.size,
            terms_of(mapping),
            book,
            yes_available=position.yes_available,
            min_spread_bps=snapshot.settings.min_spread_bps,
            max_slippage_bps=snapshot.settings.max_slippage_bps,
        )
        if isinstance(priced, Unpriceable):
            return Rejected(priced.reason, priced.message)
        return priced

    async def place(self, request: OrderRequest) -> Placed:
        mapping = await self.mapping(request.event_id, request.outcome)
        if request.limit_price is not None:
            inputs.on_tick("limit_price", request.limit_price, mapping.tick_size)
        digest = request_hash(request)
        # A closed market is refused when booked (`OrderStore.place`): no book is asked for it.
        ended = market_states.state_of(mapping).ended
        admitted = await self._admit(mapping, ended)
        snapshot = self._state.current
        max_age = snapshot.settings.max_book_age_ms
        book = self._books.fresh(mapping.yes_token_id, max_age)
        if book is None and not ended:
            # A retry never waits on the venue: look for the booked order before fetching a book.
            # (With a fresh book at hand the order transaction itself finds a replay.)
            replay = await self._run(lambda: self._store.replay_of(request, digest))
            if replay is not None:
                return Placed(replay, None, False)
            book = await self._books.get(mapping.yes_token_id, max_age)
        mapping = await self._follow_tick(mapping, book)
        terms = terms_of(mapping)
        # The market's own policy keys over the config's: its rebalancer reads the same.
        settings = effective(snapshot.settings, policy_overrides(mapping))
        market_limit = (
            mapping.exposure_limit if mapping.exposure_limit is not None else settings.max_market_exposure
        )
        decided: list[Decision] = []

        def decide_on(position: Position, total: Decimal, siblings: Group) -> Decision:
            group = None if siblings is None else GroupLimit(siblings, snapshot.settings.max_group_exposure)
            decision = decide(
                request,
                terms,
                book,
                position,
                total,
                settings,
                market_limit,
                snapshot.breaker,
                utcnow(),
                group,
                cash=None if self._cash is None else self._cash.available(),
            )
            if self._cash is not None and isinstance(decision, Accepted) and decision.hedge is not None:
                self._cash.spend(cash_needed(decision.hedge))
            decided.append(decision)
            return decision

        def sign(q: Quote) -> SignedIntent:
            if self._signer is None:
                raise RuntimeError("live hedging needs POLYMARKET_PRIVATE_KEY")
            return sign_hedge(
                self._signer,
                self._api_key,
                token_id=q.hedge.token_id,
                side=q.hedge.side,
                size=q.hedge_size,
                limit_price=q.hedge_limit_price,
                tick_size=mapping.tick_size,
                neg_risk=mapping.neg_risk,
                order_type=settings.hedge_order_type,
            )

        stored, created = await self.writer.write(
            Booking(request, digest, mapping, decide_on, sign, settings.hedge_policy)
        )
        # The last decision is the one booked (a reservation that no longer fits is booked rejected).
        # A replay answers with the stored order only: a decision made while finding it was never booked.
        quoted = decided[-1].quote if decided and created else None
        pending = stored.pending_hedge if created else None
        if pending is not None and self._hedger is not None:
            settled = await self._hedger.submit(pending, admitted=admitted)
            if settled is None:
                settled = await self._run(lambda: self._store.get(stored.order.id))
            stored = settled
        return Placed(stored, quoted, created)

    async def _admit(self, mapping: PolymarketMarketMapping, ended: bool) -> bool:
        """Takes the token of the order's own hedge from the venue order budget, if it will post one,
        before its book is read and it is booked: once booked it is posted at once, and an order
        waiting its turn reserves nothing meanwhile. An order then refused leaves its token unused:
        the budget errs on the safe side."""
        snapshot = self._state.current
        settings = effective(snapshot.settings, policy_overrides(mapping))
        if self._hedger is None or not _posts_its_own_hedge(settings, snapshot.breaker, ended):
            return False
        await self._hedger.admit()
        return True

    async def _follow_tick(
        self, mapping: PolymarketMarketMapping, book: Book | None
    ) -> PolymarketMarketMapping:
        """The mapping on the tick the venue sent with `book`: the venue refines a market's tick near
        0 and 1 (and coarsens it back), and a hedge priced on the old one may be refused."""
        tick = book.tick_size if book is not None else None
        if tick is None or tick == mapping.tick_size:
            return mapping
        log.info("market %s/%s: the venue's tick moved %s -> %s", mapping.event_id, mapping.outcome,
                 mapping.tick_size, tick)  # fmt: skip
        mapping_id = mapping.id
        followed = await self._run(lambda: mapping_store.follow_venue_tick(self._store.db, mapping_id, tick))
        self._state.remember(followed)
        return followed

    async def get(self, order_id: str) -> OrderWithHedges:
        return await self._run(lambda: self._store.get(order_id))

    async def allocations(self, order_id: str) -> list[OrderAllocation]:
        """The parts of a netted market's hedges that covered the order (none for a per-order hedge)."""
        return await self._run(lambda: book_hedges.allocations(order_id))

    async def get_by_request(self, account_id: str, request_id: str) -> OrderWithHedges | None:
        return await self._run(lambda: self._store.find_by_request(account_id, request_id))


def _posts_its_own_hedge(settings: HedgeSettings, breaker: BreakerLevel, ended: bool) -> bool:
    """Whether an order accepted on these settings posts a venue order of its own: live, per order,
    in a market still trading, with no breaker halting everything."""
    live = Mode(settings.mode) is Mode.LIVE and settings.hedge_policy != NETTED
    return live and breaker is not BreakerLevel.HALTED and not ended


def _stale(book: Book, max_age_ms: int) -> bool:
    return (utcnow() - book.updated_at).total_seconds() * 1000 > max_age_ms
