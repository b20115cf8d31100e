"""The decision on a user order, taken while its market's position is locked: price it, run every
pre-trade check, and say what to book and how to hedge. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from server.domain.book import Book, walk
from server.domain.config_schema import HedgeSettings
from server.domain.exposure import Position, total_after
from server.domain.fees import taker_fee
from server.domain.group_exposure import GroupLimit
from server.domain.hedge_cash import Unaffordable, unaffordable
from server.domain.hedge_size import hedge_size
from server.domain.in_flight import InFlight, in_flight
from server.domain.limits import (
    Limits,
    Rejection,
    check_breaker,
    check_limits,
    check_size,
    check_venue_minimum,
)
from server.domain.pricing import MarketTerms, Quote, Unpriceable, quote
from server.domain.types import BreakerLevel, Leg, Mode, RejectReason, Side


@dataclass(frozen=True)
class OrderRequest:
    account_id: str
    request_id: str
    event_id: str
    outcome: str
    side: Side
    size: Decimal
    limit_price: Decimal | None


@dataclass(frozen=True)
class PaperFill:
    filled: Decimal
    cost: Decimal  # USDC paid (BUY) or received (SELL) before fees
    fee: Decimal


@dataclass(frozen=True)
class Accepted:
    quote: Quote
    before: Position
    after: Position  # with the user trade, and its hedge in flight at its worst (or its paper fill)
    total_before: Decimal
    total_after: Decimal
    total_limit: Decimal  # maxUnhedgedExposure, re-checked atomically when the total is reserved
    mode: Mode
    order_type: str
    # None: hedging is off, the order needs no hedge, or the market is netted (its rebalancer covers it)
    hedge: InFlight | None
    paper_fill: PaperFill | None
    queued: bool = False  # netted: the order adds to its market's gap, which the rebalancer hedges
    # Live: the hedge the order needed was not planned, the wallet's USDC cannot pay for it.
    unaffordable: Unaffordable | None = None


@dataclass(frozen=True)
class Rejected:
    reason: RejectReason
    message: str
    quote: Quote | None = None


Decision = Accepted | Rejected

ZERO = Decimal(0)
NETTED = "netted"  # the hedgePolicy whose markets are hedged by their rebalancer, not per order

LIMIT_REASONS = frozenset(
    {
        RejectReason.MARKET_EXPOSURE_LIMIT,
        RejectReason.TOTAL_EXPOSURE_LIMIT,
        RejectReason.SIZE_TOO_LARGE,
        RejectReason.GROUP_EXPOSURE_LIMIT,
    }
)


def decide(
    request: OrderRequest,
    terms: MarketTerms,
    book: Book | None,
    position: Position,
    total: Decimal,
    settings: HedgeSettings,
    market_limit: Decimal,
    breaker: BreakerLevel,
    now: datetime,
    group: GroupLimit | None = None,
    cash: Decimal | None = None,
) -> Decision:
    """`cash`: the wallet's USDC available for new hedges (None: not tracked); in live mode a hedge
    buy that needs more is not planned (`Accepted.unaffordable`), the order staying unhedged within
    the limits. `group`: the market belongs to a neg-risk event group, whose worst case over which outcome wins
    is checked against the group's limit in place of the market's own limit (the market's worst case
    assumes its own worse outcome, overstating the risk of an event where at most one outcome wins),
    and is what the total counts for it (`server.domain.exposure.total_after`)."""
    netted = settings.hedge_policy == NETTED
    # Netted: the rebalancer hedges the market's net, so an order need not be hedgeable on its own.
    smallest = settings.platform_min_shares if netted else terms.min_order_size
    limits = Limits(settings.max_position_size, smallest, market_limit, settings.max_unhedged_exposure)
    if breaker is BreakerLevel.HALTED:
        return Rejected(RejectReason.HALTED, "trading is halted by a circuit breaker")
    size_problem = check_size(
        request.size, limits, "platformMinShares" if netted else "the venue's minimum order size"
    )
    if size_problem:
        return _rejected(size_problem)
    if book is None or (now - book.updated_at).total_seconds() * 1000 > settings.max_book_age_ms:
        return Rejected(RejectReason.BOOK_STALE, "the Polymarket book is missing or older than maxBookAgeMs")
    priced = quote(
        request.side,
        request.size,
        terms,
        book,
        yes_available=position.yes_available,
        min_spread_bps=settings.min_spread_bps,
        max_slippage_bps=settings.max_slippage_bps,
    )
    if isinstance(priced, Unpriceable):
        return Rejected(priced.reason, priced.message)
    if request.limit_price is not None and (
        priced.price > request.limit_price if request.side is Side.BUY else priced.price < request.limit_price
    ):
        return Rejected(
            RejectReason.PRICE_MOVED,
            f"the price is {priced.price}, worse than the limit {request.limit_price}",
            priced,
        )
    mode = Mode(settings.mode)
    hedged = ZERO if mode is Mode.OFF or netted else _hedge_shares(request, priced, position, terms)
    if hedged == request.size:  # never in netted markets: there `hedged` is 0
        too_small = check_venue_minimum(priced.hedge.side is Side.BUY, hedged, priced.hedge_limit_price)
        if too_small:
            return Rejected(too_small.reason, too_small.message, priced)
    priced = replace(priced, hedge_size=hedged)
    after = position.with_user_trade(request.side, request.size, priced.price)
    hedge = None
    short = None
    if hedged > 0:
        hedge = in_flight_on(terms, priced.hedge.leg, priced.hedge.side, hedged, priced.hedge_limit_price)
        short = unaffordable(hedge, cash) if mode is Mode.LIVE else None
        if short is None:
            after = after.with_hedge_sent(hedge)
        else:
            hedge, priced = None, replace(priced, hedge_size=ZERO)
    checked = after
    queued = False
    if netted and mode is not Mode.OFF:
        # Room for the rebalancer: the order is accepted only if its own hedge, in flight at its worst,
        # would fit too (as per_order requires), though that hedge is not booked here. Otherwise orders
        # could fill a market exactly to its limit, where no hedge in flight fits any more.
        own = hedge_size(request.side, request.size, position.unhedged_shares, ZERO)
        queued = own > 0
        if own > 0:
            checked = after.with_hedge_sent(
                in_flight_on(terms, priced.hedge.leg, priced.hedge.side, own, priced.hedge_limit_price)
            )
    siblings = None if group is None else group.siblings
    problem = check_breaker(breaker, position, checked, group) or check_limits(
        position, checked, total_after(total, position, checked, siblings), limits, group
    )
    if problem:
        return Rejected(problem.reason, problem.message, priced)
    paper = None
    booked = after
    if mode is Mode.PAPER and hedge is not None:
        paper = paper_fill(priced, book, terms, settings.hedge_order_type)
        booked = after.with_hedge_result(hedge, filled=paper.filled, cost=paper.cost, fee=paper.fee)
    return Accepted(
        quote=priced,
        before=position,
        after=booked,
        total_before=total,
        total_after=total_after(total, position, booked, siblings),
        total_limit=settings.max_unhedged_exposure,
        mode=mode,
        order_type=settings.hedge_order_type,
        hedge=hedge,
        paper_fill=paper,
        queued=queued and mode is Mode.LIVE,
        unaffordable=short,
    )


def paper_fill(priced: Quote, yes_book: Book, terms: MarketTerms, order_type: str) -> PaperFill:
    """Fills the hedge in simulation against the current book, exactly as the venue would: at each
    level's price up to the hedge's limit, all-or-nothing for FOK."""
    book = yes_book if priced.hedge.leg is Leg.YES else yes_book.complement(terms.no_token_id)
    fill = walk(
        book.side_taken_by(priced.hedge.side), priced.hedge_size, priced.hedge_limit_price, priced.hedge.side
    )
    if not fill.levels or (order_type == "FOK" and fill.shares < priced.hedge_size):
        return PaperFill(Decimal(0), Decimal(0), Decimal(0))
    return PaperFill(fill.shares, fill.cost, taker_fee(fill, terms.fee_rate, terms.fee_exponent))


def _hedge_shares(request: OrderRequest, priced: Quote, position: Position, terms: MarketTerms) -> Decimal:
    """The shares to hedge (`hedge_size`). A part of the order too small for the venue on its own
    stays unhedged, within the limits like any unhedged exposure; a whole order too small is refused
    by the caller, as before."""
    shares = hedge_size(request.side, request.size, position.unhedged_shares, terms.min_order_size)
    if shares == request.size:
        return shares
    if shares < terms.min_order_size or check_venue_minimum(
        priced.hedge.side is Side.BUY, shares, priced.hedge_limit_price
    ):
        return ZERO
    return shares


def _rejected(problem: Rejection) -> Rejected:
    return Rejected(problem.reason, problem.message)


def in_flight_on(terms: MarketTerms, leg: Leg, side: Side, size: Decimal, limit_price: Decimal) -> InFlight:
    """`in_flight` of a hedge on a market with these terms (its tick and fees): the one way an order's
    hedge and a re-hedge are counted while they are open."""
    return in_flight(
        leg,
        side,
        size,
        limit_price,
        tick=terms.tick_size,
        fee_rate=terms.fee_rate,
        fee_exponent=terms.fee_exponent,
    )
