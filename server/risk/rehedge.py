"""The re-hedger: retries the unhedged residual of FAILED and PARTIAL live hedges in the background,
when `rehedgeEnabled`, at most `rehedgeMaxAttempts` times per order (counting re-hedges only), after
`rehedgeBackoffSeconds` doubled per attempt, and only when the current book can fill the residual
within the original hedge's limit price.

A hedge a person asked to re-hedge (the gateway's `retryHedge` records the request with
`OrderStore.request_rehedge`; the gateway has no key and posts nothing) is retried here even when
`rehedgeEnabled` is off, its attempts are used up or its back-off is not over: a person decided. The
rest still holds for it: only in mode `live`, never while HALTED, and only when the book can fill the
residual within the limit price; until then the request waits, whatever its age. Its re-hedge row
consumes it (the parent has a child and is no longer a candidate).

Each attempt is a new hedge row (its `parent_hedge_id` is the hedge it continues), recorded and signed
in one transaction by `OrderStore.create_rehedge` before it is posted, then posted by the Hedger: the
same exactly-once path as an order's first hedge (a crash after the commit leaves a PENDING hedge the
resolver settles by its hash). Processes sharing a database may all run it: the parent's row lock and
the "no child yet" check make one of them create the re-hedge."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from server.domain.book import walk
from server.domain.hedge import Hedge, SignedIntent
from server.domain.limits import Limits, check_venue_minimum
from server.domain.types import BreakerLevel, Leg, Side
from server.periodic import Periodic
from server.store.fields import utcnow
from server.store.models import PolymarketMarketMapping
from server.store.orders import OrderStore
from server.trading.books import BookCache
from server.trading.hedge_signing import sign_hedge
from server.trading.hedger import Hedger
from server.trading.state import StateCache
from server.venue.order_signing import OrderSigner

log = logging.getLogger(__name__)
RunInDb = Callable[[Callable[[], Any]], Awaitable[Any]]
LOOKBACK = timedelta(days=1)


def due(attempt: int, resolved_age_seconds: float, max_attempts: int, backoff_seconds: int) -> bool:
    """Whether a hedge that was attempt number `attempt` (1: the order's own hedge) may be re-hedged
    now: re-hedges so far stay under `max_attempts`, and the back-off (doubled per attempt) is over."""
    if attempt - 1 >= max_attempts:
        return False
    backoff: float = backoff_seconds * (2 ** (attempt - 1))
    return resolved_age_seconds >= backoff


class Rehedger:
    def __init__(
        self,
        *,
        store: OrderStore,
        hedger: Hedger,
        books: BookCache,
        signer: OrderSigner | None,
        api_key: str,
        state: StateCache,
        run_in_db: RunInDb,
        interval: float = 0.5,
    ) -> None:
        self._store = store
        self._hedger = hedger
        self._books = books
        self._signer = signer
        self._api_key = api_key
        self._state = state
        self._run = run_in_db
        self._periodic = Periodic(
            "rehedger", self.run_once, interval, failure="re-hedge pass failed; retrying", logger=log
        )

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    async def run_once(self) -> int:
        """One pass; returns how many re-hedges were posted."""
        snapshot = self._state.current
        s = snapshot.settings
        if s.mode != "live" or snapshot.breaker is BreakerLevel.HALTED:
            return 0
        if self._signer is None:
            return 0
        since, automatic = utcnow() - LOOKBACK, s.rehedge_enabled
        candidates: list[Hedge] = await self._run(
            lambda: self._store.rehedges.candidates(since=since, automatic=automatic)
        )
        posted = 0
        for parent in candidates:
            requested = parent.rehedge_requested_at is not None
            attempt = await self._run(functools.partial(self._store.rehedges.attempt_of, parent))
            resolved = parent.resolved_at or parent.updated_at
            if not requested and not due(
                attempt,
                (utcnow() - resolved).total_seconds(),
                s.rehedge_max_attempts,
                s.rehedge_backoff_seconds,
            ):
                continue
            mapping = self._mapping(parent.mapping_id)
            if mapping is None or not mapping.active:
                continue
            residual = parent.size - parent.filled_size
            if not await self._book_allows(parent, mapping, residual, s.max_book_age_ms):
                continue
            limit = mapping.exposure_limit if mapping.exposure_limit is not None else s.max_market_exposure
            limits = Limits(
                s.max_position_size,
                mapping.min_order_size,
                limit,
                s.max_unhedged_exposure,
                s.max_group_exposure,
            )
            child = await self._run(
                functools.partial(self._store.rehedges.create, parent.id, self._sign(parent, mapping), limits)
            )
            if child is None:
                continue
            if requested:
                log.info(
                    "re-hedging %s of hedge %s (attempt %d) as %s requested at %s: %r",
                    child.size,
                    parent.id,
                    attempt + 1,
                    parent.rehedge_requested_by,
                    parent.rehedge_requested_at,
                    parent.rehedge_request_reason,
                )
            else:
                log.info("re-hedging %s of hedge %s (attempt %d)", child.size, parent.id, attempt + 1)
            await self._hedger.submit(child)
            posted += 1
        return posted

    def _mapping(self, mapping_id: int) -> PolymarketMarketMapping | None:
        for m in self._state.current.mappings.values():
            if m.id == mapping_id:
                return m
        return None

    async def _book_allows(
        self, parent: Hedge, mapping: PolymarketMarketMapping, residual: Decimal, max_age_ms: int
    ) -> bool:
        side = Side(parent.side)
        if residual < mapping.min_order_size or check_venue_minimum(
            side is Side.BUY, residual, parent.limit_price
        ):
            return False
        book = await self._books.get(mapping.yes_token_id, max_age_ms)
        if book is None or (utcnow() - book.updated_at).total_seconds() * 1000 > max_age_ms:
            return False
        if Leg(parent.leg) is Leg.NO:
            book = book.complement(mapping.no_token_id)
        fill = walk(book.side_taken_by(side), residual, parent.limit_price, side)
        return fill.shares >= residual

    def _sign(self, parent: Hedge, mapping: PolymarketMarketMapping) -> Callable[[Decimal], SignedIntent]:
        """Signs the residual exactly as the order desk signs a hedge."""
        signer = self._signer
        assert signer is not None

        def sign(size: Decimal) -> SignedIntent:
            return sign_hedge(
                signer,
                self._api_key,
                token_id=parent.token_id,
                side=Side(parent.side),
                size=size,
                limit_price=parent.limit_price,
                tick_size=mapping.tick_size,
                neg_risk=mapping.neg_risk,
                order_type=parent.order_type,
            )

        return sign
