"""The in-process CLOB V2 exchange: books, matching, balances, trades, keys - and its control API.

Everything is guarded by one re-entrant lock, so tests may call these methods from their own thread
while uvicorn serves HTTP from another.

Ground truth (tests read these):
    ``orders(address=None)``, ``order(order_id)``, ``trades(address=None)``, ``trade(trade_id)``,
    ``balances(address)``, ``post_count(order_id)``, ``post_counts()``, ``totals()``, ``book(token_id)``,
    ``markets``, ``market(condition_or_token_id)``, ``api_keys(address)``.

Control (also reachable over HTTP under ``/_sim/``, see ``control.py``):
    ``set_book(token_id, bids=[(price, size)], asks=[...])`` replaces the liquidity provider's orders in
    that market (prices of ``token_id``; the complement token mirrors them);
    ``add_liquidity(token_id, side, price, size)``, ``pull_liquidity(token_id=None)``,
    ``shift_book(condition_id, ticks)``;
    ``fund(address, usdc=..., tokens={token_id: shares})`` (adds; negative amounts withdraw);
    ``set_default_collateral(amount)`` (auto-funding of addresses that get an API key);
    ``inject_fault(path, count, mode, *, status=None, delay=None, method=None)``, ``reset_faults()``,
    ``set_latency(seconds)``;
    ``set_trading_mode("normal" | "cancel-only" | "post-only" | "disabled")``;
    ``set_taker_delay(condition_id, seconds | None)`` (marketable orders answer ``delayed`` and are
    matched ``seconds`` later; their /data/order status is DELAYED meanwhile);
    ``start_restart(too_early=90, post_only=120)`` (a matching-engine restart: 425 on order endpoints,
    then post-only orders and cancels only; seconds of the venue clock), ``restart_phase``;
    ``set_settlement(delay_seconds | None)`` (trades go MATCHED -> MINED at half the delay ->
    CONFIRMED; None: they stay MATCHED until ``mine_trade`` / ``confirm_trade`` / ``fail_trade``),
    ``mine_trade(trade_id)``, ``retry_trade(trade_id)``, ``fail_trade(trade_id)``,
    ``confirm_trade(trade_id)``, ``fail_next_trades(n)``, ``set_trade_failure_rate(rate, seed)``;
    ``close_market(condition_id)``, ``resolve_market(condition_id, winning_token_id)``,
    ``reopen_market(condition_id)``, ``lifecycle(condition_id)`` (``server.sim.lifecycle``);
    ``set_tick_size(condition_id, tick)`` (the listed tick), ``set_auto_tick(enabled)`` (ticks refine
    0.01 -> 0.001 while the YES midpoint is above 0.96 or below 0.04, and come back, on by default),
    ``set_page_size(n)``, ``set_heartbeat_timeout(seconds)``,
    ``set_order_budget(tier | None, mode)`` (the per-signer order token bucket, ``order_budget.py``),
    ``advance_time(seconds)`` (the venue clock used for GTD expiry, heartbeats and settlement),
    ``sweep()`` (run expiries, heartbeat timeouts and settlement now);
    ``place_unsigned(address, token_id, side, price, size, order_type=..., budget=...)`` and
    ``cancel_by_id(*order_ids)``: trade for any address without keys or signatures (property tests).

Semantics worth knowing:
    * An order id is the EIP-712 order hash; a hash is accepted once, ever (``Duplicated.`` after).
    * FOK/FAK BUY orders spend their USDC amount (price improvement buys more shares); every other
      order is filled by shares. Makers trade at their own price; takers pay the fee.
    * A YES bid meeting a NO bid mints a pair; a YES ask meeting a NO ask merges one: collateral
      locked in pairs is tracked per market (``totals()["locked"]``).
    * A failed trade reverts its balance moves (fee included); orders keep their matched size.
    * FOK/FAK answers list ``tradeIDs`` and no ``transactionsHashes``; their trades show a
      ``transaction_hash`` from the next sweep on (every request sweeps first; so does a 50 ms ticker).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import json
import logging
import math
import random
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from server.sim import redemption
from server.sim.auth import ApiKey, ApiKeyStore, verify_l1, verify_l2
from server.sim.book import BookSide, OrderBook
from server.sim.chain import SimChain
from server.sim.errors import (
    CANCEL_ONLY,
    ENGINE_RESTARTING,
    FAK_NO_MATCH,
    FOK_NOT_FILLED,
    INVALID_EXPIRATION,
    INVALID_PAYLOAD,
    INVALID_SIGNATURE,
    INVALID_TOKEN,
    MARKET_NOT_FOUND,
    MARKET_NOT_READY,
    NO_ORDERBOOK,
    NOT_ENOUGH_BALANCE,
    OWNER_MISMATCH,
    POST_ONLY_CROSSES,
    POST_ONLY_MODE,
    SIGNER_MISMATCH,
    TRADING_DISABLED,
    SimError,
    duplicated,
    rejected,
)
from server.sim.faults import FaultMode, FaultPlan
from server.sim.fees import fee_rate_bps, taker_fee
from server.sim.ledger import Ledger
from server.sim.lifecycle import CLOSED, OPEN, Lifecycle, market_resolved, resolved_to
from server.sim.markets import VALID_TICK_SIZES, SimMarket
from server.sim.order_budget import TIERS, Mode, OrderBudget, Tier
from server.sim.orders import OrderRequest, SimOrder, check_terms, parse_order_request
from server.sim.signing import (
    EXCHANGE_V2,
    NEG_RISK_EXCHANGE_V2,
    SIG_POLY_1271,
    SignatureError,
    keccak,
    order_hash,
    recover_order_signer,
)
from server.sim.trades import MakerFill, Trade
from server.sim.wire import MICRO, ONE, ZERO, ceil6, floor6, fmt, fmt_price, q6, to_units

log = logging.getLogger(__name__)

TRADING_MODES = ("normal", "cancel-only", "post-only", "disabled")
END_CURSOR = "LTE="
_MAX_UINT = str((1 << 256) - 1)
# The venue's GTD "security threshold": an order lives until ``expiration - 60`` seconds.
GTD_THRESHOLD_SECONDS = 60
# A GTD expiration must be at least 3 minutes ahead (docs, place-orders page; venue-facts-2026-12.md).
# Other sources say 10 s, 60 s or 90 s; we take the strictest documented rule.
GTD_MIN_LEAD_SECONDS = 180
_MAX_BATCH = 15
# Trade statuses before settlement; then CONFIRMED or FAILED. RETRYING: the trade's transaction failed
# and is being sent again (user-channel docs); it is mined, confirmed or failed like a MATCHED one.
UNSETTLED_TRADE_STATUSES = ("MATCHED", "MINED", "RETRYING")
# The venue refines a market's tick while its price is above 0.96 or below 0.04 and announces it with
# ``tick_size_change`` (docs orders/overview and the market channel page; venue-facts-2026-12.md). It
# coarsens back once the price returns inside (third-party adapters' reading of the feed; undocumented
# by Polymarket). The price is the YES midpoint; a one-sided or empty book keeps its tick.
TICK_REFINE_ABOVE = Decimal("0.96")
TICK_REFINE_BELOW = Decimal("0.04")
REFINED_TICK = {Decimal("0.01"): Decimal("0.001")}

Listener = Callable[[list[dict[str, object]]], None]


@dataclass(frozen=True)
class PreparedOrder:
    """A parsed ``POST /order`` element with its id (hash) computed, before any state check."""

    request: OrderRequest
    market: SimMarket
    order_id: str


def _encode_cursor(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode()


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        offset = int(base64.b64decode(cursor.encode(), validate=True).decode())
    except (ValueError, binascii.Error) as exc:
        raise rejected("invalid next_cursor") from exc
    if offset < 0:
        raise rejected("invalid next_cursor")
    return offset


class Exchange:
    def __init__(
        self,
        markets: Iterable[SimMarket],
        *,
        default_collateral: Decimal = Decimal("1000000"),
        page_size: int = 100,
        seed: int = 0,
        heartbeat_timeout: float = 10.0,
        settlement_delay: float | None = 0.0,
    ) -> None:
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._markets: dict[str, SimMarket] = {}
        self._by_token: dict[str, str] = {}
        self._books: dict[str, OrderBook] = {}
        self._locked: dict[str, Decimal] = {}
        self._book_ts: dict[str, int] = {}
        for market in markets:
            self._markets[market.condition_id] = market
            self._by_token[market.yes_token_id] = market.condition_id
            self._by_token[market.no_token_id] = market.condition_id
            self._books[market.condition_id] = OrderBook()
            self._locked[market.condition_id] = ZERO
        self._lifecycle: dict[str, Lifecycle] = {m.condition_id: OPEN for m in markets}
        self._ledger = Ledger()
        self._orders: dict[str, SimOrder] = {}
        self._orders_by_owner: dict[str, list[str]] = {}
        self._trades: dict[str, Trade] = {}
        self._post_counts: Counter[str] = Counter()
        self._fees = ZERO
        self._last_trade: dict[str, tuple[Decimal, str]] = {}
        self._expiries: list[tuple[float, str]] = []
        self._settlements: deque[tuple[float, str]] = deque()
        self._confirmations: deque[tuple[float, str]] = deque()
        # FOK/FAK trades whose transaction is sent on the next sweep (their answer carries only ids).
        self._unsent: list[Trade] = []
        self._heartbeats: dict[str, tuple[str, float]] = {}
        self._funded: set[str] = set()
        self._funder_of: dict[str, str] = {}
        self._listeners: list[Listener] = []
        self._level_cache: dict[str, dict[tuple[BookSide, Decimal], Decimal]] = {}
        self._touched: set[str] = set()
        # Markets whose book changed since the last flush (tick thresholds are checked there).
        self._moved: set[str] = set()
        # The tick each market is listed with; the live tick differs while it is refined.
        self._listed_tick: dict[str, Decimal] = {m.condition_id: m.tick_size for m in self._markets.values()}
        self.auto_tick = True
        self._pending_events: list[dict[str, object]] = []
        self._lp_seq = 0
        self._fail_next = 0
        # The share of trades that go FAILED at settlement (realistic profile), drawn per trade.
        self._failure_rate = 0.0
        self._failure_rng = random.Random(f"settlement:{seed}")
        self._clock_offset = 0.0
        # When each market's book was last read over /book (monotonic seconds; for the book mover).
        self.book_read_at: dict[str, float] = {}
        # The answer of polymarket.com/api/geoblock for callers of this simulator.
        self.geoblock: dict[str, object] = {"blocked": False, "country": "NL", "region": "NH"}
        self._mode = "normal"
        # Taker delay per market (seconds), and the delayed orders due for matching: (due, order id).
        self._taker_delay: dict[str, float] = {}
        self._delayed: list[tuple[float, str]] = []
        # A matching-engine restart: venue-clock times at which its 425 and post-only phases end.
        self._restart: tuple[float, float] | None = None
        self.default_collateral = default_collateral
        self.page_size = page_size
        self.heartbeat_timeout = heartbeat_timeout
        self.settlement_delay = settlement_delay
        self.faults = FaultPlan()
        # The Polygon node the official SDK's redeem and merge calls go through (`/rpc`).
        self.chain = SimChain(self)
        self.order_budget: OrderBudget | None = None
        self.keys = ApiKeyStore(hashlib.sha256(f"clob-sim:{seed}:{time.time_ns()}".encode()).digest())
        with self._lock:
            for market in self._markets.values():
                book = market.seed_book
                if book.bids or book.asks:
                    self._set_book(market.yes_token_id, list(book.bids), list(book.asks), None)
            self._follow_ticks()
            self._touched.clear()
            self._pending_events.clear()

    # ------------------------------------------------------------------ clock and sweeping

    def now(self) -> float:
        """Venue clock (wall clock plus ``advance_time`` offsets)."""
        return time.time() + self._clock_offset

    def set_clock_offset(self, seconds: float) -> None:
        """Sets how far the venue clock runs ahead of the wall clock (negative: behind)."""
        with self._lock:
            self._clock_offset = seconds

    def advance_time(self, seconds: float) -> None:
        with self._lock:
            self._clock_offset += seconds
            self._sweep()
            self._flush()

    def sweep(self) -> None:
        """Expire GTD orders, cancel orders of accounts whose heartbeats stopped, settle trades."""
        with self._lock:
            self._sweep()
            self._flush()

    def _sweep(self) -> None:
        now = self.now()
        for trade in self._unsent:
            trade.broadcast = True
        self._unsent.clear()
        while self._delayed and self._delayed[0][0] <= now:
            _, order_id = heapq.heappop(self._delayed)
            self._match_delayed(self._orders[order_id])
        while self._expiries and self._expiries[0][0] <= now:
            _, order_id = heapq.heappop(self._expiries)
            order = self._orders.get(order_id)
            if order is not None and order.status == "LIVE":
                log.info("GTD order %s expired", order_id)
                self._cancel(order)
        if self._heartbeats:
            for address, (_, last) in list(self._heartbeats.items()):
                if now - last > self.heartbeat_timeout:
                    del self._heartbeats[address]
                    cancelled = [o for o in self._open_orders_of(address)]
                    for order in cancelled:
                        self._cancel(order)
                    log.warning("heartbeats of %s stopped: cancelled %d open orders", address, len(cancelled))
        if self.settlement_delay is not None:
            # MATCHED -> MINED halfway through the delay -> CONFIRMED (or FAILED, never mined) at its end.
            half = self.settlement_delay / 2
            while self._settlements and self._settlements[0][0] + half <= now:
                matched_at, trade_id = self._settlements.popleft()
                trade = self._trades[trade_id]
                if trade.status in ("MATCHED", "RETRYING") and not trade.fail_at_settlement:
                    self._mine(trade)
                self._confirmations.append((matched_at, trade_id))
            while self._confirmations and self._confirmations[0][0] + self.settlement_delay <= now:
                _, trade_id = self._confirmations.popleft()
                trade = self._trades[trade_id]
                if trade.status in UNSETTLED_TRADE_STATUSES:
                    self._settle(trade, fail=trade.fail_at_settlement)

    # ------------------------------------------------------------------ markets and books

    @property
    def markets(self) -> list[SimMarket]:
        with self._lock:
            return list(self._markets.values())

    def market(self, ident: str) -> SimMarket:
        """Market by condition id or by either token id."""
        with self._lock:
            cond = self._by_token.get(ident, ident)
            try:
                return self._markets[cond]
            except KeyError:
                raise KeyError(f"unknown market or token {ident}") from None

    def _market_of_token(self, token_id: str) -> SimMarket:
        cond = self._by_token.get(token_id)
        if cond is None:
            raise SimError(404, NO_ORDERBOOK)
        return self._markets[cond]

    def _levels(self, market: SimMarket, token_id: str) -> tuple[list[tuple[Decimal, Decimal]], ...]:
        """(bids, asks) of ``token_id`` in its own prices, worst to best (best is last)."""
        book = self._books[market.condition_id]
        yes_bids = book.levels("bid")
        yes_asks = book.levels("ask")
        if market.is_yes(token_id):
            return yes_bids, list(reversed(yes_asks))
        bids = [(ONE - p, s) for p, s in reversed(yes_asks)]
        asks = [(ONE - p, s) for p, s in yes_bids]
        return bids, asks

    def _best(self, market: SimMarket, token_id: str) -> tuple[Decimal | None, Decimal | None]:
        book = self._books[market.condition_id]
        bid, ask = book.best("bid"), book.best("ask")
        if market.is_yes(token_id):
            return bid, ask
        return (ONE - ask if ask is not None else None), (ONE - bid if bid is not None else None)

    def book_json(self, token_id: str) -> dict[str, object]:
        """``GET /book`` body: levels worst -> best, strings, venue hash."""
        with self._lock:
            self._sweep()
            market = self._market_of_token(token_id)
            self.book_read_at[market.condition_id] = time.monotonic()
            return self._book_json(market, token_id)

    def _book_json(self, market: SimMarket, token_id: str) -> dict[str, object]:
        tick = market.tick_size
        bids, asks = self._levels(market, token_id)
        last = self._last_trade.get(token_id)
        summary: dict[str, object] = {
            "market": market.condition_id,
            "asset_id": token_id,
            "timestamp": str(self._book_ts.get(market.condition_id, 0)),
            "hash": "",
            "bids": [{"price": fmt_price(p, tick), "size": fmt(s)} for p, s in bids],
            "asks": [{"price": fmt_price(p, tick), "size": fmt(s)} for p, s in asks],
            "min_order_size": fmt(market.min_order_size),
            "tick_size": fmt(tick),
            "neg_risk": market.neg_risk,
            "last_trade_price": fmt_price(last[0], tick) if last else fmt_price(Decimal("0.5"), tick),
        }
        serialized = json.dumps(summary, separators=(",", ":"), ensure_ascii=False)
        summary["hash"] = hashlib.sha1(serialized.encode(), usedforsecurity=False).hexdigest()
        return summary

    def book(self, token_id: str) -> dict[str, list[tuple[Decimal, Decimal]]]:
        """Ground truth levels of ``token_id`` as Decimals, best first (unlike the wire format)."""
        with self._lock:
            market = self._market_of_token(token_id)
            bids, asks = self._levels(market, token_id)
            return {"bids": list(reversed(bids)), "asks": list(reversed(asks))}

    def price(self, token_id: str, side: str) -> Decimal:
        """``GET /price``: BUY -> best bid, SELL -> best ask (the venue's convention)."""
        if side not in ("BUY", "SELL"):
            raise rejected("Invalid side")
        with self._lock:
            market = self._market_of_token(token_id)
            bid, ask = self._best(market, token_id)
            value = bid if side == "BUY" else ask
            if value is None:
                raise SimError(404, NO_ORDERBOOK)
            return value

    def midpoint(self, token_id: str) -> Decimal:
        with self._lock:
            bid, ask = self._best(self._market_of_token(token_id), token_id)
            if bid is None or ask is None:
                raise SimError(404, NO_ORDERBOOK)
            return (bid + ask) / 2

    def spread(self, token_id: str) -> Decimal:
        with self._lock:
            bid, ask = self._best(self._market_of_token(token_id), token_id)
            if bid is None or ask is None:
                raise SimError(404, NO_ORDERBOOK)
            return ask - bid

    def last_trade_price(self, token_id: str) -> dict[str, str]:
        with self._lock:
            market = self._market_of_token(token_id)
            last = self._last_trade.get(token_id)
            if last is None:
                return {"price": "0.5", "side": ""}
            return {"price": fmt_price(last[0], market.tick_size), "side": last[1]}

    def token_market(self, token_id: str) -> SimMarket:
        """Market of a token for ``/tick-size`` etc.: 404 ``market not found`` if unknown."""
        with self._lock:
            cond = self._by_token.get(token_id)
            if cond is None:
                raise SimError(404, MARKET_NOT_FOUND)
            return self._markets[cond]

    def condition_market(self, condition_id: str) -> SimMarket:
        with self._lock:
            market = self._markets.get(condition_id)
            if market is None:
                raise SimError(404, MARKET_NOT_FOUND)
            return market

    def market_json(self, market: SimMarket) -> dict[str, object]:
        """CLOB market object (``/markets``); numbers where the venue sends numbers."""
        with self._lock:
            life = self._lifecycle[market.condition_id]
            tokens = []
            for token_id in market.token_ids:
                bid, ask = self._best(market, token_id)
                mid = (bid + ask) / 2 if bid is not None and ask is not None else Decimal("0.5")
                tokens.append(
                    {
                        "token_id": token_id,
                        "outcome": market.outcome(token_id),
                        "price": mid,
                        "winner": token_id == life.winning_token_id,
                    }
                )
        return {
            "enable_order_book": True,
            "active": True,
            "closed": life.closed,
            "archived": False,
            "accepting_orders": self._mode != "disabled" and life.accepting_orders,
            "accepting_order_timestamp": None,
            "minimum_order_size": market.min_order_size,
            "minimum_tick_size": market.tick_size,
            "condition_id": market.condition_id,
            "question_id": market.question_id,
            "question": market.question,
            "description": market.question,
            "market_slug": market.slug,
            "end_date_iso": market.end_date_iso,
            "game_start_time": None,
            "seconds_delay": int(self._taker_delay.get(market.condition_id, 0)),
            "fpmm": "",
            "maker_base_fee": 0,
            "taker_base_fee": fee_rate_bps(market),
            "notifications_enabled": True,
            "neg_risk": market.neg_risk,
            "neg_risk_market_id": market.neg_risk_event,
            "neg_risk_request_id": "",
            "icon": "",
            "image": "",
            "rewards": {"rates": None, "min_size": 0, "max_spread": 0},
            "is_50_50_outcome": False,
            "tokens": tokens,
            "tags": [market.category] if market.category else [],
        }

    def clob_market_json(self, market: SimMarket) -> dict[str, object]:
        """``/clob-markets/{condition_id}``: the compact form the client caches tick/neg-risk/fees from."""
        return {
            "c": market.condition_id,
            "t": [{"t": market.yes_token_id, "o": "Yes"}, {"t": market.no_token_id, "o": "No"}],
            "mts": market.tick_size,
            "mos": market.min_order_size,
            "nr": market.neg_risk,
            "fd": {"r": market.fee_rate, "e": market.fee_exponent, "to": True},
            "mbf": 0,
            "tbf": fee_rate_bps(market),
            "r": None,
            "ao": self._mode != "disabled" and self._lifecycle[market.condition_id].accepting_orders,
            "rfqe": False,
        }

    def markets_page(self, cursor: str | None) -> dict[str, object]:
        markets = self.markets
        offset = _decode_cursor(cursor)
        page = markets[offset : offset + 1000]
        nxt = offset + len(page)
        return {
            "limit": 1000,
            "count": len(page),
            "next_cursor": END_CURSOR if nxt >= len(markets) else _encode_cursor(nxt),
            "data": [self.market_json(m) for m in page],
        }

    # ------------------------------------------------------------------ accounts and keys

    def create_api_key(self, headers: Mapping[str, str]) -> ApiKey:
        """``POST /auth/api-key`` (L1): create, or return the live key for (address, nonce)."""
        address, nonce, chain_id = verify_l1(headers)
        api_key, created = self.keys.issue(address, nonce, chain_id)
        if created:
            log.info("issued API key %s to %s", api_key.key, address)
        with self._lock:
            if address not in self._funded:
                self._funded.add(address)
                if self.default_collateral > 0:
                    self._ledger.move_usdc(address, self.default_collateral)
        return api_key

    def derive_api_key(self, headers: Mapping[str, str]) -> ApiKey:
        """``GET /auth/derive-api-key`` (L1): the same deterministic credentials."""
        return self.create_api_key(headers)

    def authenticate(self, method: str, path: str, body: bytes, headers: Mapping[str, str]) -> ApiKey:
        return verify_l2(self.keys, method, path, body, headers)

    def revoke_api_key(self, api_key: ApiKey) -> None:
        self.keys.revoke(api_key.key)

    def api_keys(self, address: str) -> list[str]:
        return [k.key for k in self.keys.keys_of(address)]

    def fund(
        self, address: str, usdc: Decimal | int | str = 0, tokens: Mapping[str, Any] | None = None
    ) -> None:
        """Add collateral and/or outcome tokens to an account (negative amounts withdraw)."""
        with self._lock:
            self._funded.add(address.lower())
            self._ledger.move_usdc(address, Decimal(str(usdc)))
            for token_id, shares in (tokens or {}).items():
                self._market_of_token(token_id)
                self._ledger.move_tokens(address, token_id, Decimal(str(shares)))

    def set_allowance(self, address: str, usdc: Decimal | int | str | None) -> None:
        """The wallet's USDC allowance to the exchange contracts (None: unlimited, as after approval)."""
        with self._lock:
            self._ledger.account(address).allowance = None if usdc is None else Decimal(str(usdc))

    def set_default_collateral(self, amount: Decimal | int | str) -> None:
        self.default_collateral = Decimal(str(amount))

    def balances(self, address: str) -> dict[str, object]:
        """Ground truth: ``usdc``, ``usdc_available``, ``usdc_reserved``, ``tokens``, ``tokens_reserved``."""
        with self._lock:
            return self._ledger.snapshot(address)

    def balance_allowance(self, api_key: ApiKey, params: Mapping[str, str]) -> dict[str, object]:
        asset_type = params.get("asset_type", "COLLATERAL")
        try:
            signature_type = int(params.get("signature_type", "0"))
        except ValueError:
            raise rejected("Invalid signature_type") from None
        if signature_type not in (0, 1, 2, 3):
            raise rejected("Invalid signature_type")
        with self._lock:
            # Proxy / safe / deposit-wallet users hold funds in the funder their orders name.
            holder = (
                api_key.address
                if signature_type == 0
                else self._funder_of.get(api_key.address, api_key.address)
            )
            acct = self._ledger.account(holder)
            if asset_type == "COLLATERAL":
                balance = acct.usdc
            elif asset_type == "CONDITIONAL":
                token_id = params.get("token_id", "")
                if token_id not in self._by_token:
                    raise rejected(INVALID_TOKEN)
                balance = acct.token(token_id)
            else:
                raise rejected("Invalid asset type")
            allowance = _MAX_UINT if acct.allowance is None else str(to_units(acct.allowance))
        return {
            "balance": str(to_units(balance)),
            "allowances": {EXCHANGE_V2: allowance, NEG_RISK_EXCHANGE_V2: allowance},
        }

    def totals(self) -> dict[str, object]:
        """Sums across all accounts: ``usdc``, ``tokens`` per token, ``locked`` per market, ``fees``."""
        with self._lock:
            usdc = sum((a.usdc for a in self._ledger.accounts.values()), ZERO)
            tokens: dict[str, Decimal] = {}
            for acct in self._ledger.accounts.values():
                for token_id, shares in acct.tokens.items():
                    tokens[token_id] = tokens.get(token_id, ZERO) + shares
            tokens = {t: v for t, v in tokens.items() if v}
            return {"usdc": usdc, "tokens": tokens, "locked": dict(self._locked), "fees": self._fees}

    # ------------------------------------------------------------------ control

    def lifecycle(self, condition_id: str) -> Lifecycle:
        """Where the market is in its life (KeyError if unknown)."""
        with self._lock:
            return self._lifecycle[condition_id]

    def close_market(self, condition_id: str) -> None:
        """Ends trading: orders are refused and every resting order of the market is cancelled."""
        self._end(condition_id, CLOSED)

    def resolve_market(self, condition_id: str, winning_token_id: str) -> None:
        """Closes the market (if still open) with ``winning_token_id`` winning, and announces it on
        the market channel (``market_resolved``)."""
        market = self.market(condition_id)
        if winning_token_id not in market.token_ids:
            raise ValueError(f"{winning_token_id} is not a token of market {condition_id}")
        self._end(condition_id, resolved_to(winning_token_id))

    def reopen_market(self, condition_id: str) -> None:
        """Takes orders again (for tests of a market that was only paused)."""
        with self._lock:
            if self._lifecycle[condition_id].resolved:
                raise ValueError(f"market {condition_id} is resolved: it cannot reopen")
            self._lifecycle[condition_id] = OPEN

    def _end(self, condition_id: str, life: Lifecycle) -> None:
        with self._lock:
            market = self.market(condition_id)
            was = self._lifecycle[market.condition_id]
            if was.resolved:
                raise ValueError(f"market {condition_id} is already resolved")
            self._sweep()
            self._lifecycle[market.condition_id] = life
            for order in list(self._orders.values()):
                if order.condition_id == market.condition_id and order.status == "LIVE":
                    self._cancel(order)
            if life.resolved:
                self._pending_events.append(market_resolved(market, life, int(self.now() * 1000)))
            self._flush()
        log.info("market %s: %s", market.slug, "resolved" if life.resolved else "closed")

    def redeem_positions(self, holder: str, condition_id: str, *, check_only: bool = False) -> Decimal:
        """A redemption of `holder`'s positions in the market (`server.sim.redemption`); returns the
        payout. `check_only`: raises `ChainRevert` as the call would, changes nothing."""
        with self._lock:
            market = self.condition_market(condition_id)
            life = self._lifecycle[condition_id]
            if check_only:
                redemption.check_redeem(life)
                return ZERO
            return redemption.redeem(self._ledger, market, life, holder)

    def merge_positions(
        self, holder: str, condition_id: str, shares: Decimal, *, check_only: bool = False
    ) -> None:
        """A merge of `shares` YES+NO pairs of `holder` into USDC (`server.sim.redemption`)."""
        with self._lock:
            market = self.condition_market(condition_id)
            if check_only:
                redemption.check_merge(self._ledger, market, holder, shares)
            else:
                redemption.merge(self._ledger, market, holder, shares)

    def token_balance(self, holder: str, token_id: str) -> Decimal:
        """What `holder` holds of `token_id` (unknown tokens: zero, as an ERC1155 answers)."""
        with self._lock:
            return self._ledger.account(holder).token(token_id)

    def set_trading_mode(self, mode: str) -> None:
        if mode not in TRADING_MODES:
            raise ValueError(f"trading mode must be one of {TRADING_MODES}")
        with self._lock:
            self._mode = mode
        log.info("trading mode: %s", mode)

    @property
    def trading_mode(self) -> str:
        return self._mode

    def inject_fault(
        self,
        path: str,
        count: int,
        mode: FaultMode,
        *,
        status: int | None = None,
        delay: float | None = None,
        method: str | None = None,
        error: str | None = None,
    ) -> None:
        self.faults.inject(path, count, mode, status=status, delay=delay, method=method, error=error)

    def reset_faults(self) -> None:
        """Drop pending faults and latency."""
        self.faults.reset()

    def set_latency(self, seconds: float) -> None:
        self.faults.latency = float(seconds)

    def set_page_size(self, size: int) -> None:
        if size < 1:
            raise ValueError("page size must be positive")
        self.page_size = size

    def set_order_budget(
        self, tier: str | Tier | None, mode: Mode = "enforce", clock: Callable[[], float] | None = None
    ) -> None:
        """Meter ``POST /order(s)`` per signer at a documented tier ("standard", "elite"), or at a `Tier`
        of the test's own (a low rate to reach quickly); None: unmetered.

        ``clock`` (Unix seconds) defaults to the venue clock; tests pass their own to refill on cue.
        """
        if tier is None:
            self.order_budget = None
            return
        if (isinstance(tier, str) and tier not in TIERS) or mode not in ("enforce", "warn"):
            raise ValueError(f"unknown order budget tier {tier!r} or mode {mode!r}")
        self.order_budget = OrderBudget(
            TIERS[tier] if isinstance(tier, str) else tier, clock or self.now, mode
        )

    def set_heartbeat_timeout(self, seconds: float) -> None:
        self.heartbeat_timeout = float(seconds)

    def set_settlement(self, delay: float | None) -> None:
        """Seconds from MATCHED to CONFIRMED (MINED from half way); None keeps trades MATCHED until told."""
        with self._lock:
            self.settlement_delay = delay

    def fail_next_trades(self, count: int) -> None:
        """The next ``count`` trades created will go FAILED (balances reverted) at settlement."""
        with self._lock:
            self._fail_next = count

    def set_trade_failure_rate(self, rate: float, seed: int = 0) -> None:
        """From now on each new trade goes FAILED at settlement with probability ``rate`` (a seeded draw
        per trade, in creation order); 0 turns it off. ``fail_next_trades`` comes first."""
        if not 0 <= rate <= 1:
            raise ValueError("failure rate must be in [0, 1]")
        with self._lock:
            self._failure_rate = rate
            self._failure_rng = random.Random(f"settlement:{seed}")

    def fail_trade(self, trade_id: str) -> None:
        """Settle an unsettled trade as FAILED: its balance moves (and fee) are reverted."""
        with self._lock:
            trade = self._trades.get(trade_id)
            if trade is None:
                raise KeyError(trade_id)
            if trade.status not in UNSETTLED_TRADE_STATUSES:
                raise ValueError(f"trade {trade_id} is {trade.status}, only unsettled trades can fail")
            self._settle(trade, fail=True)
            self._flush()

    def mine_trade(self, trade_id: str) -> None:
        """Move a MATCHED or RETRYING trade to MINED (its transaction is in a block, not yet final)."""
        with self._lock:
            trade = self._trades[trade_id]
            if trade.status not in ("MATCHED", "RETRYING"):
                raise ValueError(f"trade {trade_id} is {trade.status}")
            self._mine(trade)

    def retry_trade(self, trade_id: str) -> None:
        """Move an unsettled trade to RETRYING: its transaction failed and is sent again; it then
        goes on to MINED and CONFIRMED (or FAILED) as any unsettled trade does."""
        with self._lock:
            trade = self._trades[trade_id]
            if trade.status not in UNSETTLED_TRADE_STATUSES:
                raise ValueError(f"trade {trade_id} is {trade.status}")
            trade.last_update = int(self.now())
            trade.status = "RETRYING"

    def confirm_trade(self, trade_id: str) -> None:
        """Settle a MATCHED or MINED trade as CONFIRMED."""
        with self._lock:
            trade = self._trades[trade_id]
            if trade.status not in UNSETTLED_TRADE_STATUSES:
                raise ValueError(f"trade {trade_id} is {trade.status}")
            self._settle(trade, fail=False)

    def set_tick_size(self, condition_id: str, tick: Decimal | str) -> None:
        """List a market at another tick and announce ``tick_size_change`` (the automatic refinement
        near 0 and 1 then works from this tick)."""
        new_tick = Decimal(str(tick))
        if new_tick not in VALID_TICK_SIZES:
            raise ValueError(f"unsupported tick size {tick}")
        with self._lock:
            self._listed_tick[condition_id] = new_tick
            self._change_tick(condition_id, new_tick)
            self._moved.add(condition_id)
            self._flush()

    def set_auto_tick(self, enabled: bool) -> None:
        """Whether ticks refine near 0 and 1 by themselves (on by default, as on the venue)."""
        with self._lock:
            self.auto_tick = enabled

    def _follow_ticks(self) -> None:
        """Refine (or restore) the tick of each market whose book moved past (or back inside) the
        venue's thresholds."""
        moved, self._moved = self._moved, set()
        if not self.auto_tick:
            return
        for cond in sorted(moved):
            market = self._markets[cond]
            listed = self._listed_tick[cond]
            refined = REFINED_TICK.get(listed)
            if refined is None:
                continue
            book = self._books[cond]
            bid, ask = book.best("bid"), book.best("ask")
            if bid is None or ask is None:
                continue
            mid = (bid + ask) / 2
            wanted = refined if (mid > TICK_REFINE_ABOVE or mid < TICK_REFINE_BELOW) else listed
            if wanted != market.tick_size:
                self._change_tick(cond, wanted)

    def _change_tick(self, condition_id: str, new_tick: Decimal) -> None:
        market = self._markets[condition_id]
        old = market.tick_size
        if new_tick == old:
            return
        self._markets[condition_id] = replace(market, tick_size=new_tick)
        log.info("market %s tick %s -> %s", condition_id[:10], old, new_tick)
        if not self._listeners:
            return
        ts = str(int(self.now() * 1000))
        for token_id in market.token_ids:
            self._pending_events.append(
                {
                    "event_type": "tick_size_change",
                    "asset_id": token_id,
                    "market": condition_id,
                    "old_tick_size": fmt(old),
                    "new_tick_size": fmt(new_tick),
                    "timestamp": ts,
                }
            )

    def add_listener(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)
            for market in self._markets.values():
                self._level_cache[market.condition_id] = self._level_map(market.condition_id)

    def remove_listener(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    # ------------------------------------------------------------------ liquidity provider

    def set_book(
        self,
        token_id: str,
        bids: Iterable[tuple[Any, Any]] = (),
        asks: Iterable[tuple[Any, Any]] = (),
        *,
        lp: str | None = None,
    ) -> list[str]:
        """Replace the liquidity provider's orders in ``token_id``'s market; returns the new order ids.

        Prices are in ``token_id``'s terms. New orders that cross users' resting orders trade with
        them like any GTC order. The provider is funded as needed.
        """
        with self._lock:
            ids = self._set_book(
                token_id,
                [(Decimal(str(p)), Decimal(str(s))) for p, s in bids],
                [(Decimal(str(p)), Decimal(str(s))) for p, s in asks],
                lp,
            )
            self._flush()
            return ids

    def _set_book(
        self,
        token_id: str,
        bids: list[tuple[Decimal, Decimal]],
        asks: list[tuple[Decimal, Decimal]],
        lp: str | None,
    ) -> list[str]:
        market = self._market_of_token(token_id)
        provider = (lp or market.liquidity_provider).lower()
        if bids and asks and max(p for p, _ in bids) >= min(p for p, _ in asks):
            raise ValueError("book would be crossed: best bid must be below best ask")
        self._pull(market, provider)
        ids = []
        for price, size in bids:
            ids.append(self._add_lp(market, token_id, "BUY", price, size, provider))
        for price, size in asks:
            ids.append(self._add_lp(market, token_id, "SELL", price, size, provider))
        return ids

    def add_liquidity(self, token_id: str, side: str, price: Any, size: Any, *, lp: str | None = None) -> str:
        """One more provider order: ``side`` BUY (a bid) or SELL (an ask) in ``token_id``'s prices."""
        side = {"bid": "BUY", "ask": "SELL"}.get(side, side).upper()
        with self._lock:
            market = self._market_of_token(token_id)
            order_id = self._add_lp(
                market,
                token_id,
                side,
                Decimal(str(price)),
                Decimal(str(size)),
                (lp or market.liquidity_provider),
            )
            self._flush()
            return order_id

    def pull_liquidity(self, token_id: str | None = None, *, lp: str | None = None) -> int:
        """Cancel provider orders in one market (or everywhere); returns how many."""
        with self._lock:
            markets = [self._market_of_token(token_id)] if token_id else list(self._markets.values())
            count = 0
            for market in markets:
                count += self._pull(market, (lp or market.liquidity_provider).lower())
            self._flush()
            return count

    def shift_book(self, condition_id: str, ticks: int) -> None:
        """Move every provider level of a market by ``ticks`` (YES prices), dropping levels off range."""
        with self._lock:
            market = self._markets[condition_id]
            tick = market.tick_size
            provider = market.liquidity_provider.lower()
            book = self._books[condition_id]
            levels: dict[tuple[bool, Decimal], Decimal] = {}
            for order_id in book.order_ids():
                order = self._orders[order_id]
                if order.is_lp and order.maker_address == provider:
                    key = (order.is_bid, order.yes_price + tick * ticks)
                    levels[key] = levels.get(key, ZERO) + order.remaining
            bids = [(p, s) for (is_bid, p), s in levels.items() if is_bid and tick <= p <= ONE - tick]
            asks = [(p, s) for (is_bid, p), s in levels.items() if not is_bid and tick <= p <= ONE - tick]
            if bids and asks and max(p for p, _ in bids) >= min(p for p, _ in asks):
                return
            self._set_book(market.yes_token_id, bids, asks, provider)
            self._flush()

    def _pull(self, market: SimMarket, provider: str) -> int:
        book = self._books[market.condition_id]
        pulled = 0
        for order_id in book.order_ids():
            order = self._orders[order_id]
            if order.is_lp and order.maker_address == provider:
                self._cancel(order)
                pulled += 1
        return pulled

    def _add_lp(
        self, market: SimMarket, token_id: str, side: str, price: Decimal, size: Decimal, provider: str
    ) -> str:
        tick = market.tick_size
        if side not in ("BUY", "SELL"):
            raise ValueError("side must be BUY or SELL")
        if price % tick != 0 or not tick <= price <= ONE - tick:
            raise ValueError(f"price {price} is off the {tick} grid or out of range")
        if size <= 0:
            raise ValueError("size must be positive")
        # A provider ask is booked as a BUY of the complement: it only ever needs collateral.
        if side == "SELL":
            token_id, price = market.complement(token_id), ONE - price
        provider = provider.lower()
        notional = ceil6(size * price)
        acct = self._ledger.account(provider)
        if acct.available_usdc() < notional:
            self._ledger.move_usdc(provider, notional - acct.available_usdc())
        self._lp_seq += 1
        order_id = "0x" + keccak(f"sim-lp:{provider}:{self._lp_seq}".encode()).hex()
        order = SimOrder(
            id=order_id,
            condition_id=market.condition_id,
            token_id=token_id,
            outcome=market.outcome(token_id),
            is_yes=market.is_yes(token_id),
            side="BUY",
            price=price,
            original_size=size,
            order_type="GTC",
            owner="",
            owner_address=provider,
            maker_address=provider,
            expiration=0,
            created_at=int(self.now()),
            is_lp=True,
        )
        self._execute(market, order, self._plan(market, order)[0])
        return order_id

    # ------------------------------------------------------------------ orders

    def prepare(self, body: object, chain_id: int) -> PreparedOrder:
        """Parse one ``POST /order`` element and compute its id (no state is read or written)."""
        request = parse_order_request(body)
        cond = self._by_token.get(request.token_id)
        if cond is None:
            raise rejected(INVALID_TOKEN)
        market = self._markets[cond]
        return PreparedOrder(request, market, order_hash(request.fields, chain_id, market.neg_risk))

    def count_post(self, order_id: str) -> None:
        with self._lock:
            self._post_counts[order_id] += 1

    def post_count(self, order_id: str) -> int:
        """How many ``POST /order`` (or ``/orders`` elements) carried this order hash, faults included."""
        with self._lock:
            return self._post_counts[order_id]

    def post_counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._post_counts)

    def start_restart(self, too_early: float = 90.0, post_only: float = 120.0) -> None:
        """Restart the matching engine: order endpoints answer 425 for ``too_early`` seconds, then only
        post-only orders and cancels are taken for ``post_only`` seconds (docs trading/matching-engine:
        about 90 s and 2 minutes)."""
        if too_early < 0 or post_only < 0:
            raise ValueError("restart phases cannot be negative")
        with self._lock:
            now = self.now()
            self._restart = (now + too_early, now + too_early + post_only)
        log.info("matching engine restarting: 425 for %ss, then post-only for %ss", too_early, post_only)

    @property
    def restart_phase(self) -> str | None:
        """``"too-early"``, ``"post-only"`` or None (no restart under way)."""
        with self._lock:
            if self._restart is None:
                return None
            now = self.now()
            if now < self._restart[0]:
                return "too-early"
            if now < self._restart[1]:
                return "post-only"
            self._restart = None
            return None

    def check_engine(self) -> None:
        """425 while the matching engine restarts (every order-related endpoint calls this first)."""
        if self.restart_phase == "too-early":
            raise SimError(425, ENGINE_RESTARTING)

    def check_order_mode(self, post_only: bool) -> None:
        if self.restart_phase == "post-only" and not post_only:
            assert self._restart is not None
            left = math.ceil(self._restart[1] - self.now())
            raise SimError(503, POST_ONLY_MODE, {"code": "post_only_mode", "retry_after_seconds": left})
        if self._mode == "cancel-only":
            raise SimError(503, CANCEL_ONLY)
        if self._mode == "disabled":
            raise SimError(503, TRADING_DISABLED)
        if self._mode == "post-only" and not post_only:
            raise SimError(503, POST_ONLY_MODE, {"code": "post_only_mode", "retry_after_seconds": 60})

    def place(self, api_key: ApiKey, prepared: PreparedOrder) -> dict[str, object]:
        """Run every venue check on a signed order, then match and rest it; returns the POST body.

        Raises ``SimError`` with the venue's status and message; a rejected order changes nothing.
        """
        with self._lock:
            self._sweep()
            try:
                return self._place(api_key, prepared)
            finally:
                self._flush()

    def _place(self, api_key: ApiKey, prepared: PreparedOrder) -> dict[str, object]:
        request, order_id = prepared.request, prepared.order_id
        market = self._markets[prepared.market.condition_id]
        self.check_order_mode(request.post_only)
        if not self._lifecycle[market.condition_id].accepting_orders:
            # The venue's text for a closed market is undocumented; this documented refusal says the
            # same (reference §5.5 checks "market accepting" before the signature).
            raise rejected(MARKET_NOT_READY)
        if request.owner != api_key.key:
            raise rejected(OWNER_MISMATCH)
        fields = request.fields
        if fields.signature_type != SIG_POLY_1271:
            if fields.signer.lower() != api_key.address:
                raise rejected(SIGNER_MISMATCH)
            if fields.signature_type == 0 and fields.maker.lower() != fields.signer.lower():
                raise rejected(INVALID_SIGNATURE)
        try:
            recovered = recover_order_signer(fields, request.signature, api_key.chain_id, market.neg_risk)
        except SignatureError:
            raise rejected(INVALID_SIGNATURE) from None
        expected = api_key.address if fields.signature_type == SIG_POLY_1271 else fields.signer.lower()
        if recovered != expected:
            raise rejected(INVALID_SIGNATURE)
        now = self.now()
        if request.order_type == "GTD" and request.expiration < now + GTD_MIN_LEAD_SECONDS:
            raise rejected(INVALID_EXPIRATION)
        terms = check_terms(request, market, market.tick_size, order_id)
        if order_id in self._orders:
            raise duplicated(order_id)
        order = SimOrder(
            id=order_id,
            condition_id=market.condition_id,
            token_id=request.token_id,
            outcome=market.outcome(request.token_id),
            is_yes=market.is_yes(request.token_id),
            side=request.side,
            price=terms.price,
            original_size=terms.size,
            order_type=request.order_type,
            owner=api_key.key,
            owner_address=api_key.address,
            maker_address=fields.maker.lower(),
            expiration=request.expiration if request.order_type == "GTD" else 0,
            created_at=int(now),
            budget=terms.budget,
            post_only=request.post_only,
        )
        if order.maker_address not in self._funded:
            # A proxy / safe / deposit wallet first seen as a maker is funded like a new key's address.
            self._funded.add(order.maker_address)
            if self.default_collateral > 0:
                self._ledger.move_usdc(order.maker_address, self.default_collateral)
        result = self._submit(market, order)
        if fields.signature_type != 0:
            self._funder_of[api_key.address] = order.maker_address
        return result

    def _submit(self, market: SimMarket, order: SimOrder) -> dict[str, object]:
        """Post-only, balance and FOK/FAK checks, then match and rest; nothing changes on a reject."""
        book = self._books[market.condition_id]
        crosses = book.would_cross("ask" if order.is_bid else "bid", order.yes_price)
        if order.post_only and crosses:
            raise rejected(POST_ONLY_CROSSES)
        self._check_balance(market, order, crosses)
        delay = self._taker_delay.get(market.condition_id, 0.0)
        if crosses and delay > 0:
            return self._delay(order, delay)
        fills, complete = self._plan(market, order)
        if order.order_type == "FOK" and not complete:
            raise rejected(FOK_NOT_FILLED)
        if order.order_type == "FAK" and not fills:
            raise rejected(FAK_NO_MATCH)
        trades = self._execute(market, order, fills)
        making, taking = self._amounts(order, trades)
        if order.order_type in ("FOK", "FAK"):
            # Since 2026-07-24 FOK/FAK answers carry trade ids, not transaction hashes: the client
            # polls each trade until it shows a hash or FAILED (venue-facts-2026-12.md, Settlement).
            for trade in trades:
                trade.broadcast = False
            self._unsent.extend(trades)
            hashes: list[str] = []
        else:
            hashes = [t.transaction_hash for t in trades]
        return {
            "success": True,
            "errorMsg": "",
            "orderID": order.id,
            "status": "matched" if trades else "live",
            "makingAmount": making,
            "takingAmount": taking,
            "transactionsHashes": hashes,
            "tradeIDs": [t.id for t in trades],
        }

    def _delay(self, order: SimOrder, delay: float) -> dict[str, object]:
        """Accept a marketable order on a delayed market: it is matched ``delay`` seconds from now."""
        order.status = "DELAYED"
        self._register(order)
        heapq.heappush(self._delayed, (self.now() + delay, order.id))
        return {
            "success": True,
            "errorMsg": "",
            "orderID": order.id,
            "status": "delayed",
            "makingAmount": "",
            "takingAmount": "",
            "transactionsHashes": [],
            "tradeIDs": [],
        }

    def _match_delayed(self, order: SimOrder) -> None:
        """Match a delayed order once its delay is over, by the rules it would have met on arrival;
        one that can no longer be taken (funds, FOK not fillable, FAK unmatched) is cancelled."""
        if order.status != "DELAYED":  # cancelled while it waited
            return
        market = self._markets[order.condition_id]
        order.status = "LIVE"
        try:
            book = self._books[market.condition_id]
            crosses = book.would_cross("ask" if order.is_bid else "bid", order.yes_price)
            self._check_balance(market, order, crosses)
            fills, complete = self._plan(market, order)
            if order.order_type == "FOK" and not complete:
                raise rejected(FOK_NOT_FILLED)
            if order.order_type == "FAK" and not fills:
                raise rejected(FAK_NO_MATCH)
        except SimError as err:
            order.status = "CANCELED"
            log.info("delayed order %s killed: %s", order.id, err.message)
            return
        self._execute(market, order, fills)

    def set_taker_delay(self, condition_id: str, seconds: float | None) -> None:
        """Delay marketable orders in a market by ``seconds`` (answer ``delayed``, matched later, as on
        sports markets); None or 0 turns it off."""
        with self._lock:
            if condition_id not in self._markets:
                raise KeyError(f"unknown market {condition_id}")
            if seconds:
                self._taker_delay[condition_id] = float(seconds)
            else:
                self._taker_delay.pop(condition_id, None)

    def place_unsigned(
        self,
        address: str,
        token_id: str,
        side: str,
        price: Any,
        size: Any,
        *,
        order_type: str = "GTC",
        budget: Any = None,
        post_only: bool = False,
    ) -> dict[str, object]:
        """Place an order for ``address`` without signature or API key (property tests, demos).

        Same matching, balance and FOK/FAK rules as signed orders; ``budget`` (USDC) makes a BUY
        spend an amount like a market order. Raises ``SimError`` on rejection.
        """
        with self._lock:
            self._sweep()
            try:
                market = self._market_of_token(token_id)
                price_d, size_d = Decimal(str(price)), Decimal(str(size))
                tick = market.tick_size
                if price_d % tick != 0 or not tick <= price_d <= ONE - tick:
                    raise rejected(f"price {price_d} breaks the {tick} tick or bounds")
                if (
                    size_d <= 0
                    or side not in ("BUY", "SELL")
                    or order_type not in ("GTC", "GTD", "FOK", "FAK")
                ):
                    raise rejected(INVALID_PAYLOAD)
                self._lp_seq += 1
                address = address.lower()
                order = SimOrder(
                    id="0x" + keccak(f"sim-unsigned:{address}:{self._lp_seq}".encode()).hex(),
                    condition_id=market.condition_id,
                    token_id=token_id,
                    outcome=market.outcome(token_id),
                    is_yes=market.is_yes(token_id),
                    side=side,
                    price=price_d,
                    original_size=size_d,
                    order_type=order_type,
                    owner="",
                    owner_address=address,
                    maker_address=address,
                    expiration=0,
                    created_at=int(self.now()),
                    budget=Decimal(str(budget)) if budget is not None and side == "BUY" else None,
                    post_only=post_only,
                )
                return self._submit(market, order)
            finally:
                self._flush()

    @staticmethod
    def _amounts(order: SimOrder, trades: list[Trade]) -> tuple[str, str]:
        if not trades:
            return "", ""
        shares = sum((t.size for t in trades), ZERO)
        usdc = sum((q6(t.size * t.price) for t in trades), ZERO)
        return (fmt(usdc), fmt(shares)) if order.side == "BUY" else (fmt(shares), fmt(usdc))

    def _check_balance(self, market: SimMarket, order: SimOrder, crosses: bool) -> None:
        acct = self._ledger.account(order.maker_address)
        if order.side == "SELL":
            if acct.available_tokens(order.token_id) < order.original_size:
                raise rejected(NOT_ENOUGH_BALANCE)
            return
        notional = order.budget if order.budget is not None else ceil6(order.original_size * order.price)
        fee = taker_fee(market, order.original_size, order.price) if crosses else ZERO
        if acct.spendable_usdc() < notional + fee:
            raise rejected(NOT_ENOUGH_BALANCE)

    def _plan(
        self, market: SimMarket, order: SimOrder
    ) -> tuple[list[tuple[SimOrder, Decimal, Decimal]], bool]:
        """Fills ``(maker, shares, taker_price)`` in priority order, and whether the order is complete."""
        book = self._books[market.condition_id]
        fills: list[tuple[SimOrder, Decimal, Decimal]] = []
        side: BookSide = "ask" if order.is_bid else "bid"
        if order.budget is not None:
            left = order.budget - order.spent
            for yes_price, resting in book.crossing(side, order.yes_price):
                maker = self._orders[resting.id]
                price = yes_price if order.is_yes else ONE - yes_price
                shares = floor6(left / price)
                # Costs round half-up to the micro-dollar, so one more micro-share may still fit.
                while q6((shares + MICRO) * price) <= left:
                    shares += MICRO
                if shares >= maker.remaining:
                    shares = maker.remaining
                elif shares <= 0:
                    return fills, True
                fills.append((maker, shares, price))
                left -= q6(shares * price)
                if shares < maker.remaining or left <= 0:
                    # The budget ran out at this price; worse prices cannot do better.
                    return fills, True
            return fills, False
        left = order.remaining
        for yes_price, resting in book.crossing(side, order.yes_price):
            maker = self._orders[resting.id]
            shares = min(maker.remaining, left)
            fills.append((maker, shares, yes_price if order.is_yes else ONE - yes_price))
            left -= shares
            if left <= 0:
                return fills, True
        return fills, False

    def _execute(
        self, market: SimMarket, order: SimOrder, fills: list[tuple[SimOrder, Decimal, Decimal]]
    ) -> list[Trade]:
        self._register(order)
        trades = [self._fill(market, order, maker, shares, price) for maker, shares, price in fills]
        if order.order_type in ("GTC", "GTD") and order.remaining > 0:
            self._books[market.condition_id].add(order, "bid" if order.is_bid else "ask", order.yes_price)
            self._hold(order)
            self._touch(market.condition_id)
            if order.order_type == "GTD":
                heapq.heappush(self._expiries, (order.expiration - GTD_THRESHOLD_SECONDS, order.id))
        else:
            # Fully filled, or a FOK/FAK whose unfilled remainder is dropped.
            order.status = "MATCHED"
        return trades

    def _register(self, order: SimOrder) -> None:
        if order.id not in self._orders:
            self._orders[order.id] = order
            self._orders_by_owner.setdefault(order.owner_address, []).append(order.id)

    def _hold(self, order: SimOrder) -> None:
        """Re-compute what a resting order holds back from its funder."""
        if order.status == "LIVE" and order.id in self._books[order.condition_id]:
            target = ceil6(order.remaining * order.price) if order.side == "BUY" else order.remaining
        else:
            target = ZERO
        delta = target - order.reserved
        if delta:
            self._ledger.hold(order.maker_address, None if order.side == "BUY" else order.token_id, delta)
            order.reserved = target

    def _fill(
        self, market: SimMarket, taker: SimOrder, maker: SimOrder, shares: Decimal, price: Decimal
    ) -> Trade:
        """Move balances for one taker/maker fill at the taker's own-token ``price``."""
        moves: list[tuple[str, str, Decimal]] = []

        def move(address: str, asset: str, delta: Decimal) -> None:
            if not delta:
                return
            moves.append((address, asset, delta))
            if asset:
                self._ledger.move_tokens(address, asset, delta)
            else:
                self._ledger.move_usdc(address, delta)

        t_addr, m_addr = taker.maker_address, maker.maker_address
        cost = q6(shares * price)
        locked_delta = ZERO
        # Release the maker's hold first so the moves below never see it double counted.
        book = self._books[market.condition_id]
        book.reduce(maker.id, shares)
        maker.size_matched += shares
        if maker.remaining <= 0:
            book.remove(maker.id)
            maker.status = "MATCHED"
        self._hold(maker)
        if taker.token_id == maker.token_id:
            buyer, seller = (t_addr, m_addr) if taker.side == "BUY" else (m_addr, t_addr)
            move(buyer, "", -cost)
            move(seller, "", cost)
            move(seller, taker.token_id, -shares)
            move(buyer, taker.token_id, shares)
        elif taker.side == "BUY":
            # Both buy: a new YES/NO pair is minted from the two payments.
            move(t_addr, "", -cost)
            move(m_addr, "", -(shares - cost))
            move(t_addr, taker.token_id, shares)
            move(m_addr, maker.token_id, shares)
            locked_delta = shares
        else:
            # Both sell: the pair is merged back into collateral and split between them.
            move(t_addr, taker.token_id, -shares)
            move(m_addr, maker.token_id, -shares)
            move(t_addr, "", cost)
            move(m_addr, "", shares - cost)
            locked_delta = -shares
        self._locked[market.condition_id] += locked_delta
        fee = taker_fee(market, shares, price)
        if fee:
            available = self._ledger.account(t_addr).available_usdc()
            if fee > available:
                log.warning("fee %s exceeds %s's free collateral %s: clamped", fee, t_addr, available)
                fee = max(ZERO, available)
            move(t_addr, "", -fee)
            self._fees += fee
        taker.size_matched += shares
        if taker.side == "BUY":
            taker.spent += cost
        now = self.now()
        trade = Trade(
            id=str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
            taker_order_id=taker.id,
            condition_id=market.condition_id,
            asset_id=taker.token_id,
            side=taker.side,
            size=shares,
            price=price,
            fee=fee,
            fee_rate_bps=fee_rate_bps(market),
            outcome=taker.outcome,
            owner=taker.owner,
            owner_address=taker.owner_address,
            maker_address=t_addr,
            match_time=int(now),
            transaction_hash="0x" + self._rng.getrandbits(256).to_bytes(32, "big").hex(),
            maker=MakerFill(
                order_id=maker.id,
                owner=maker.owner,
                maker_address=m_addr,
                matched_amount=shares,
                price=maker.price,
                asset_id=maker.token_id,
                outcome=maker.outcome,
                side=maker.side,
            ),
            maker_owner_address=maker.owner_address,
            moves=moves,
            locked_delta=locked_delta,
        )
        if self._fail_next > 0:
            self._fail_next -= 1
            trade.fail_at_settlement = True
        elif self._failure_rate and self._failure_rng.random() < self._failure_rate:
            trade.fail_at_settlement = True
        self._trades[trade.id] = trade
        self._settlements.append((now, trade.id))
        taker.associate_trades.append(trade.id)
        maker.associate_trades.append(trade.id)
        # A YES trade at p is a NO trade at 1 - p on the other side.
        self._last_trade[taker.token_id] = (price, taker.side)
        self._last_trade[market.complement(taker.token_id)] = (
            ONE - price,
            "SELL" if taker.side == "BUY" else "BUY",
        )
        self._touch(market.condition_id)
        if self._listeners:
            self._pending_events.append(
                {
                    "event_type": "last_trade_price",
                    "asset_id": taker.token_id,
                    "market": market.condition_id,
                    "price": fmt_price(price, market.tick_size),
                    "side": taker.side,
                    "size": fmt(shares),
                    "fee_rate_bps": str(fee_rate_bps(market)),
                    "timestamp": str(int(now * 1000)),
                }
            )
        return trade

    def _mine(self, trade: Trade) -> None:
        trade.last_update = int(self.now())
        trade.status = "MINED"

    def _settle(self, trade: Trade, *, fail: bool) -> None:
        trade.last_update = int(self.now())
        if not fail:
            trade.status = "CONFIRMED"
            return
        for address, asset, delta in reversed(trade.moves):
            if asset:
                self._ledger.move_tokens(address, asset, -delta)
            else:
                self._ledger.move_usdc(address, -delta)
        self._locked[trade.condition_id] -= trade.locked_delta
        self._fees -= trade.fee
        trade.status = "FAILED"
        log.warning("trade %s FAILED at settlement: balances reverted", trade.id)

    # ------------------------------------------------------------------ cancels

    def _cancel(self, order: SimOrder) -> None:
        self._books[order.condition_id].remove(order.id)
        order.status = "CANCELED"
        self._hold(order)
        self._touch(order.condition_id)

    def _open_orders_of(self, address: str) -> list[SimOrder]:
        orders = (self._orders[i] for i in self._orders_by_owner.get(address, []))
        return [o for o in orders if o.status == "LIVE"]

    def cancel(self, api_key: ApiKey, order_ids: list[str]) -> dict[str, object]:
        """Cancel the caller's orders by id; unknown or finished ones land in ``not_canceled``."""
        if len(order_ids) > 3000:
            raise rejected("Too many orders in payload, max allowed: 3000")
        with self._lock:
            self._sweep()
            self._check_cancel_mode()
            canceled: list[str] = []
            not_canceled: dict[str, str] = {}
            for order_id in order_ids:
                order = self._orders.get(order_id)
                if order is None or order.owner_address != api_key.address:
                    not_canceled[order_id] = "order not found"
                elif order.status == "CANCELED":
                    not_canceled[order_id] = "the order is already canceled"
                elif order.status == "DELAYED":
                    # Not matched yet: it is dropped before its delay ends (the venue's answer here is
                    # undocumented).
                    order.status = "CANCELED"
                    canceled.append(order_id)
                elif order.status != "LIVE":
                    not_canceled[order_id] = "the order is already matched"
                else:
                    self._cancel(order)
                    canceled.append(order_id)
            self._flush()
            return {"canceled": canceled, "not_canceled": not_canceled}

    def cancel_by_id(self, *order_ids: str) -> list[str]:
        """Operator cancel of any open orders (no API key needed); returns the ids it cancelled."""
        with self._lock:
            self._sweep()
            done = []
            for order_id in order_ids:
                order = self._orders.get(order_id)
                if order is not None and order.status == "LIVE":
                    self._cancel(order)
                    done.append(order_id)
            self._flush()
            return done

    def cancel_where(self, api_key: ApiKey, market: str = "", asset_id: str = "") -> dict[str, object]:
        """Cancel all the caller's open orders, optionally in one market and/or token."""
        with self._lock:
            self._sweep()
            self._check_cancel_mode()
            canceled = []
            for order in self._open_orders_of(api_key.address):
                if market and order.condition_id != market:
                    continue
                if asset_id and order.token_id != asset_id:
                    continue
                self._cancel(order)
                canceled.append(order.id)
            self._flush()
            return {"canceled": canceled, "not_canceled": {}}

    def _check_cancel_mode(self) -> None:
        if self._mode == "disabled":
            raise SimError(503, TRADING_DISABLED)

    # ------------------------------------------------------------------ heartbeats

    def heartbeat(self, api_key: ApiKey, heartbeat_id: str | None) -> dict[str, object]:
        """Start or extend the caller's dead-man switch; silence beyond the timeout cancels its orders."""
        with self._lock:
            self._sweep()
            current = self._heartbeats.get(api_key.address)
            hb_id = current[0] if current else str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
            if heartbeat_id and current and heartbeat_id != current[0]:
                log.info("heartbeat from %s with an old id; continuing chain %s", api_key.address, hb_id)
            self._heartbeats[api_key.address] = (hb_id, self.now())
            self._flush()
            return {"heartbeat_id": hb_id, "status": "ok"}

    # ------------------------------------------------------------------ queries

    def order(self, order_id: str) -> dict[str, object] | None:
        """Ground truth for one order (venue shape plus ``is_lp``, ``remaining``, ``spent``)."""
        with self._lock:
            order = self._orders.get(order_id)
            return self._order_truth(order) if order else None

    def _order_truth(self, order: SimOrder) -> dict[str, object]:
        tick = self._markets[order.condition_id].tick_size
        return {
            **order.to_json(tick),
            "is_lp": order.is_lp,
            "remaining": order.remaining if order.status == "LIVE" else ZERO,
            "spent": order.spent,
            "budget": order.budget,
            "post_only": order.post_only,
        }

    def orders(self, address: str | None = None) -> list[dict[str, object]]:
        """Every order the exchange accepted (oldest first), optionally of one owner address."""
        with self._lock:
            if address is None:
                return [self._order_truth(o) for o in self._orders.values()]
            ids = self._orders_by_owner.get(address.lower(), [])
            return [self._order_truth(self._orders[i]) for i in ids]

    def trade(self, trade_id: str) -> dict[str, object] | None:
        with self._lock:
            trade = self._trades.get(trade_id)
            return self._trade_json(trade, None) if trade else None

    def trades(self, address: str | None = None) -> list[dict[str, object]]:
        """Every trade (oldest first), optionally those where ``address`` was taker or maker."""
        with self._lock:
            addr = address.lower() if address else None
            return [
                self._trade_json(t, addr) for t in self._trades.values() if addr is None or t.involves(addr)
            ]

    def _trade_json(self, trade: Trade, viewer: str | None) -> dict[str, object]:
        tick = self._markets[trade.condition_id].tick_size
        return trade.to_json(viewer, fmt_price(trade.price, tick), fmt_price(trade.maker.price, tick))

    def get_order_json(self, api_key: ApiKey, order_id: str) -> dict[str, object]:
        with self._lock:
            self._sweep()
            order = self._orders.get(order_id)
            if order is None or order.owner_address != api_key.address:
                raise SimError(404, "order not found")
            return order.to_json(self._markets[order.condition_id].tick_size)

    def open_orders_page(self, api_key: ApiKey, params: Mapping[str, str]) -> dict[str, object]:
        with self._lock:
            self._sweep()
            market, asset_id, order_id = params.get("market"), params.get("asset_id"), params.get("id")
            items = [
                o
                for o in self._open_orders_of(api_key.address)
                if (not market or o.condition_id == market)
                and (not asset_id or o.token_id == asset_id)
                and (not order_id or o.id == order_id)
            ]
            return self._page(
                [o.to_json(self._markets[o.condition_id].tick_size) for o in items], params.get("next_cursor")
            )

    def trades_page(self, api_key: ApiKey, params: Mapping[str, str]) -> dict[str, object]:
        with self._lock:
            self._sweep()
            address = api_key.address
            maker_address = (params.get("maker_address") or "").lower()
            after = int(params["after"]) if params.get("after") else None
            before = int(params["before"]) if params.get("before") else None
            items = []
            # A lookup by id reads that one trade, not every trade ever made (as the venue's index does).
            wanted = params.get("id")
            one = self._trades.get(wanted) if wanted else None
            candidates = self._trades.values() if not wanted else [one] if one is not None else []
            for trade in candidates:
                if not trade.involves(address):
                    continue
                if params.get("market") and trade.condition_id != params["market"]:
                    continue
                if params.get("asset_id") and params["asset_id"] not in (
                    trade.asset_id,
                    trade.maker.asset_id,
                ):
                    continue
                if maker_address and maker_address not in (trade.maker_address, trade.maker.maker_address):
                    continue
                if after is not None and trade.match_time < after:
                    continue
                if before is not None and trade.match_time > before:
                    continue
                items.append(self._trade_json(trade, address))
            return self._page(items, params.get("next_cursor"))

    def _page(self, items: list[dict[str, object]], cursor: str | None) -> dict[str, object]:
        offset = _decode_cursor(cursor)
        page = items[offset : offset + self.page_size]
        nxt = offset + self.page_size
        return {
            "limit": self.page_size,
            "count": len(page),
            "next_cursor": END_CURSOR if nxt >= len(items) else _encode_cursor(nxt),
            "data": page,
        }

    # ------------------------------------------------------------------ market-channel events

    def _touch(self, condition_id: str) -> None:
        self._book_ts[condition_id] = int(self.now() * 1000)
        self._moved.add(condition_id)
        if self._listeners:
            self._touched.add(condition_id)

    def _level_map(self, condition_id: str) -> dict[tuple[BookSide, Decimal], Decimal]:
        book = self._books[condition_id]
        levels: dict[tuple[BookSide, Decimal], Decimal] = {}
        sides: tuple[BookSide, ...] = ("bid", "ask")
        for side in sides:
            for price, size in book.levels(side):
                levels[(side, price)] = size
        return levels

    def _flush(self) -> None:
        """Turn the book changes of the last operation into market-channel messages."""
        self._follow_ticks()
        if not self._listeners:
            self._touched.clear()
            self._pending_events.clear()
            return
        events: list[dict[str, object]] = []
        traded = {e["market"] for e in self._pending_events if e["event_type"] == "last_trade_price"}
        for cond in sorted(self._touched):
            market = self._markets[cond]
            before = self._level_cache.get(cond, {})
            after = self._level_map(cond)
            self._level_cache[cond] = after
            if cond in traded:
                for token_id in market.token_ids:
                    book = self._book_json(market, token_id)
                    events.append(
                        {
                            "event_type": "book",
                            "asset_id": token_id,
                            "market": cond,
                            "bids": book["bids"],
                            "asks": book["asks"],
                            "timestamp": book["timestamp"],
                            "hash": book["hash"],
                        }
                    )
                continue
            changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
            if not changed:
                continue
            hashes = {t: str(self._book_json(market, t)["hash"]) for t in market.token_ids}
            bests = {t: self._best(market, t) for t in market.token_ids}
            changes = []
            for side, yes_price in changed:
                size = after.get((side, yes_price), ZERO)
                for token_id in market.token_ids:
                    is_yes = market.is_yes(token_id)
                    price = yes_price if is_yes else ONE - yes_price
                    token_side = (
                        ("BUY" if side == "bid" else "SELL")
                        if is_yes
                        else ("SELL" if side == "bid" else "BUY")
                    )
                    bid, ask = bests[token_id]
                    changes.append(
                        {
                            "asset_id": token_id,
                            "price": fmt_price(price, market.tick_size),
                            "size": fmt(size),
                            "side": token_side,
                            "hash": hashes[token_id],
                            "best_bid": fmt_price(bid, market.tick_size) if bid is not None else "0",
                            "best_ask": fmt_price(ask, market.tick_size) if ask is not None else "1",
                        }
                    )
            events.append(
                {
                    "event_type": "price_change",
                    "market": cond,
                    "price_changes": changes,
                    "timestamp": str(self._book_ts.get(cond, 0)),
                }
            )
        events.extend(self._pending_events)
        self._touched.clear()
        self._pending_events.clear()
        if events:
            for listener in list(self._listeners):
                listener(events)

    def snapshot_books(self, token_ids: Iterable[str]) -> list[dict[str, object]]:
        """``book`` messages for a new market-channel subscriber."""
        with self._lock:
            out = []
            for token_id in token_ids:
                cond = self._by_token.get(token_id)
                if cond is None:
                    continue
                book = self._book_json(self._markets[cond], token_id)
                out.append(
                    {
                        "event_type": "book",
                        "asset_id": token_id,
                        "market": cond,
                        "bids": book["bids"],
                        "asks": book["asks"],
                        "timestamp": book["timestamp"],
                        "hash": book["hash"],
                    }
                )
            return out

    @property
    def max_batch(self) -> int:
        return _MAX_BATCH
