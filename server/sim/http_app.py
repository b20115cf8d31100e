"""Starlette app serving the CLOB V2 HTTP surface that py-clob-client-v2 1.2.x calls.

Every venue route goes through ``_venue``: injected latency, the body read, the profile's latency draw
(after the read, so a client that times out meanwhile has still placed its order), then a matching fault (``before``: the
request never reaches the exchange; ``after``: it is processed and its answer lost), then the handler.
``SimError`` becomes ``{"error": ...}`` with the venue status. Successful answers are always 200: the
client treats any other 2xx as an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from server.sim.auth import ApiKey
from server.sim.chain_http import chain_routes
from server.sim.control import control_routes
from server.sim.errors import INVALID_PAYLOAD, INVALID_TOKEN, SimError, rejected
from server.sim.exchange import Exchange, PreparedOrder
from server.sim.faults import FAULT_BODIES
from server.sim.mover import BookMover
from server.sim.order_budget import TOO_MANY_ORDERS
from server.sim.wire import dumps, fmt
from server.sim.ws import MarketChannel

log = logging.getLogger(__name__)

Handler = Callable[[Request, bytes], Awaitable[Any]]
_SWEEP_INTERVAL = 0.05


def json_response(obj: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(obj), status_code=status, media_type="application/json", headers=headers)


def error_response(err: SimError) -> Response:
    headers = None
    retry = err.extra.get("retry_after_seconds")
    if retry is not None:
        headers = {"Retry-After": str(retry)}
    return json_response(err.body(), err.status, headers)


def _json_body(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        raise rejected(INVALID_PAYLOAD) from None


def _token_param(request: Request) -> str:
    token_id = request.query_params.get("token_id", "")
    if not token_id.isdigit():
        raise rejected(INVALID_TOKEN)
    return token_id


def build_app(exchange: Exchange, *, mover: BookMover | None = None) -> Starlette:
    """The ASGI app for ``exchange``; ``mover`` (if given) is started/stopped with the app."""
    channel = MarketChannel(exchange)

    def venue(
        path: str, handler: Handler, methods: list[str], *, l2: bool = False, engine: bool = False
    ) -> Route:
        """A venue route; ``engine`` routes are order-related: 425 while the matching engine restarts."""

        async def endpoint(request: Request) -> Response:
            latency = exchange.faults.latency
            if latency:
                await asyncio.sleep(latency)
            body = await request.body()
            transit = exchange.faults.transit()
            if transit:
                await asyncio.sleep(transit)
            method = request.method
            prepared: list[PreparedOrder | SimError] | None = None
            if method == "POST" and path in ("/order", "/orders"):
                prepared = _prepare_orders(exchange, request, body)
                request.state.prepared = prepared
            action = exchange.faults.take(method, request.url.path)
            if action is not None and action.mode == "before":
                log.info("fault: dropping %s %s before processing", method, request.url.path)
                if action.delay is not None:
                    await asyncio.sleep(action.delay)
                    return json_response({"error": FAULT_BODIES[504]}, 504)
                return json_response(action.body, action.status or 500)
            try:
                if engine:
                    exchange.check_engine()
                if l2:
                    request.state.api_key = exchange.authenticate(
                        method, request.url.path, body, request.headers
                    )
                result = await handler(request, body)
                response = result if isinstance(result, Response) else json_response(result)
            except SimError as err:
                response = error_response(err)
            rate_headers = getattr(request.state, "rate_headers", None)
            if rate_headers:
                response.headers.update(rate_headers)
            if action is not None:
                log.info("fault: losing the answer to %s %s after processing", method, request.url.path)
                if action.delay is not None:
                    await asyncio.sleep(action.delay)
                    return response
                return json_response(action.body, action.status or 500)
            return response

        return Route(path, endpoint, methods=methods)

    def key_of(request: Request) -> ApiKey:
        api_key: ApiKey = request.state.api_key
        return api_key

    # ---------------------------------------------------------------- public market data

    async def ok(request: Request, body: bytes) -> Any:
        return "OK"

    async def server_time(request: Request, body: bytes) -> Any:
        return int(exchange.now())

    async def geoblock(request: Request, body: bytes) -> Any:
        # polymarket.com/api/geoblock (another host at the real venue): {blocked, ip, country, region}.
        client = request.client.host if request.client else ""
        return {"ip": client, **exchange.geoblock}

    async def version(request: Request, body: bytes) -> Any:
        return {"version": 2}

    async def book(request: Request, body: bytes) -> Any:
        return exchange.book_json(_token_param(request))

    async def books(request: Request, body: bytes) -> Any:
        items = _json_body(body)
        if not isinstance(items, list):
            raise rejected("Invalid payload")
        if len(items) > 500:
            raise rejected("Payload exceeds the limit")
        return [exchange.book_json(str(item.get("token_id", ""))) for item in items if isinstance(item, dict)]

    async def price(request: Request, body: bytes) -> Any:
        side = request.query_params.get("side", "")
        return {"price": fmt(exchange.price(_token_param(request), side))}

    async def prices(request: Request, body: bytes) -> Any:
        items = _batch(body)
        out: dict[str, dict[str, str]] = {}
        for item in items:
            token_id, side = str(item.get("token_id", "")), str(item.get("side", "BUY"))
            out.setdefault(token_id, {})[side] = fmt(exchange.price(token_id, side))
        return out

    async def midpoint(request: Request, body: bytes) -> Any:
        mid = fmt(exchange.midpoint(_token_param(request)))
        return {"mid": mid, "mid_price": mid}

    async def midpoints(request: Request, body: bytes) -> Any:
        return {
            str(i.get("token_id")): fmt(exchange.midpoint(str(i.get("token_id", "")))) for i in _batch(body)
        }

    async def spread(request: Request, body: bytes) -> Any:
        return {"spread": fmt(exchange.spread(_token_param(request)))}

    async def spreads(request: Request, body: bytes) -> Any:
        return {
            str(i.get("token_id")): fmt(exchange.spread(str(i.get("token_id", "")))) for i in _batch(body)
        }

    async def last_trade_price(request: Request, body: bytes) -> Any:
        return exchange.last_trade_price(_token_param(request))

    async def last_trades_prices(request: Request, body: bytes) -> Any:
        out = []
        for item in _batch(body):
            token_id = str(item.get("token_id", ""))
            out.append({"token_id": token_id, **exchange.last_trade_price(token_id)})
        return out

    async def tick_size(request: Request, body: bytes) -> Any:
        market = exchange.token_market(_token_param(request))
        return {"minimum_tick_size": market.tick_size}

    async def neg_risk(request: Request, body: bytes) -> Any:
        return {"neg_risk": exchange.token_market(_token_param(request)).neg_risk}

    async def fee_rate(request: Request, body: bytes) -> Any:
        market = exchange.token_market(_token_param(request))
        # V1 orders signed this; fee-charging markets report 1000 (a flag, not the charged rate).
        return {"base_fee": 1000 if market.fees_enabled else 0}

    async def clob_market(request: Request, body: bytes) -> Any:
        market = exchange.condition_market(request.path_params["condition_id"])
        return exchange.clob_market_json(market)

    async def market_by_token(request: Request, body: bytes) -> Any:
        market = exchange.token_market(request.path_params["token_id"])
        return {
            "condition_id": market.condition_id,
            "primary_token_id": market.yes_token_id,
            "secondary_token_id": market.no_token_id,
        }

    async def markets(request: Request, body: bytes) -> Any:
        return exchange.markets_page(request.query_params.get("next_cursor"))

    async def market(request: Request, body: bytes) -> Any:
        return exchange.market_json(exchange.condition_market(request.path_params["condition_id"]))

    async def builder_fees(request: Request, body: bytes) -> Any:
        return {"builder_maker_fee_rate_bps": 0, "builder_taker_fee_rate_bps": 0}

    # ---------------------------------------------------------------- keys

    async def create_api_key(request: Request, body: bytes) -> Any:
        return exchange.create_api_key(request.headers).creds_json()

    async def derive_api_key(request: Request, body: bytes) -> Any:
        return exchange.derive_api_key(request.headers).creds_json()

    async def get_api_keys(request: Request, body: bytes) -> Any:
        return {"apiKeys": exchange.api_keys(key_of(request).address)}

    async def delete_api_key(request: Request, body: bytes) -> Any:
        exchange.revoke_api_key(key_of(request))
        return "OK"

    async def closed_only(request: Request, body: bytes) -> Any:
        return {"closed_only": False}

    # ---------------------------------------------------------------- orders

    def charge_orders(request: Request, cost: int) -> None:
        """The signer's order budget: 429 with ``Retry-After`` unless all ``cost`` tokens are there."""
        budget = exchange.order_budget
        if budget is None:
            return
        verdict = budget.charge(key_of(request).address, cost)
        request.state.rate_headers = verdict.headers
        if not verdict.admitted:
            raise SimError(429, TOO_MANY_ORDERS)

    async def post_order(request: Request, body: bytes) -> Any:
        prepared: list[PreparedOrder | SimError] = request.state.prepared
        if len(prepared) != 1:
            raise rejected(INVALID_PAYLOAD)
        charge_orders(request, 1)
        item = prepared[0]
        if isinstance(item, SimError):
            raise item
        return exchange.place(key_of(request), item)

    async def post_orders(request: Request, body: bytes) -> Any:
        prepared: list[PreparedOrder | SimError] = request.state.prepared
        if not prepared:
            raise rejected(INVALID_PAYLOAD)
        if len(prepared) > exchange.max_batch:
            raise rejected(f"Too many orders in payload: {len(prepared)}, max allowed: {exchange.max_batch}")
        charge_orders(request, len(prepared))  # all or nothing: no entry is placed on a 429
        results: list[dict[str, object]] = []
        for item in prepared:
            try:
                if isinstance(item, SimError):
                    raise item
                results.append(exchange.place(key_of(request), item))
            except SimError as err:
                # Batch answers stay 200 and carry per-order failures inside the array.
                results.append(
                    {
                        "success": False,
                        "errorMsg": err.message,
                        "orderID": item.order_id if isinstance(item, PreparedOrder) else "",
                        "status": "",
                        "makingAmount": "",
                        "takingAmount": "",
                        "transactionsHashes": [],
                        "tradeIDs": [],
                    }
                )
        return results

    async def cancel_order(request: Request, body: bytes) -> Any:
        payload = _json_body(body)
        if not isinstance(payload, dict):
            raise rejected(INVALID_PAYLOAD)
        order_id = payload.get("orderID") or payload.get("orderId")
        if not isinstance(order_id, str) or not order_id.startswith("0x"):
            raise rejected("Invalid orderID")
        return exchange.cancel(key_of(request), [order_id])

    async def cancel_orders(request: Request, body: bytes) -> Any:
        payload = _json_body(body)
        if not isinstance(payload, list) or not all(isinstance(i, str) for i in payload):
            raise rejected(INVALID_PAYLOAD)
        return exchange.cancel(key_of(request), payload)

    async def cancel_all(request: Request, body: bytes) -> Any:
        return exchange.cancel_where(key_of(request))

    async def cancel_market_orders(request: Request, body: bytes) -> Any:
        payload = _json_body(body) or {}
        if not isinstance(payload, dict):
            raise rejected(INVALID_PAYLOAD)
        return exchange.cancel_where(
            key_of(request), str(payload.get("market") or ""), str(payload.get("asset_id") or "")
        )

    async def get_order(request: Request, body: bytes) -> Any:
        return exchange.get_order_json(key_of(request), request.path_params["order_id"])

    async def open_orders(request: Request, body: bytes) -> Any:
        return exchange.open_orders_page(key_of(request), request.query_params)

    async def trades(request: Request, body: bytes) -> Any:
        return exchange.trades_page(key_of(request), request.query_params)

    async def balance_allowance(request: Request, body: bytes) -> Any:
        return exchange.balance_allowance(key_of(request), request.query_params)

    async def heartbeat(request: Request, body: bytes) -> Any:
        payload = _json_body(body) or {}
        if not isinstance(payload, dict):
            raise rejected("Invalid payload")
        heartbeat_id = payload.get("heartbeat_id")
        return exchange.heartbeat(key_of(request), str(heartbeat_id) if heartbeat_id else None)

    routes: list[BaseRoute] = [
        # Hot paths first: the router tries routes in order.
        venue("/book", book, ["GET"]),
        venue("/order", post_order, ["POST"], l2=True, engine=True),
        venue("/orders", post_orders, ["POST"], l2=True, engine=True),
        venue("/order", cancel_order, ["DELETE"], l2=True, engine=True),
        venue("/orders", cancel_orders, ["DELETE"], l2=True, engine=True),
        venue("/data/order/{order_id}", get_order, ["GET"], l2=True, engine=True),
        venue("/data/orders", open_orders, ["GET"], l2=True, engine=True),
        venue("/data/trades", trades, ["GET"], l2=True),
        venue("/", ok, ["GET"]),
        venue("/ok", ok, ["GET"]),
        venue("/time", server_time, ["GET"]),
        venue("/version", version, ["GET"]),
        venue("/api/geoblock", geoblock, ["GET"]),
        venue("/books", books, ["POST"]),
        venue("/price", price, ["GET"]),
        venue("/prices", prices, ["POST"]),
        venue("/midpoint", midpoint, ["GET"]),
        venue("/midpoints", midpoints, ["POST"]),
        venue("/spread", spread, ["GET"]),
        venue("/spreads", spreads, ["POST"]),
        venue("/last-trade-price", last_trade_price, ["GET"]),
        venue("/last-trades-prices", last_trades_prices, ["POST"]),
        venue("/tick-size", tick_size, ["GET"]),
        venue("/neg-risk", neg_risk, ["GET"]),
        venue("/fee-rate", fee_rate, ["GET"]),
        venue("/clob-markets/{condition_id}", clob_market, ["GET"]),
        venue("/markets-by-token/{token_id}", market_by_token, ["GET"]),
        venue("/markets", markets, ["GET"]),
        venue("/markets/{condition_id}", market, ["GET"]),
        venue("/fees/builder-fees/{builder_code}", builder_fees, ["GET"]),
        venue("/auth/api-key", create_api_key, ["POST"]),
        venue("/auth/derive-api-key", derive_api_key, ["GET"]),
        venue("/auth/api-keys", get_api_keys, ["GET"], l2=True),
        venue("/auth/api-key", delete_api_key, ["DELETE"], l2=True),
        venue("/auth/ban-status/closed-only", closed_only, ["GET"], l2=True),
        venue("/cancel-all", cancel_all, ["DELETE"], l2=True, engine=True),
        venue("/cancel-market-orders", cancel_market_orders, ["DELETE"], l2=True, engine=True),
        venue("/balance-allowance", balance_allowance, ["GET"], l2=True),
        venue("/balance-allowance/update", balance_allowance, ["GET"], l2=True),
        venue("/v1/heartbeats", heartbeat, ["POST"], l2=True),
        venue("/heartbeats", heartbeat, ["POST"], l2=True),
        WebSocketRoute("/ws/market", channel.endpoint),
        *control_routes(exchange, mover),
        *chain_routes(exchange),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        channel.attach(asyncio.get_running_loop())
        ticker = asyncio.create_task(_sweeper(exchange))
        if mover is not None:
            mover.attach(asyncio.get_running_loop())
        try:
            yield
        finally:
            ticker.cancel()
            if mover is not None:
                mover.detach()
            channel.detach()

    # Same path, different methods (``/order`` POST and DELETE): the router prefers the route whose
    # method matches, so separate Route objects are fine.
    return Starlette(routes=routes, lifespan=lifespan)


async def _sweeper(exchange: Exchange) -> None:
    """Run GTD expiry, heartbeat timeouts and settlement even when nobody is calling."""
    while True:
        try:
            exchange.sweep()
        except Exception:
            log.exception("sweep failed")
        await asyncio.sleep(_SWEEP_INTERVAL)


def _batch(body: bytes) -> list[dict[str, Any]]:
    items = _json_body(body)
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise rejected("Invalid payload")
    if len(items) > 500:
        raise rejected("Payload exceeds the limit")
    return items


def _prepare_orders(exchange: Exchange, request: Request, body: bytes) -> list[PreparedOrder | SimError]:
    """Parse and hash each posted order, counting posts per hash (faulted requests count too)."""
    try:
        payload = json.loads(body) if body else None
    except ValueError:
        return [rejected(INVALID_PAYLOAD)]
    items = payload if isinstance(payload, list) else [payload]
    api_key = exchange.keys.get(request.headers.get("poly_api_key", ""))
    chain_id = api_key.chain_id if api_key else 137
    out: list[PreparedOrder | SimError] = []
    for item in items:
        try:
            prepared = exchange.prepare(item, chain_id)
        except SimError as err:
            out.append(err)
            continue
        exchange.count_post(prepared.order_id)
        out.append(prepared)
    return out
