"""Polymarket CLOB V2 over HTTP, asynchronously, in the wire format of py-clob-client-v2.

Every outcome of posting an order is classified here, once: ACCEPTED (a 200 reporting a match, with
what filled), REJECTED (a refusal the venue documents, listed in `server.venue.answers`: nothing can
fill) or UNKNOWN (everything else: timeout, reset connection, 408, 425, 429, 5xx, a proxy's 52x, an
unlisted status or text, "Duplicated", a resting or delayed order: the order may or may not exist;
look it up by its hash before doing anything else).
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from server.domain.book import Book, Level
from server.errors import Unavailable
from server.secret import Secret
from server.venue import answers
from server.venue.http import HttpClient, HttpError, HttpResponse, Observer
from server.venue.market_object import VenueMarket, read_market
from server.venue.order_amounts import ROUNDING_CONFIG
from server.venue.wire import l2_headers

log = logging.getLogger(__name__)
USDC_UNITS = Decimal(10) ** 6  # USDC has 6 decimals on chain
TICK_SIZES = frozenset(ROUNDING_CONFIG)


# The `status` of a 200 whose order the venue took: an `errorMsg` beside it is no refusal.
PLACED = frozenset({"matched", "live", "delayed", "unmatched"})


class PostKind(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PostOutcome:
    kind: PostKind
    status_code: int | None
    message: str
    venue_status: str = ""  # matched / live / delayed / unmatched
    making: Decimal = Decimal(0)  # BUY: USDC paid; SELL: shares sold
    taking: Decimal = Decimal(0)  # BUY: shares got; SELL: USDC got
    trade_ids: tuple[str, ...] = ()
    retry_after: timedelta | None = None  # a 429's `Retry-After`, when it gave one


MAX_BATCH = 15  # orders in one `POST /orders` (venue-facts-2026-12.md "Batches")


@dataclass(frozen=True)
class BatchOutcome:
    """The outcome of each order of a `POST /orders`, in the order posted, and a 429's `Retry-After`
    (None when the venue gave none): honour it before posting for this signer again."""

    outcomes: tuple[PostOutcome, ...]
    retry_after: timedelta | None
    warned: bool = False  # `Poly-RateLimit-Warning: true`: over the budget, admitted in warning mode


@dataclass(frozen=True)
class VenueOrder:
    """An order as the venue reports it (GET /data/order/{id})."""

    order_id: str
    status: str  # LIVE, MATCHED, CANCELED, ...
    side: str
    original_size: Decimal
    size_matched: Decimal
    price: Decimal
    trade_ids: tuple[str, ...]


@dataclass(frozen=True)
class ApiCredentials:
    api_key: Secret
    api_secret: Secret
    api_passphrase: Secret


class VenueClient:
    """One HTTP/1.1 keep-alive connection pool to the venue, used from one event loop."""

    def __init__(
        self, base_url: str, *, address: str, credentials: ApiCredentials, timeout: float = 5.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.address = address
        self._credentials = credentials
        self._http = HttpClient(
            self.base_url,
            timeout=timeout,
            headers={
                "User-Agent": "py_clob_client_v2",
                "Accept": "*/*",
                "Accept-Encoding": "gzip, deflate",
                "Connection": "keep-alive",
                "Content-Type": "application/json",
            },
        )

    def __repr__(self) -> str:
        return f"VenueClient({self.base_url!r}, address={self.address!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    def observe(self, observer: Observer) -> None:
        """Calls `observer(method, path, status, seconds)` for every answer the venue gives."""
        self._http.observe(observer)

    # --- public market data -------------------------------------------------------------------------
    async def get_book(self, token_id: str) -> Book:
        """The token's book, best level first. Raises `Unavailable` when it cannot be read."""
        data = await self._get_json("/book", params={"token_id": token_id})
        if not isinstance(data, dict):
            raise Unavailable("the venue answered /book with an unexpected body")
        return Book(
            token_id=token_id,
            bids=tuple(reversed(_levels(data.get("bids", [])))),
            asks=tuple(reversed(_levels(data.get("asks", [])))),
            updated_at=datetime.now(UTC),
            tick_size=_tick(data.get("tick_size")),
        )

    async def get_market(self, condition_id: str) -> VenueMarket:
        """The market's state (`server.venue.market_object`). Raises `Unavailable` when it cannot be read."""
        return read_market(condition_id, await self._get_json(f"/markets/{condition_id}"))

    async def ok(self) -> bool:
        try:
            response = await self._http.get("/ok")
        except HttpError:
            return False
        return response.status == 200

    # --- private --------------------------------------------------------------------------------------
    async def post_order(self, body: bytes) -> PostOutcome:
        """Posts a signed order body exactly as given (a retry passes the same bytes)."""
        try:
            response = await self._http.post(
                "/order", content=body, headers=self._auth("POST", "/order", body)
            )
        except HttpError as exc:
            return PostOutcome(PostKind.UNKNOWN, None, f"no answer from the venue ({type(exc).__name__})")
        return classify_post(response)

    async def post_orders(self, orders: Sequence[tuple[str, bytes]]) -> BatchOutcome:
        """Posts up to 15 signed orders as one `POST /orders`: `orders` pairs each order's hash with the
        exact body `POST /order` would carry (a retry passes the same bytes). Each order's outcome is
        classified as a single post's is; a whole-batch answer (429, 5xx, a timeout) applies to every
        order, and a 429's `Retry-After` is surfaced for the caller to honour."""
        if not 1 <= len(orders) <= MAX_BATCH:
            raise ValueError(f"a batch holds 1 to {MAX_BATCH} orders, not {len(orders)}")
        body = b"[" + b",".join(order_body for _, order_body in orders) + b"]"
        hashes = [order_hash for order_hash, _ in orders]
        try:
            response = await self._http.post(
                "/orders", content=body, headers=self._auth("POST", "/orders", body)
            )
        except HttpError as exc:
            lost = PostOutcome(PostKind.UNKNOWN, None, f"no answer from the venue ({type(exc).__name__})")
            return BatchOutcome(tuple(lost for _ in hashes), None)
        return classify_batch(response, hashes)

    async def get_order(self, order_id: str) -> VenueOrder | None:
        """The venue's record of an order, or None when it has none. Raises `Unavailable` otherwise."""
        path = f"/data/order/{order_id}"
        try:
            response = await self._http.get(path, headers=self._auth("GET", path, None))
        except HttpError as exc:
            raise Unavailable(f"order lookup got no answer ({type(exc).__name__})") from None
        if response.status == 404:
            return None
        if response.status != 200:
            raise Unavailable(f"order lookup answered HTTP {response.status}")
        data = _json(response)
        if not isinstance(data, dict) or not data.get("id"):
            return None
        return VenueOrder(
            order_id=str(data["id"]),
            status=str(data.get("status", "")).upper(),
            side=str(data.get("side", "")),
            original_size=_decimal(data.get("original_size", "0")),
            size_matched=_decimal(data.get("size_matched", "0")),
            price=_decimal(data.get("price", "0")),
            trade_ids=tuple(str(t) for t in data.get("associate_trades") or ()),
        )

    async def get_trade(self, trade_id: str) -> dict[str, Any] | None:
        path = "/data/trades"
        try:
            response = await self._http.get(
                path, params={"id": trade_id, "next_cursor": "MA=="}, headers=self._auth("GET", path, None)
            )
        except HttpError as exc:
            raise Unavailable(f"trade lookup got no answer ({type(exc).__name__})") from None
        if response.status != 200:
            raise Unavailable(f"trade lookup answered HTTP {response.status}")
        data = _json(response)
        items = data.get("data", []) if isinstance(data, dict) else []
        return next((t for t in items if isinstance(t, dict) and t.get("id") == trade_id), None)

    async def usdc_balance(self, signature_type: int) -> Decimal:
        """The wallet's USDC balance as the venue holds it (`GET /balance-allowance`, COLLATERAL, in
        6-decimal base units on the wire). Raises `Unavailable` when the venue gives none."""
        path = "/balance-allowance"
        params = {"asset_type": "COLLATERAL", "signature_type": str(signature_type)}
        try:
            response = await self._http.get(path, params=params, headers=self._auth("GET", path, None))
        except HttpError as exc:
            raise Unavailable(f"balance read got no answer ({type(exc).__name__})") from None
        data = _json(response) if response.status == 200 else None
        units = data.get("balance") if isinstance(data, dict) else None
        if not isinstance(units, str) or not units.isdigit():
            raise Unavailable(f"balance read answered HTTP {response.status} without a balance")
        return Decimal(units) / USDC_UNITS

    async def _get_json(self, path: str, params: dict[str, str] | None = None) -> Any:
        try:
            response = await self._http.get(path, params=params)
        except HttpError as exc:
            raise Unavailable(f"{path} got no answer from the venue ({type(exc).__name__})") from None
        if response.status != 200:
            raise Unavailable(f"{path} answered HTTP {response.status}: {_error_text(response)}")
        return _json(response)

    def _auth(self, method: str, path: str, body: bytes | None) -> dict[str, str]:
        c = self._credentials
        return l2_headers(
            c.api_key.reveal(),
            c.api_secret.reveal(),
            c.api_passphrase.reveal(),
            self.address,
            method,
            path,
            body,
            int(time.time()),
        )


def classify_post(response: HttpResponse) -> PostOutcome:
    """What an answer to `POST /order` proves. REJECTED only for a refusal `answers` lists; ACCEPTED only
    for a 200 that reports a match with its amounts; anything else is UNKNOWN."""
    status = response.status
    data = _json(response)
    if status != 200:
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, str) and answers.is_refusal(status, error):
            return PostOutcome(PostKind.REJECTED, status, error)
        wait = _retry_after(response) if status == 429 else None
        return PostOutcome(
            PostKind.UNKNOWN, status, f"HTTP {status}: {_error_text(response)}", retry_after=wait
        )
    return _classify_entry(status, data)


def classify_batch(response: HttpResponse, hashes: Sequence[str]) -> BatchOutcome:
    """What an answer to `POST /orders` proves for each order (by hash, in the order given). A non-200
    answers for the whole batch, as it would for one order; a 200 lists one entry per order, found by
    its `orderID` (the venue processes a batch in parallel: no order of entries is promised). An order
    with no entry of its own is UNKNOWN, except the one order left when exactly one entry carries no
    `orderID` (the venue could not read that order)."""
    retry_after = _retry_after(response) if response.status == 429 else None
    warned = response.headers.get("poly-ratelimit-warning", "").strip().lower() == "true"
    if response.status != 200:
        whole = classify_post(response)
        return BatchOutcome(tuple(whole for _ in hashes), retry_after, warned)
    data = _json(response)
    if not isinstance(data, list):
        odd = PostOutcome(PostKind.UNKNOWN, 200, "the venue answered a batch with an unexpected body")
        return BatchOutcome(tuple(odd for _ in hashes), None, warned)
    entries = [e for e in data if isinstance(e, dict)]
    by_hash = {str(e["orderID"]): e for e in entries if e.get("orderID")}
    unmatched = [h for h in hashes if h not in by_hash]
    anonymous = [e for e in entries if not e.get("orderID")]
    if len(unmatched) == 1 and len(anonymous) == 1 and len(entries) == len(hashes):
        by_hash[unmatched[0]] = anonymous[0]
    missing = PostOutcome(PostKind.UNKNOWN, 200, "the venue's batch answer has no entry for this order")
    return BatchOutcome(
        tuple(_classify_entry(200, by_hash[h]) if h in by_hash else missing for h in hashes), None, warned
    )


def _classify_entry(status: int, data: Any) -> PostOutcome:
    """A 200 answer for one order: `POST /order`'s body, or one entry of `POST /orders`'s list."""
    if not isinstance(data, dict):
        return PostOutcome(PostKind.UNKNOWN, status, "the venue answered 200 with an unexpected body")
    error = str(data.get("errorMsg") or data.get("error") or "")
    venue_status = str(data.get("status") or "").lower()
    if error and venue_status not in PLACED and answers.is_refusal(status, error):
        return PostOutcome(PostKind.REJECTED, status, error)
    if data.get("success", True) is not True or venue_status != "matched":
        # Resting, delayed, or an answer that says nothing definite: its fate is known only by lookup.
        return PostOutcome(
            PostKind.UNKNOWN, status, error or f"order {venue_status or 'not reported'}", venue_status
        )
    try:
        making = _decimal(data.get("makingAmount") or "0")
        taking = _decimal(data.get("takingAmount") or "0")
    except Unavailable as exc:
        return PostOutcome(PostKind.UNKNOWN, status, str(exc), venue_status)
    trade_ids = data.get("tradeIDs")
    if making <= 0 or taking <= 0:
        # "matched" without what matched: zero would read as nothing filled, which is not what it says.
        return PostOutcome(PostKind.UNKNOWN, status, "order matched without amounts", venue_status)
    return PostOutcome(
        PostKind.ACCEPTED,
        status,
        error,
        venue_status,
        making=making,
        taking=taking,
        trade_ids=tuple(str(t) for t in trade_ids) if isinstance(trade_ids, list) else (),
    )


def _retry_after(response: HttpResponse) -> timedelta | None:
    """A 429's `Retry-After` (seconds, or an HTTP date); None when absent or unreadable."""
    raw = response.headers.get("retry-after", "").strip()
    if not raw:
        return None
    try:
        seconds = Decimal(raw)
    except InvalidOperation:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        return max(when - datetime.now(UTC), timedelta(0))
    if not seconds.is_finite() or seconds < 0:
        return None
    return timedelta(seconds=float(seconds))


def _json(response: HttpResponse) -> Any:
    try:
        return response.json()
    except ValueError:  # not JSON, or not UTF-8
        return response.text


def _error_text(response: HttpResponse) -> str:
    data = _json(response)
    if isinstance(data, dict) and "error" in data:
        return str(data["error"])[:500]
    return str(data)[:500]


def _decimal(value: Any) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise Unavailable(f"the venue sent a malformed number {str(value)[:40]!r}") from None
    if not number.is_finite():
        raise Unavailable("the venue sent a non-finite number")
    return number


def _tick(raw: Any) -> Decimal | None:
    """The book's `tick_size` when it is one the signer supports; None otherwise (the caller keeps the
    tick it has rather than price on a value it cannot sign)."""
    if raw is None:
        return None
    try:
        tick = Decimal(str(raw))
    except InvalidOperation:
        return None
    if not tick.is_finite():  # a signalling NaN cannot even be looked up in a set
        return None
    return tick if tick in TICK_SIZES else None


def _levels(raw: Any) -> tuple[Level, ...]:
    if not isinstance(raw, list):
        raise Unavailable("the venue sent a malformed book")
    return tuple((_decimal(level["price"]), _decimal(level["size"])) for level in raw)
